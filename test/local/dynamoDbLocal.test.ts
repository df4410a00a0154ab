import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { startDynamoDbLocal } from '../../local/dynamoDbLocal';

const SCHED_IDLE = 5;
const canCheck = process.platform === 'linux' && spawnSync('chrt', ['--help']).status === 0;

/** Scheduling policy and nice value of each child of `pid` (from /proc/<pid>/stat: fields 41 and 19). */
function children(pid: number): Array<{ command: string; policy: number; nice: number }> {
  const ids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
  return ids.map((id) => {
    const stat = readFileSync(`/proc/${id}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return {
      command: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')),
      policy: Number(fields[38]),
      nice: Number(fields[16]),
    };
  });
}

test(
  'with `idle`, the JVM runs under SCHED_IDLE at its nice value; without, under the normal policy',
  { skip: !canCheck },
  async () => {
    for (const idle of [true, false]) {
      const local = await startDynamoDbLocal({ niceness: 19, idle });
      try {
        const java = children(local.pid!).find((child) => child.command === 'java');
        assert.ok(java, 'java runs under the watchdog shell');
        assert.equal(java.policy, idle ? SCHED_IDLE : 0);
        assert.equal(java.nice, 19);
      } finally {
        await local.stop();
      }
    }
  },
);
