import { TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { foldCalls, type FoldOptions } from '../../core/stats/fold';
import { seenKey, type RetentionSettings } from '../../core/stats/keys';
import { counterUpdate } from '../../core/stats/updates';
import type { Chunk, SequencedCall } from './chunks';

export interface ApplyChunkOptions extends FoldOptions, RetentionSettings {
  readonly statsTable: string;
  /** Epoch seconds at which exactly-once markers may expire (after the stream's 24 h retention). */
  readonly markerExpiresAt: number;
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
}

const RETRYABLE = new Set([
  'TransactionConflict',
  'ThrottlingError',
  'ProvisionedThroughputExceeded',
  'RequestLimitExceeded',
]);

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** One transaction: a conditional marker Put per call, then the counter updates. */
function transactionOf(calls: readonly SequencedCall[], options: ApplyChunkOptions) {
  const deltas = foldCalls(
    calls.map((c) => c.call),
    options,
  );
  return new TransactWriteCommand({
    TransactItems: [
      ...calls.map(({ call }) => ({
        Put: {
          TableName: options.statsTable,
          Item: { ...seenKey(call.requestId, call.createdAt), expires_at: options.markerExpiresAt },
          // Already there: this call was counted by an earlier delivery.
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      })),
      ...[...deltas.values()].map((delta) => ({ Update: counterUpdate(options.statsTable, delta, options) })),
    ],
  });
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
  while (calls.length > 0) {
    try {
      await ddb.send(transactionOf(calls, options));
      return calls.length;
    } catch (error) {
      const reasons = (error as { CancellationReasons?: CancellationReason[] }).CancellationReasons;
      if ((error as Error).name !== 'TransactionCanceledException' || !reasons) {
        throw new ChunkNotAppliedError(`transaction failed: ${(error as Error).message}`, { cause: error });
      }
      const duplicate = new Set<number>();
      reasons.forEach((reason, i) => {
        if (i < calls.length && reason.Code === 'ConditionalCheckFailed') duplicate.add(i);
      });
      if (duplicate.size > 0) {
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
