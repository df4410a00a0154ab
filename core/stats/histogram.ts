/**
 * A mergeable log-bucket latency histogram, DDSketch-style (Masson et al., VLDB 2019).
 *
 * A duration d > 0 ms falls in bucket i = ceil(log_γ(d)), which covers (γ^(i-1), γ^i]. Every
 * value of bucket i is read back as 2γ^i / (γ + 1), which is within a relative error of
 * α = (γ - 1) / (γ + 1) of the true value. With γ = 1.02, α = 0.0099: every quantile read from
 * the sketch is within 1 % of the exact one (same rank), however many sketches were merged.
 *
 * Merging is adding counts bucket by bucket: exactly what DynamoDB's `ADD` does, so each bucket
 * is a top-level numeric attribute of a Stats item. Durations below 1 µs (0 included) go to a
 * zero bucket read back as 0. From 1 µs to 1 h the sketch has at most ~1,800 buckets; a real
 * endpoint's spread (say 1 ms – 30 s) needs about 520.
 */

/** Bucket index → count. The zero bucket's index is ZERO_BUCKET. */
export type Histogram = Map<number, number>;

export const GAMMA = 1.02;
/** The relative error bound of every quantile read from a histogram. */
export const RELATIVE_ERROR = (GAMMA - 1) / (GAMMA + 1);
/** Durations below this (ms) count in the zero bucket. */
export const MIN_INDEXED_MS = 0.001;
/** Index of the zero bucket (sorts before every real bucket). */
export const ZERO_BUCKET = Number.NEGATIVE_INFINITY;

const LOG_GAMMA = Math.log(GAMMA);

/** The bucket a duration in ms falls into. */
export function bucketIndex(durationMs: number): number {
  if (!(durationMs >= MIN_INDEXED_MS)) return ZERO_BUCKET;
  return Math.ceil(Math.log(durationMs) / LOG_GAMMA);
}

/** The value (ms) a bucket reads back as: within RELATIVE_ERROR of everything in it. */
export function bucketValue(index: number): number {
  if (index === ZERO_BUCKET) return 0;
  return (2 * Math.pow(GAMMA, index)) / (GAMMA + 1);
}

export function addToHistogram(histogram: Histogram, durationMs: number, count = 1): void {
  const index = bucketIndex(durationMs);
  histogram.set(index, (histogram.get(index) ?? 0) + count);
}

/** Adds `from` into `into` (in place) and returns `into`. */
export function mergeHistogram(into: Histogram, from: Histogram): Histogram {
  for (const [index, count] of from) into.set(index, (into.get(index) ?? 0) + count);
  return into;
}

export function histogramCount(histogram: Histogram): number {
  let total = 0;
  for (const count of histogram.values()) total += count;
  return total;
}

/**
 * The q-quantile (0..1) in ms: the value of rank floor(q·(n−1)) (0-based, ascending) within
 * RELATIVE_ERROR; null when the histogram is empty.
 */
export function quantile(histogram: Histogram, q: number): number | null {
  const total = histogramCount(histogram);
  if (total <= 0) return null;
  const rank = Math.floor(Math.min(1, Math.max(0, q)) * (total - 1));
  const indexes = [...histogram.keys()].sort((a, b) => a - b);
  let seen = 0;
  for (const index of indexes) {
    seen += histogram.get(index) ?? 0;
    if (seen > rank) return bucketValue(index);
  }
  return bucketValue(indexes[indexes.length - 1]!);
}

/** Stats item attribute name of a bucket: `h123`, `h-45`, and `hz` for the zero bucket. */
export function histogramAttribute(index: number): string {
  return index === ZERO_BUCKET ? 'hz' : `h${index}`;
}

/** The bucket index of a Stats item attribute name, or undefined when it is not a bucket. */
export function histogramIndexOf(attribute: string): number | undefined {
  if (attribute === 'hz') return ZERO_BUCKET;
  if (attribute.length < 2 || attribute[0] !== 'h') return undefined;
  const index = Number(attribute.slice(1));
  return Number.isInteger(index) ? index : undefined;
}
