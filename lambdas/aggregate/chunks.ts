import type { DynamoDBRecord } from 'aws-lambda';
import {
  addCall,
  countedCall,
  deltaId,
  emptyDelta,
  statsKeysOf,
  type CountedCall,
  type FoldOptions,
  type StatsDeltas,
} from '../../core/stats/fold';
import { bucketIndex } from '../../core/stats/histogram';
import { counterTerms, histogramTerms, MAX_ADD_TERMS } from '../../core/stats/updates';

/** TransactWriteItems takes at most 100 actions. */
export const MAX_TRANSACTION_ACTIONS = 100;

/** A call to count, and the stream record it came from. */
export interface SequencedCall {
  readonly call: CountedCall;
  /** The record's stream sequence number: the batch item identifier for partial failures. */
  readonly sequenceNumber: string;
}

/**
 * Calls applied in one transaction: a marker per call plus, per (bucket, scope) delta, one
 * counter update and one histogram update (separate items), so ≤ 100 actions, and neither
 * update of a delta over MAX_ADD_TERMS terms.
 */
export interface Chunk {
  readonly calls: SequencedCall[];
  readonly deltas: StatsDeltas;
}

/** The calls of a batch, in stream order, by the status-transition rule. */
export function callsOf(records: readonly DynamoDBRecord[]): SequencedCall[] {
  const calls: SequencedCall[] = [];
  for (const record of records) {
    const call = countedCall(record);
    const sequenceNumber = record.dynamodb?.SequenceNumber;
    if (call && sequenceNumber) calls.push({ call, sequenceNumber });
  }
  return calls;
}

/** How many ADD terms a delta's two updates would have after adding the call (without changing it). */
function termsAfter(
  delta: ReturnType<typeof emptyDelta> | undefined,
  call: CountedCall,
  options: FoldOptions,
): { counters: number; histogram: number } {
  if (!delta) {
    const fresh = emptyDelta('', '');
    addCall(fresh, call, options);
    return { counters: counterTerms(fresh).length, histogram: histogramTerms(fresh).length };
  }
  let counters = counterTerms(delta).length;
  if (!delta.byStatus[call.status]) counters += 1;
  if (!delta.byCode[call.code]) counters += 1;
  if (!delta.durationSumCentis && Math.round(call.durationMs * 100)) counters += 1;
  if (!delta.bytesIn && call.bytesIn) counters += 1;
  if (!delta.bytesOut && call.bytesOut) counters += 1;
  if (!delta.slow && call.durationMs >= options.slowThresholdMs) counters += 1;
  let histogram = histogramTerms(delta).length;
  if (!delta.histogram.get(bucketIndex(call.durationMs))) histogram += 1;
  return { counters, histogram };
}

/** Actions a delta costs in a transaction: its counter update and its histogram update. */
export const ACTIONS_PER_DELTA = 2;

/** Orders calls by method (service, then method), stream order within a method. */
const byMethod = (a: SequencedCall, b: SequencedCall): number =>
  a.call.service < b.call.service
    ? -1
    : a.call.service > b.call.service
      ? 1
      : a.call.method < b.call.method
        ? -1
        : a.call.method > b.call.method
          ? 1
          : 0;

/**
 * Splits calls into chunks that each fit one transaction. The calls are taken method by method
 * (stream order within a method; Array sort is stable), so a chunk touches few scopes: each
 * call counts in 3 scopes × every bucket level, and a chunk of interleaved methods would
 * update every scope of the batch in every transaction. Greedy: a call joins the current
 * chunk unless that would pass 100 actions or MAX_ADD_TERMS terms on one update. Counting is
 * order-free, so applying a batch's calls in this order counts the same; the handler reports a
 * failed chunk by the earliest unapplied call in stream order.
 */
export function chunkCalls(calls: readonly SequencedCall[], options: FoldOptions): Chunk[] {
  const chunks: Chunk[] = [];
  let current: Chunk = { calls: [], deltas: new Map() };
  for (const sequenced of [...calls].sort(byMethod)) {
    const keys = statsKeysOf(sequenced.call).map(({ pk, sk }) => ({ pk, sk, id: deltaId(pk, sk) }));
    const fits = (): boolean => {
      const newDeltas = keys.filter((k) => !current.deltas.has(k.id)).length;
      const actions = current.calls.length + 1 + ACTIONS_PER_DELTA * (current.deltas.size + newDeltas);
      if (actions > MAX_TRANSACTION_ACTIONS) return false;
      return keys.every((k) => {
        const terms = termsAfter(current.deltas.get(k.id), sequenced.call, options);
        return terms.counters <= MAX_ADD_TERMS && terms.histogram <= MAX_ADD_TERMS;
      });
    };
    if (current.calls.length > 0 && !fits()) {
      chunks.push(current);
      current = { calls: [], deltas: new Map() };
    }
    current.calls.push(sequenced);
    for (const { pk, sk, id } of keys) {
      let delta = current.deltas.get(id);
      if (!delta) current.deltas.set(id, (delta = emptyDelta(pk, sk)));
      addCall(delta, sequenced.call, options);
    }
  }
  if (current.calls.length > 0) chunks.push(current);
  return chunks;
}
