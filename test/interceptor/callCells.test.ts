import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { emptyCell, mergeCell, type DeltaCell } from '../../core/deltas';
import { quantile } from '../../core/stats/histogram';
import { CallCells } from '../../interceptor/callCells';
import { callFacts } from '../fixtures/callFacts';
import { seededRandom } from '../fixtures/random';

/** Pure tests of the monitor's in-process folding (interceptor/callCells.ts). */

const T0 = Date.parse('2026-12-04T10:15:00.000Z');

describe('call cells', () => {
  test('one cell per (minute of the start, service, method), minutes oldest first', () => {
    const cells = new CallCells();
    cells.add(callFacts({ started_at_ms: T0 + 61_000, method_name: 'GetUser' }), false, true);
    cells.add(callFacts({ started_at_ms: T0 + 5_000, method_name: 'GetUser' }), false, true);
    cells.add(callFacts({ started_at_ms: T0 + 59_999, method_name: 'ListUsers' }), false, false);
    cells.add(
      callFacts({ started_at_ms: T0 + 7_000, service_name: 'OrderService', method_name: 'GetUser' }),
      false,
      true,
    );
    assert.equal(cells.calls, 4);

    const taken = cells.take();
    assert.deepEqual(
      taken.map((m) => [m.minute, m.calls, m.cells.map((c) => `${c.service}.${c.method}:${c.total}`)]),
      [
        [
          'M#2026-12-04T10:15',
          3,
          ['UserService.GetUser:1', 'UserService.ListUsers:1', 'OrderService.GetUser:1'],
        ],
        ['M#2026-12-04T10:16', 1, ['UserService.GetUser:1']],
      ],
    );
    assert.equal(cells.calls, 0);
    assert.deepEqual(cells.take(), [], 'take() empties the set');
  });

  test('a cell counts status, code, durations (as records round them), bytes, slow, logged and the last start', () => {
    const cells = new CallCells();
    cells.add(
      callFacts({ started_at_ms: T0 + 1_000, duration_ms: 12.345, request_size: 10, response_size: 100 }),
      false,
      true,
    );
    cells.add(
      callFacts({
        started_at_ms: T0 + 3_000,
        status: 'error',
        code: 5,
        duration_ms: 1_500.004,
        request_size: 1,
        response_size: 0,
      }),
      true,
      true,
    );
    cells.add(
      callFacts({ started_at_ms: T0 + 2_000, status: 'timeout', code: 4, duration_ms: 0.5 }),
      false,
      false,
    );
    const [minute] = cells.take();
    const cell = minute!.cells[0]!;
    assert.equal(cell.total, 3);
    assert.deepEqual(cell.byStatus, { success: 1, error: 1, timeout: 1 });
    assert.deepEqual(cell.byCode, { OK: 1, NOT_FOUND: 1, DEADLINE_EXCEEDED: 1 });
    assert.equal(cell.durationSumCentis, 1_235 + 150_000 + 50);
    assert.equal(cell.durationMinMs, 0.5);
    assert.equal(cell.durationMaxMs, 1_500);
    assert.equal(cell.bytesIn, 10 + 1 + 42);
    assert.equal(cell.bytesOut, 100 + 0 + 256);
    assert.equal(cell.slow, 1);
    assert.equal(cell.logged, 2);
    assert.equal(cell.lastRequestAt, new Date(T0 + 3_000).toISOString());
  });

  test('cells taken at several flushes merge to the cell of all the calls (no call lost or counted twice)', () => {
    const random = seededRandom(17);
    const everything = new CallCells();
    const flushed = new CallCells();
    const shipped: DeltaCell[] = [];
    for (let i = 0; i < 5_000; i++) {
      const call = callFacts({
        started_at_ms: T0 + Math.floor(random() * 50_000),
        duration_ms: random() * 800,
        status: random() < 0.1 ? 'error' : 'success',
        code: 0,
      });
      const logged = random() < 0.3;
      everything.add(call, false, logged);
      flushed.add(call, false, logged);
      if (i % 700 === 0) shipped.push(...flushed.take().flatMap((m) => m.cells));
    }
    shipped.push(...flushed.take().flatMap((m) => m.cells));
    const merged = shipped.reduce((into, cell) => mergeCell(into, cell), emptyCell('UserService', 'GetUser'));
    const [all] = everything.take();
    const whole = all!.cells[0]!;
    assert.equal(merged.total, 5_000);
    assert.deepEqual(
      { ...merged, histogram: [...merged.histogram].sort() },
      { ...whole, histogram: [...whole.histogram].sort() },
    );
    assert.equal(quantile(merged.histogram, 0.95), quantile(whole.histogram, 0.95));
  });
});
