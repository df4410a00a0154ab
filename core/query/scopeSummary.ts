import { emptyScopeStats, quantile, type ScopeStats } from '../stats';

/** One decimal, as the seed shows rates and durations (96.5, 125.3). */
export const round1 = (value: number): number => Math.round(value * 10) / 10;

/** Percentage with one decimal; 0 when there is nothing to divide by. */
export const percent = (part: number, whole: number): number =>
  whole > 0 ? round1((part / whole) * 100) : 0;

/** The figures every endpoint derives from one scope's counters. */
export interface ScopeFigures {
  total: number;
  successful: number;
  errors: number;
  timeouts: number;
  cancelled: number;
  success_rate: number;
  avg_duration_ms: number;
  p95_duration_ms: number;
}

/**
 * Counts, rates and durations of a scope. `errors` counts status `error` only (the seed's
 * `error()`); timeouts and cancellations are their own figures. Durations are 0 with no calls.
 */
export function scopeFigures(stats: ScopeStats | undefined): ScopeFigures {
  const s = stats ?? emptyScopeStats();
  const p95 = s.total > 0 ? quantile(s.histogram, 0.95) : null;
  return {
    total: s.total,
    successful: s.byStatus.success,
    errors: s.byStatus.error,
    timeouts: s.byStatus.timeout,
    cancelled: s.byStatus.cancelled,
    success_rate: percent(s.byStatus.success, s.total),
    avg_duration_ms: s.total > 0 ? round1(s.durationSumMs / s.total) : 0,
    p95_duration_ms: p95 === null ? 0 : round1(p95),
  };
}
