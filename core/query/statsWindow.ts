import type { MonitorDeps } from '../deps';
import { ALL_SCOPE, planWindow, readWindow, type ScopeStats, type TimeRange } from '../stats';
import { recentWindow } from './window';

const windowOptions = (deps: MonitorDeps) => ({
  minuteRetentionHours: deps.config.minuteRetentionHours,
  now: deps.now(),
});

/**
 * The range the Stats answer exactly for `range`: whole minutes, widened to whole hours at an
 * end whose minute buckets have expired. Lists read this same range, so a list's length and
 * its count always agree.
 */
export function countableRange(deps: MonitorDeps, range: TimeRange): TimeRange {
  const plan = planWindow(range, windowOptions(deps));
  return { from: plan.from, to: plan.to };
}

/** Every scope's counters over `range` (readWindow with this deployment's retention). */
export function readStats(deps: MonitorDeps, range: TimeRange): Promise<Map<string, ScopeStats>> {
  return readWindow(deps.ddb, deps.config, range, windowOptions(deps));
}

/** The last `hours` hours as the Stats count them (minute-aligned, see recentWindow). */
export const lastHours = (deps: MonitorDeps, hours: number): TimeRange =>
  countableRange(deps, recentWindow(deps.now(), hours));

/**
 * Like readStats, but only what scopeFigures shows: every scope's calls, calls per status and
 * duration sum (the other counters read as zero), and only the `ALL` scope's latency histogram
 * (the others' is empty). At high traffic each scope's histogram holds hundreds of buckets, in
 * its own item (`~H#<scope>`), so an overview (one p95, counts per service and method) reads
 * each bucket's counter items with one projected Query (`sk < '~'`) and the ALL histograms of
 * all buckets by BatchGetItem (one packed string each): the same requests whatever the traffic.
 */
export function readCountersWithOverallHistogram(
  deps: MonitorDeps,
  range: TimeRange,
): Promise<Map<string, ScopeStats>> {
  return readWindow(deps.ddb, deps.config, range, {
    ...windowOptions(deps),
    histogramsOf: [ALL_SCOPE],
    counters: 'figures',
  });
}

/**
 * Every scope's calls, calls per status and duration sum over `range` (the figures' counters,
 * see readCountersWithOverallHistogram), no histogram at all: each bucket's counter items only.
 */
export function readCounters(deps: MonitorDeps, range: TimeRange): Promise<Map<string, ScopeStats>> {
  return readWindow(deps.ddb, deps.config, range, {
    ...windowOptions(deps),
    histogramsOf: [],
    counters: 'figures',
  });
}
