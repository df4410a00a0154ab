import type { DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import type { MonitorDelta } from '../core/deltas';
import type { CallItemOptions } from './callItem';
import type { WriterOptions } from './writer';

/** Messages between the monitor (gRPC event loop) and its writer thread. */
export interface WriterInit {
  tableName: string;
  deltaTableName: string;
  dynamoDb: DynamoDBClientConfig;
  writer: WriterOptions;
  /** Formatting and the item codec run on the writer thread too (they cost µs per call). */
  itemOptions: CallItemOptions;
  /** The thread's nice value (see GrpcMonitorOptions.writerNiceness). */
  niceness: number;
  /** Shared counters the thread keeps current: see COUNTER. */
  counters: SharedArrayBuffer;
}

export type ToWriter =
  /** A batch of calls as `JSON.stringify(CallFacts[])`. */
  | { type: 'records'; json: string }
  /** Delta items (structured clone: their histograms are Maps), each with its TTL. */
  | { type: 'deltas'; deltas: Array<{ delta: MonitorDelta; expiresAt: number }> }
  | { type: 'put'; id: number; item: Record<string, unknown> }
  | { type: 'flush'; id: number }
  | { type: 'close'; id: number; timeoutMs: number };

export type FromWriter = { type: 'done'; id: number };

/** Slots of the shared BigInt64Array the writer thread updates after every change. */
export const COUNTER = {
  written: 0,
  dropped: 1,
  retried: 2,
  failed: 3,
  received: 4,
  deltaWritten: 5,
  deltaDropped: 6,
  deltaRetried: 7,
  deltaCallsWritten: 8,
  deltaCallsDropped: 9,
} as const;
export const COUNTER_SLOTS = 10;
