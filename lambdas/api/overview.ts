import type { MonitorDeps } from '../../core/deps';
import {
  allScope,
  byTotalDesc,
  lastFullMinute,
  methodsOf,
  lastHours,
  loggedCalls,
  readCounters,
  readCountersWithOverallHistogram,
  requestLogs,
  scopeFigures,
  servicesOf,
  windowSeconds,
} from '../../core/query';
import { depsFromEnv, lazyHandler } from '../shared/fromEnv';
import { apiHandler } from './middleware/apiHandler';
import { QueryParams } from './middleware/queryParams';
import { json } from './middleware/responses';

/** How many services, methods and errors the overview lists. */
export const OVERVIEW_TOP = 10;

/** Requests per second with three decimals (a quiet server still shows a rate). */
const perSecond = (count: number, seconds: number): number => Math.round((count / seconds) * 1000) / 1000;

/**
 * GET /overview/?hours=24 — the seed's overview plus timeouts, cancellations, request rates and
 * the log sampling in force (`sampling`: every count is exact whatever the rate; the request
 * log holds `logged_requests` of them).
 */
export function createHandler(deps: MonitorDeps) {
  return apiHandler(async (event) => {
    const hours = new QueryParams(event).hours();
    const now = deps.now();
    const range = lastHours(deps, hours);
    const minute = lastFullMinute(now);
    const [window, lastMinute, errors] = await Promise.all([
      // Only the overall p95 is shown: the other scopes' histograms are not read.
      readCountersWithOverallHistogram(deps, range),
      // The last minute's rate needs its total alone.
      readCounters(deps, minute),
      requestLogs(deps).between(range).error().list({ limit: OVERVIEW_TOP }),
    ]);
    const all = scopeFigures(allScope(window));
    const rate = deps.config.sampleSuccess;
    return json({
      total_requests: all.total,
      successful_requests: all.successful,
      error_requests: all.errors,
      timeout_requests: all.timeouts,
      cancelled_requests: all.cancelled,
      success_rate: all.success_rate,
      avg_duration_ms: all.avg_duration_ms,
      p95_duration_ms: all.p95_duration_ms,
      requests_per_second: perSecond(all.total, windowSeconds(range)),
      requests_per_second_last_minute: perSecond(allScope(lastMinute).total, windowSeconds(minute)),
      top_services: servicesOf(window)
        .sort(byTotalDesc((s) => s.service))
        .slice(0, OVERVIEW_TOP)
        .map(({ service, stats }) => {
          const f = scopeFigures(stats);
          return {
            service_name: service,
            total_requests: f.total,
            success_rate: f.success_rate,
            error_requests: f.errors,
          };
        }),
      top_methods: methodsOf(window)
        .sort(byTotalDesc((m) => `${m.service}/${m.method}`))
        .slice(0, OVERVIEW_TOP)
        .map(({ service, method, stats }) => {
          const f = scopeFigures(stats);
          return {
            method_name: method,
            service_name: service,
            total_requests: f.total,
            avg_duration_ms: f.avg_duration_ms,
          };
        }),
      recent_errors: errors.items.map((r) => ({
        request_id: r.request_id,
        service_name: r.service_name,
        method_name: r.method_name,
        error_message: r.error_message,
        grpc_status_code: r.grpc_status_code,
        created_at: r.created_at,
      })),
      // Every figure above counts all calls; /requests/ lists the logged ones.
      sampling: {
        enabled: rate < 1,
        success_rate: rate,
        logged_requests: loggedCalls(allScope(window), rate),
      },
      period_hours: hours,
      window: { from: range.from.toISOString(), to: range.to.toISOString() },
    });
  });
}

export const handler = lazyHandler(() => createHandler(depsFromEnv()));
