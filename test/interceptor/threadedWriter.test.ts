import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { resolveOptions } from '../../interceptor/options';
import { ThreadedWriter } from '../../interceptor/threadedWriter';
import { callFacts } from '../fixtures/callFacts';
import { startTestDynamo, type TestDynamo } from '../harness/dynamo';

/**
 * The writer thread's hand-off: records enqueued faster than one message carries (a backlog,
 * as after the thread was starved) still reach DynamoDB, all of them, once each.
 */
const call = (i: number) => callFacts({ request_id: `backlog-${i}` });

const SCHED_IDLE = 5;
const canCheckPolicy = process.platform === 'linux' && spawnSync('chrt', ['--help']).status === 0;

/** Scheduling policy and nice value of each thread of this process (/proc/self/task/<id>/stat: fields 41 and 19). */
function threads(): Array<{ policy: number; nice: number }> {
  return readdirSync('/proc/self/task').flatMap((id) => {
    try {
      const stat = readFileSync(`/proc/self/task/${id}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return [{ policy: Number(fields[38]), nice: Number(fields[16]) }];
    } catch {
      return []; // the thread ended meanwhile
    }
  });
}

/** Waits (up to 10 s: the thread loads its modules first) for a thread matching `wanted`. */
async function waitForThread(wanted: (t: { policy: number; nice: number }) => boolean): Promise<boolean> {
  for (let waited = 0; waited < 10_000; waited += 50) {
    if (threads().some(wanted)) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

describe('ThreadedWriter', () => {
  let db: TestDynamo;
  before(async () => {
    db = await startTestDynamo();
  });
  after(async () => {
    await db.stop();
  });

  test('a backlog of 3,000 records enqueued in one turn is written in full, once each', async () => {
    const config = await db.createTables();
    const options = resolveOptions({ tableName: config.requestLogTable, writerNiceness: 0 });
    const writer = new ThreadedWriter(config.requestLogTable, db.clientConfig, options, {
      shards: 1,
      slowThresholdMs: 1000,
      retentionDays: 1,
    });
    try {
      for (let i = 0; i < 3_000; i++) writer.enqueue(call(i));
      const mid = writer.stats();
      assert.equal(mid.enqueued, mid.written + mid.dropped + mid.queued);

      await writer.flush();

      const stats = writer.stats();
      assert.deepEqual(
        { written: stats.written, dropped: stats.dropped, queued: stats.queued },
        { written: 3_000, dropped: 0, queued: 0 },
      );
      const ids = new Set((await db.scanAll(config.requestLogTable)).map((item) => String(item.request_id)));
      assert.equal(ids.size, 3_000);
    } finally {
      await writer.close(5_000);
    }
  });

  test(
    'with writerIdle the thread runs under SCHED_IDLE at writerNiceness; by default, under the normal policy',
    { skip: !canCheckPolicy },
    async () => {
      const config = await db.createTables();
      for (const idle of [true, false]) {
        const options = resolveOptions({
          tableName: config.requestLogTable,
          writerNiceness: 7,
          writerIdle: idle,
        });
        const writer = new ThreadedWriter(
          config.requestLogTable,
          db.clientConfig,
          options,
          { shards: 1, slowThresholdMs: 1000, retentionDays: 1 },
          { niceness: options.writerNiceness, idle: options.writerIdle },
        );
        try {
          writer.enqueue(call(idle ? 1 : 2)); // the thread has started once it has written this
          await writer.flush();
          assert.equal(writer.stats().written, 1);
          const expected = idle ? SCHED_IDLE : 0;
          assert.ok(
            await waitForThread((t) => t.nice === 7 && t.policy === expected),
            `a thread at nice 7 under policy ${expected}: ${JSON.stringify(threads())}`,
          );
          if (!idle) assert.ok(!threads().some((t) => t.policy === SCHED_IDLE), 'no thread under SCHED_IDLE');
        } finally {
          await writer.close(5_000);
        }
      }
    },
  );
});
