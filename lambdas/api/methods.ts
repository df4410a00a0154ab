import type { MonitorDeps } from '../../core/deps';
import { byTotalDesc, methodsOf, lastHours, readStats } from '../../core/query';
import { depsFromEnv, lazyHandler } from '../shared/fromEnv';
import { apiHandler } from './middleware/apiHandler';
import { QueryParams } from './middleware/queryParams';
import { json, leadingThatFit, MAX_RESPONSE_BYTES } from './middleware/responses';
import { scopeFields } from './scopeFields';

/** GET /methods/?hours=24&service=X — per-method total, success rate, avg and p95, busiest first. */
export function createHandler(deps: MonitorDeps, { maxResponseBytes = MAX_RESPONSE_BYTES } = {}) {
  return apiHandler(async (event) => {
    const params = new QueryParams(event);
    const hours = params.hours();
    const service = params.text('service');
    const window = await readStats(deps, lastHours(deps, hours));
    const { items, truncated } = leadingThatFit(
      methodsOf(window)
        .filter((m) => service === undefined || m.service === service)
        .sort(byTotalDesc((m) => `${m.service}/${m.method}`))
        .map((m) => ({ service_name: m.service, method_name: m.method, ...scopeFields(m.stats) })),
      maxResponseBytes,
    );
    // `truncated`: the least busy methods were left out to keep the response under the limit.
    return json({ methods: items, truncated });
  });
}

export const handler = lazyHandler(() => createHandler(depsFromEnv()));
