/**
 * The Stats reads against DynamoDB Local with the split layout: each (bucket, scope) keeps its
 * counters at sk `<scope>` and its histogram at sk `~H#<scope>`. A full read assembles both
 * exactly; a read with `histogramsOf` gets every scope's counters from counter items alone
 * (`sk < '~'`) and only the listed scopes' histograms, with a fixed number of requests.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PutCommand, ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { MonitorConfig } from '../../core/config';
import { FINAL_STATUSES, type FinalStatus } from '../../core/record';
import {
  ALL_SCOPE,
  applyDeltas,
  foldCalls,
  methodScope,
  planWindow,
  readCatalog,
  readHours,
  readWindow,
  serviceScope,
  type CountedCall,
  type ScopeStats,
} from '../../core/stats';
import { addToHistogram } from '../../core/stats/histogram';
import { startTestDynamo, type TestDynamo } from '../harness/dynamo';

const SLOW_MS = 100;
const HOUR = 3_600_000;
/** Recent hours (the buckets' TTL is from their start: DynamoDB Local deletes expired items). */
const BASE = Math.floor(Date.now() / HOUR) * HOUR - 4 * HOUR;
const at = (hours: number) => new Date(BASE + hours * HOUR);
const hourKey = (hours: number) => at(hours).toISOString().slice(0, 13);
const FROM = at(0.5);
const TO = at(2.5);
const NOW = TO;

/** 600 calls over hours 0–3 of BASE, two services, wide durations (many histogram buckets). */
function calls(): CountedCall[] {
  const start = BASE;
  return Array.from({ length: 600 }, (_, i) => {
    const status: FinalStatus = FINAL_STATUSES[i % 7 === 0 ? 1 + (i % 3) : 0]!;
    return {
      requestId: `r${i}`,
      service: i % 2 ? 'UserService' : 'OrderService',
      method: i % 3 ? 'Get' : 'List',
      status,
      code: status === 'success' ? 'OK' : status.toUpperCase(),
      durationMs: Math.round(0.5 * 1.015 ** (i % 400) * 100) / 100,
      bytesIn: i,
      bytesOut: 3 * i,
      createdAt: new Date(start + i * 18_000 + 7).toISOString(),
    };
  });
}

/** What a scope must read as over [FROM, TO), computed from the calls directly. */
function truthOf(all: readonly CountedCall[], keep: (c: CountedCall) => boolean, from = FROM, to = TO) {
  const inWindow = all.filter(
    (c) => keep(c) && c.createdAt >= from.toISOString() && c.createdAt < to.toISOString(),
  );
  const byStatus = { success: 0, error: 0, cancelled: 0, timeout: 0 };
  const histogram = new Map<number, number>();
  for (const c of inWindow) {
    byStatus[c.status] += 1;
    addToHistogram(histogram, c.durationMs);
  }
  return {
    total: inWindow.length,
    byStatus,
    durationSumMs: Math.round(inWindow.reduce((s, c) => s + c.durationMs * 100, 0)) / 100,
    durationMaxMs: Math.max(...inWindow.map((c) => c.durationMs)),
    bytesIn: inWindow.reduce((s, c) => s + c.bytesIn, 0),
    slow: inWindow.filter((c) => c.durationMs >= SLOW_MS).length,
    lastRequestAt: inWindow
      .map((c) => c.createdAt)
      .sort()
      .at(-1),
    histogram,
  };
}

const sorted = (h: Map<number, number>) => new Map([...h].sort(([a], [b]) => a - b));
const figures = (s: ScopeStats) => ({
  total: s.total,
  byStatus: s.byStatus,
  durationSumMs: s.durationSumMs,
  durationMaxMs: s.durationMaxMs,
  bytesIn: s.bytesIn,
  slow: s.slow,
  lastRequestAt: s.lastRequestAt,
  histogram: sorted(s.histogram),
});

/** A DocumentClient that records what it sends. */
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

describe('Stats reads (counters and histograms in separate items)', () => {
  let db: TestDynamo;
  let config: MonitorConfig;
  const input = calls();
  const scopes: Array<[string, (c: CountedCall) => boolean]> = [
    [ALL_SCOPE, () => true],
    [serviceScope('UserService'), (c) => c.service === 'UserService'],
    [methodScope('OrderService', 'List'), (c) => c.service === 'OrderService' && c.method === 'List'],
  ];

  before(async () => {
    db = await startTestDynamo();
    config = await db.createTables();
    await applyDeltas(db.ddb, config.statsTable, foldCalls(input, { slowThresholdMs: SLOW_MS }), config);
    // Items that are not buckets must not disturb the reads.
    await db.ddb.send(
      new PutCommand({ TableName: config.statsTable, Item: { pk: 'SEEN#x#y', sk: 'SEEN', expires_at: 1 } }),
    );
    await db.ddb.send(
      new PutCommand({ TableName: config.statsTable, Item: { pk: 'ALERT#rule', sk: 'STATE', n: 5 } }),
    );
  });
  after(async () => {
    await db?.stop();
  });

  it('stores each scope histogram in its own item, after the counter items of its bucket', async () => {
    const { Items = [] } = await db.ddb.send(new ScanCommand({ TableName: config.statsTable }));
    const hour = Items.filter((i) => i.pk === `H#${hourKey(1)}`);
    const counters = hour.filter((i) => !String(i.sk).startsWith('~'));
    const histograms = hour.filter((i) => String(i.sk).startsWith('~H#'));
    assert.equal(counters.length, 7, 'ALL, 2 services, 4 methods');
    assert.deepEqual(histograms.map((i) => String(i.sk).slice(3)).sort(), counters.map((i) => i.sk).sort());
    for (const item of counters) assert.ok(!Object.keys(item).some((a) => /^h(z|-?\d+)$/.test(a)));
    for (const item of histograms) {
      const buckets = Object.keys(item).filter((a) => /^h(z|-?\d+)$/.test(a)).length;
      // ALL's 200 wide-spread calls of the hour fill ~150 buckets.
      assert.ok(item.sk === '~H#ALL' ? buckets > 100 : buckets > 0, `${String(item.sk)}: ${buckets}`);
      assert.deepEqual(
        Object.keys(item).filter((a) => !/^(h-?\d+|hz|pk|sk|expires_at)$/.test(a)),
        [],
      );
    }
  });

  it('readWindow assembles every scope, histogram included, exactly', async () => {
    const stats = await readWindow(db.ddb, config.statsTable, { from: FROM, to: TO }, { now: NOW });
    assert.equal(stats.size, 7);
    for (const [scope, keep] of scopes) {
      assert.deepEqual(figures(stats.get(scope)!), truthOf(input, keep), scope);
    }
  });

  it('a window at odd minutes, tiled by buckets of every level, reads exactly', async () => {
    const from = new Date(FROM.getTime() - 13 * 60_000);
    const to = new Date(TO.getTime() + 8 * 60_000);
    const plan = planWindow({ from, to }, { now: NOW });
    assert.deepEqual([...new Set(plan.buckets.map((b) => b.slice(0, b.indexOf('#') + 1)))].sort(), [
      'H#',
      'M#',
      'M15#',
      'M5#',
    ]);
    const stats = await readWindow(db.ddb, config.statsTable, { from, to }, { now: NOW });
    for (const [scope, keep] of scopes) {
      assert.deepEqual(figures(stats.get(scope)!), truthOf(input, keep, from, to), scope);
    }
  });

  it("with counters: 'figures', reads only the figures' counters, projected", async () => {
    const full = await readWindow(db.ddb, config.statsTable, { from: FROM, to: TO }, { now: NOW });
    const { client, sent } = recording(db.ddb);
    const cheap = await readWindow(
      client,
      config.statsTable,
      { from: FROM, to: TO },
      { now: NOW, histogramsOf: [ALL_SCOPE], counters: 'figures' },
    );
    for (const q of sent.filter((s) => s.name === 'QueryCommand')) assert.ok(q.input.ProjectionExpression);
    assert.deepEqual([...cheap.keys()].sort(), [...full.keys()].sort());
    for (const [scope, stats] of cheap) {
      const want = full.get(scope)!;
      assert.deepEqual(
        { total: stats.total, byStatus: stats.byStatus, durationSumMs: stats.durationSumMs },
        { total: want.total, byStatus: want.byStatus, durationSumMs: want.durationSumMs },
        scope,
      );
      assert.deepEqual(
        [stats.byCode, stats.bytesIn, stats.bytesOut, stats.slow, stats.durationMaxMs, stats.lastRequestAt],
        [{}, 0, 0, 0, 0, null],
      );
      assert.deepEqual(sorted(stats.histogram), scope === ALL_SCOPE ? sorted(want.histogram) : new Map());
    }
  });

  it('with histogramsOf, reads counters only plus the listed histograms, in a fixed number of requests', async () => {
    const full = await readWindow(db.ddb, config.statsTable, { from: FROM, to: TO }, { now: NOW });
    const { client, sent } = recording(db.ddb);
    const cheap = await readWindow(
      client,
      config.statsTable,
      { from: FROM, to: TO },
      { now: NOW, histogramsOf: [ALL_SCOPE] },
    );
    // 2 + 2 quarter-hour buckets and one hour bucket: a counters-only Query each. Histograms by
    // BatchGetItem: the closed buckets' packed copies and the open one's histogram item (in
    // parallel), then, as no copy exists here, the closed buckets' histogram items.
    const queries = sent.filter((s) => s.name === 'QueryCommand');
    assert.equal(queries.length, 5);
    assert.deepEqual(
      queries
        .map((q) => (q.input.ExpressionAttributeValues as Record<string, { S: string }>)[':pk']!.S)
        .sort(),
      planWindow({ from: FROM, to: TO }, { now: NOW }).buckets.sort(),
    );
    for (const q of queries) assert.equal(q.input.KeyConditionExpression, 'pk = :pk AND sk < :below');
    assert.deepEqual(
      sent.map((s) => s.name).filter((n) => n !== 'QueryCommand'),
      ['BatchGetItemCommand', 'BatchGetItemCommand', 'BatchGetItemCommand'],
    );
    assert.deepEqual([...cheap.keys()].sort(), [...full.keys()].sort());
    for (const [scope, stats] of cheap) {
      const want = full.get(scope)!;
      if (scope === ALL_SCOPE) assert.deepEqual(figures(stats), figures(want), scope);
      else {
        assert.deepEqual(figures(stats), { ...figures(want), histogram: new Map() }, scope);
        assert.deepEqual(stats.byCode, want.byCode, scope);
      }
    }
  });

  it('readHours gives each hour every scope with its histogram', async () => {
    const hours = await readHours(db.ddb, config.statsTable, { from: at(0), to: at(3) });
    assert.deepEqual(
      [...hours.keys()],
      [0, 1, 2].map((h) => at(h).toISOString()),
    );
    const at14 = hours.get(at(1).toISOString())!;
    assert.equal(at14.size, 7);
    const inHour = (c: CountedCall) => c.createdAt.startsWith(hourKey(1));
    const all = input.filter(inHour);
    const histogram = new Map<number, number>();
    for (const c of all) addToHistogram(histogram, c.durationMs);
    assert.equal(at14.get(ALL_SCOPE)!.total, all.length);
    assert.deepEqual(sorted(at14.get(ALL_SCOPE)!.histogram), sorted(histogram));
  });

  it('the catalog lists services and methods, not histogram keys', async () => {
    assert.deepEqual(await readCatalog(db.ddb, config.statsTable), [
      { service: 'OrderService', methods: ['Get', 'List'] },
      { service: 'UserService', methods: ['Get', 'List'] },
    ]);
  });
});
