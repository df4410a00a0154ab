/**
 * A closed bucket's latency histogram, packed: the same bins as one string attribute instead of
 * hundreds of numeric ones (`h<i>`), so reading it costs about the same whatever the traffic.
 *
 * The packed copy is a cache beside the histogram item, never its replacement: the aggregator
 * keeps `ADD`ing into the histogram item (late records included), and a reader trusts a copy
 * only while its count equals the scope's counter total for that bucket. The two are updated in
 * one transaction, so a record that arrives after packing makes the copy stale at once and the
 * reader falls back to the histogram item (see readWindow in read.ts).
 */
import { ZERO_BUCKET, type Histogram } from './histogram';

/** Attributes of a packed copy item (`~P#<scope>`). */
export const PACKED_ATTRIBUTE = {
  /** Calls the copy covers (the sum of its bins). */
  count: 'n',
  /** The bins: `index:count` pairs joined by `,`; the zero bucket's index is `z`. */
  bins: 'b',
} as const;

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
 * string (a copy is only ever written by packHistogram, so that means a corrupt item).
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
