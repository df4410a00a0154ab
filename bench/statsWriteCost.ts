/**
 * `npx tsx bench/statsWriteCost.ts`: what the aggregator's Stats writes cost per call, in
 * DynamoDB write request units, with the bucket levels it writes (BUCKET_LEVELS: M#, M5#, M15#,
 * H#, H6#) against the minute + hour levels alone (before the finer and coarser levels). A model, not a measurement (DynamoDB Local reports no
 * capacity): the real chunking rule (≤ 100 actions per transaction: a marker per call and two
 * updates per (bucket, scope)), the stream batches the aggregate consumer gets
 * (core/streamConsumers.ts: ≤ 500 records, ≤ 1 s), and each update billed as DynamoDB bills a
 * transactional write: 2 WRU per started KB of the item (the larger of its before and after
 * images), with the item's size taken at a random moment of its bucket's life under that traffic.
 * Traffic: one service with 5 methods (the README's example), log-normal durations around 25 ms.
 */
import { aggregateConsumer } from '../core/streamConsumers';
import { addToHistogram, histogramAttribute, type Histogram } from '../core/stats/histogram';
import { BUCKET_LEVELS, type BucketLevel } from '../core/stats/keys';

const METHODS = 5;
const CALL_WRU = 2; // the marker: a tiny item, written in the transaction

let state = 1;
const rand = () => {
  state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
  return (state + 0.5) / 2 ** 31;
};
const duration = () =>
  Math.round(
    Math.exp(Math.log(25) + Math.sqrt(-2 * Math.log(rand())) * Math.cos(2 * Math.PI * rand())) * 100,
  ) / 100;

/** DynamoDB's size of a number attribute value (about one byte per two digits, plus one). */
const numberBytes = (n: number) => Math.ceil(String(n).replace(/[-.]/g, '').length / 2) + 1;

/** Size in bytes of a histogram item holding `calls` durations (keys, TTL, one attribute per bin). */
function histogramItemBytes(level: BucketLevel, calls: number): number {
  const h: Histogram = new Map();
  for (let i = 0; i < calls; i++) addToHistogram(h, duration());
  let bytes = 2 + 2 + level.isoLength + 2 + 3 + 22 + 10 + 6; // pk, sk (`~H#M#Svc#Method`), expires_at
  for (const [index, count] of h) bytes += histogramAttribute(index).length + numberBytes(count);
  return bytes;
}

/** A counter item: keys, a dozen short counters, `last` (ISO), TTL: ~300 bytes, i.e. 1 KB. */
const COUNTER_WRU = 2;

function wruPerCall(
  rate: number,
  levels: readonly BucketLevel[],
  grouped: boolean,
): { perCall: number; txPerBatch: number } {
  const batchSeconds = Math.min(
    aggregateConsumer.maxBatchingWindowSeconds,
    aggregateConsumer.batchSize / rate,
  );
  const batchCalls = Math.max(1, Math.round(rate * batchSeconds));
  // Scopes a batch touches: ALL, the service, and the methods its calls hit.
  const methodsHit = Math.min(METHODS, batchCalls);
  // Transactions: greedy, as chunkCalls (each call brings its levels × 3 (bucket, scope) deltas).
  let tx = 0;
  let updates = 0;
  let calls = 0;
  let deltas = new Set<string>();
  const flush = () => {
    if (calls === 0) return;
    tx += 1;
    updates += 2 * deltas.size;
    calls = 0;
    deltas = new Set();
  };
  for (let i = 0; i < batchCalls; i++) {
    // The stream interleaves methods; chunkCalls now takes them method by method.
    const method = grouped ? Math.floor((i * methodsHit) / batchCalls) : i % methodsHit;
    const keys = levels.flatMap((l) => [`${l.prefix}ALL`, `${l.prefix}S`, `${l.prefix}M${method}`]);
    const fresh = keys.filter((k) => !deltas.has(k)).length;
    if (calls > 0 && calls + 1 + 2 * (deltas.size + fresh) > 100) flush();
    calls += 1;
    for (const k of keys) deltas.add(k);
  }
  flush();
  // WRU of one (bucket, scope) update pair at each level, averaged over the bucket's life.
  let histogramWru = 0;
  const perLevel = updates / 2 / levels.length;
  for (const level of levels) {
    const bucketCalls = (rate * level.ms) / 1000;
    let sum = 0;
    const samples = 8;
    for (let s = 1; s <= samples; s++) {
      const seen = Math.round((bucketCalls * s) / samples);
      // ALL and service scopes see every call, a method scope a fifth of them.
      const all = 2 * Math.ceil(histogramItemBytes(level, Math.min(seen, 20_000)) / 1024);
      const method =
        2 * Math.ceil(histogramItemBytes(level, Math.min(Math.round(seen / METHODS), 20_000)) / 1024);
      sum += (2 * all + methodsHit * method) / (2 + methodsHit);
    }
    histogramWru += (sum / samples) * perLevel;
  }
  const wru = batchCalls * CALL_WRU + (updates / 2) * COUNTER_WRU + histogramWru;
  return { perCall: wru / batchCalls, txPerBatch: tx };
}

const twoLevels = BUCKET_LEVELS.filter((l) => l.prefix === 'M#' || l.prefix === 'H#');
const n = BUCKET_LEVELS.length;
console.log(
  `| calls/s | before: minute + hour, chunks in stream order | ${n} levels, stream order | ${n} levels, chunks method by method (now) |`,
);
console.log('|---|---|---|---|');
const cell = ({ perCall, txPerBatch }: { perCall: number; txPerBatch: number }) =>
  `${perCall.toFixed(1)} WRU/call (${txPerBatch} tx/batch)`;
for (const rate of [10, 100, 1000]) {
  console.log(
    `| ${rate} | ${cell(wruPerCall(rate, twoLevels, false))} | ${cell(wruPerCall(rate, BUCKET_LEVELS, false))} | ${cell(wruPerCall(rate, BUCKET_LEVELS, true))} |`,
  );
}
