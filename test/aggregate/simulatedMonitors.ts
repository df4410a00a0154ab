/**
 * Simulated monitor instances: they fold calls into per-(minute, service, method) cells with
 * core/deltas and ship one delta item per minute per flush, as the interceptor does, and write
 * them to the Deltas table. With generated calls (seeded) and the ground truth of groundTruth.ts.
 */
import { randomUUID } from 'node:crypto';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { addCallToCell, deltaItem, emptyCell, type DeltaCell } from '../../core/deltas';
import type { FinalStatus } from '../../core/record';
import { minuteBucket } from '../../core/stats';
import { putAll } from '../harness/putAll';
import type { TruthCall } from './groundTruth';

export type DeltaItem = ReturnType<typeof deltaItem>;

export class SimulatedMonitor {
  readonly instance = randomUUID().replaceAll('-', '');
  private seq = 0;
  private cells = new Map<string, DeltaCell>();

  constructor(private readonly slowThresholdMs: number) {}

  /** Folds one call in, before any sampling (every call counts). */
  record(call: TruthCall): void {
    const minute = minuteBucket(call.createdAt);
    const key = `${minute}|${call.service}|${call.method}`;
    let cell = this.cells.get(key);
    if (!cell) this.cells.set(key, (cell = emptyCell(call.service, call.method)));
    addCallToCell(cell, {
      status: call.status,
      code: call.code,
      durationMs: call.durationMs,
      bytesIn: call.bytesIn,
      bytesOut: call.bytesOut,
      slow: call.durationMs >= this.slowThresholdMs,
      logged: call.logged,
      createdAt: call.createdAt,
    });
  }

  /** Swaps the cells out: one delta item per minute touched since the last flush. */
  flush(): DeltaItem[] {
    const byMinute = new Map<string, DeltaCell[]>();
    for (const [key, cell] of this.cells) {
      const minute = key.slice(0, key.indexOf('|'));
      byMinute.set(minute, [...(byMinute.get(minute) ?? []), cell]);
    }
    this.cells = new Map();
    const expiresAt = Math.floor(Date.now() / 1000) + 2 * 86_400;
    return [...byMinute].map(([minute, cells]) =>
      deltaItem({ minute, instance: this.instance, seq: this.seq++, cells }, expiresAt),
    );
  }
}

/** Writes delta items (BatchWriteItem, unprocessed retried), as the monitors' writer does. */
export async function writeDeltas(
  ddb: DynamoDBDocumentClient,
  table: string,
  items: readonly DeltaItem[],
): Promise<void> {
  await putAll(ddb, table, items);
}

const OUTCOMES: Array<[FinalStatus, string]> = [
  ['success', 'OK'],
  ['success', 'OK'],
  ['success', 'OK'],
  ['success', 'OK'],
  ['success', 'OK'],
  ['error', 'NOT_FOUND'],
  ['error', 'INTERNAL'],
  ['timeout', 'DEADLINE_EXCEEDED'],
  ['cancelled', 'CANCELLED'],
];

export const METHODS: ReadonlyArray<readonly [string, string]> = [
  ['UserService', 'GetUser'],
  ['UserService', 'ListUsers'],
  ['OrderService', 'CreateOrder'],
  ['OrderService', 'GetOrder'],
  ['BillingService', 'Charge'],
];

/**
 * `count` calls spread evenly over [startMs, startMs + spanMs), in time order: the methods
 * above, mixed outcomes, log-normal durations with 2 decimals (some 0, some slow), random
 * sizes; `logRate` of the successes logged (all failures are).
 */
export function generateCalls(
  rand: () => number,
  count: number,
  startMs: number,
  spanMs: number,
  logRate = 1,
): TruthCall[] {
  return Array.from({ length: count }, (_, i) => {
    const [service, method] = METHODS[Math.floor(rand() * METHODS.length)]!;
    const [status, code] = OUTCOMES[Math.floor(rand() * OUTCOMES.length)]!;
    const r = rand();
    const duration =
      r < 0.02 ? 0 : r < 0.05 ? 1000 + rand() * 5000 : Math.exp(Math.log(20) + 1.3 * (rand() - 0.5) * 3);
    return {
      service,
      method,
      status,
      code,
      durationMs: Math.round(duration * 100) / 100,
      bytesIn: Math.floor(rand() * 500),
      bytesOut: Math.floor(rand() * 5000),
      createdAt: new Date(startMs + Math.floor((i * spanMs) / count)).toISOString(),
      logged: status !== 'success' || rand() < logRate,
    };
  });
}
