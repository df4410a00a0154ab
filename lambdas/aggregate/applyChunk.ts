import { TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { KnownExtrema } from '../../core/stats/apply';
import { deltaId, foldCalls, type FoldOptions, type StatsDelta } from '../../core/stats/fold';
import { seenKey, type RetentionSettings } from '../../core/stats/keys';
import { counterUpdate, histogramUpdate, STATS_ATTRIBUTE } from '../../core/stats/updates';
import type { Chunk, SequencedCall } from './chunks';

export interface ApplyChunkOptions extends FoldOptions, RetentionSettings {
  readonly statsTable: string;
  /** Epoch seconds at which exactly-once markers may expire (after the stream's 24 h retention). */
  readonly markerExpiresAt: number;
  /** Lower bounds of the stored maxima (they only rise), shared across invocations. */
  readonly known: KnownExtrema;
  /** Attempts on transaction conflicts and throttling before giving up (the batch is retried). */
  readonly maxAttempts?: number;
  /** Backoff between those attempts; injectable for tests. */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** Why a chunk could not be applied: the batch must be retried from its first record. */
export class ChunkNotAppliedError extends Error {
  override name = 'ChunkNotAppliedError';
}

interface CancellationReason {
  Code?: string;
  /** The stored item, for actions with ReturnValuesOnConditionCheckFailure (raw attribute values). */
  Item?: Record<string, { N?: string; S?: string }>;
}

const knownKey = (delta: StatsDelta, attribute: string): string =>
  `${deltaId(delta.pk, delta.sk)}|${attribute}`;

/** Raise a maximum unless the stored one is known to be at least as high. */
function mustRaise(
  known: KnownExtrema,
  delta: StatsDelta,
  attribute: string,
  value: number | string,
): boolean {
  const stored = known.get(knownKey(delta, attribute));
  return stored === undefined || stored < value;
}

/** Learns the stored maxima from an item a failed condition returned. */
function learnExtrema(known: KnownExtrema, delta: StatsDelta, item: CancellationReason['Item']): void {
  const max = item?.[STATS_ATTRIBUTE.durationMax]?.N;
  const last = item?.[STATS_ATTRIBUTE.lastRequestAt]?.S;
  known.set(knownKey(delta, STATS_ATTRIBUTE.durationMax), max === undefined ? -1 : Number(max));
  known.set(knownKey(delta, STATS_ATTRIBUTE.lastRequestAt), last ?? '');
}

const RETRYABLE = new Set([
  'TransactionConflict',
  'ThrottlingError',
  'ProvisionedThroughputExceeded',
  'RequestLimitExceeded',
]);

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * One transaction: a conditional marker Put per call, then per delta the counter `ADD`s and
 * the maxima it raises (those not known to be already as high), then per delta the histogram
 * `ADD`s on its own item. Only markers and counter updates carry conditions, so a cancellation
 * reason's index is a marker's (< calls) or a counter update's (calls + delta index).
 */
function transactionOf(calls: readonly SequencedCall[], options: ApplyChunkOptions) {
  const deltas = [
    ...foldCalls(
      calls.map((c) => c.call),
      options,
    ).values(),
  ];
  const command = new TransactWriteCommand({
    TransactItems: [
      ...calls.map(({ call }) => ({
        Put: {
          TableName: options.statsTable,
          Item: { ...seenKey(call.requestId, call.createdAt), expires_at: options.markerExpiresAt },
          // Already there: this call was counted by an earlier delivery.
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      })),
      ...deltas.map((delta) => ({
        Update: counterUpdate(options.statsTable, delta, options, {
          durationMax: mustRaise(options.known, delta, STATS_ATTRIBUTE.durationMax, delta.durationMaxMs),
          lastRequestAt: mustRaise(options.known, delta, STATS_ATTRIBUTE.lastRequestAt, delta.lastRequestAt),
        }),
      })),
      ...deltas.flatMap((delta) => {
        const update = histogramUpdate(options.statsTable, delta, options);
        return update ? [{ Update: update }] : [];
      }),
    ],
  });
  return { command, deltas };
}

/** After a commit the stored maxima are at least the delta's. */
function rememberCommitted(known: KnownExtrema, deltas: readonly StatsDelta[]): void {
  for (const delta of deltas) {
    const maxKey = knownKey(delta, STATS_ATTRIBUTE.durationMax);
    const lastKey = knownKey(delta, STATS_ATTRIBUTE.lastRequestAt);
    if (mustRaise(known, delta, STATS_ATTRIBUTE.durationMax, delta.durationMaxMs))
      known.set(maxKey, delta.durationMaxMs);
    if (mustRaise(known, delta, STATS_ATTRIBUTE.lastRequestAt, delta.lastRequestAt))
      known.set(lastKey, delta.lastRequestAt);
  }
}

/**
 * Applies a chunk exactly once. The markers and the counters commit together or not at all.
 * A marker that already exists cancels the transaction with ConditionalCheckFailed at its
 * index: that call was counted before (a redelivery), so it is dropped and the rest is
 * re-folded and retried. Conflicts and throttling are retried with backoff; anything else,
 * or running out of attempts, throws ChunkNotAppliedError.
 * Returns how many calls this delivery counted (the rest were duplicates).
 */
export async function applyChunk(
  ddb: DynamoDBDocumentClient,
  chunk: Chunk,
  options: ApplyChunkOptions,
): Promise<number> {
  const maxAttempts = options.maxAttempts ?? 6;
  const sleep = options.sleep ?? defaultSleep;
  let calls = chunk.calls;
  let failedAttempts = 0;
  // Each pass either commits, drops duplicates, learns maxima or backs off; bound it anyway.
  for (let pass = 0; calls.length > 0; pass++) {
    if (pass >= 100) throw new ChunkNotAppliedError('transaction did not settle in 100 passes');
    const { command, deltas } = transactionOf(calls, options);
    try {
      await ddb.send(command);
      rememberCommitted(options.known, deltas);
      return calls.length;
    } catch (error) {
      const reasons = (error as { CancellationReasons?: CancellationReason[] }).CancellationReasons;
      if ((error as Error).name !== 'TransactionCanceledException' || !reasons) {
        throw new ChunkNotAppliedError(`transaction failed: ${(error as Error).message}`, { cause: error });
      }
      const duplicate = new Set<number>();
      let learned = false;
      reasons.forEach((reason, i) => {
        if (reason.Code !== 'ConditionalCheckFailed') return;
        if (i < calls.length) duplicate.add(i);
        else if (i < calls.length + deltas.length) {
          // A maximum was already as high: learn the stored ones and retry without raising them.
          learnExtrema(options.known, deltas[i - calls.length]!, reason.Item);
          learned = true;
        }
      });
      if (duplicate.size > 0 || learned) {
        calls = calls.filter((_, i) => !duplicate.has(i));
        continue;
      }
      const codes = reasons.map((r) => r.Code ?? 'None').filter((c) => c !== 'None');
      if (!codes.every((c) => RETRYABLE.has(c)) || ++failedAttempts >= maxAttempts) {
        throw new ChunkNotAppliedError(`transaction cancelled: ${codes.join(', ')}`, { cause: error });
      }
      await sleep(Math.random() * 25 * 2 ** failedAttempts);
    }
  }
  return 0;
}
