import { REQUEST_LOG_KEYS } from './tables';

/** The writer's counters (the interceptor's `monitor.stats()`). */
export interface WriterStats {
  /** Items handed to the writer (calls seen, plus pending items with `logPending`). */
  enqueued: number;
  written: number;
  dropped: number;
  retried: number;
  failed: number;
  queued: number;
}

/** Items (and the calls they carry) of one kind, as the writer accounts for them. */
export interface ItemCounts {
  enqueued: number;
  written: number;
  dropped: number;
  queued: number;
}

/**
 * The delta items a monitor shipped (core/deltas): `enqueued = written + dropped + queued`
 * for the items and for the calls they carry alike.
 */
export interface DeltaStats extends ItemCounts {
  retried: number;
  calls: ItemCounts;
}

/**
 * `monitor.stats()`: the writer's counters for RequestLog items (WriterStats, the contract
 * fields) plus the counts that make the loss accounting exact:
 * - `calls = deltas.calls.enqueued + unflushedCalls`: every finished call is in a delta item
 *   or still in the monitor's cells;
 * - `calls = logged + sampledOut`: a call is logged or sampled out (logged calls are RequestLog
 *   items, minus the `pending` ones with `logPending`).
 */
export interface MonitorStats extends WriterStats {
  /** Finished calls seen (recorded ones: skipped methods are not). */
  calls: number;
  /** Finished calls handed to the writer as RequestLog items. */
  logged: number;
  /** Successful calls not logged by sampling (still counted in the cells). */
  sampledOut: number;
  /** Calls folded into cells that were not shipped yet: what a crash now would lose. */
  unflushedCalls: number;
  deltas: DeltaStats;
}

/** One gRPC server instance's heartbeat, refreshed every few seconds, read by `/health/`. */
export interface Heartbeat {
  instance_id: string;
  host: string;
  port: number;
  started_at: string;
  last_seen: string;
  /** The monitor's counters; the fields beyond WriterStats come from monitors since issue 17. */
  writer: WriterStats & Partial<MonitorStats>;
  /** The share of successes the monitor logs (1: all). Absent in older heartbeats (then 1). */
  sampling_success?: number;
}

/** Heartbeats share the RequestLog table (the interceptor knows only that one) under this partition. */
export const HEARTBEAT_PARTITION = 'HEARTBEAT';

export function toHeartbeatItem(heartbeat: Heartbeat, expiresAtSeconds: number): Record<string, unknown> {
  return {
    request_id: `heartbeat#${heartbeat.instance_id}`,
    item_type: 'heartbeat',
    heartbeat,
    expires_at: expiresAtSeconds,
    [REQUEST_LOG_KEYS.timePk]: HEARTBEAT_PARTITION,
    [REQUEST_LOG_KEYS.sortKey]: heartbeat.instance_id,
  };
}

export function fromHeartbeatItem(item: Record<string, unknown>): Heartbeat | undefined {
  const hb = item.heartbeat as Heartbeat | undefined;
  return hb && typeof hb === 'object' && typeof hb.instance_id === 'string' ? hb : undefined;
}
