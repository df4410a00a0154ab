/**
 * Exactly-once against DynamoDB Local with REAL stream records: 10,000 calls are written to a
 * RequestLog table (some pending first, plus heartbeats, final→final rewrites and deletes), the
 * table's stream is read back as Lambda records, and the aggregate handler is fed them the way
 * Lambda would, with chaos: random batch sizes, redelivered batches, bisected batches, a
 * DocumentClient that fails transactions (before and after they commit), and whole repeated
 * runs. After each run the Stats table must equal the ground truth computed from what was
 * written, to the unit (and to the histogram bucket).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { DynamoDBRecord } from 'aws-lambda';
import { BatchWriteCommand, TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { MonitorConfig } from '../../core/config';
import { REQUEST_LOG_KEYS } from '../../core/tables';
import { toHeartbeatItem } from '../../core/heartbeat';
import type { FinalStatus, RequestLogRecord } from '../../core/record';
import { shardOf, toRequestLogItem } from '../../core/requestLogItem';
import { emptyScopeStats, readCatalog, scopeStatsFromItem, type ScopeStats } from '../../core/stats';
import { addToHistogram, type Histogram } from '../../core/stats/histogram';
import {
  ALL_SCOPE,
  bucketsOf,
  levelOf,
  methodScope,
  scopeOfHistogramKey,
  serviceScope,
} from '../../core/stats/keys';
import { createAggregateHandler } from '../../lambdas/aggregate';
import { latestStreamArn, readStreamToEnd, streamsClient } from '../../local/streamRecords';
import { callRecord } from '../stats/factories';
import { startTestDynamo, type TestDynamo } from '../harness/dynamo';
import { seededRandom } from '../fixtures/random';

const CALLS = Number(process.env.EXACTLY_ONCE_CALLS ?? 10_000);
const SLOW_MS = 1000;

const OUTCOMES: Array<[FinalStatus, string]> = [
  ['success', 'OK'],
  ['success', 'OK'],
  ['success', 'OK'],
  ['success', 'OK'],
  ['error', 'NOT_FOUND'],
  ['error', 'INTERNAL'],
  ['timeout', 'DEADLINE_EXCEEDED'],
  ['cancelled', 'CANCELLED'],
];

/**
 * 10,000 calls over the last ~3 h (recent: DynamoDB Local's TTL really deletes expired
 * buckets), 3 services × 2 methods, durations with 2 decimals.
 */
function generateCalls(rand: () => number): RequestLogRecord[] {
  const start = Date.now() - 3.25 * 3_600_000;
  return Array.from({ length: CALLS }, (_, i) => {
    const service = ['UserService', 'OrderService', 'BillingService'][i % 3]!;
    const [status, code] = OUTCOMES[Math.floor(rand() * OUTCOMES.length)]!;
    const created = new Date(start + Math.floor((i * 3 * 3_600_000) / CALLS + rand() * 1000)).toISOString();
    const r = rand();
    const duration =
      r < 0.02 ? 0 : r < 0.05 ? 1000 + rand() * 5000 : Math.exp(Math.log(20) + 1.3 * (rand() - 0.5) * 3);
    return callRecord({
      request_id: `call-${String(i).padStart(5, '0')}`,
      service_name: service,
      method_name: rand() < 0.5 ? 'Get' : 'List',
      status,
      grpc_status_code: code,
      duration_ms: Math.round(duration * 100) / 100,
      request_size: Math.floor(rand() * 500),
      response_size: Math.floor(rand() * 5000),
      created_at: created,
      updated_at: created,
    });
  });
}

interface Truth {
  total: number;
  byStatus: Record<string, number>;
  byCode: Record<string, number>;
  durationSumMs: number;
  durationMaxMs: number;
  bytesIn: number;
  bytesOut: number;
  slow: number;
  lastRequestAt: string;
  histogram: Histogram;
}

/** Ground truth per `bucket|scope`, straight from the calls (not through the fold). */
function groundTruth(calls: readonly RequestLogRecord[]): Map<string, Truth> {
  const truth = new Map<string, Truth>();
  for (const c of calls) {
    for (const bucket of bucketsOf(c.created_at)) {
      for (const scope of [
        ALL_SCOPE,
        serviceScope(c.service_name),
        methodScope(c.service_name, c.method_name),
      ]) {
        const key = `${bucket}|${scope}`;
        const t: Truth = truth.get(key) ?? {
          total: 0,
          byStatus: { success: 0, error: 0, cancelled: 0, timeout: 0 },
          byCode: {},
          durationSumMs: 0,
          durationMaxMs: 0,
          bytesIn: 0,
          bytesOut: 0,
          slow: 0,
          lastRequestAt: '',
          histogram: new Map(),
        };
        truth.set(key, t);
        t.total += 1;
        t.byStatus[c.status] = (t.byStatus[c.status] ?? 0) + 1;
        t.byCode[c.grpc_status_code!] = (t.byCode[c.grpc_status_code!] ?? 0) + 1;
        t.durationSumMs = Math.round((t.durationSumMs + c.duration_ms!) * 100) / 100;
        t.durationMaxMs = Math.max(t.durationMaxMs, c.duration_ms!);
        t.bytesIn += c.request_size;
        t.bytesOut += c.response_size;
        if (c.duration_ms! >= SLOW_MS) t.slow += 1;
        if (c.created_at > t.lastRequestAt) t.lastRequestAt = c.created_at;
        addToHistogram(t.histogram, c.duration_ms!);
      }
    }
  }
  return truth;
}

async function batchWrite(ddb: DynamoDBDocumentClient, table: string, items: Record<string, unknown>[]) {
  const requests = items.map((Item) => ({ PutRequest: { Item } }));
  const batches: (typeof requests)[] = [];
  for (let i = 0; i < requests.length; i += 25) batches.push(requests.slice(i, i + 25));
  for (let i = 0; i < batches.length; i += 8) {
    await Promise.all(
      batches.slice(i, i + 8).map(async (batch) => {
        let pending: typeof batch | undefined = batch;
        while (pending && pending.length > 0) {
          const out = await ddb.send(new BatchWriteCommand({ RequestItems: { [table]: pending } }));
          pending = out.UnprocessedItems?.[table] as typeof batch | undefined;
        }
      }),
    );
  }
}

/** A DocumentClient whose TransactWrites fail now and then: before sending, or after committing. */
function flakyClient(ddb: DynamoDBDocumentClient, failBefore: number, failAfter: number) {
  let transactions = 0;
  const faults = { before: 0, after: 0 };
  const client = Object.create(ddb) as DynamoDBDocumentClient;
  const send = async (command: unknown): Promise<unknown> => {
    if (command instanceof TransactWriteCommand) {
      transactions += 1;
      if (transactions % failBefore === 0) {
        faults.before += 1;
        throw Object.assign(new Error('injected: connection reset before send'), { name: 'TimeoutError' });
      }
      const out = await ddb.send(command);
      if (transactions % failAfter === 0) {
        faults.after += 1;
        throw Object.assign(new Error('injected: response lost after commit'), { name: 'TimeoutError' });
      }
      return out;
    }
    return ddb.send(command as Parameters<DynamoDBDocumentClient['send']>[0]);
  };
  (client as unknown as { send: typeof send }).send = send;
  return { client, faults };
}

interface DeliveryStats {
  invocations: number;
  redelivered: number;
  bisected: number;
  failuresReported: number;
}

/**
 * Feeds records as Lambda does for one shard: in order, in batches; a partial batch failure
 * resumes from the failed sequence number. Chaos: redeliver a random earlier slice, deliver
 * the first half of a batch alone before the whole (a bisect).
 */
type Handle = (records: DynamoDBRecord[]) => Promise<{ batchItemFailures: { itemIdentifier: string }[] }>;

async function deliver(
  handle: Handle,
  records: readonly DynamoDBRecord[],
  rand: () => number,
  chaos: boolean,
): Promise<DeliveryStats> {
  const stats: DeliveryStats = { invocations: 0, redelivered: 0, bisected: 0, failuresReported: 0 };
  const indexOf = new Map(records.map((r, i) => [r.dynamodb!.SequenceNumber!, i]));
  const invoke = async (batch: DynamoDBRecord[]) => {
    stats.invocations += 1;
    const out = await handle(batch);
    stats.failuresReported += out.batchItemFailures.length;
    return out;
  };
  let position = 0;
  while (position < records.length) {
    const size = 1 + Math.floor(rand() * 400);
    const batch = records.slice(position, position + size);
    if (chaos && position > 0 && rand() < 0.15) {
      const from = Math.floor(rand() * position);
      await invoke(records.slice(from, Math.min(position, from + 1 + Math.floor(rand() * 300))));
      stats.redelivered += 1;
    }
    if (chaos && batch.length > 1 && rand() < 0.15) {
      await invoke(batch.slice(0, Math.ceil(batch.length / 2)));
      stats.bisected += 1;
    }
    const { batchItemFailures } = await invoke(batch);
    const failed = batchItemFailures[0]?.itemIdentifier;
    position = failed === undefined ? position + batch.length : indexOf.get(failed)!;
  }
  return stats;
}

const SHARDS = 4;

/**
 * The stream as Lambda sees a table with several partitions: each item's records stay in one
 * shard, in order; shards are processed concurrently (one invocation at a time per shard), so
 * transactions on the shared hot items (ALL, the current minute) meet each other.
 */
async function deliverShards(
  handlerFor: (shard: number) => Handle,
  records: readonly DynamoDBRecord[],
  rand: () => number,
  chaos: boolean,
): Promise<DeliveryStats> {
  const shards: DynamoDBRecord[][] = Array.from({ length: SHARDS }, () => []);
  for (const r of records) shards[shardOf(r.dynamodb!.Keys!.request_id!.S!, SHARDS)]!.push(r);
  const seeds = shards.map(() => Math.floor(rand() * 1e9));
  const all = await Promise.all(
    shards.map((shard, i) => deliver(handlerFor(i), shard, seededRandom(seeds[i]!), chaos)),
  );
  return all.reduce((a, b) => ({
    invocations: a.invocations + b.invocations,
    redelivered: a.redelivered + b.redelivered,
    bisected: a.bisected + b.bisected,
    failuresReported: a.failuresReported + b.failuresReported,
  }));
}

/**
 * Every bucket item of the Stats table (one Scan), as ScopeStats, by `bucket|scope`: a scope's
 * counter item (sk = scope) and its histogram item (sk `~H#<scope>`) assembled, each checked to
 * hold only its own kind of attribute.
 */
async function statsOf(db: TestDynamo, config: MonitorConfig): Promise<Map<string, ScopeStats>> {
  const counters = new Map<string, ScopeStats>();
  const histograms = new Map<string, Histogram>();
  for (const item of await db.scanAll(config.statsTable)) {
    const pk = String(item.pk);
    if (levelOf(pk) === undefined) continue;
    const sk = String(item.sk);
    const stats = scopeStatsFromItem(item);
    const scope = scopeOfHistogramKey(sk);
    if (scope === undefined) {
      assert.equal(stats.histogram.size, 0, `counter item ${pk}|${sk} holds no histogram`);
      counters.set(`${pk}|${sk}`, stats);
    } else {
      assert.deepEqual(
        Object.keys(item).filter((a) => !/^(h-?\d+|hz|pk|sk|expires_at)$/.test(a)),
        [],
        `histogram item ${pk}|${sk} holds only buckets`,
      );
      histograms.set(`${pk}|${scope}`, stats.histogram);
    }
  }
  for (const [key, histogram] of histograms) {
    const stats = counters.get(key);
    // A histogram without counters shows up as an extra (bucket, scope) with total 0.
    if (!stats) counters.set(key, { ...emptyScopeStats(), histogram });
    else stats.histogram = histogram;
  }
  return counters;
}

async function assertEqualsTruth(db: TestDynamo, config: MonitorConfig, truth: Map<string, Truth>) {
  const stored = await statsOf(db, config);
  const missing = [...truth.keys()].filter((k) => !stored.has(k));
  const extra = [...stored.keys()].filter((k) => !truth.has(k));
  assert.deepEqual({ missing, extra }, { missing: [], extra: [] }, 'the same (bucket, scope) items');
  for (const [key, t] of truth) {
    const s = stored.get(key)!;
    assert.deepEqual(
      {
        total: s.total,
        byStatus: s.byStatus,
        byCode: s.byCode,
        durationSumMs: s.durationSumMs,
        durationMaxMs: s.durationMaxMs,
        bytesIn: s.bytesIn,
        bytesOut: s.bytesOut,
        slow: s.slow,
        lastRequestAt: s.lastRequestAt,
        histogram: new Map([...s.histogram].sort(([a], [b]) => a - b)),
      },
      { ...t, histogram: new Map([...t.histogram].sort(([a], [b]) => a - b)) },
      key,
    );
  }
  const all = [...truth].filter(([k]) => k.startsWith('H#') && k.endsWith('|ALL'));
  return all.reduce((sum, [, t]) => sum + t.total, 0);
}

// Minutes, not seconds, on a busy 2-core machine: 12,000 writes and ~300 transactions of ≤ 100 actions.
const TIMEOUT_MS = 45 * 60_000;

describe('exactly-once aggregation from a real stream', { timeout: TIMEOUT_MS }, () => {
  let db: TestDynamo;
  let config: MonitorConfig;
  let records: DynamoDBRecord[];
  let truth: Map<string, Truth>;
  let calls: RequestLogRecord[];

  before(
    async () => {
      const t0 = Date.now();
      // Its own DynamoDB Local: minutes of batch writes and ~3,000 transactions would saturate the
      // run's shared one and make the files running beside it time out.
      db = await startTestDynamo({ own: true });
      config = await db.createTables({ slowThresholdMs: SLOW_MS });
      const rand = seededRandom(7);
      calls = generateCalls(rand);
      // The interceptor's item, minus the GSI keys: the aggregator reads none of them, and three
      // GSIs triple DynamoDB Local's write time (the end-to-end test uses the interceptor's own).
      const itemOf = (r: RequestLogRecord) => {
        const item = toRequestLogItem(r, { shards: 1, slowThresholdMs: SLOW_MS });
        for (const key of [REQUEST_LOG_KEYS.timePk, REQUEST_LOG_KEYS.servicePk, REQUEST_LOG_KEYS.statusPk]) {
          delete item[key];
        }
        return item;
      };
      // One call in five is first written as pending, then overwritten final (a MODIFY).
      const pendingFirst = calls.filter((_, i) => i % 5 === 0);
      await batchWrite(
        db.ddb,
        config.requestLogTable,
        pendingFirst.map((c) =>
          itemOf({ ...c, status: 'pending', grpc_status_code: null, duration_ms: null }),
        ),
      );
      await batchWrite(db.ddb, config.requestLogTable, calls.map(itemOf));
      // Noise the aggregator must not count: heartbeats, final→final rewrites, deletes (as TTL would).
      const heartbeat = (n: number) =>
        toHeartbeatItem(
          {
            instance_id: `i${n}`,
            host: 'h',
            port: 1,
            started_at: '',
            last_seen: '',
            writer: { enqueued: n, written: 0, dropped: 0, retried: 0, failed: 0, queued: 0 },
          },
          0,
        );
      await batchWrite(db.ddb, config.requestLogTable, [0, 1, 2, 3].map(heartbeat));
      await batchWrite(
        db.ddb,
        config.requestLogTable,
        calls.slice(0, 50).map((c) => ({ ...itemOf(c), user_agent: 'rewritten' })),
      );
      await batchWrite(db.ddb, config.requestLogTable, [4, 5].map(heartbeat));
      const streams = streamsClient(db.clientConfig);
      const arn = await latestStreamArn(db.client, config.requestLogTable);
      records = await readStreamToEnd(streams, arn, 'local');
      streams.destroy();
      truth = groundTruth(calls);
      console.log(`wrote and read back ${records.length} stream records in ${Date.now() - t0} ms`);
    },
    { timeout: TIMEOUT_MS },
  );
  after(async () => db?.stop());

  it('reads every write back from the stream', () => {
    assert.equal(records.length, CALLS + CALLS / 5 + 6 + 50);
    assert.equal(records.filter((r) => r.eventName === 'MODIFY').length, CALLS / 5 + 50);
  });

  it(
    'counts each call once through failing transactions, redeliveries, bisects and repeated runs',
    { timeout: TIMEOUT_MS },
    async () => {
      const rand = seededRandom(11);
      const { client, faults } = flakyClient(db.ddb, 13, 17);
      const deps = { ddb: client, config, now: () => new Date() };
      const container = (d: typeof deps): Handle => {
        const lambda = createAggregateHandler(d);
        return (batch) => lambda({ Records: batch });
      };
      let t = Date.now();
      const first = await deliverShards(() => container(deps), records, rand, true);
      console.log(`run 1 (${Date.now() - t} ms): ${JSON.stringify({ ...first, faults })}`);
      assert.ok(faults.before > 0 && faults.after > 0 && first.redelivered > 0 && first.bisected > 0);
      assert.ok(first.failuresReported > 0, 'failed transactions were reported as batch item failures');
      assert.equal(await assertEqualsTruth(db, config, truth), CALLS);

      // The whole stream again, in other batches, by fresh containers (cold caches).
      t = Date.now();
      const second = await deliverShards(
        () => container({ ...deps, ddb: db.ddb }),
        records,
        seededRandom(12),
        false,
      );
      console.log(`run 2, a repeat (${Date.now() - t} ms): ${JSON.stringify(second)}`);
      assert.equal(await assertEqualsTruth(db, config, truth), CALLS);

      // And once more, one record per invocation for a stretch in the middle (the bisect floor).
      const third = createAggregateHandler({ ddb: db.ddb, config, now: () => new Date() });
      for (const record of records.slice(records.length / 2, records.length / 2 + 60)) {
        assert.deepEqual(await third({ Records: [record] }), { batchItemFailures: [] });
      }
      assert.equal(await assertEqualsTruth(db, config, truth), CALLS);
    },
  );

  it('keeps the catalog of services and methods', async () => {
    assert.deepEqual(await readCatalog(db.ddb, config.statsTable), [
      { service: 'BillingService', methods: ['Get', 'List'] },
      { service: 'OrderService', methods: ['Get', 'List'] },
      { service: 'UserService', methods: ['Get', 'List'] },
    ]);
  });
});
