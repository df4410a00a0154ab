/**
 * Key layout of the Stats table (see core/tables.ts and docs/aggregation.md):
 * - counters: PK a time bucket of the call's `created_at` at each level (`M#2025-11-01T14:05`
 *   minute, `M5#2025-11-01T14:05` five minutes, `M15#2025-11-01T14:00` a quarter hour,
 *   `H#2025-11-01T14` hour, `H6#2025-11-01T12` six hours), SK a scope (`ALL`, `S#UserService`,
 *   `M#UserService#GetUser`);
 * - the latency histogram of that (bucket, scope): same PK, SK `~H#<scope>` (`~H#ALL`), packed in
 *   one string (core/stats/packedHistogram.ts), in its own item so that counters can be read
 *   without it;
 * - `CATALOG` × `S#…` / `M#…#…`: known services and methods;
 * - `AGG#DIRTY` × a bucket key: buckets the aggregator must recompute (lambdas/aggregate);
 * - `AGG` × `WATERMARK`: every bucket that ends at or before its `through` is final in Stats.
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

/**
 * SK prefix of the packed histogram copies (`~P#ALL`) that readers wrote before histograms were
 * packed at write: left to expire, and skipped by reads (their SKs sort after `~H#`).
 */
export const LEGACY_PACKED_PREFIX = '~P#';

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

/**
 * The bucket levels, finest first. Each level's length divides the next one's and its buckets
 * are aligned to UTC (a 15-minute bucket starts at :00, :15, :30, :45; a six-hour one at 00,
 * 06, 12, 18 h), so any window is tiled by few buckets (planWindow). Every counted call lands
 * in one bucket of each level. Finer-than-hour levels live `minuteRetentionHours`, the others
 * `retentionDays`.
 */
export interface BucketLevel {
  /** PK prefix: `M#`, `M5#`, `M15#`, `H#`, `H6#`. */
  readonly prefix: string;
  readonly ms: number;
  /** Characters of the ISO start kept in the key (16: to the minute, 13: to the hour). */
  readonly isoLength: 13 | 16;
  /** Expires with the minute buckets (true) or with the hour buckets (false). */
  readonly short: boolean;
}

export const MINUTE_LEVEL: BucketLevel = { prefix: 'M#', ms: MINUTE_MS, isoLength: 16, short: true };
export const FIVE_MINUTE_LEVEL: BucketLevel = {
  prefix: 'M5#',
  ms: 5 * MINUTE_MS,
  isoLength: 16,
  short: true,
};
export const QUARTER_HOUR_LEVEL: BucketLevel = {
  prefix: 'M15#',
  ms: 15 * MINUTE_MS,
  isoLength: 16,
  short: true,
};
export const HOUR_LEVEL: BucketLevel = { prefix: 'H#', ms: HOUR_MS, isoLength: 13, short: false };
export const SIX_HOUR_LEVEL: BucketLevel = { prefix: 'H6#', ms: 6 * HOUR_MS, isoLength: 13, short: false };
/** Finest first. */
export const BUCKET_LEVELS: readonly BucketLevel[] = [
  MINUTE_LEVEL,
  FIVE_MINUTE_LEVEL,
  QUARTER_HOUR_LEVEL,
  HOUR_LEVEL,
  SIX_HOUR_LEVEL,
];

const LEVEL_BY_PREFIX = new Map(BUCKET_LEVELS.map((level) => [level.prefix, level]));

/** The level of a bucket key (`M#…`, `M5#…`, `M15#…`, `H#…`, `H6#…`), or undefined for other keys. */
export const levelOf = (bucket: string): BucketLevel | undefined =>
  LEVEL_BY_PREFIX.get(bucket.slice(0, bucket.indexOf('#') + 1));

const isoOf = (time: string | Date): string => (typeof time === 'string' ? time : time.toISOString());
const msOf = (time: string | Date): number => (typeof time === 'string' ? Date.parse(time) : time.getTime());

/** The bucket of `level` holding a time: its start, floored to the level, as `<prefix><ISO>`. */
export function bucketOf(level: BucketLevel, time: string | Date): string {
  if (level === MINUTE_LEVEL || level === HOUR_LEVEL) {
    return `${level.prefix}${isoOf(time).slice(0, level.isoLength)}`;
  }
  const start = Math.floor(msOf(time) / level.ms) * level.ms;
  return `${level.prefix}${new Date(start).toISOString().slice(0, level.isoLength)}`;
}

/** Minute bucket of an ISO time or Date: `M#2025-11-01T14:05`. */
export const minuteBucket = (time: string | Date): string => bucketOf(MINUTE_LEVEL, time);
/** Five-minute bucket: `M5#2025-11-01T14:05` holds 14:05–14:09. */
export const fiveMinuteBucket = (time: string | Date): string => bucketOf(FIVE_MINUTE_LEVEL, time);
/** Quarter-hour bucket: `M15#2025-11-01T14:00` holds 14:00–14:14. */
export const quarterHourBucket = (time: string | Date): string => bucketOf(QUARTER_HOUR_LEVEL, time);
/** Hour bucket of an ISO time or Date: `H#2025-11-01T14`. */
export const hourBucket = (time: string | Date): string => bucketOf(HOUR_LEVEL, time);
/** Six-hour bucket: `H6#2025-11-01T12` holds 12:00–17:59 (they start at UTC 00, 06, 12, 18). */
export const sixHourBucket = (time: string | Date): string => bucketOf(SIX_HOUR_LEVEL, time);

/** Every bucket a call at this time counts in, finest first. */
export const bucketsOf = (time: string | Date): string[] =>
  BUCKET_LEVELS.map((level) => bucketOf(level, time));

/** Start of a bucket (`M#…`, `M5#…`, `M15#…`, `H#…` or `H6#…`). */
export function bucketStart(bucket: string): Date {
  const body = bucket.slice(bucket.indexOf('#') + 1);
  return new Date(body.length > 13 ? `${body}:00.000Z` : `${body}:00:00.000Z`);
}

/** End (exclusive) of a bucket. */
export function bucketEnd(bucket: string): Date {
  const level = levelOf(bucket);
  if (!level) throw new Error(`not a bucket key: ${bucket}`);
  return new Date(bucketStart(bucket).getTime() + level.ms);
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
 * TTL (epoch seconds) of a bucket's items, from the bucket's own start so that every write of
 * the bucket sets the same value (idempotent): minute, five- and fifteen-minute buckets live
 * minuteRetentionHours, hour and six-hour buckets retentionDays.
 */
export function bucketExpiresAt(bucket: string, retention: RetentionSettings): number {
  const start = bucketStart(bucket).getTime() / 1000;
  const life = levelOf(bucket)?.short
    ? retention.minuteRetentionHours * 3600
    : retention.retentionDays * 86_400;
  return Math.floor(start + life);
}

export const CATALOG_PK = 'CATALOG';

/** PK of the aggregator's dirty markers; the SK is the bucket key to recompute. */
export const DIRTY_PK = 'AGG#DIRTY';
/** Key of the aggregator's watermark item; attribute `through` (WATERMARK_ATTRIBUTE). */
export const WATERMARK_KEY = { pk: 'AGG', sk: 'WATERMARK' } as const;
/** The watermark's attribute: an ISO minute (`2025-11-01T14:05:00.000Z`). */
export const WATERMARK_ATTRIBUTE = 'through';

/** The bucket one level coarser that holds this one, or undefined for a six-hour bucket. */
export function parentBucket(bucket: string): string | undefined {
  const level = levelOf(bucket);
  const parent = level && BUCKET_LEVELS[BUCKET_LEVELS.indexOf(level) + 1];
  return parent ? bucketOf(parent, bucketStart(bucket)) : undefined;
}

/** The buckets one level finer that tile this one (a minute bucket has none). */
export function childBuckets(bucket: string): string[] {
  const level = levelOf(bucket);
  const child = level && BUCKET_LEVELS[BUCKET_LEVELS.indexOf(level) - 1];
  if (!level || !child) return [];
  const start = bucketStart(bucket).getTime();
  return Array.from({ length: level.ms / child.ms }, (_, i) =>
    bucketOf(child, new Date(start + i * child.ms)),
  );
}
