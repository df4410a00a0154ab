// STUB written by the lead so other modules can code against the names; the aggregation
// work replaces the bodies (and may split this into files, keeping these exports).
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { FinalStatus } from '../record';

/** A mergeable log-bucket latency histogram (DDSketch-style): bucket index → count. */
export type Histogram = Map<number, number>;

/** Scope keys of the Stats table: `ALL`, `S#UserService`, `M#UserService#GetUser`. */
export const ALL_SCOPE = 'ALL';
export const serviceScope = (service: string): string => `S#${service}`;
export const methodScope = (service: string, method: string): string => `M#${service}#${method}`;

/** Every counter of one scope over some window, merged. */
export interface ScopeStats {
  total: number;
  byStatus: Record<FinalStatus, number>;
  /** gRPC code NAME → count. */
  byCode: Record<string, number>;
  durationSumMs: number;
  durationMaxMs: number;
  bytesIn: number;
  bytesOut: number;
  slow: number;
  lastRequestAt: string | null;
  histogram: Histogram;
}

export interface TimeRange {
  /** Inclusive. */
  from: Date;
  /** Exclusive. */
  to: Date;
}

/** Every scope's stats over [from, to): minute buckets at the partial ends, hour buckets between. */
export async function readWindow(
  _ddb: DynamoDBDocumentClient,
  _statsTable: string,
  _range: TimeRange,
): Promise<Map<string, ScopeStats>> {
  throw new Error('not implemented yet');
}

/** Per-hour stats for each hour that starts in [from, to) (for timelines). Hours with no data are absent. */
export async function readHours(
  _ddb: DynamoDBDocumentClient,
  _statsTable: string,
  _range: TimeRange,
): Promise<Map<string, Map<string, ScopeStats>>> {
  throw new Error('not implemented yet');
}

/** The q-quantile (0..1) of a histogram in ms, within the sketch's relative error; null when empty. */
export function quantile(_histogram: Histogram, _q: number): number | null {
  throw new Error('not implemented yet');
}

/** Known services and their methods (the catalog the aggregator keeps). */
export async function readCatalog(
  _ddb: DynamoDBDocumentClient,
  _statsTable: string,
): Promise<Array<{ service: string; methods: string[] }>> {
  throw new Error('not implemented yet');
}
