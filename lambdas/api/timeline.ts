import type { MonitorDeps } from '../../core/deps';
import { scopeFigures, timelineHours } from '../../core/query';
import { ALL_SCOPE, readHours, serviceScope } from '../../core/stats';
import { depsFromEnv, lazyHandler } from '../shared/fromEnv';
import { apiHandler } from './middleware/apiHandler';
import { QueryParams } from './middleware/queryParams';
import { json } from './middleware/responses';

const HOUR_MS = 3_600_000;

/** readHours' keys to `2025-11-01T14` (accepts `H#2025-11-01T14`, `2025-11-01T14` or a full ISO time). */
const hourKey = (key: string): string => key.replace(/^H#/, '').slice(0, 13);

/**
 * GET /timeline/?hours=24&service=X — one row per hour, the `hours` hours ending with the
 * current one, oldest first; hours without calls are rows of zeros.
 */
export function createHandler(deps: MonitorDeps) {
  return apiHandler(async (event) => {
    const params = new QueryParams(event);
    const hours = params.hours();
    const service = params.text('service');
    const rows = timelineHours(deps.now(), hours);
    const byHour = await readHours(deps.ddb, deps.config, {
      from: rows[0]!,
      to: new Date(rows[rows.length - 1]!.getTime() + HOUR_MS),
    });
    const stats = new Map([...byHour].map(([key, scopes]) => [hourKey(key), scopes]));
    const scope = service === undefined ? ALL_SCOPE : serviceScope(service);
    return json({
      timeline: rows.map((hour) => {
        const f = scopeFigures(stats.get(hour.toISOString().slice(0, 13))?.get(scope));
        return {
          hour: `${hour.toISOString().slice(0, 19)}Z`,
          total_requests: f.total,
          successful_requests: f.successful,
          error_requests: f.errors,
          timeout_requests: f.timeouts,
          cancelled_requests: f.cancelled,
          avg_duration_ms: f.avg_duration_ms,
          p95_duration_ms: f.p95_duration_ms,
        };
      }),
    });
  });
}

export const handler = lazyHandler(() => createHandler(depsFromEnv()));
