/**
 * The Stats reads against DynamoDB Local, merged at the aggregator's watermark: closed buckets
 * from Stats, the open tail from the Deltas table. A window spanning both returns exact figures
 * before a close pass (the tail from deltas), after it (more from Stats), and with a late delta
 * for a closed minute; the cheap variants read what they say, nothing counts twice.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { MonitorConfig } from '../../core/config';
import {
  ALL_SCOPE,
  HISTOGRAM_ATTRIBUTE,
  methodScope,
  planMergedWindow,
  readCatalog,
  readHours,
  readWatermark,
  readWindow,
  serviceScope,
  type ScopeStats,
} from '../../core/stats';
import { createAggregateHandler } from '../../lambdas/aggregate';
import { scheduledEvent } from '../../local/scheduledEvent';
import { seededRandom } from '../fixtures/random';
import { startTestDynamo, type TestDynamo } from '../harness/dynamo';
import { comparable, scopeTruth, type TruthCall } from '../aggregate/groundTruth';
import { aggregateCalls, deltaRecord, shipCalls } from '../aggregate/seedStats';
import { generateCalls } from '../aggregate/simulatedMonitors';

const MINUTE = 60_000;
const HOUR = 3_600_000;
/** Real time: buckets expire by DynamoDB Local's clock. */
const NOW = Math.floor(Date.now() / MINUTE) * MINUTE;
const FROM = new Date(NOW - 3 * HOUR);
/** The window reaches into the current minute. */
const TO = new Date(NOW + 30_000);

const rand = seededRandom(5);
/** Closed part: 3 h up to 20 minutes ago. */
const OLD = generateCalls(rand, 1500, FROM.getTime(), 3 * HOUR - 20 * MINUTE);
/** The open tail: the last 20 minutes. */
const TAIL = generateCalls(rand, 400, NOW - 20 * MINUTE, 20 * MINUTE);
/** A late call, for a minute closed long ago. */
const LATE = generateCalls(rand, 1, NOW - 2 * HOUR + 17_000, 1);

/** A DocumentClient that records the commands it sends. */
function recording(ddb: DynamoDBDocumentClient) {
  const sent: Array<{ name: string; input: Record<string, unknown> }> = [];
  const client = {
    send: (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
      sent.push({ name: command.constructor.name, input: command.input });
      return (ddb.send as (c: unknown) => Promise<unknown>)(command);
    },
  } as unknown as DynamoDBDocumentClient;
  return { client, sent };
}

describe('readWindow / readHours: Stats before the watermark, Deltas after it', () => {
  let db: TestDynamo;
  let config: MonitorConfig;
  let clock = NOW - 15 * MINUTE;
  let handler: ReturnType<typeof createAggregateHandler>;

  const assertExact = (stats: Map<string, ScopeStats>, calls: readonly TruthCall[], what: string) => {
    const truth = scopeTruth(calls, config.slowThresholdMs);
    assert.deepEqual([...stats.keys()].sort(), [...truth.keys()].sort(), what);
    for (const [scope, expected] of truth) {
      assert.deepEqual(comparable(stats.get(scope)!), comparable(expected), `${what}: ${scope}`);
    }
  };

  before(async () => {
    db = await startTestDynamo();
    config = await db.createTables({ closeAfterMs: 30_000 });
    handler = createAggregateHandler({ ddb: db.ddb, config, now: () => new Date(clock) });
    // Fifteen minutes ago: the old calls and the tail's first minutes were closed by a pass;
    // the tail's later deltas are in the Deltas table, their minutes still open.
    await aggregateCalls(db.ddb, config, OLD, new Date(clock), handler);
    await aggregateCalls(db.ddb, config, TAIL, new Date(clock), handler);
  });
  after(async () => {
    await db?.stop();
  });

  it('a window over closed buckets and the open tail is exact before the next close pass', async () => {
    const watermark = await readWatermark(db.ddb, config.statsTable);
    assert.equal(watermark?.toISOString(), new Date(NOW - 16 * MINUTE).toISOString());
    const plan = planMergedWindow({ from: FROM, to: TO }, watermark, { now: new Date(NOW) });
    assert.equal(plan.deltaMinutes.length, 17, 'the 16 minutes after the watermark and the current one');
    assert.ok(plan.buckets.length > 3, plan.buckets.join());

    const stats = await readWindow(db.ddb, config, { from: FROM, to: TO }, { now: new Date(NOW) });

    assertExact(stats, [...OLD, ...TAIL], 'before');
  });

  it('is the same after a close pass moved the watermark, and a late delta counts at once', async () => {
    clock = NOW + MINUTE;
    await handler(scheduledEvent('test'));
    const watermark = await readWatermark(db.ddb, config.statsTable);
    assert.equal(watermark?.toISOString(), new Date(NOW).toISOString());
    const after = await readWindow(db.ddb, config, { from: FROM, to: TO }, { now: new Date(NOW) });
    assertExact(after, [...OLD, ...TAIL], 'after the pass');

    // A monitor ships a call of two hours ago: its record reopens that minute, the same
    // invocation recomputes it and its ancestors.
    const items = await shipCalls(db.ddb, config, LATE, 1);
    assert.deepEqual((await handler({ Records: items.map(deltaRecord) })).batchItemFailures, []);
    const late = await readWindow(db.ddb, config, { from: FROM, to: TO }, { now: new Date(NOW) });
    assertExact(late, [...OLD, ...TAIL, ...LATE], 'with the late delta');
  });

  it("with histogramsOf and counters: 'figures', reads every scope's figures and the listed histograms", async () => {
    const full = await readWindow(db.ddb, config, { from: FROM, to: TO }, { now: new Date(NOW) });
    const { client, sent } = recording(db.ddb);
    const cheap = await readWindow(
      client,
      config,
      { from: FROM, to: TO },
      { now: new Date(NOW), histogramsOf: [ALL_SCOPE], counters: 'figures' },
    );
    const plan = planMergedWindow({ from: FROM, to: TO }, await readWatermark(db.ddb, config.statsTable), {
      now: new Date(NOW),
    });
    const queries = sent.filter((s) => s.name === 'QueryCommand');
    const statsQueries = queries.filter((q) => q.input.TableName === config.statsTable);
    assert.equal(statsQueries.length, plan.buckets.length);
    for (const q of statsQueries) assert.ok(q.input.ProjectionExpression);
    assert.equal(queries.length - statsQueries.length, plan.deltaMinutes.length);
    assert.deepEqual(
      sent.map((s) => s.name).filter((n) => n !== 'QueryCommand'),
      ['GetItemCommand', 'BatchGetItemCommand'],
    );
    assert.deepEqual([...cheap.keys()].sort(), [...full.keys()].sort());
    for (const [scope, stats] of cheap) {
      const want = full.get(scope)!;
      assert.deepEqual(
        { total: stats.total, byStatus: stats.byStatus, durationSumMs: stats.durationSumMs },
        { total: want.total, byStatus: want.byStatus, durationSumMs: want.durationSumMs },
        scope,
      );
      assert.deepEqual(
        [...stats.histogram].sort(([a], [b]) => a - b),
        scope === ALL_SCOPE ? [...want.histogram].sort(([a], [b]) => a - b) : [],
      );
    }
  });

  it('stores histograms packed: one string and its count per (bucket, scope)', async () => {
    const items = await db.scanAll(config.statsTable);
    const histograms = items.filter((i) => String(i.sk).startsWith('~H#'));
    assert.ok(histograms.length > 100);
    for (const item of histograms) {
      assert.deepEqual(
        Object.keys(item).sort(),
        [HISTOGRAM_ATTRIBUTE.bins, 'expires_at', HISTOGRAM_ATTRIBUTE.count, 'pk', 'sk'].sort(),
      );
      const counter = items.find((i) => i.pk === item.pk && i.sk === String(item.sk).slice(3))!;
      assert.equal(item[HISTOGRAM_ATTRIBUTE.count], counter.n);
    }
  });

  it('readHours gives every hour, closed or open, exactly', async () => {
    const hours = await readHours(db.ddb, config, { from: FROM, to: TO }, { now: new Date(NOW) });
    const calls = [...OLD, ...TAIL, ...LATE];
    for (let h = Math.ceil(FROM.getTime() / HOUR) * HOUR; h < TO.getTime(); h += HOUR) {
      const inHour = calls.filter((c) => Date.parse(c.createdAt) >= h && Date.parse(c.createdAt) < h + HOUR);
      const key = new Date(h).toISOString();
      if (inHour.length === 0) continue;
      assertExact(hours.get(key)!, inHour, key);
    }
  });

  it('the catalog lists the services and methods', async () => {
    assert.deepEqual(await readCatalog(db.ddb, config.statsTable), [
      { service: 'BillingService', methods: ['Charge'] },
      { service: 'OrderService', methods: ['CreateOrder', 'GetOrder'] },
      { service: 'UserService', methods: ['GetUser', 'ListUsers'] },
    ]);
    assert.ok([serviceScope('x'), methodScope('x', 'y')]);
  });
});
