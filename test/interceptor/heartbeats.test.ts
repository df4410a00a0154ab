/**
 * The heartbeat loop's ordering: whatever the table's latency, the item stored last is the
 * final heartbeat, with the counters at stop(); puts never overlap.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startHeartbeats } from '../../interceptor/heartbeats';
import type { WriterStats } from '../../core/heartbeat';

const statsAt = (written: number): WriterStats =>
  ({ enqueued: written, written, dropped: 0, retried: 0, failed: 0, queued: 0 }) as WriterStats;

describe('startHeartbeats', () => {
  it('stores the final heartbeat last even when earlier puts are slower, and never overlaps puts', async () => {
    let written = 0;
    let calls = 0;
    let open = 0;
    let maxOpen = 0;
    let stored: Record<string, unknown> | undefined;
    // The first put takes 150 ms, later ones 1 ms: an overlapping older put would land last.
    const put = async (item: Record<string, unknown>) => {
      const delay = calls++ === 0 ? 150 : 1;
      open += 1;
      maxOpen = Math.max(maxOpen, open);
      await sleep(delay);
      open -= 1;
      stored = item;
    };
    const loop = startHeartbeats({
      server: { host: 'h', port: 1 },
      intervalMs: 5,
      stats: () => statsAt(written),
      put,
    });
    await sleep(40);
    written = 7;
    await loop.stop();
    await sleep(200);
    assert.equal(maxOpen, 1, 'puts never overlap');
    assert.ok(stored, 'a heartbeat was stored');
    assert.equal(JSON.stringify(stored).includes('"written":7'), true, JSON.stringify(stored));
  });

  it('a failed put does not stop the loop or the final heartbeat', async () => {
    const items: Array<Record<string, unknown>> = [];
    let n = 0;
    const loop = startHeartbeats({
      server: { host: 'h', port: 1 },
      intervalMs: 5,
      stats: () => statsAt(n),
      put: async (item) => {
        if (n++ % 2 === 0) throw new Error('throttled');
        items.push(item);
      },
    });
    await sleep(60);
    await loop.stop();
    assert.ok(items.length >= 2, `puts that succeeded: ${items.length}`);
  });
});
