import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { MonitorDeps } from '../../core/deps';
import {
  fromHeartbeatItem,
  HEARTBEAT_PARTITION,
  type Heartbeat,
  type WriterStats,
} from '../../core/heartbeat';
import {
  allScope,
  lastHours,
  percent,
  readStats,
  requestLogs,
  round1,
  type RequestSummary,
} from '../../core/query';
import { REQUEST_LOG_INDEX, REQUEST_LOG_KEYS } from '../../core/tables';
import { depsFromEnv, lazyHandler } from '../shared/fromEnv';
import { apiHandler } from './middleware/apiHandler';
import { json } from './middleware/responses';

/** Error rate (status `error`, last hour) at or above which the service is `degraded`. */
export const DEGRADED_ERROR_RATE = 10;
/** Seconds the Stats may trail the newest call before the service is `degraded`. */
export const DEGRADED_LAG_SECONDS = 60;
/** How far back `last_request` looks. */
const LAST_REQUEST_HOURS = 24;
/** Rows looked at to find the newest finished call (pending calls are not counted yet). */
const NEWEST_ROWS = 20;

export type HealthStatus = 'healthy' | 'degraded' | 'unhealthy';

export interface ServerHealth {
  instance_id: string;
  host: string;
  port: number;
  running: boolean;
  started_at: string;
  last_seen: string;
  writer: WriterStats;
  /** The share of successes this server logs, from its heartbeat (absent from older monitors). */
  sampling_success?: number;
}

/** Servers listed at most (freshest first): the response stays small whatever the churn. */
export const MAX_SERVERS = 100;

/** A heartbeat's log sampling rate, when its monitor reports one. */
function samplingOf(beat: Heartbeat): { sampling_success?: number } {
  const rate = (beat as Heartbeat & { sampling_success?: unknown }).sampling_success;
  return typeof rate === 'number' && rate > 0 && rate <= 1 ? { sampling_success: rate } : {};
}

async function readHeartbeats(deps: MonitorDeps): Promise<Heartbeat[]> {
  const beats: Heartbeat[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await deps.ddb.send(
      new QueryCommand({
        TableName: deps.config.requestLogTable,
        IndexName: REQUEST_LOG_INDEX.byTime,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': REQUEST_LOG_KEYS.timePk },
        ExpressionAttributeValues: { ':pk': HEARTBEAT_PARTITION },
        ExclusiveStartKey: startKey,
      }),
    );
    for (const item of page.Items ?? []) {
      const beat = fromHeartbeatItem(item);
      if (beat) beats.push(beat);
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return beats;
}

/** The newest call time the Stats have counted in the minute of `createdAt`. */
async function countedUpTo(deps: MonitorDeps, createdAt: string): Promise<string | null> {
  const from = new Date(Math.floor(Date.parse(createdAt) / 60_000) * 60_000);
  const minute = await readStats(deps, { from, to: new Date(from.getTime() + 60_000) });
  return allScope(minute).lastRequestAt;
}

/** Seconds the Stats trail the newest finished call: 0 when they counted it, else that call's age. */
function ingestionLag(
  newestFinal: RequestSummary | undefined,
  countedUpTo: string | null,
  now: Date,
): number {
  if (!newestFinal) return 0;
  if (countedUpTo !== null && countedUpTo >= newestFinal.created_at) return 0;
  return Math.max(0, round1((now.getTime() - Date.parse(newestFinal.created_at)) / 1000));
}

/**
 * `unhealthy` when no gRPC server sends fresh heartbeats; `degraded` when one does but the last
 * hour's error rate or the ingestion lag is over its threshold; else `healthy`.
 */
export function healthStatus(running: boolean, errorRate: number, lagSeconds: number): HealthStatus {
  if (!running) return 'unhealthy';
  if (errorRate >= DEGRADED_ERROR_RATE || lagSeconds > DEGRADED_LAG_SECONDS) return 'degraded';
  return 'healthy';
}

/** GET /health/ (public) — the seed's health document plus every server and the ingestion lag. */
export function createHandler(deps: MonitorDeps) {
  return apiHandler(async () => {
    const now = deps.now();
    const [beats, lastHour, newest] = await Promise.all([
      readHeartbeats(deps),
      readStats(deps, lastHours(deps, 1)),
      requestLogs(deps).recent({ hours: LAST_REQUEST_HOURS }).list({ limit: NEWEST_ROWS }),
    ]);
    const staleBefore = now.getTime() - deps.config.heartbeatStaleSeconds * 1000;
    const servers: ServerHealth[] = beats
      .map((b) => ({
        instance_id: b.instance_id,
        host: b.host,
        port: b.port,
        running: Date.parse(b.last_seen) >= staleBefore,
        started_at: b.started_at,
        last_seen: b.last_seen,
        writer: b.writer,
        ...samplingOf(b),
      }))
      .sort((a, b) => b.last_seen.localeCompare(a.last_seen) || a.instance_id.localeCompare(b.instance_id))
      .slice(0, MAX_SERVERS);
    const freshest = servers[0];
    const hour = allScope(lastHour);
    const errorRate = percent(hour.byStatus.error, hour.total);
    const newestFinal = newest.items.find((r) => r.status !== 'pending');
    const lag = ingestionLag(
      newestFinal,
      newestFinal ? await countedUpTo(deps, newestFinal.created_at) : null,
      now,
    );
    const running = servers.some((s) => s.running);
    return json({
      status: healthStatus(running, errorRate, lag),
      grpc_server: freshest
        ? {
            running: freshest.running,
            host: freshest.host,
            port: freshest.port,
            instance_id: freshest.instance_id,
          }
        : { running: false, host: null, port: null },
      servers,
      last_request: newest.items[0]?.created_at ?? null,
      requests_last_hour: hour.total,
      error_rate_last_hour: errorRate,
      ingestion_lag_seconds: lag,
      sampling: { enabled: deps.config.sampleSuccess < 1, success_rate: deps.config.sampleSuccess },
      checked_at: now.toISOString(),
    });
  });
}

export const handler = lazyHandler(() => createHandler(depsFromEnv()));
