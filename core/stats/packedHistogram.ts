/**
 * A latency histogram packed as one string, the form histograms are stored in: in a Stats
 * histogram item (`~H#<scope>`, attribute `b`, beside its count `n`) and in delta cells. One
 * string instead of hundreds of numeric attributes: smaller to write and cheap to read, whatever
 * the traffic.
 */
import { ZERO_BUCKET, type Histogram } from './histogram';

/** `z:3,-12:5,170:42`: every non-zero bin, in ascending index order. */
export function packHistogram(histogram: Histogram): string {
  return [...histogram]
    .filter(([, count]) => count > 0)
    .sort(([a], [b]) => a - b)
    .map(([index, count]) => `${index === ZERO_BUCKET ? 'z' : index}:${count}`)
    .join(',');
}

/**
 * Adds packed bins into a histogram and returns how many calls they hold; throws on a malformed
 * string (only packHistogram writes them, so that means a corrupt item).
 */
export function addPackedBins(into: Histogram, packed: string): number {
  let added = 0;
  if (packed === '') return added;
  for (const pair of packed.split(',')) {
    const colon = pair.indexOf(':');
    const index = pair[0] === 'z' && colon === 1 ? ZERO_BUCKET : Number(pair.slice(0, colon));
    const count = Number(pair.slice(colon + 1));
    if (colon < 1 || !(Number.isInteger(index) || index === ZERO_BUCKET) || !(count > 0)) {
      throw new Error(`malformed packed histogram bin: ${JSON.stringify(pair.slice(0, 40))}`);
    }
    into.set(index, (into.get(index) ?? 0) + count);
    added += count;
  }
  return added;
}
