/**
 * Key layout of the Stats table (see core/tables.ts and docs/aggregation.md):
 * - counters: PK a time bucket (`M#2025-11-01T14:05` minute, `H#2025-11-01T14` hour of the
 *   call's `created_at`), SK a scope (`ALL`, `S#UserService`, `M#UserService#GetUser`);
 * - the latency histogram of that (bucket, scope): same PK, SK `~H#<scope>` (`~H#ALL`), in its
 *   own item so that counters can be read without the histograms' hundreds of attributes;
 * - `CATALOG` × `S#…` / `M#…#…`: known services and methods;
 * - `SEEN#<request_id>#<created_at>` × `SEEN`: the aggregator's exactly-once markers.
 */

/** Scope keys of the Stats table: `ALL`, `S#UserService`, `M#UserService#GetUser`. */
export const ALL_SCOPE = 'ALL';
export const serviceScope = (service: string): string => `S#${service}`;
export const methodScope = (service: string, method: string): string => `M#${service}#${method}`;

/**
 * Histogram items' SK prefix. `~` sorts after every scope key (they start with `A`, `S` or
 * `M`), so a bucket's counters are `sk < '~'` and its histograms `begins_with(sk, '~H#')`.
 */
export const HISTOGRAM_PREFIX = '~H#';
/** Upper bound (exclusive) of the counter items' SKs within a bucket. */
export const COUNTERS_BELOW = '~';
/** SK of a scope's histogram item: `~H#ALL`, `~H#S#UserService`. */
export const histogramKey = (scope: string): string => `${HISTOGRAM_PREFIX}${scope}`;
/** The scope of a histogram item's SK, or undefined when the SK is not a histogram's. */
export const scopeOfHistogramKey = (sk: string): string | undefined =>
  sk.startsWith(HISTOGRAM_PREFIX) ? sk.slice(HISTOGRAM_PREFIX.length) : undefined;

/** What a scope key names. */
export type ScopeName =
  | { readonly kind: 'all' }
  | { readonly kind: 'service'; readonly service: string }
  | { readonly kind: 'method'; readonly service: string; readonly method: string };

export function parseScope(scope: string): ScopeName | undefined {
  if (scope === ALL_SCOPE) return { kind: 'all' };
  if (scope.startsWith('S#')) return { kind: 'service', service: scope.slice(2) };
  if (scope.startsWith('M#')) {
    const rest = scope.slice(2);
    const cut = rest.indexOf('#');
    if (cut > 0) return { kind: 'method', service: rest.slice(0, cut), method: rest.slice(cut + 1) };
  }
  return undefined;
}

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;

/** Minute bucket of an ISO time or Date: `M#2025-11-01T14:05`. */
export const minuteBucket = (time: string | Date): string => `M#${isoOf(time).slice(0, 16)}`;
/** Hour bucket of an ISO time or Date: `H#2025-11-01T14`. */
export const hourBucket = (time: string | Date): string => `H#${isoOf(time).slice(0, 13)}`;

const isoOf = (time: string | Date): string => (typeof time === 'string' ? time : time.toISOString());

/** Start of a bucket (`M#…` or `H#…`). */
export function bucketStart(bucket: string): Date {
  const body = bucket.slice(2);
  return new Date(bucket.startsWith('M#') ? `${body}:00.000Z` : `${body}:00:00.000Z`);
}

export const floorToMinute = (t: Date): Date => new Date(Math.floor(t.getTime() / MINUTE_MS) * MINUTE_MS);
export const ceilToMinute = (t: Date): Date => new Date(Math.ceil(t.getTime() / MINUTE_MS) * MINUTE_MS);
export const floorToHour = (t: Date): Date => new Date(Math.floor(t.getTime() / HOUR_MS) * HOUR_MS);
export const ceilToHour = (t: Date): Date => new Date(Math.ceil(t.getTime() / HOUR_MS) * HOUR_MS);

export interface RetentionSettings {
  readonly minuteRetentionHours: number;
  readonly retentionDays: number;
}

/**
 * TTL (epoch seconds) of a counter bucket, from the bucket's own start so that every write of
 * the bucket sets the same value (idempotent): minute buckets live minuteRetentionHours, hour
 * buckets retentionDays.
 */
export function bucketExpiresAt(bucket: string, retention: RetentionSettings): number {
  const start = bucketStart(bucket).getTime() / 1000;
  const life = bucket.startsWith('M#')
    ? retention.minuteRetentionHours * 3600
    : retention.retentionDays * 86_400;
  return Math.floor(start + life);
}

export const CATALOG_PK = 'CATALOG';

/** Partition and sort key of a call's exactly-once marker. */
export const seenKey = (requestId: string, createdAt: string): { pk: string; sk: string } => ({
  pk: `SEEN#${requestId}#${createdAt}`,
  sk: 'SEEN',
});
