import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
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

/** This machine's own non-loopback IPv4 addresses (never an outside one). */
const ownAddresses = Object.values(networkInterfaces())
  .flat()
  .filter((a) => a !== undefined && a.family === 'IPv4' && !a.internal)
  .map((a) => a!.address);

/** Whether a TCP connection to host:port opens (then closes it), or is refused. */
function reachable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 3_000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

test(
  'listens on 127.0.0.1 only: the port is closed on this machine’s other addresses (issue 18, finding 7)',
  { skip: ownAddresses.length === 0 ? 'no non-loopback IPv4 address on this machine' : false },
  async () => {
    const local = await startDynamoDbLocal();
    try {
      assert.equal(local.loopbackOnly, true, `fell back to the stock launcher: ${local.loopbackFallback}`);
      assert.equal(await reachable('127.0.0.1', local.port), true, 'the check can succeed');
      for (const address of ownAddresses) {
        assert.equal(await reachable(address, local.port), false, `port ${local.port} open on ${address}`);
      }
    } finally {
      await local.stop();
    }
  },
);

test('when the loopback launcher cannot run, the stock one starts it and says why', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'loopback-'));
  const broken = join(dir, 'Broken.java');
  writeFileSync(
    broken,
    'public class Broken { public static void main(String[] a) { System.err.println("no loopback here"); System.exit(3); } }',
  );
  const local = await startDynamoDbLocal({ loopbackLauncher: broken });
  try {
    assert.equal(local.loopbackOnly, false);
    assert.equal(local.loopbackFallback, 'no loopback here');
    assert.equal(await reachable('127.0.0.1', local.port), true);
  } finally {
    await local.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
