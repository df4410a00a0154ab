import type { DeltaCell } from '../deltas/cell';
import { FINAL_STATUSES, type FinalStatus } from '../record';
import { STATS_ATTRIBUTE } from './attributes';
import { histogramIndexOf, mergeHistogram, type Histogram } from './histogram';

/** Every counter of one scope over some window, merged. */
export interface ScopeStats {
  total: number;
  byStatus: Record<FinalStatus, number>;
  /** gRPC code NAME → count. */
  byCode: Record<string, number>;
  durationSumMs: number;
  durationMaxMs: number;
  /** Smallest duration; null when unknown (no calls, or items written before it was kept). */
  durationMinMs: number | null;
  bytesIn: number;
  bytesOut: number;
  slow: number;
  /** Calls written to RequestLog: equals total unless log sampling is on. */
  logged: number;
  lastRequestAt: string | null;
  histogram: Histogram;
}

export interface TimeRange {
  /** Inclusive. */
  from: Date;
  /** Exclusive. */
  to: Date;
}

export function emptyScopeStats(): ScopeStats {
  return {
    total: 0,
    byStatus: { success: 0, error: 0, cancelled: 0, timeout: 0 },
    byCode: {},
    durationSumMs: 0,
    durationMaxMs: 0,
    durationMinMs: null,
    bytesIn: 0,
    bytesOut: 0,
    slow: 0,
    logged: 0,
    lastRequestAt: null,
    histogram: new Map(),
  };
}

/** A scope's delta cell (core/deltas) as ScopeStats (a copy: the histogram is not shared). */
export function scopeStatsFromCell(cell: DeltaCell): ScopeStats {
  const stats = emptyScopeStats();
  if (cell.total === 0) return stats;
  stats.total = cell.total;
  for (const status of FINAL_STATUSES) stats.byStatus[status] = cell.byStatus[status] ?? 0;
  stats.byCode = { ...cell.byCode };
  stats.durationSumMs = cell.durationSumCentis / 100;
  stats.durationMaxMs = cell.durationMaxMs;
  stats.durationMinMs = cell.durationMinMs;
  stats.bytesIn = cell.bytesIn;
  stats.bytesOut = cell.bytesOut;
  stats.slow = cell.slow;
  stats.logged = cell.logged;
  stats.lastRequestAt = cell.lastRequestAt || null;
  stats.histogram = new Map(cell.histogram);
  return stats;
}

const STATUS_BY_ATTRIBUTE = new Map<string, FinalStatus>(
  FINAL_STATUSES.map((s) => [STATS_ATTRIBUTE.status(s), s]),
);
const CODE_PREFIX = STATS_ATTRIBUTE.code('');

/**
 * A Stats counter item (as the DocumentClient returns it) → ScopeStats. Reads the legacy
 * histogram bins (`h<i>`, `hz`) too, of items written before histograms were packed.
 */
export function scopeStatsFromItem(item: Record<string, unknown>): ScopeStats {
  const stats = emptyScopeStats();
  for (const [attribute, value] of Object.entries(item)) {
    if (typeof value !== 'number') {
      if (attribute === STATS_ATTRIBUTE.lastRequestAt && typeof value === 'string')
        stats.lastRequestAt = value;
      continue;
    }
    switch (attribute) {
      case STATS_ATTRIBUTE.total:
        stats.total = value;
        continue;
      case STATS_ATTRIBUTE.durationSumCentis:
        stats.durationSumMs = value / 100;
        continue;
      case STATS_ATTRIBUTE.durationMax:
        stats.durationMaxMs = value;
        continue;
      case STATS_ATTRIBUTE.bytesIn:
        stats.bytesIn = value;
        continue;
      case STATS_ATTRIBUTE.bytesOut:
        stats.bytesOut = value;
        continue;
      case STATS_ATTRIBUTE.slow:
        stats.slow = value;
        continue;
      case STATS_ATTRIBUTE.durationMin:
        stats.durationMinMs = value;
        continue;
      case STATS_ATTRIBUTE.logged:
        stats.logged = value;
        continue;
    }
    const status = STATUS_BY_ATTRIBUTE.get(attribute);
    if (status) {
      stats.byStatus[status] = value;
      continue;
    }
    if (attribute.startsWith(CODE_PREFIX)) {
      stats.byCode[attribute.slice(CODE_PREFIX.length)] = value;
      continue;
    }
    const index = histogramIndexOf(attribute);
    if (index !== undefined) stats.histogram.set(index, value);
  }
  return stats;
}

/** Adds `from` into `into` (in place) and returns `into`. */
export function mergeScopeStats(into: ScopeStats, from: ScopeStats): ScopeStats {
  into.total += from.total;
  for (const status of FINAL_STATUSES) into.byStatus[status] += from.byStatus[status];
  for (const [code, count] of Object.entries(from.byCode))
    into.byCode[code] = (into.byCode[code] ?? 0) + count;
  // Sums of 2-decimal values: round away the binary float noise.
  into.durationSumMs = Math.round((into.durationSumMs + from.durationSumMs) * 100) / 100;
  into.durationMaxMs = Math.max(into.durationMaxMs, from.durationMaxMs);
  into.bytesIn += from.bytesIn;
  into.bytesOut += from.bytesOut;
  into.slow += from.slow;
  into.logged += from.logged;
  if (
    from.durationMinMs !== null &&
    (into.durationMinMs === null || from.durationMinMs < into.durationMinMs)
  ) {
    into.durationMinMs = from.durationMinMs;
  }
  if (from.lastRequestAt && (!into.lastRequestAt || from.lastRequestAt > into.lastRequestAt)) {
    into.lastRequestAt = from.lastRequestAt;
  }
  mergeHistogram(into.histogram, from.histogram);
  return into;
}
