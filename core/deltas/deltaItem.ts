/**
 * Delta items: what a monitor ships every `statsFlushMs` instead of paying for statistics per
 * call. One item per (monitor instance, flush, minute): the cells of every (service, method)
 * that had calls in that minute since the previous flush.
 *
 * Deltas table (core/tables.ts `deltaTable`), key:
 * - `pk` = the minute bucket of the calls (`M#2025-11-01T14:05`, core/stats/keys.ts), so the
 *   aggregator reads every delta of a minute with one Query;
 * - `sk` = `<instance>#<seq>`: the monitor instance's id and its flush number (zero-padded),
 *   unique per flush, so a re-sent delta overwrites itself with the same content (idempotent).
 * Attributes: `n` calls in the item (a number, for humans and checks), `c` the cells (deflated
 * JSON, DynamoDB Binary: a delta's size is its cost), `expires_at` (TTL).
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { FINAL_STATUSES, type FinalStatus } from '../record';
import { addPackedBins, packHistogram } from '../stats/packedHistogram';
import type { DeltaCell } from './cell';

/** Attribute names of a delta item. */
export const DELTA_ATTRIBUTE = {
  pk: 'pk',
  sk: 'sk',
  calls: 'n',
  cells: 'c',
  expiresAt: 'expires_at',
} as const;

/** A delta before encoding. */
export interface MonitorDelta {
  /** Minute bucket key, `M#2025-11-01T14:05`. */
  readonly minute: string;
  /** The monitor instance (unique per process start; no `#`). */
  readonly instance: string;
  /** The instance's flush number, from 0; with `instance` it keys the item. */
  readonly seq: number;
  readonly cells: readonly DeltaCell[];
}

/** Sort key of a delta: `<instance>#<seq zero-padded to 12>`, so an instance's deltas sort in order. */
export const deltaSortKey = (instance: string, seq: number): string =>
  `${instance}#${String(seq).padStart(12, '0')}`;

/** Cells on the wire: short keys, histograms packed (`index:count,…`). */
interface WireCell {
  s: string;
  m: string;
  n: number;
  st: Partial<Record<FinalStatus, number>>;
  c: Record<string, number>;
  ds: number;
  dmin: number;
  dmax: number;
  bi: number;
  bo: number;
  sl: number;
  lg: number;
  la: string;
  h: string;
}

const toWire = (cell: DeltaCell): WireCell => ({
  s: cell.service,
  m: cell.method,
  n: cell.total,
  st: cell.byStatus,
  c: cell.byCode,
  ds: cell.durationSumCentis,
  dmin: cell.durationMinMs,
  dmax: cell.durationMaxMs,
  bi: cell.bytesIn,
  bo: cell.bytesOut,
  sl: cell.slow,
  lg: cell.logged,
  la: cell.lastRequestAt,
  h: packHistogram(cell.histogram),
});

function fromWire(wire: WireCell): DeltaCell {
  const histogram = new Map<number, number>();
  addPackedBins(histogram, wire.h);
  const byStatus: Partial<Record<FinalStatus, number>> = {};
  for (const status of FINAL_STATUSES) if (wire.st[status]) byStatus[status] = wire.st[status];
  return {
    service: wire.s,
    method: wire.m,
    total: wire.n,
    byStatus,
    byCode: { ...wire.c },
    durationSumCentis: wire.ds,
    durationMinMs: wire.dmin,
    durationMaxMs: wire.dmax,
    bytesIn: wire.bi,
    bytesOut: wire.bo,
    slow: wire.sl,
    logged: wire.lg,
    lastRequestAt: wire.la,
    histogram,
  };
}

/** The cells as the bytes of attribute `c`: raw DEFLATE of their JSON. */
export const encodeCells = (cells: readonly DeltaCell[]): Uint8Array =>
  deflateRawSync(JSON.stringify(cells.map(toWire)));

/** Attribute `c` back to cells; throws on bytes encodeCells did not make. */
export function decodeCells(bytes: Uint8Array): DeltaCell[] {
  const wire: unknown = JSON.parse(inflateRawSync(bytes).toString('utf8'));
  if (!Array.isArray(wire)) throw new Error('delta cells: not an array');
  return (wire as WireCell[]).map(fromWire);
}

/** A delta as a DynamoDB item (DocumentClient form: `c` is a Uint8Array, marshalled as B). */
export function deltaItem(
  delta: MonitorDelta,
  expiresAt: number,
): { pk: string; sk: string; n: number; c: Uint8Array; expires_at: number } {
  return {
    pk: delta.minute,
    sk: deltaSortKey(delta.instance, delta.seq),
    n: delta.cells.reduce((sum, cell) => sum + cell.total, 0),
    c: encodeCells(delta.cells),
    expires_at: expiresAt,
  };
}

/** The cells of a stored delta item (as the DocumentClient returns it). */
export function cellsOfItem(item: Record<string, unknown>): DeltaCell[] {
  const bytes = item[DELTA_ATTRIBUTE.cells];
  if (!(bytes instanceof Uint8Array))
    throw new Error(`delta ${String(item.pk)} ${String(item.sk)}: no cells`);
  return decodeCells(bytes);
}
