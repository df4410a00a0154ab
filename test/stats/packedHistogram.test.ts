/**
 * Packed histogram copies (`~P#<scope>`): the pure packing, and readWindow's use of them against
 * DynamoDB Local: written for closed buckets only, used only while their count equals the
 * counter total, so a late record is never missed; other reads ignore them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { MonitorConfig } from '../../core/config';
import {
  ALL_SCOPE,
  applyDeltas,
  bucketEnd,
  foldCalls,
  planWindow,
  readHours,
  readWindow,
  type CountedCall,
  type Histogram,
  type ScopeStats,
} from '../../core/stats';
import { addToHistogram, ZERO_BUCKET } from '../../core/stats/histogram';
import { addPackedBins, packHistogram } from '../../core/stats/packedHistogram';
import { PACK_AFTER_MS } from '../../core/stats/read';
import { startTestDynamo, type TestDynamo } from '../harness/dynamo';

const sorted = (h: Histogram) => new Map([...h].sort(([a], [b]) => a - b));

describe('packHistogram / addPackedBins', () => {
  it('round-trips every kind of bin, zero bucket and negative indexes included', () => {
    const histogram: Histogram = new Map([
      [170, 42],
      [ZERO_BUCKET, 3],
      [-12, 5],
      [0, 1],
      [9, 0],
      [400, 123_456_789],
    ]);
    const packed = packHistogram(histogram);
    assert.equal(packed, 'z:3,-12:5,0:1,170:42,400:123456789');
    const back: Histogram = new Map([[170, 1]]);
    assert.equal(addPackedBins(back, packed), 3 + 5 + 1 + 42 + 123_456_789);
    assert.deepEqual(
      sorted(back),
      sorted(
        new Map([
          [ZERO_BUCKET, 3],
          [-12, 5],
          [0, 1],
          [170, 43],
          [400, 123_456_789],
        ]),
      ),
    );
    assert.equal(packHistogram(new Map()), '');
    assert.equal(addPackedBins(new Map(), ''), 0);
  });

  it('refuses a malformed string', () => {
    for (const bad of ['5', 'a:1', '5:-1', '5:0', 'z5:1', '1.5:2', '5:1,', ':3']) {
      assert.throws(() => addPackedBins(new Map(), bad), /malformed packed histogram bin/, bad);
    }
  });
});

const HOUR = 3_600_000;
/** Recent hours (the buckets' TTL is from their start: DynamoDB Local deletes expired items). */
const BASE = Math.floor(Date.now() / HOUR) * HOUR - 4 * HOUR;
const FROM = new Date(BASE + 0.5 * HOUR);
const TO = new Date(BASE + 2.5 * HOUR);

const call = (i: number, createdAt: Date, durationMs: number): CountedCall => ({
  requestId: `p${i}`,
  service: i % 2 ? 'UserService' : 'OrderService',
  method: 'Get',
  status: i % 9 ? 'success' : 'error',
  code: i % 9 ? 'OK' : 'INTERNAL',
  durationMs,
  bytesIn: 1,
  bytesOut: 2,
  createdAt: createdAt.toISOString(),
});

/** 600 calls over three hours from BASE, durations spread over ~200 histogram bins. */
const CALLS = Array.from({ length: 600 }, (_, i) =>
  call(i, new Date(BASE + i * 18_000 + 7), Math.round(0.5 * 1.02 ** (i % 200) * 100) / 100),
);

/** A DocumentClient that records what it sends, and can refuse PutItem. */
function recording(ddb: DynamoDBDocumentClient, refusePuts = false) {
  const sent: Array<{ name: string; input: Record<string, unknown> }> = [];
  const client = {
    send: (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
      sent.push({ name: command.constructor.name, input: command.input });
      if (refusePuts && command.constructor.name === 'PutItemCommand') {
        return Promise.reject(new Error('AccessDeniedException (test)'));
      }
      return (ddb.send as (c: unknown) => Promise<unknown>)(command);
    },
  } as unknown as DynamoDBDocumentClient;
  const keysRead = () =>
    sent
      .filter((s) => s.name === 'BatchGetItemCommand')
      .flatMap((s) =>
        Object.values(s.input.RequestItems as Record<string, { Keys: Array<Record<string, { S: string }>> }>),
      )
      .flatMap((r) => r.Keys.map((k) => `${k.pk!.S} ${k.sk!.S}`));
  return { client, sent, keysRead };
}

describe('readWindow with packed histogram copies (DynamoDB Local)', () => {
  let db: TestDynamo;
  let config: MonitorConfig;
  const range = { from: FROM, to: TO };
  // Every bucket of the window closed long ago, or the newest ones still open.
  const LATER = new Date(TO.getTime() + HOUR);
  const plan = planWindow(range, { now: LATER });

  const full = (now: Date) => readWindow(db.ddb, config.statsTable, range, { now });
  const overview = (via: DynamoDBDocumentClient, now: Date, pack = true) =>
    readWindow(via, config.statsTable, range, { now, histogramsOf: [ALL_SCOPE], packClosedHistograms: pack });
  const same = (a: ScopeStats | undefined, b: ScopeStats | undefined) => {
    assert.equal(a?.total, b?.total);
    assert.deepEqual(sorted(a!.histogram), sorted(b!.histogram));
  };
  const copies = async () => {
    const Items = await db.scanAll(config.statsTable);
    return new Map(
      Items.filter((i) => String(i.sk).startsWith('~P#')).map((i) => [`${String(i.pk)} ${String(i.sk)}`, i]),
    );
  };
  const addCalls = (calls: CountedCall[]) =>
    applyDeltas(db.ddb, config.statsTable, foldCalls(calls, { slowThresholdMs: 100 }), config);

  before(async () => {
    db = await startTestDynamo();
    config = await db.createTables();
    await addCalls(CALLS);
  });
  after(async () => {
    await db?.stop();
  });

  it('writes a copy for each closed bucket read in full, with its count and TTL, and reads it next time', async () => {
    const truth = await full(LATER);
    const hoursBefore = await readHours(db.ddb, config.statsTable, range);
    const first = recording(db.ddb);
    same((await overview(first.client, LATER)).get(ALL_SCOPE), truth.get(ALL_SCOPE));
    const written = await copies();
    assert.deepEqual([...written.keys()].sort(), plan.buckets.map((b) => `${b} ~P#ALL`).sort());
    const Items = await db.scanAll(config.statsTable);
    for (const bucket of plan.buckets) {
      const copy = written.get(`${bucket} ~P#ALL`)!;
      const counter = Items.find((i) => i.pk === bucket && i.sk === ALL_SCOPE)!;
      const histogram = Items.find((i) => i.pk === bucket && i.sk === '~H#ALL')!;
      assert.equal(copy.n, counter.n, bucket);
      assert.equal(copy.expires_at, histogram.expires_at, bucket);
    }

    // Next read: every closed bucket from its copy, no histogram item read, same figures.
    const second = recording(db.ddb);
    same((await overview(second.client, LATER)).get(ALL_SCOPE), truth.get(ALL_SCOPE));
    assert.deepEqual(second.keysRead().sort(), plan.buckets.map((b) => `${b} ~P#ALL`).sort());
    assert.deepEqual(
      second.sent.filter((s) => s.name !== 'QueryCommand').map((s) => s.name),
      ['BatchGetItemCommand'],
    );

    // Reads that take whole partitions ignore the copies.
    const after = await full(LATER);
    for (const [scope, stats] of truth) assert.deepEqual(after.get(scope), stats, scope);
    assert.deepEqual(await readHours(db.ddb, config.statsTable, range), hoursBefore);
  });

  it('a closed bucket without calls costs no histogram read', async () => {
    // The calls span BASE to BASE + 3 h.
    const quiet = { from: new Date(BASE + 3 * HOUR), to: new Date(BASE + 3.5 * HOUR) };
    const read = recording(db.ddb);
    const stats = await readWindow(read.client, config.statsTable, quiet, {
      now: new Date(BASE + 4 * HOUR),
      histogramsOf: [ALL_SCOPE],
      packClosedHistograms: true,
    });
    assert.equal(stats.size, 0);
    assert.ok(
      read.keysRead().every((key) => key.endsWith(' ~P#ALL')),
      read.keysRead().join(', '),
    );
    assert.equal(read.sent.filter((s) => s.name === 'PutItemCommand').length, 0);
  });

  it('an open bucket is read from its histogram item and gets no copy', async () => {
    // TO is minute-aligned: at TO + PACK_AFTER_MS - 1 the newest bucket is not yet "closed".
    const now = new Date(TO.getTime() + PACK_AFTER_MS - 1);
    const newest = planWindow(range, { now }).buckets.find((b) => bucketEnd(b).getTime() === TO.getTime())!;
    const truth = await full(now);
    const read = recording(db.ddb);
    same((await overview(read.client, now)).get(ALL_SCOPE), truth.get(ALL_SCOPE));
    assert.ok(read.keysRead().includes(`${newest} ~H#ALL`));
    assert.ok(!read.keysRead().includes(`${newest} ~P#ALL`));
    assert.equal(read.sent.filter((s) => s.name === 'PutItemCommand').length, 0);
  });

  it('a late record makes a copy stale: the read counts it, and repacks', async () => {
    const late = new Date(FROM.getTime() + 60_000);
    const bucket = planWindow(range, { now: LATER }).buckets.find(
      (b) => Date.parse(`${b.slice(b.indexOf('#') + 1)}:00.000Z`) <= late.getTime(),
    );
    assert.ok(bucket, 'the window has a bucket holding the late call');
    const before = (await copies()).get(`${bucket} ~P#ALL`)!;
    await addCalls([call(10_000, late, 99_999)]);
    const truth = await full(LATER);
    const expected = new Map<number, number>();
    addToHistogram(expected, 99_999);
    const [bin] = [...expected.keys()];
    assert.equal(truth.get(ALL_SCOPE)!.histogram.get(bin!), 1, 'the full read sees the late call');

    same((await overview(db.ddb, LATER)).get(ALL_SCOPE), truth.get(ALL_SCOPE));
    assert.equal((await copies()).get(`${bucket} ~P#ALL`)!.n, Number(before.n) + 1);
    // And without packing (no PutItem allowed), still exact after one more.
    await addCalls([call(10_001, late, 77_777)]);
    const refused = recording(db.ddb, true);
    same((await overview(refused.client, LATER, false)).get(ALL_SCOPE), (await full(LATER)).get(ALL_SCOPE));
    assert.equal(refused.sent.filter((s) => s.name === 'PutItemCommand').length, 0);
  });

  it('a failed copy write leaves the read exact, and a copy is never replaced by one of fewer calls', async () => {
    await addCalls([call(10_002, new Date(FROM.getTime() + 2 * 60_000), 55_555)]);
    const truth = await full(LATER);
    const refused = recording(db.ddb, true);
    same((await overview(refused.client, LATER)).get(ALL_SCOPE), truth.get(ALL_SCOPE));
    assert.ok(
      refused.sent.some((s) => s.name === 'PutItemCommand'),
      'it tried to write the stale copy',
    );

    // A (corrupt) copy claiming more calls than the bucket has is ignored and not overwritten.
    const bucket = plan.buckets[0]!;
    const bogus = { pk: bucket, sk: '~P#ALL', n: 1_000_000, b: '1:1000000', expires_at: 4_102_444_800 };
    await db.ddb.send(new PutCommand({ TableName: config.statsTable, Item: bogus }));
    same((await overview(db.ddb, LATER)).get(ALL_SCOPE), truth.get(ALL_SCOPE));
    assert.deepEqual((await copies()).get(`${bucket} ~P#ALL`), bogus);
  });
});
