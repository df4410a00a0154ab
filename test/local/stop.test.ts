import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import { startLocal } from '../../local';

/**
 * After stop() nothing of ours is left: this starts its own DynamoDB Local (not the run's shared
 * one) and the demo, then checks that the watchdog, the JVM under it, and every port are gone.
 */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function children(pid: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return []; // pgrep exits 1 when there are none
  }
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

const portOf = (address: string) =>
  Number(new URL(address.includes('://') ? address : `http://${address}`).port);

describe('startLocal: stop()', () => {
  it('leaves no process and no open port behind', async () => {
    // Prepare
    const env = await startLocal({
      apiPort: 0,
      grpcPort: 0,
      demo: true,
      apiToken: 'stop-test',
      printAlerts: false,
      demoConsole: false,
      log: () => {},
    });
    const pid = env.dynamoDbLocalPid!;
    const processes = [pid, ...children(pid)];
    const ports = [portOf(env.apiUrl), portOf(env.grpcAddress!), portOf(env.dynamoDb.endpoint)];
    assert.ok(processes.length >= 2, 'the watchdog and the JVM under it');
    assert.ok(processes.every(alive));
    for (const port of ports) assert.equal(await listening(port), true, `port ${port} open while running`);
    const health = await fetch(`${env.apiUrl}/cfg/grpc/monitor/health/`);
    assert.equal(health.status, 200);

    // Act
    await env.stop();
    await env.stop(); // idempotent

    // Assess
    assert.deepEqual(processes.filter(alive), [], 'processes left running');
    for (const port of ports) assert.equal(await listening(port), false, `port ${port} still open`);
  });
});
