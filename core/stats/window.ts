import type { TimeRange } from './scopeStats';
import {
  BUCKET_LEVELS,
  bucketOf,
  ceilToHour,
  ceilToMinute,
  floorToHour,
  floorToMinute,
  HOUR_LEVEL,
} from './keys';

/** The buckets that answer a window, and the window they answer exactly. */
export interface WindowPlan {
  /**
   * Buckets of every level (`M#`, `M5#`, `M15#`, `H#`, `H6#`), oldest first, that tile the
   * window with no gap and no overlap.
   */
  readonly buckets: string[];
  /** The window actually covered: the asked one widened to whole minutes (or hours, see below). */
  readonly from: Date;
  readonly to: Date;
}

export interface WindowOptions {
  /** Minute buckets older than this are gone (TTL); defaults to DEFAULTS.minuteRetentionHours. */
  readonly minuteRetentionHours?: number;
  /** The clock, for the retention cut-off. */
  readonly now?: Date;
}

const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;
/** Default of MergedWindowOptions.maxDeltaMinutes. */
export const DEFAULT_MAX_DELTA_MINUTES = 60;
/** Coarsest first, for the greedy cover. */
const COARSEST_FIRST = [...BUCKET_LEVELS].reverse();

/**
 * The fewest aligned buckets that tile [from, to) (both whole minutes): from the start, the
 * coarsest bucket that starts there and ends by `to`, repeatedly. With nested aligned levels
 * this is the canonical cover: finer buckets up to the first coarse boundary, coarse buckets
 * in the middle, finer ones down to the end.
 */
function cover(from: number, to: number): string[] {
  const keys: string[] = [];
  for (let t = from; t < to;) {
    const level = COARSEST_FIRST.find((l) => t % l.ms === 0 && t + l.ms <= to)!;
    keys.push(bucketOf(level, new Date(t)));
    t += level.ms;
  }
  return keys;
}

/**
 * Plans the window [from, to): the fewest buckets of the five levels (minute, 5 and 15
 * minutes, hour, six hours; see BUCKET_LEVELS) that tile it. Widened to whole minutes (from
 * down, to up: the current minute counts), so it is exact to the minute, and whatever the
 * traffic it costs at most 4 minute + 2 five-minute + 3 quarter-hour buckets at each
 * partial-hour end, ≤ 5 hour buckets at each side of the six-hour blocks, and the blocks: a
 * 24 h window is at most 18 buckets (it was up to 141 minute and hour buckets, 84 for one
 * ending mid-hour). An end whose minute buckets have expired (older than
 * minuteRetentionHours, less an hour of margin) is widened to its whole hour instead (5- and
 * 15-minute buckets expire with the minute ones).
 */
export function planWindow(range: TimeRange, options: WindowOptions = {}): WindowPlan {
  const retentionHours = options.minuteRetentionHours ?? 48;
  const now = options.now ?? new Date();
  const minutesFrom = now.getTime() - (retentionHours - 1) * HOUR_MS;
  let from = floorToMinute(range.from);
  let to = ceilToMinute(range.to);
  if (from.getTime() < minutesFrom) from = floorToHour(from);
  if (to.getTime() < minutesFrom) to = ceilToHour(to);
  if (to.getTime() <= from.getTime()) return { buckets: [], from, to };
  return { buckets: cover(from.getTime(), to.getTime()), from, to };
}

/** Hour buckets of the hours that start in [from, to). */
export function hoursStartingIn(range: TimeRange): string[] {
  const keys: string[] = [];
  for (let t = ceilToHour(range.from).getTime(); t < range.to.getTime(); t += HOUR_MS) {
    keys.push(bucketOf(HOUR_LEVEL, new Date(t)));
  }
  return keys;
}

/** A window split at the aggregator's watermark: closed buckets from Stats, open minutes from Deltas. */
export interface MergedWindowPlan extends WindowPlan {
  /** Minute bucket keys (`M#…`) to read from the Deltas table, oldest first. */
  readonly deltaMinutes: string[];
}

export interface MergedWindowOptions extends WindowOptions {
  /**
   * At most this many minutes (the window's last) are read from the Deltas table, however far
   * the watermark lags (an aggregator that stopped): older minutes come from Stats as they are.
   * @default 60
   */
  readonly maxDeltaMinutes?: number;
}

/**
 * Plans [from, to) as planWindow does (same widened range), split at the watermark `through`
 * (every bucket ending at or before it is final in Stats; undefined when no pass ran yet): the
 * part before it tiled by Stats buckets, the rest as minutes read from the Deltas table, up to
 * the minute after now's (a monitor's clock may run a little ahead). The two parts never
 * overlap, so nothing counts twice; deltas hold every call, so nothing is missed.
 */
export function planMergedWindow(
  range: TimeRange,
  through: Date | undefined,
  options: MergedWindowOptions = {},
): MergedWindowPlan {
  const plan = planWindow(range, options);
  const from = plan.from.getTime();
  const to = plan.to.getTime();
  const cap = (options.maxDeltaMinutes ?? DEFAULT_MAX_DELTA_MINUTES) * MINUTE_MS;
  const watermark = through ? floorToMinute(through).getTime() : Number.NEGATIVE_INFINITY;
  const boundary = Math.min(to, Math.max(from, watermark, to - cap));
  const now = floorToMinute(options.now ?? new Date()).getTime();
  const deltasEnd = Math.min(to, now + 2 * MINUTE_MS);
  const deltaMinutes: string[] = [];
  for (let t = boundary; t < deltasEnd; t += MINUTE_MS)
    deltaMinutes.push(bucketOf(BUCKET_LEVELS[0]!, new Date(t)));
  return { buckets: cover(from, boundary), deltaMinutes, from: plan.from, to: plan.to };
}
