import { FINAL_STATUSES, type FinalStatus } from '../record';
import { addToHistogram, mergeHistogram, type Histogram } from '../stats/histogram';

/**
 * Everything one (minute, service, method) cell counts: the in-process aggregate a monitor
 * builds from every call it sees (before any log sampling), and what the aggregator sums into
 * the Stats table. Pure data; merging two cells adds or raises every field, so any set of cells
 * of one scope adds up to that scope's figures.
 */
export interface DeltaCell {
  readonly service: string;
  readonly method: string;
  total: number;
  byStatus: Partial<Record<FinalStatus, number>>;
  /** gRPC code NAME → count. */
  byCode: Record<string, number>;
  /** In hundredths of a ms: durations have 2 decimals, so integer sums stay exact. */
  durationSumCentis: number;
  /** Smallest and largest duration (ms); 0 while total is 0. */
  durationMinMs: number;
  durationMaxMs: number;
  bytesIn: number;
  bytesOut: number;
  slow: number;
  /** Calls of this cell that were written to RequestLog (all of them unless sampling is on). */
  logged: number;
  /** ISO 8601 start of the latest call; '' while total is 0. */
  lastRequestAt: string;
  histogram: Histogram;
}

/** One finished call as a cell counts it. */
export interface CellCall {
  readonly status: FinalStatus;
  /** gRPC code NAME. */
  readonly code: string;
  readonly durationMs: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly slow: boolean;
  readonly logged: boolean;
  /** ISO 8601. */
  readonly createdAt: string;
}

export function emptyCell(service: string, method: string): DeltaCell {
  return {
    service,
    method,
    total: 0,
    byStatus: {},
    byCode: {},
    durationSumCentis: 0,
    durationMinMs: 0,
    durationMaxMs: 0,
    bytesIn: 0,
    bytesOut: 0,
    slow: 0,
    logged: 0,
    lastRequestAt: '',
    histogram: new Map(),
  };
}

/** Adds one call to a cell (in place). */
export function addCallToCell(cell: DeltaCell, call: CellCall): void {
  const duration = Math.max(0, call.durationMs);
  if (cell.total === 0 || duration < cell.durationMinMs) cell.durationMinMs = duration;
  if (duration > cell.durationMaxMs) cell.durationMaxMs = duration;
  cell.total += 1;
  cell.byStatus[call.status] = (cell.byStatus[call.status] ?? 0) + 1;
  cell.byCode[call.code] = (cell.byCode[call.code] ?? 0) + 1;
  cell.durationSumCentis += Math.round(duration * 100);
  cell.bytesIn += call.bytesIn;
  cell.bytesOut += call.bytesOut;
  if (call.slow) cell.slow += 1;
  if (call.logged) cell.logged += 1;
  if (call.createdAt > cell.lastRequestAt) cell.lastRequestAt = call.createdAt;
  addToHistogram(cell.histogram, duration);
}

/** Adds `from` into `into` (in place; names are `into`'s) and returns `into`. */
export function mergeCell(into: DeltaCell, from: DeltaCell): DeltaCell {
  if (from.total === 0) return into;
  if (into.total === 0 || from.durationMinMs < into.durationMinMs) into.durationMinMs = from.durationMinMs;
  if (from.durationMaxMs > into.durationMaxMs) into.durationMaxMs = from.durationMaxMs;
  into.total += from.total;
  for (const status of FINAL_STATUSES) {
    const count = from.byStatus[status];
    if (count) into.byStatus[status] = (into.byStatus[status] ?? 0) + count;
  }
  for (const [code, count] of Object.entries(from.byCode))
    into.byCode[code] = (into.byCode[code] ?? 0) + count;
  into.durationSumCentis += from.durationSumCentis;
  into.bytesIn += from.bytesIn;
  into.bytesOut += from.bytesOut;
  into.slow += from.slow;
  into.logged += from.logged;
  if (from.lastRequestAt > into.lastRequestAt) into.lastRequestAt = from.lastRequestAt;
  mergeHistogram(into.histogram, from.histogram);
  return into;
}
