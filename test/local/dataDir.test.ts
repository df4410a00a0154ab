import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startLocal, type LocalEnvironment } from '../../local';

/**
 * `npm start -- --data-dir <folder>`: what was recorded and counted survives a restart, and the
 * restarted runtime, reading the stream again, counts nothing twice (the overview's total equals
 * the calls stored in RequestLog).
 */
const TOKEN = 'data-dir-test';

async function read(env: LocalEnvironment): Promise<{ total: number; stored: number }> {
  const get = async (path: string) => {
    const response = await fetch(`${env.apiUrl}/cfg/grpc/monitor/${path}`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    assert.equal(response.status, 200, await response.clone().text());
    return (await response.json()) as Record<string, unknown>;
  };
  const [overview, requests] = await Promise.all([
    get('overview/?hours=24'),
    get('requests/?hours=24&page_size=1'),
  ]);
  return { total: overview.total_requests as number, stored: requests.count as number };
}

async function settled(env: LocalEnvironment, atLeast: number): Promise<{ total: number; stored: number }> {
  const end = Date.now() + 60_000;
  for (;;) {
    const figures = await read(env);
    if ((figures.stored >= atLeast && figures.total === figures.stored) || Date.now() > end) return figures;
    await new Promise((r) => setTimeout(r, 250));
  }
}

const start = (dataDir: string, demo: boolean) =>
  startLocal({
    apiPort: 0,
    grpcPort: 0,
    dataDir,
    demo,
    apiToken: TOKEN,
    printAlerts: false,
    demoConsole: false,
    log: () => {},
  });

describe('startLocal with a data folder', () => {
  it('keeps the calls and their counts across a restart, counting none twice', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'grpc-monitor-data-'));
    try {
      // Prepare: the demo's traffic, until some of it is stored.
      const first = await start(dataDir, true);
      let before: { total: number; stored: number };
      try {
        before = await settled(first, 20);
      } finally {
        await first.stop();
      }
      assert.ok(before.stored >= 20, `the demo recorded ${before.stored} calls`);

      // Act: restart on the same folder, without the demo.
      const second = await start(dataDir, false);
      try {
        const after = await settled(second, before.stored);

        // Assess: nothing lost; calls that ended after the last read are counted now, once.
        assert.ok(after.stored >= before.stored, `stored ${after.stored} after, ${before.stored} before`);
        assert.equal(after.total, after.stored, 'overview total equals the calls stored');
      } finally {
        await second.stop();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
