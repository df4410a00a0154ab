import type { MonitorDeps } from '../../core/deps';
import { byTotalDesc, methodsOf, lastHours, readStats, scopeFigures, servicesOf } from '../../core/query';
import { depsFromEnv, lazyHandler } from '../shared/fromEnv';
import { apiHandler } from './middleware/apiHandler';
import { QueryParams } from './middleware/queryParams';
import { json, leadingThatFit, MAX_RESPONSE_BYTES } from './middleware/responses';
import { scopeFields } from './scopeFields';

/** GET /services/?hours=24 — per-service figures, busiest first, each with its methods. */
export function createHandler(deps: MonitorDeps, { maxResponseBytes = MAX_RESPONSE_BYTES } = {}) {
  return apiHandler(async (event) => {
    const hours = new QueryParams(event).hours();
    const window = await readStats(deps, lastHours(deps, hours));
    const methods = methodsOf(window).sort(byTotalDesc((m) => m.method));
    const { items, truncated } = leadingThatFit(
      servicesOf(window)
        .sort(byTotalDesc((s) => s.service))
        .map(({ service, stats }) => {
          return {
            service_name: service,
            ...scopeFields(stats),
            methods: methods
              .filter((m) => m.service === service)
              .map((m) => {
                const mf = scopeFigures(m.stats);
                return {
                  method_name: m.method,
                  total_requests: mf.total,
                  avg_duration_ms: mf.avg_duration_ms,
                  success_rate: mf.success_rate,
                  p95_duration_ms: mf.p95_duration_ms,
                };
              }),
          };
        }),
      maxResponseBytes,
    );
    // `truncated`: the least busy services were left out to keep the response under the limit.
    return json({ services: items, truncated });
  });
}

export const handler = lazyHandler(() => createHandler(depsFromEnv()));
