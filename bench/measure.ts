import { readFileSync } from 'node:fs';

/** Median of some timings. */
export const median = (values: ArrayLike<number>): number =>
  Array.from(values).sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** CPU time of this process's main thread (Linux: the scheduler's ns count), in µs; NaN elsewhere. */
export function mainThreadCpuMicros(): number {
  try {
    const schedstat = readFileSync(`/proc/${process.pid}/task/${process.pid}/schedstat`, 'utf8');
    return Number(schedstat.split(' ')[0]) / 1000;
  } catch {
    return NaN;
  }
}
