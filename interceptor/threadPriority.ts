import { spawnSync } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

/** How the calling thread ended up scheduled (see lowerThreadPriority). */
export type ThreadScheduling = 'idle' | 'nice' | 'unchanged';

/**
 * Lowers the CPU priority of the calling thread alone (Linux; elsewhere a priority applies to the
 * whole process, so nothing is changed): first its nice value, then, with `idle`, the SCHED_IDLE
 * policy. Node has no call for a policy, so `chrt` (util-linux, BusyBox) sets it on our thread
 * id. Under SCHED_IDLE the thread only gets CPU that normal threads leave unused, and a waking
 * event loop takes the core from it at once; a nice value only lowers its share, and the kernel
 * may let it finish its slice first, which a call waiting on that core feels as latency. Where
 * chrt is missing or refused, the nice value stays. Never throws.
 */
export function lowerThreadPriority(niceness: number, idle: boolean): ThreadScheduling {
  if (process.platform !== 'linux') return 'unchanged';
  let result: ThreadScheduling = 'unchanged';
  if (niceness > 0) {
    try {
      setPriority(niceness); // setpriority(2) on Linux renices the calling thread only
      result = 'nice';
    } catch {
      // not allowed here: keep the service's priority
    }
  }
  if (idle) {
    try {
      const threadId = readlinkSync('/proc/thread-self').split('/').pop()!;
      const chrt = spawnSync('chrt', ['--idle', '--pid', '0', threadId], { stdio: 'ignore', timeout: 5_000 });
      if (chrt.status === 0) result = 'idle';
    } catch {
      // no /proc/thread-self (Linux < 3.17): stay as we are
    }
  }
  return result;
}
