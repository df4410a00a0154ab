import type { DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import type { RequestLogRecord } from '../core/record';
import type { ItemOptions } from '../core/requestLogItem';
import type { WriterOptions } from './writer';

/** Messages between the monitor (gRPC event loop) and its writer thread. */
export interface WriterInit {
  tableName: string;
  dynamoDb: DynamoDBClientConfig;
  writer: WriterOptions;
  /** The item codec runs on the writer thread too (an object spread of a record is µs, not ns). */
  itemOptions: ItemOptions;
  /** Shared counters the thread keeps current: see COUNTER. */
  counters: SharedArrayBuffer;
}

export type ToWriter =
  | { type: 'records'; records: RequestLogRecord[] }
  | { type: 'put'; id: number; item: Record<string, unknown> }
  | { type: 'flush'; id: number }
  | { type: 'close'; id: number; timeoutMs: number };

export type FromWriter = { type: 'done'; id: number };

/** Slots of the shared BigInt64Array the writer thread updates after every change. */
export const COUNTER = { written: 0, dropped: 1, retried: 2, failed: 3 } as const;
export const COUNTER_SLOTS = 4;
