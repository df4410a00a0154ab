/**
 * Stats writes per minute do not grow with traffic: the same 4 monitor instances and 5 methods
 * at 5 and at 100 calls/s, shipped as deltas every 10 s, the aggregate handler fed each flush's
 * stream records and a close pass every minute, then everything closed. Every write request
 * the handler sends to DynamoDB is counted (PutItem, DeleteItem, UpdateItem, and each item of a
 * BatchWriteItem): the counts are equal, and the Stats are exact at both rates.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  BatchWriteCommand,
  DeleteCommand,
  PutCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { createAggregateHandler } from '../../lambdas/aggregate';
import { scheduledEvent } from '../../local/scheduledEvent';
import { startTestDynamo, type TestDynamo } from '../harness/dynamo';
import { assertStatsMatchCalls, type TruthCall } from './groundTruth';
import { deltaRecord } from './seedStats';
import { METHODS, SimulatedMonitor, writeDeltas } from './simulatedMonitors';

const MINUTES = 4;
const FLUSH_MS = 10_000;
const HOUR = 3_600_000;

/** A DocumentClient that counts the items it writes. */
function counting(ddb: DynamoDBDocumentClient) {
  const writes = { items: 0, requests: 0 };
  const client = Object.create(ddb) as DynamoDBDocumentClient;
  const send = (command: unknown) => {
    if (command instanceof BatchWriteCommand) {
      writes.requests += 1;
      for (const requests of Object.values(command.input.RequestItems ?? {})) writes.items += requests.length;
    } else if (
      command instanceof PutCommand ||
      command instanceof DeleteCommand ||
      command instanceof UpdateCommand
    ) {
      writes.requests += 1;
      writes.items += 1;
    }
    return ddb.send(command as Parameters<DynamoDBDocumentClient['send']>[0]);
  };
  (client as unknown as { send: typeof send }).send = send;
  return { client, writes };
}

/** `perSecond` calls a second over MINUTES minutes from `start`: methods and monitors in turn. */
function callsAt(perSecond: number, start: number): TruthCall[] {
  const count = perSecond * MINUTES * 60;
  return Array.from({ length: count }, (_, i) => {
    const [service, method] = METHODS[i % METHODS.length]!;
    return {
      service,
      method,
      status: i % 50 === 7 ? 'error' : 'success',
      code: i % 50 === 7 ? 'INTERNAL' : 'OK',
      durationMs: Math.round((5 + ((i * 37) % 400) / 7) * 100) / 100,
      bytesIn: 10 + (i % 90),
      bytesOut: 100 + (i % 900),
      createdAt: new Date(start + Math.floor((i * MINUTES * 60_000) / count)).toISOString(),
      logged: true,
    };
  });
}

describe('aggregate: Stats writes per minute do not grow with the call rate', () => {
  let db: TestDynamo;
  before(async () => {
    db = await startTestDynamo();
  });
  after(async () => {
    await db.stop();
  });

  async function run(perSecond: number, start: number) {
    const config = await db.createTables();
    const calls = callsAt(perSecond, start);
    const { client, writes } = counting(db.ddb);
    let clock = start;
    const aggregate = createAggregateHandler({ ddb: client, config, now: () => new Date(clock) });
    const monitors = Array.from({ length: 4 }, () => new SimulatedMonitor(config.slowThresholdMs));
    let next = 0;
    for (let t = start + FLUSH_MS; t <= start + MINUTES * 60_000; t += FLUSH_MS) {
      clock = t;
      for (let k = 0; next < calls.length && Date.parse(calls[next]!.createdAt) < t; next++, k++) {
        monitors[k % monitors.length]!.record(calls[next]!);
      }
      const items = monitors.flatMap((m) => m.flush());
      await writeDeltas(db.ddb, config.deltaTable, items);
      assert.deepEqual((await aggregate({ Records: items.map(deltaRecord) })).batchItemFailures, []);
      if ((t - start) % 60_000 === 0) await aggregate(scheduledEvent('close'));
    }
    clock = start + MINUTES * 60_000 + 7 * HOUR;
    await aggregate(scheduledEvent('close'));
    await assertStatsMatchCalls(db.ddb, config.statsTable, calls, config.slowThresholdMs);
    return { calls: calls.length, ...writes };
  }

  it('the same write count at 5 and at 100 calls/s, exact Stats at both', async () => {
    const start = Math.floor(Date.now() / HOUR) * HOUR - 2 * 60_000;
    const slow = await run(5, start);
    const fast = await run(100, start);
    assert.equal(fast.calls, 20 * slow.calls);
    assert.deepEqual(
      { items: fast.items, requests: fast.requests },
      { items: slow.items, requests: slow.requests },
    );
    // 4 minutes × 8 scopes × (counter + histogram item), their 5-, 15-minute, hour and six-hour
    // buckets, the catalog, markers and watermarks: a few hundred, whatever the traffic.
    assert.ok(fast.items < 400, `${fast.items} writes for ${fast.calls} calls`);
    console.log(
      `Stats writes: ${slow.items} items (${slow.requests} requests) at 5 calls/s and at 100 calls/s`,
    );
  });
});
