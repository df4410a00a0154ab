import type { StreamFilter } from './streamFilter';

/**
 * How each stream consumer is fed, in one place: the stack's event source mappings and the
 * local pollers both read these, so batching, retries and filters are the same everywhere.
 */
export interface StreamConsumerSettings {
  readonly batchSize: number;
  readonly maxBatchingWindowSeconds: number;
  readonly retryAttempts: number;
  readonly maxRecordAgeSeconds: number;
  readonly bisectBatchOnError: boolean;
  /** Partial batch responses (`batchItemFailures`). */
  readonly reportBatchItemFailures: true;
  /** Stays 1: one batch per shard at a time (the aggregator also runs one invocation at a time). */
  readonly parallelizationFactor: 1;
  readonly startingPosition: 'TRIM_HORIZON';
  readonly filter: StreamFilter;
}

/**
 * The Deltas stream (KEYS_ONLY): inserts and overwrites of delta items. A TTL removal of an old
 * delta must never reach the aggregator, which would otherwise recompute that minute without it.
 */
export const aggregateFilter: StreamFilter = {
  patterns: [{ eventName: ['INSERT', 'MODIFY'] }],
};

/** Final `error`/`timeout` items, and slow items (the `slow` flag the interceptor writes). */
export const alertFilter: StreamFilter = {
  patterns: [
    {
      eventName: ['INSERT', 'MODIFY'],
      newImage: { item_type: { S: ['request'] }, status: { S: ['error', 'timeout'] } },
    },
    { eventName: ['INSERT', 'MODIFY'], newImage: { item_type: { S: ['request'] }, slow: { BOOL: [true] } } },
  ],
};

/** The aggregate Lambda on the Deltas table's stream. */
export const aggregateConsumer: StreamConsumerSettings = {
  batchSize: 500,
  maxBatchingWindowSeconds: 1,
  retryAttempts: 10,
  maxRecordAgeSeconds: 6 * 3600,
  bisectBatchOnError: true,
  reportBatchItemFailures: true,
  parallelizationFactor: 1,
  startingPosition: 'TRIM_HORIZON',
  filter: aggregateFilter,
};

/** The alert Lambda on the RequestLog table's stream. */
export const alertConsumer: StreamConsumerSettings = {
  batchSize: 100,
  maxBatchingWindowSeconds: 1,
  retryAttempts: 5,
  maxRecordAgeSeconds: 3600,
  bisectBatchOnError: true,
  reportBatchItemFailures: true,
  parallelizationFactor: 1,
  startingPosition: 'TRIM_HORIZON',
  filter: alertFilter,
};
