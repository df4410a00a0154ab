import type { ScopeStats } from '../../core/stats';
import { scopeFigures } from '../../core/query';

/** A scope's figures under the seed's response names, shared by `/services/` and `/methods/`. */
export function scopeFields(stats: ScopeStats | undefined) {
  const f = scopeFigures(stats);
  return {
    total_requests: f.total,
    successful_requests: f.successful,
    error_requests: f.errors,
    timeout_requests: f.timeouts,
    cancelled_requests: f.cancelled,
    success_rate: f.success_rate,
    avg_duration_ms: f.avg_duration_ms,
    p95_duration_ms: f.p95_duration_ms,
  };
}
