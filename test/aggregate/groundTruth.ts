/**
 * Ground truth for the Stats table, straight from the calls (not through cells, deltas or the
 * aggregator): every (bucket, scope) of every level the calls touch, and the check that the
 * Stats table holds exactly that. Reusable with any source of calls: simulated monitors here,
 * real monitors (with log sampling) in other tests.
 */
import assert from 'node:assert/strict';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { FinalStatus, RequestLogRecord } from '../../core/record';
import {
  ALL_SCOPE,
  addToHistogram,
  bucketsOf,
  emptyScopeStats,
  methodScope,
  quantile,
  readBucket,
  RELATIVE_ERROR,
  serviceScope,
  type ScopeStats,
} from '../../core/stats';

/** One finished call, as the ground truth counts it. */
export interface TruthCall {
  readonly service: string;
  readonly method: string;
  readonly status: FinalStatus;
  /** gRPC code NAME. */
  readonly code: string;
  /** 2 decimals. */
  readonly durationMs: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** ISO 8601. */
  readonly createdAt: string;
  /** Written to RequestLog (false when log sampling dropped it). */
  readonly logged: boolean;
}

/** Adds one call to a scope's figures (in place). */
export function addTruthCall(t: ScopeStats, c: TruthCall, slowThresholdMs: number): void {
  t.total += 1;
  t.byStatus[c.status] += 1;
  t.byCode[c.code] = (t.byCode[c.code] ?? 0) + 1;
  t.durationSumMs = Math.round((t.durationSumMs + c.durationMs) * 100) / 100;
  t.durationMaxMs = Math.max(t.durationMaxMs, c.durationMs);
  t.durationMinMs = t.durationMinMs === null ? c.durationMs : Math.min(t.durationMinMs, c.durationMs);
  t.bytesIn += c.bytesIn;
  t.bytesOut += c.bytesOut;
  if (c.durationMs >= slowThresholdMs) t.slow += 1;
  if (c.logged) t.logged += 1;
  if (!t.lastRequestAt || c.createdAt > t.lastRequestAt) t.lastRequestAt = c.createdAt;
  addToHistogram(t.histogram, c.durationMs);
}

const scopesOf = (c: TruthCall) => [ALL_SCOPE, serviceScope(c.service), methodScope(c.service, c.method)];

/** Scope → figures of these calls, whatever their time (filter them to a window first). */
export function scopeTruth(calls: readonly TruthCall[], slowThresholdMs: number): Map<string, ScopeStats> {
  const scopes = new Map<string, ScopeStats>();
  for (const c of calls) {
    for (const scope of scopesOf(c)) {
      let t = scopes.get(scope);
      if (!t) scopes.set(scope, (t = emptyScopeStats()));
      addTruthCall(t, c, slowThresholdMs);
    }
  }
  return scopes;
}

/** A final RequestLog record as the call a monitor counted (logged: it is in the log). */
export const truthCallOf = (c: RequestLogRecord): TruthCall => ({
  service: c.service_name,
  method: c.method_name,
  status: c.status as FinalStatus,
  code: c.grpc_status_code ?? 'UNKNOWN',
  durationMs: c.duration_ms ?? 0,
  bytesIn: c.request_size,
  bytesOut: c.response_size,
  createdAt: c.created_at,
  logged: true,
});

/** Every `bucket` → scope → figures, of all five levels. */
export function groundTruth(
  calls: readonly TruthCall[],
  slowThresholdMs: number,
): Map<string, Map<string, ScopeStats>> {
  const truth = new Map<string, Map<string, ScopeStats>>();
  for (const c of calls) {
    for (const bucket of bucketsOf(c.createdAt)) {
      let scopes = truth.get(bucket);
      if (!scopes) truth.set(bucket, (scopes = new Map()));
      for (const scope of scopesOf(c)) {
        let t = scopes.get(scope);
        if (!t) scopes.set(scope, (t = emptyScopeStats()));
        addTruthCall(t, c, slowThresholdMs);
      }
    }
  }
  return truth;
}

/** The exact q-quantile of some durations (rank floor(q·(n−1)), as the sketch reads it). */
export function exactQuantile(durations: readonly number[], q: number): number {
  const sorted = [...durations].sort((a, b) => a - b);
  return sorted[Math.floor(q * (sorted.length - 1))]!;
}

/** A ScopeStats with its histogram as sorted pairs, for deepEqual. */
export const comparable = (s: ScopeStats) => ({
  ...s,
  byCode: Object.fromEntries(Object.entries(s.byCode).sort()),
  histogram: [...s.histogram].sort(([a], [b]) => a - b),
});

/**
 * Asserts that the Stats table holds exactly the ground truth of `calls`: every bucket of every
 * level they touch, every scope, every counter (and every histogram bin), nothing more; and
 * that each scope's p95 read from Stats is within the sketch's bound of the exact p95.
 * Returns how many (bucket, scope) pairs were checked.
 */
export async function assertStatsMatchCalls(
  ddb: DynamoDBDocumentClient,
  statsTable: string,
  calls: readonly TruthCall[],
  slowThresholdMs: number,
): Promise<number> {
  const truth = groundTruth(calls, slowThresholdMs);
  let checked = 0;
  const durationsOf = new Map<string, number[]>();
  for (const c of calls) {
    for (const bucket of bucketsOf(c.createdAt)) {
      for (const scope of scopesOf(c)) {
        const key = `${bucket}|${scope}`;
        const list = durationsOf.get(key) ?? [];
        durationsOf.set(key, list);
        list.push(c.durationMs);
      }
    }
  }
  for (const [bucket, scopes] of truth) {
    const stored = await readBucket(ddb, statsTable, bucket, { consistent: true });
    assert.deepEqual([...stored.keys()].sort(), [...scopes.keys()].sort(), `scopes of ${bucket}`);
    for (const [scope, expected] of scopes) {
      const actual = stored.get(scope)!;
      assert.deepEqual(comparable(actual), comparable(expected), `${bucket} ${scope}`);
      const p95 = quantile(actual.histogram, 0.95)!;
      const exact = exactQuantile(durationsOf.get(`${bucket}|${scope}`)!, 0.95);
      assert.ok(
        Math.abs(p95 - exact) <= RELATIVE_ERROR * exact + 1e-9,
        `${bucket} ${scope}: p95 ${p95} vs exact ${exact}`,
      );
      checked += 1;
    }
  }
  return checked;
}
