import type { TimeRange } from '../stats';

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;

/** Smallest and largest `hours` a window may span (the API validates the same bounds). */
export const WINDOW_HOURS = { min: 1, max: 720, default: 24 } as const;

/**
 * The window "last `hours` hours" as of `now`, aligned to whole minutes: [to − hours, to) with
 * `to` the end of the current minute. Stats keep minute buckets, so a minute-aligned window is
 * one the counters can answer exactly, and lists read the very same range.
 */
export function recentWindow(now: Date, hours: number): TimeRange {
  const to = new Date(Math.floor(now.getTime() / MINUTE_MS) * MINUTE_MS + MINUTE_MS);
  return { from: new Date(to.getTime() - hours * HOUR_MS), to };
}

/** The last complete minute before `now` (for the "requests per second, last minute" rate). */
export function lastFullMinute(now: Date): TimeRange {
  const to = new Date(Math.floor(now.getTime() / MINUTE_MS) * MINUTE_MS);
  return { from: new Date(to.getTime() - MINUTE_MS), to };
}

/** Start of the UTC hour holding `date`. */
export const startOfHour = (date: Date): Date => new Date(Math.floor(date.getTime() / HOUR_MS) * HOUR_MS);

/** Hour bucket strings (`2025-11-01T14`) of every hour that overlaps [from, to), oldest first. */
export function hoursOverlapping(range: TimeRange): string[] {
  const hours: string[] = [];
  for (let t = startOfHour(range.from).getTime(); t < range.to.getTime(); t += HOUR_MS) {
    hours.push(new Date(t).toISOString().slice(0, 13));
  }
  return hours;
}

/**
 * The `hours` whole hours that end with the current one (timeline rows), oldest first, as Dates.
 * For hours=24 at 15:20 that is 16:00 yesterday … 15:00 today.
 */
export function timelineHours(now: Date, hours: number): Date[] {
  const current = startOfHour(now).getTime();
  return Array.from({ length: hours }, (_, i) => new Date(current - (hours - 1 - i) * HOUR_MS));
}

export const windowSeconds = (range: TimeRange): number => (range.to.getTime() - range.from.getTime()) / 1000;
