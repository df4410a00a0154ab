import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { cellsOfItem } from '../../core/deltas';
import type { MonitorStats } from '../../core/heartbeat';
import type { ChildSetup, FromChild, ToChild } from '../fixtures/monitorChild';
import { startTestDynamo, type TestDynamo } from '../harness/dynamo';

/**
 * A monitor killed with SIGKILL loses at most its unflushed interval, and stats() said how
 * much that was: the Deltas table holds exactly the calls of the flushes that completed.
 */

const CHILD = new URL('../fixtures/monitorChild.ts', import.meta.url);

class Child {
  private readonly process: ChildProcess;
  private waiting: ((message: FromChild) => void) | undefined;
  readonly ready: Promise<void>;

  constructor(setup: ChildSetup) {
    this.process = fork(CHILD, {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, MONITOR_CHILD: JSON.stringify(setup) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.ready = new Promise((resolve) => (this.waiting = () => resolve()));
    this.process.on('message', (message: FromChild) => this.waiting?.(message));
  }

  ask(message: ToChild): Promise<MonitorStats> {
    const answer = new Promise<MonitorStats>((resolve) => {
      this.waiting = (reply) => {
        if ('stats' in reply) resolve(reply.stats);
      };
    });
    this.process.send(message);
    return answer;
  }

  kill(): Promise<void> {
    const exited = new Promise<void>((resolve) => this.process.once('exit', () => resolve()));
    this.process.kill('SIGKILL');
    return exited;
  }
}

describe('a monitor that crashes', () => {
  let db: TestDynamo;
  before(async () => {
    db = await startTestDynamo();
  });
  after(async () => {
    await db?.stop();
  });

  async function storedCalls(table: string): Promise<{ items: number; calls: number; cellCalls: number }> {
    const items = await db.scanAll(table);
    return {
      items: items.length,
      calls: items.reduce((sum, item) => sum + Number(item.n), 0),
      cellCalls: items.flatMap(cellsOfItem).reduce((sum, cell) => sum + cell.total, 0),
    };
  }

  test('SIGKILL after two flushes: the table holds exactly the flushed calls, the loss is what stats() called unflushed', async () => {
    const config = await db.createTables();
    const child = new Child({
      dynamoDb: db.clientConfig,
      tableName: config.requestLogTable,
      deltaTableName: config.deltaTable,
      statsFlushMs: 3_600_000, // no timer flush: only the flushes the test asks for
    });
    let last: MonitorStats | undefined;
    try {
      await child.ready;
      await child.ask({ cmd: 'calls', count: 50 });
      await child.ask({ cmd: 'flush' });
      await child.ask({ cmd: 'calls', count: 30 });
      const flushed = await child.ask({ cmd: 'flush' });
      assert.equal(flushed.deltas.calls.written, 80);
      last = await child.ask({ cmd: 'calls', count: 20 });
    } finally {
      await child.kill();
    }

    // What stats() reported just before the kill.
    assert.equal(last.calls, 100);
    assert.equal(last.unflushedCalls, 20);
    assert.deepEqual(last.deltas.calls, { enqueued: 80, written: 80, dropped: 0, queued: 0 });
    assert.equal(last.calls, last.deltas.calls.enqueued + last.unflushedCalls);

    const stored = await storedCalls(config.deltaTable);
    assert.equal(stored.calls, 80, 'exactly the calls of the two completed flushes');
    assert.equal(stored.cellCalls, 80);
    assert.equal(last.calls - stored.calls, last.unflushedCalls, 'the loss is the unflushed interval');
  });

  test('SIGKILL with the flush timer running: the loss is at most what stats() held unshipped or in flight', async () => {
    const config = await db.createTables();
    const child = new Child({
      dynamoDb: db.clientConfig,
      tableName: config.requestLogTable,
      deltaTableName: config.deltaTable,
      statsFlushMs: 100,
    });
    let last: MonitorStats | undefined;
    try {
      await child.ready;
      await child.ask({ cmd: 'calls', count: 120 });
      const shipped = await child.ask({ cmd: 'written', calls: 120 }); // by the timer alone
      assert.equal(shipped.unflushedCalls, 0);
      for (let i = 0; i < 4; i++) last = await child.ask({ cmd: 'calls', count: 20 });
    } finally {
      await child.kill();
    }
    assert.equal(last!.calls, 200);
    const stored = await storedCalls(config.deltaTable);
    // Written before the report, at most everything handed to the writer by then (a timer may
    // have shipped more between the report and the kill).
    assert.ok(stored.calls >= last!.deltas.calls.written, JSON.stringify({ stored, last }));
    assert.ok(stored.calls <= last!.calls);
    assert.ok(
      last!.calls - stored.calls <= last!.unflushedCalls + last!.deltas.calls.queued,
      `lost ${last!.calls - stored.calls}, stats() held ${last!.unflushedCalls} unshipped and ${last!.deltas.calls.queued} queued`,
    );
    assert.equal(stored.cellCalls, stored.calls);
    assert.ok(stored.calls >= 120, 'what the timer shipped before is there');
  });
});
