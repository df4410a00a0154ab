import { readdirSync, readFileSync } from 'node:fs';

/** Median of some timings. */
export const median = (values: ArrayLike<number>): number =>
  Array.from(values).sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** CPU time of this process's main thread (Linux: the scheduler's ns count), in µs; NaN elsewhere. */
export function mainThreadCpuMicros(): number {
  try {
    return threadCpuMicros(String(process.pid));
  } catch {
    return NaN;
  }
}

/** CPU time of one of this process's threads (the scheduler's ns count), in µs. */
function threadCpuMicros(tid: string): number {
  return Number(readFileSync(`/proc/${process.pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]) / 1000;
}

/** A thread's nice value (field 19 of /proc/…/stat, counted after the command name's ")"). */
function threadNice(tid: string): number {
  const stat = readFileSync(`/proc/${process.pid}/task/${tid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
}

/**
 * CPU time, in µs, of this process's threads that run at another nice value than the main
 * thread: in a monitored server that is the monitor's writer thread (writerNiceness); 0 in a bare
 * one; NaN where /proc is missing. Threads that have already ended are not counted.
 */
export function renicedThreadsCpuMicros(): number {
  try {
    const mainNice = threadNice(String(process.pid));
    let total = 0;
    for (const tid of readdirSync(`/proc/${process.pid}/task`)) {
      try {
        if (threadNice(tid) !== mainNice) total += threadCpuMicros(tid);
      } catch {
        // the thread ended while we looked
      }
    }
    return total;
  } catch {
    return NaN;
  }
}
