import type { MonitorDeps } from '../../core/deps';
import { byTotalDesc, methodsOf, lastHours, readStats, scopeFigures } from '../../core/query';
import { depsFromEnv, lazyHandler } from '../shared/fromEnv';
import { apiHandler } from './middleware/apiHandler';
import { QueryParams } from './middleware/queryParams';
import { json } from './middleware/responses';

/** GET /methods/?hours=24&service=X — per-method total, success rate, avg and p95, busiest first. */
export function createHandler(deps: MonitorDeps) {
  return apiHandler(async (event) => {
    const params = new QueryParams(event);
    const hours = params.hours();
    const service = params.text('service');
    const window = await readStats(deps, lastHours(deps, hours));
    return json({
      methods: methodsOf(window)
        .filter((m) => service === undefined || m.service === service)
        .sort(byTotalDesc((m) => `${m.service}/${m.method}`))
        .map((m) => {
          const f = scopeFigures(m.stats);
          return {
            service_name: m.service,
            method_name: m.method,
            total_requests: f.total,
            successful_requests: f.successful,
            error_requests: f.errors,
            timeout_requests: f.timeouts,
            cancelled_requests: f.cancelled,
            success_rate: f.success_rate,
            avg_duration_ms: f.avg_duration_ms,
            p95_duration_ms: f.p95_duration_ms,
          };
        }),
    });
  });
}

export const handler = lazyHandler(() => createHandler(depsFromEnv()));
