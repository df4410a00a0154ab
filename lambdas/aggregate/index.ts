/**
 * The aggregate Lambda, the single writer of Stats (reserved concurrency 1): Stats are
 * RECOMPUTED from the monitors' deltas, never added to (docs/aggregation.md).
 *
 * - A Deltas stream batch (KEYS_ONLY records: the key names the minute) marks the minutes it
 *   names dirty, then runs a close pass.
 * - The scheduled event (EventBridge, every minute) runs a close pass, so the last minutes of
 *   traffic close with no new deltas.
 *
 * Exactly once per delta by construction: a bucket's Stats are a pure function of the delta
 * items stored under its minutes, and a re-sent delta overwrites itself; redelivery, bisect and
 * repeats only recompute the same values. A delta that lands after its minute closed marks it
 * dirty again, and it is recomputed with its ancestors.
 */
import type { Context, DynamoDBBatchResponse, DynamoDBStreamEvent, ScheduledEvent } from 'aws-lambda';
import type { MonitorDeps } from '../../core/deps';
import { depsFromEnv, lazyHandler } from '../shared/fromEnv';
import { closePass, type AggregatorCaches, type PassResult } from './closePass';
import { KnownDirty, markBatch } from './dirtyMarks';

export { closePass, watermarkAfter, type AggregatorCaches, type PassResult } from './closePass';
export { minuteOfRecord } from './dirtyMarks';

export type AggregateEvent = DynamoDBStreamEvent | ScheduledEvent;

/** A stream batch's partial response, or a scheduled pass's result. */
export type AggregateResult = DynamoDBBatchResponse | PassResult;

export interface AggregateHandlerOptions {
  /** Where failures are logged. @default console.error as JSON */
  readonly logError?: (message: string, details: Record<string, unknown>) => void;
  /** A pass starts no bucket with less than this left of the invocation (ms). @default 10000 */
  readonly reserveMs?: number;
}

const isStreamEvent = (event: AggregateEvent): event is DynamoDBStreamEvent =>
  Array.isArray((event as Partial<DynamoDBStreamEvent>).Records);

const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));

export function createAggregateHandler(deps: MonitorDeps, options: AggregateHandlerOptions = {}) {
  const { config } = deps;
  const logError =
    options.logError ?? ((message, details) => console.error(JSON.stringify({ msg: message, ...details })));
  const caches: AggregatorCaches = {
    known: new KnownDirty(config.closeAfterMs),
    catalogued: new Set(),
    watermark: undefined,
  };

  const pass = (context: Context | undefined) =>
    closePass({
      ddb: deps.ddb,
      config,
      now: deps.now(),
      caches,
      stopAt: context
        ? Date.now() + context.getRemainingTimeInMillis() - (options.reserveMs ?? 10_000)
        : undefined,
      onError: (bucket, error) =>
        logError('aggregate: bucket not recomputed', { bucket, error: errorText(error) }),
    });

  async function handler(event: DynamoDBStreamEvent, context?: Context): Promise<DynamoDBBatchResponse>;
  async function handler(event: ScheduledEvent, context?: Context): Promise<PassResult>;
  async function handler(event: AggregateEvent, context?: Context): Promise<AggregateResult>;
  async function handler(event: AggregateEvent, context?: Context): Promise<AggregateResult> {
    if (!isStreamEvent(event)) {
      const result = await pass(context);
      // Counted as a failed invocation (metrics, alarms); the markers stay for the next pass.
      if (result.failed.length > 0)
        throw new Error(`close pass: ${result.failed.length} bucket(s) not recomputed`);
      return result;
    }
    const failedFrom = await markBatch(
      deps.ddb,
      config.statsTable,
      event.Records,
      caches.known,
      deps.now().getTime(),
      (minute, error) => logError('aggregate: minute not marked', { minute, error: errorText(error) }),
    );
    if (failedFrom !== undefined) return { batchItemFailures: [{ itemIdentifier: failedFrom }] };
    try {
      await pass(context);
    } catch (error) {
      // The batch's minutes are marked: the next pass (stream or schedule) closes them.
      logError('aggregate: close pass failed', { error: errorText(error) });
    }
    return { batchItemFailures: [] };
  }
  return handler;
}

export const handler = lazyHandler(
  (): ((event: AggregateEvent, context: Context) => Promise<AggregateResult>) =>
    createAggregateHandler(depsFromEnv()),
);
