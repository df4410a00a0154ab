import { hostname } from 'node:os';
import { toHeartbeatItem, type Heartbeat, type MonitorStats, type WriterStats } from '../core/heartbeat';
import { newRequestId } from '../core/requestId';

export interface HeartbeatLoop {
  readonly instanceId: string;
  /** Writes one last heartbeat and stops the timer. */
  stop(): Promise<void>;
}

/** Heartbeat items outlive a stopped server by a day, so /health/ can still show what it lost. */
const HEARTBEAT_TTL_SECONDS = 86_400;

/**
 * Puts this server's heartbeat (with the writer's counters) now and every `intervalMs`.
 * A failed put is ignored: the next one tries again, and the RPC path never depends on it.
 * One put at a time: a tick while one is in flight is skipped, so a slow table never lets an
 * older heartbeat land after a newer one (the final one, with the final counters, included).
 */
export function startHeartbeats(options: {
  server: { host: string; port: number };
  intervalMs: number;
  stats: () => WriterStats | MonitorStats;
  /** The monitor's `sampling.success`, shown by /health/. */
  samplingSuccess?: number;
  put: (item: Record<string, unknown>) => Promise<void>;
  now?: () => Date;
}): HeartbeatLoop {
  const now = options.now ?? (() => new Date());
  const instanceId = `${hostname()}:${options.server.port}:${newRequestId()}`;
  const startedAt = now().toISOString();
  let inFlight: Promise<void> | undefined;
  const beat = (): Promise<void> => {
    const at = now();
    const heartbeat: Heartbeat = {
      instance_id: instanceId,
      host: options.server.host,
      port: options.server.port,
      started_at: startedAt,
      last_seen: at.toISOString(),
      writer: options.stats(),
      ...(options.samplingSuccess !== undefined && { sampling_success: options.samplingSuccess }),
    };
    const item = toHeartbeatItem(heartbeat, Math.floor(at.getTime() / 1000) + HEARTBEAT_TTL_SECONDS);
    const put: Promise<void> = options
      .put(item)
      .catch(() => undefined)
      .finally(() => {
        if (inFlight === put) inFlight = undefined;
      });
    inFlight = put;
    return put;
  };
  void beat();
  const timer = setInterval(() => {
    if (!inFlight) void beat();
  }, options.intervalMs);
  timer.unref();
  return {
    instanceId,
    async stop() {
      clearInterval(timer);
      await inFlight;
      await beat();
    },
  };
}
