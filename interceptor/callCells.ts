import { addCallToCell, emptyCell, type DeltaCell } from '../core/deltas';
import type { FinalStatus } from '../core/record';
import { minuteBucket } from '../core/stats/keys';
import { codeName } from '../core/status';
import type { CallFacts } from './callFacts';
import { roundMs } from './callContext';

const MINUTE_MS = 60_000;

/** The cells of one minute, ready to ship as a delta item. */
export interface MinuteCells {
  /** Minute bucket key, `M#2025-11-01T14:05`. */
  readonly minute: string;
  readonly cells: DeltaCell[];
  /** Calls in `cells`. */
  readonly calls: number;
}

/**
 * The monitor's in-process aggregate: every finished call, logged or not, folded into a cell
 * per (minute of its start, service, method). `take()` swaps the cells out for shipping.
 * No I/O; the monitor calls `add` on the gRPC event loop, so it stays a few map look-ups and
 * one histogram bin per call.
 */
export class CallCells {
  /** Minute number (epoch ms / 60 000) → service → method → cell. */
  private minutes = new Map<number, Map<string, Map<string, DeltaCell>>>();
  /** Each cell's latest start (epoch ms): made an ISO string once, at take(), not per call. */
  private lastStart = new Map<DeltaCell, number>();
  private count = 0;

  /** Calls folded in since the last take(). */
  get calls(): number {
    return this.count;
  }

  /**
   * Folds a finished call in. `slow` and `logged` as the monitor decided them; the duration is
   * rounded to 2 decimals as the record stores it, so cells and records agree.
   */
  add(call: CallFacts, slow: boolean, logged: boolean): void {
    const minute = Math.floor(call.started_at_ms / MINUTE_MS);
    let services = this.minutes.get(minute);
    if (!services) this.minutes.set(minute, (services = new Map()));
    let methods = services.get(call.service_name);
    if (!methods) services.set(call.service_name, (methods = new Map()));
    let cell = methods.get(call.method_name);
    if (!cell) methods.set(call.method_name, (cell = emptyCell(call.service_name, call.method_name)));
    if (call.started_at_ms > (this.lastStart.get(cell) ?? -Infinity))
      this.lastStart.set(cell, call.started_at_ms);
    addCallToCell(cell, {
      status: call.status as FinalStatus,
      code: call.code === null ? 'UNKNOWN' : codeName(call.code),
      durationMs: call.duration_ms === null ? 0 : roundMs(call.duration_ms),
      bytesIn: call.request_size,
      bytesOut: call.response_size,
      slow,
      logged,
      createdAt: '', // lastRequestAt is set at take()
    });
    this.count++;
  }

  /** Every cell folded in since the last take, per minute (oldest first); the set starts empty again. */
  take(): MinuteCells[] {
    const minutes = [...this.minutes].sort(([a], [b]) => a - b);
    const lastStart = this.lastStart;
    this.minutes = new Map();
    this.lastStart = new Map();
    this.count = 0;
    return minutes.map(([minute, services]) => {
      const cells = [...services.values()].flatMap((methods) => [...methods.values()]);
      for (const cell of cells) cell.lastRequestAt = new Date(lastStart.get(cell)!).toISOString();
      return {
        minute: minuteBucket(new Date(minute * MINUTE_MS)),
        cells,
        calls: cells.reduce((sum, cell) => sum + cell.total, 0),
      };
    });
  }
}
