// STUB: the aggregation work replaces this file.
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import type { MonitorDeps } from '../../core/deps';
import { depsFromEnv, lazyHandler } from '../shared/fromEnv';

export function createAggregateHandler(_deps: MonitorDeps) {
  return async (_event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => ({ batchItemFailures: [] });
}

export const handler = lazyHandler(() => createAggregateHandler(depsFromEnv()));
