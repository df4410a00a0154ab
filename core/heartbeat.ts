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

/** One gRPC server instance's heartbeat, refreshed every few seconds, read by `/health/`. */
export interface Heartbeat {
  instance_id: string;
  host: string;
  port: number;
  started_at: string;
  last_seen: string;
  writer: WriterStats;
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
