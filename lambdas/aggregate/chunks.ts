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
import { addTerms, MAX_ADD_TERMS } from '../../core/stats/updates';

/** TransactWriteItems takes at most 100 actions. */
export const MAX_TRANSACTION_ACTIONS = 100;

/** A call to count, and the stream record it came from. */
export interface SequencedCall {
  readonly call: CountedCall;
  /** The record's stream sequence number: the batch item identifier for partial failures. */
  readonly sequenceNumber: string;
}

/**
 * Calls applied in one transaction: a marker per call plus one counter update per
 * (bucket, scope) delta, so ≤ 100 actions, and no delta over MAX_ADD_TERMS terms.
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

/** How many ADD terms a delta would have after adding the call (without changing it). */
function termsAfter(
  delta: ReturnType<typeof emptyDelta> | undefined,
  call: CountedCall,
  options: FoldOptions,
): number {
  if (!delta) {
    const fresh = emptyDelta('', '');
    addCall(fresh, call, options);
    return addTerms(fresh).length;
  }
  let terms = addTerms(delta).length;
  if (!delta.byStatus[call.status]) terms += 1;
  if (!delta.byCode[call.code]) terms += 1;
  if (!delta.durationSumCentis && Math.round(call.durationMs * 100)) terms += 1;
  if (!delta.bytesIn && call.bytesIn) terms += 1;
  if (!delta.bytesOut && call.bytesOut) terms += 1;
  if (!delta.slow && call.durationMs >= options.slowThresholdMs) terms += 1;
  if (!delta.histogram.get(bucketIndex(call.durationMs))) terms += 1;
  return terms;
}

/**
 * Splits calls (in order) into chunks that each fit one transaction. Greedy: a call joins the
 * current chunk unless that would pass 100 actions or MAX_ADD_TERMS terms on one delta.
 */
export function chunkCalls(calls: readonly SequencedCall[], options: FoldOptions): Chunk[] {
  const chunks: Chunk[] = [];
  let current: Chunk = { calls: [], deltas: new Map() };
  for (const sequenced of calls) {
    const keys = statsKeysOf(sequenced.call).map(({ pk, sk }) => ({ pk, sk, id: deltaId(pk, sk) }));
    const fits = (): boolean => {
      const newDeltas = keys.filter((k) => !current.deltas.has(k.id)).length;
      if (current.calls.length + 1 + current.deltas.size + newDeltas > MAX_TRANSACTION_ACTIONS) return false;
      return keys.every(
        (k) => termsAfter(current.deltas.get(k.id), sequenced.call, options) <= MAX_ADD_TERMS,
      );
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
