/**
 * Exactly once per delta, against DynamoDB Local with REAL stream records. Five simulated
 * monitor instances fold 6,000 seeded calls over 20 minutes into cells (core/deltas) and ship a
 * delta item per minute every 10 s to the Deltas table; one of them holds its first minutes back
 * and ships them after those minutes were closed (late deltas), and some deltas are sent twice.
 * The Deltas stream is read back as Lambda records (local/streamRecords) and handed to the
 * aggregate handler through Lambda's delivery rules (local/streamDelivery: partial batch
 * responses, bisect on error), with chaos: invocations that fail before or after doing their
 * work, a client that loses marker and Stats writes, repeated deliveries of old records, and
 * scheduled close passes as time goes by. At the end every Stats counter of every bucket of
 * every level equals the ground truth of all calls, and p95 is within the sketch's bound; a
 * whole repeated delivery changes nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { DynamoDBRecord } from 'aws-lambda';
import { BatchWriteCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { aggregateConsumer } from '../../core/streamConsumers';
import { matchesFilter } from '../../core/streamFilter';
import { ALL_SCOPE, DIRTY_PK, levelOf, readCatalog, readWatermark, readWindow } from '../../core/stats';
import { createAggregateHandler } from '../../lambdas/aggregate';
import { lambdaContext } from '../../local/apiGatewayEvent';
import { scheduledEvent } from '../../local/scheduledEvent';
import { deliverBatch } from '../../local/streamDelivery';
import { latestStreamArn, readStreamToEnd, streamsClient } from '../../local/streamRecords';
import { seededRandom } from '../fixtures/random';
import { startTestDynamo, type TestDynamo } from '../harness/dynamo';
import { assertStatsMatchCalls, groundTruth, type TruthCall } from './groundTruth';
import { generateCalls, SimulatedMonitor, writeDeltas, type DeltaItem } from './simulatedMonitors';

const CALLS = Number(process.env.EXACTLY_ONCE_CALLS ?? 6_000);
const SLOW_MS = 1000;
const FLUSH_MS = 10_000;
const SPAN_MS = 20 * 60_000;
const HOUR_MS = 3_600_000;

const injected = (what: string) => Object.assign(new Error(`injected: ${what}`), { name: 'TimeoutError' });

/**
 * A DocumentClient that loses writes now and then: marker PUTs before they are sent, Stats
 * BatchWrites before they are sent or after they were applied (the response lost).
 */
function flakyClient(
  ddb: DynamoDBDocumentClient,
  rand: () => number,
  faults: { on: boolean; count: number },
) {
  const client = Object.create(ddb) as DynamoDBDocumentClient;
  const send = async (command: unknown): Promise<unknown> => {
    const real = () => ddb.send(command as Parameters<DynamoDBDocumentClient['send']>[0]);
    if (!faults.on) return real();
    if (command instanceof PutCommand && command.input.Item?.pk === DIRTY_PK && rand() < 0.1) {
      faults.count += 1;
      throw injected('marker write lost');
    }
    if (command instanceof BatchWriteCommand) {
      if (rand() < 0.05) {
        faults.count += 1;
        throw injected('batch write lost before send');
      }
      const out = await real();
      if (rand() < 0.05) {
        faults.count += 1;
        throw injected('batch write response lost');
      }
      return out;
    }
    return real();
  };
  (client as unknown as { send: typeof send }).send = send;
  return client;
}

describe('aggregate: exactly once per delta (DynamoDB Local, real stream records, chaos)', () => {
  let db: TestDynamo;
  before(async () => {
    db = await startTestDynamo();
  });
  after(async () => {
    await db.stop();
  });

  it('every Stats counter of every level equals the ground truth of all calls', async () => {
    // Prepare: calls around the top of an hour (minute, 5-, 15-minute and hour boundaries
    // crossed), near real time since DynamoDB Local's TTL really deletes expired buckets.
    const rand = seededRandom(17);
    const config = await db.createTables({ closeAfterMs: 30_000 });
    const t0 = Math.floor(Date.now() / HOUR_MS) * HOUR_MS - 10 * 60_000;
    const calls = generateCalls(rand, CALLS, t0, SPAN_MS);
    let clock = t0;
    const faults = { on: true, count: 0 };
    const deps = { ddb: flakyClient(db.ddb, seededRandom(99), faults), config, now: () => new Date(clock) };
    const aggregate = createAggregateHandler(deps, { logError: () => {} });
    const chaos = { threwBefore: 0, threwAfter: 0, repeats: 0, passes: 0, failedPasses: 0, resent: 0 };
    const handler = async (event: { Records: DynamoDBRecord[] }) => {
      const r = rand();
      if (r < 0.1) {
        chaos.threwBefore += 1;
        throw injected('invocation failed before it started');
      }
      const out = await aggregate(event);
      if (r > 0.93) {
        chaos.threwAfter += 1;
        throw injected('invocation timed out after its work');
      }
      return out;
    };
    const streams = streamsClient(db.clientConfig);
    const arn = await latestStreamArn(db.client, config.deltaTable);
    const delivered: DynamoDBRecord[] = [];
    const seen = new Set<string>();
    const discarded: number[] = [];
    const deliver = (records: readonly DynamoDBRecord[]) =>
      deliverBatch(records, {
        settings: aggregateConsumer,
        handler,
        context: () => lambdaContext('aggregate', 'test', 60_000),
        onDiscard: (r) => discarded.push(r.length),
        backoff: async () => {},
      });
    /** Everything new in the stream, delivered in batches of random size; sometimes old records again. */
    async function deliverNew(): Promise<void> {
      const fresh = (await readStreamToEnd(streams, arn, 'local')).filter(
        (r) => !seen.has(r.dynamodb!.SequenceNumber!) && matchesFilter(aggregateConsumer.filter, r),
      );
      for (const r of fresh) seen.add(r.dynamodb!.SequenceNumber!);
      for (let i = 0; i < fresh.length;) {
        const size = 1 + Math.floor(rand() * 40);
        await deliver(fresh.slice(i, i + size));
        i += size;
      }
      delivered.push(...fresh);
      if (delivered.length > 0 && rand() < 0.3) {
        chaos.repeats += 1;
        const from = Math.floor(rand() * delivered.length);
        await deliver(delivered.slice(from, from + 1 + Math.floor(rand() * 60)));
      }
    }
    async function scheduledPass(): Promise<void> {
      chaos.passes += 1;
      await aggregate(scheduledEvent('close'), lambdaContext('aggregate', 'pass', 60_000)).catch(() => {
        chaos.failedPasses += 1;
      });
    }

    // Act: 5 monitors; the laggard holds back what it sees in the first 4 minutes until minute 9.
    const monitors = Array.from({ length: 5 }, () => new SimulatedMonitor(SLOW_MS));
    const laggard = monitors[4]!;
    let next = 0;
    for (let t = t0 + FLUSH_MS; t <= t0 + SPAN_MS; t += FLUSH_MS) {
      clock = t;
      for (; next < calls.length && Date.parse(calls[next]!.createdAt) < t; next++) {
        monitors[Math.floor(rand() * monitors.length)]!.record(calls[next]!);
      }
      const shipped: DeltaItem[] = [];
      for (const monitor of monitors) {
        if (monitor === laggard && t > t0 && t < t0 + 9 * 60_000) continue;
        shipped.push(...monitor.flush());
      }
      await writeDeltas(db.ddb, config.deltaTable, shipped);
      // A monitor whose write response was lost sends the same delta again: it overwrites itself.
      const again = shipped.filter(() => rand() < 0.1);
      chaos.resent += again.length;
      await writeDeltas(db.ddb, config.deltaTable, again);
      if ((t - t0) % (3 * FLUSH_MS) === 0) {
        await deliverNew();
        if (rand() < 0.5) await scheduledPass();
      }
    }
    await deliverNew();
    // Time goes on past the end of the six-hour bucket: every level closes.
    clock = t0 + SPAN_MS + 7 * HOUR_MS;
    await scheduledPass();
    faults.on = false;
    await scheduledPass();

    // Assess: all delivered, chaos happened, and Stats are exactly the calls.
    assert.deepEqual(discarded, [], 'no record given up on');
    assert.ok(chaos.threwBefore > 0 && chaos.threwAfter > 0 && chaos.repeats > 0, JSON.stringify(chaos));
    assert.ok(faults.count > 0 && chaos.resent > 0, `faults ${faults.count}, resent ${chaos.resent}`);
    const checked = await assertStatsMatchCalls(db.ddb, config.statsTable, calls, SLOW_MS);
    assert.ok(checked > 250, `${checked} (bucket, scope) pairs checked`);
    await assertNothingElse(db, config.statsTable, calls);
    assert.equal(
      (await readWatermark(db.ddb, config.statsTable))?.toISOString(),
      new Date(Math.floor((clock - config.closeAfterMs) / 60_000) * 60_000).toISOString(),
    );
    const whole = await readWindow(
      db.ddb,
      config,
      { from: new Date(t0), to: new Date(t0 + SPAN_MS) },
      { now: new Date(clock) },
    );
    assert.equal(whole.get(ALL_SCOPE)?.total, CALLS);
    assert.deepEqual(await readCatalog(db.ddb, config.statsTable), [
      { service: 'BillingService', methods: ['Charge'] },
      { service: 'OrderService', methods: ['CreateOrder', 'GetOrder'] },
      { service: 'UserService', methods: ['GetUser', 'ListUsers'] },
    ]);

    // Act again: the whole stream delivered once more, then a pass (a replay from the horizon).
    faults.on = true;
    for (let i = 0; i < delivered.length; i += 100) await deliver(delivered.slice(i, i + 100));
    faults.on = false;
    await scheduledPass();

    // Assess: the same figures.
    await assertStatsMatchCalls(db.ddb, config.statsTable, calls, SLOW_MS);
  });
});

/** No Stats bucket item besides those of the ground truth, and no dirty marker left. */
async function assertNothingElse(db: TestDynamo, statsTable: string, calls: readonly TruthCall[]) {
  const truth = groundTruth(calls, SLOW_MS);
  const items = await db.scanAll(statsTable);
  const extra = items.filter((i) => levelOf(String(i.pk)) && !truth.has(String(i.pk)));
  assert.deepEqual(extra, []);
  assert.deepEqual(
    items.filter((i) => i.pk === DIRTY_PK),
    [],
  );
}
