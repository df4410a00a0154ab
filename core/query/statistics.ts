import type { MonitorDeps } from '../deps';
import { scopeFigures } from './scopeSummary';
import { allScope } from './scopes';
import { countableRange, readStats } from './statsWindow';
import { recentWindow, WINDOW_HOURS } from './window';

/** The seed's `get_statistics(hours=24)`. */
export interface Statistics {
  total: number;
  successful: number;
  /** Status `error` only; timeouts and cancellations are not errors here (as the seed's `error()`). */
  errors: number;
  success_rate: number;
  avg_duration_ms: number;
  p95_duration_ms: number;
}

/** Totals of the last `hours` hours from Stats: a few Queries, whatever the traffic. */
export async function getStatistics(
  deps: MonitorDeps,
  { hours = WINDOW_HOURS.default }: { hours?: number } = {},
): Promise<Statistics> {
  const window = await readStats(deps, countableRange(deps, recentWindow(deps.now(), hours)));
  const f = scopeFigures(allScope(window));
  return {
    total: f.total,
    successful: f.successful,
    errors: f.errors,
    success_rate: f.success_rate,
    avg_duration_ms: f.avg_duration_ms,
    p95_duration_ms: f.p95_duration_ms,
  };
}
