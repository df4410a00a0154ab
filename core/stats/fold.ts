import type { AttributeValue, DynamoDBRecord } from 'aws-lambda';
import { FINAL_STATUSES, type FinalStatus } from '../record';
import { addToHistogram, type Histogram } from './histogram';
import { ALL_SCOPE, bucketsOf, methodScope, serviceScope } from './keys';

/** A finished call, as the aggregator counts it. */
export interface CountedCall {
  readonly requestId: string;
  readonly service: string;
  readonly method: string;
  readonly status: FinalStatus;
  /** gRPC code NAME. */
  readonly code: string;
  readonly durationMs: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** ISO 8601; decides the buckets. */
  readonly createdAt: string;
}

/** What one (bucket, scope) Stats item gains from a batch. */
export interface StatsDelta {
  readonly pk: string;
  readonly sk: string;
  total: number;
  byStatus: Partial<Record<FinalStatus, number>>;
  byCode: Record<string, number>;
  /** In hundredths of a ms: durations have 2 decimals, so integer sums stay exact. */
  durationSumCentis: number;
  durationMaxMs: number;
  bytesIn: number;
  bytesOut: number;
  slow: number;
  lastRequestAt: string;
  histogram: Histogram;
}

/** Deltas by `pk|sk`. */
export type StatsDeltas = Map<string, StatsDelta>;

export interface FoldOptions {
  /** A call at or over this duration is slow (MonitorConfig.slowThresholdMs). */
  readonly slowThresholdMs: number;
}

const FINAL = new Set<string>(FINAL_STATUSES);
const str = (v: AttributeValue | undefined): string | undefined => v?.S;
const num = (v: AttributeValue | undefined): number => (v?.N === undefined ? 0 : Number(v.N));

function isFinalRequest(image: Record<string, AttributeValue> | undefined): boolean {
  return str(image?.item_type) === 'request' && FINAL.has(str(image?.status) ?? '');
}

/**
 * The status-transition rule: a call counts once, when its item first becomes final. That is
 * an INSERT of a final request item, or a MODIFY whose old image was pending (or absent) and
 * whose new image is final. REMOVEs (TTL), heartbeats, pending writes and final→final rewrites
 * count nothing. Returns the call to count, or undefined.
 */
export function countedCall(record: DynamoDBRecord): CountedCall | undefined {
  const image = record.dynamodb?.NewImage;
  if (!isFinalRequest(image) || !image) return undefined;
  if (record.eventName === 'MODIFY') {
    const old = record.dynamodb?.OldImage;
    if (old && str(old.status) !== 'pending') return undefined;
  } else if (record.eventName !== 'INSERT') {
    return undefined;
  }
  const createdAt = str(image.created_at);
  const requestId = str(image.request_id);
  if (!createdAt || !requestId || Number.isNaN(Date.parse(createdAt))) return undefined;
  return {
    requestId,
    service: str(image.service_name) ?? '',
    method: str(image.method_name) ?? '',
    status: str(image.status) as FinalStatus,
    code: str(image.grpc_status_code) ?? 'UNKNOWN',
    durationMs: Math.max(0, num(image.duration_ms)),
    bytesIn: num(image.request_size),
    bytesOut: num(image.response_size),
    createdAt,
  };
}

/**
 * The (bucket, scope) keys a call counts in: its bucket of each level (minute, ten minutes,
 * hour, six hours) × all, service, method.
 */
export function statsKeysOf(call: CountedCall): Array<{ pk: string; sk: string }> {
  const buckets = bucketsOf(call.createdAt);
  const scopes = [ALL_SCOPE, serviceScope(call.service), methodScope(call.service, call.method)];
  return buckets.flatMap((pk) => scopes.map((sk) => ({ pk, sk })));
}

export const deltaId = (pk: string, sk: string): string => `${pk}|${sk}`;

export function emptyDelta(pk: string, sk: string): StatsDelta {
  return {
    pk,
    sk,
    total: 0,
    byStatus: {},
    byCode: {},
    durationSumCentis: 0,
    durationMaxMs: 0,
    bytesIn: 0,
    bytesOut: 0,
    slow: 0,
    lastRequestAt: '',
    histogram: new Map(),
  };
}

/** Adds one call to one delta (in place). */
export function addCall(delta: StatsDelta, call: CountedCall, options: FoldOptions): void {
  delta.total += 1;
  delta.byStatus[call.status] = (delta.byStatus[call.status] ?? 0) + 1;
  delta.byCode[call.code] = (delta.byCode[call.code] ?? 0) + 1;
  delta.durationSumCentis += Math.round(call.durationMs * 100);
  if (call.durationMs > delta.durationMaxMs) delta.durationMaxMs = call.durationMs;
  delta.bytesIn += call.bytesIn;
  delta.bytesOut += call.bytesOut;
  if (call.durationMs >= options.slowThresholdMs) delta.slow += 1;
  if (call.createdAt > delta.lastRequestAt) delta.lastRequestAt = call.createdAt;
  addToHistogram(delta.histogram, call.durationMs);
}

/** Folds calls into per-(bucket, scope) deltas (into `deltas`, which is returned). */
export function foldCalls(
  calls: Iterable<CountedCall>,
  options: FoldOptions,
  deltas: StatsDeltas = new Map(),
): StatsDeltas {
  for (const call of calls) {
    for (const { pk, sk } of statsKeysOf(call)) {
      const id = deltaId(pk, sk);
      let delta = deltas.get(id);
      if (!delta) deltas.set(id, (delta = emptyDelta(pk, sk)));
      addCall(delta, call, options);
    }
  }
  return deltas;
}

/** Stream records → per-(bucket, scope) deltas, counting each record by the transition rule. */
export function foldRecords(records: readonly DynamoDBRecord[], options: FoldOptions): StatsDeltas {
  const calls: CountedCall[] = [];
  for (const record of records) {
    const call = countedCall(record);
    if (call) calls.push(call);
  }
  return foldCalls(calls, options);
}
