import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import type { StreamConsumerSettings } from '../core/streamConsumers';

/**
 * How Lambda's DynamoDB event source mapping hands one shard's records to a function, done
 * locally with the settings the stack deploys: partial batch responses (retry from the lowest
 * failed sequence number), bisect on a thrown error (halves retried in order; splitting does not
 * count as a retry), at most `retryAttempts` retries, and records older than
 * `maxRecordAgeSeconds` discarded. What Lambda would send to the on-failure destination is
 * reported to `onDiscard`.
 */
export type StreamHandler = (
  event: DynamoDBStreamEvent,
  context: Context,
) => Promise<DynamoDBBatchResponse | void>;

export interface DeliveryOptions {
  readonly settings: Pick<
    StreamConsumerSettings,
    'retryAttempts' | 'maxRecordAgeSeconds' | 'bisectBatchOnError' | 'reportBatchItemFailures'
  >;
  readonly handler: StreamHandler;
  readonly context: () => Context;
  /** Records given up on (retries or age exhausted), with why. */
  readonly onDiscard: (records: readonly DynamoDBRecord[], reason: string) => void;
  /** Called with each failed attempt, for the log. */
  readonly onFailure?: (error: unknown, records: readonly DynamoDBRecord[]) => void;
  /** Pause before a retry; default a short exponential backoff. */
  readonly backoff?: (attempt: number) => Promise<void>;
  /** Stops retrying when it turns true (the runtime is stopping). */
  readonly stopped?: () => boolean;
  readonly now?: () => number;
}

type Outcome = { ok: true } | { ok: false; retryFrom: number; threw: boolean; error: unknown };

function sequenceOf(record: DynamoDBRecord): string {
  return record.dynamodb?.SequenceNumber ?? '';
}

function defaultBackoff(attempt: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.min(50 * 2 ** attempt, 1_000)));
}

/** Lambda's reading of a partial batch response: the index to retry from, or -1 for all done. */
export function retryIndex(
  records: readonly DynamoDBRecord[],
  response: DynamoDBBatchResponse | void,
): number {
  const failures = response?.batchItemFailures ?? [];
  if (failures.length === 0) return -1;
  let lowest = Infinity;
  for (const failure of failures) {
    const index = records.findIndex((r) => sequenceOf(r) === failure.itemIdentifier);
    // An empty, null or unknown identifier fails the whole batch, as in Lambda.
    if (!failure.itemIdentifier || index < 0) return 0;
    lowest = Math.min(lowest, index);
  }
  return lowest;
}

async function invoke(records: readonly DynamoDBRecord[], options: DeliveryOptions): Promise<Outcome> {
  try {
    const response = await options.handler({ Records: [...records] }, options.context());
    const from = options.settings.reportBatchItemFailures ? retryIndex(records, response) : -1;
    return from < 0
      ? { ok: true }
      : {
          ok: false,
          retryFrom: from,
          threw: false,
          error: new Error(`batch item failures from ${sequenceOf(records[from]!)}`),
        };
  } catch (error) {
    return { ok: false, retryFrom: 0, threw: true, error };
  }
}

function expired(records: readonly DynamoDBRecord[], options: DeliveryOptions): boolean {
  const oldest = records[0]?.dynamodb?.ApproximateCreationDateTime;
  if (oldest === undefined) return false;
  const now = (options.now ?? Date.now)();
  return now - oldest * 1000 > options.settings.maxRecordAgeSeconds * 1000;
}

/** Delivers one shard's batch (records in sequence order) until done, retried out, or aged out. */
export async function deliverBatch(
  records: readonly DynamoDBRecord[],
  options: DeliveryOptions,
  retriesUsed = 0,
): Promise<void> {
  let pending = records;
  let retries = retriesUsed;
  while (pending.length > 0) {
    if (expired(pending, options)) {
      options.onDiscard(pending, `older than ${options.settings.maxRecordAgeSeconds} s`);
      return;
    }
    const outcome = await invoke(pending, options);
    if (outcome.ok) return;
    options.onFailure?.(outcome.error, pending);
    pending = pending.slice(outcome.retryFrom);
    if (outcome.threw && options.settings.bisectBatchOnError && pending.length > 1) {
      const half = Math.ceil(pending.length / 2);
      await deliverBatch(pending.slice(0, half), options, retries);
      await deliverBatch(pending.slice(half), options, retries);
      return;
    }
    retries += 1;
    if (retries > options.settings.retryAttempts) {
      options.onDiscard(pending, `failed after ${options.settings.retryAttempts} retries`);
      return;
    }
    if (options.stopped?.()) return;
    await (options.backoff ?? defaultBackoff)(retries);
  }
}
