import type { TimeRange } from './scopeStats';
import { ceilToHour, ceilToMinute, floorToHour, floorToMinute, hourBucket, minuteBucket } from './keys';

/** The buckets that answer a window, and the window they answer exactly. */
export interface WindowPlan {
  readonly minuteBuckets: string[];
  readonly hourBuckets: string[];
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

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;

function minuteKeys(from: Date, to: Date): string[] {
  const keys: string[] = [];
  for (let t = from.getTime(); t < to.getTime(); t += MINUTE_MS) keys.push(minuteBucket(new Date(t)));
  return keys;
}

/**
 * Plans the window [from, to): minute buckets for its partial-hour ends, hour buckets for the
 * whole hours between. Widened to whole minutes (from down, to up: the current minute counts),
 * so it is exact to the minute and costs at most 118 minute + N hour Queries whatever the
 * traffic. An end whose minute buckets have expired (older than minuteRetentionHours, less an
 * hour of margin) is widened to its whole hour instead.
 */
export function planWindow(range: TimeRange, options: WindowOptions = {}): WindowPlan {
  const retentionHours = options.minuteRetentionHours ?? 48;
  const now = options.now ?? new Date();
  const minutesFrom = now.getTime() - (retentionHours - 1) * HOUR_MS;
  let from = floorToMinute(range.from);
  let to = ceilToMinute(range.to);
  if (from.getTime() < minutesFrom) from = floorToHour(from);
  if (to.getTime() < minutesFrom) to = ceilToHour(to);
  if (to.getTime() <= from.getTime()) return { minuteBuckets: [], hourBuckets: [], from, to };
  const firstWholeHour = ceilToHour(from);
  const lastWholeHourEnd = floorToHour(to);
  if (firstWholeHour.getTime() >= lastWholeHourEnd.getTime()) {
    return { minuteBuckets: minuteKeys(from, to), hourBuckets: [], from, to };
  }
  const hourBuckets: string[] = [];
  for (let t = firstWholeHour.getTime(); t < lastWholeHourEnd.getTime(); t += HOUR_MS) {
    hourBuckets.push(hourBucket(new Date(t)));
  }
  return {
    minuteBuckets: [...minuteKeys(from, firstWholeHour), ...minuteKeys(lastWholeHourEnd, to)],
    hourBuckets,
    from,
    to,
  };
}

/** Hour buckets of the hours that start in [from, to). */
export function hoursStartingIn(range: TimeRange): string[] {
  const keys: string[] = [];
  for (let t = ceilToHour(range.from).getTime(); t < range.to.getTime(); t += HOUR_MS) {
    keys.push(hourBucket(new Date(t)));
  }
  return keys;
}
