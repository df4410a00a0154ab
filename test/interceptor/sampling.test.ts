import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { v7 as uuidv7 } from 'uuid';
import {
  hash32,
  rejectionThreshold,
  requestIdUnit,
  successSampler,
  traceKept,
  type SampledCall,
} from '../../core/sampling';
import { seededRandom } from '../fixtures/random';

/** Pure tests of the sampling rule (core/sampling.ts). */

const TRACE_PREFIX = '4bf92f3577b34da6a3'; // 18 hex digits: the part of a trace id the rule ignores
const traceId = (randomness: string): string => `${TRACE_PREFIX}${randomness}`;

function randomTraceId(random: () => number): string {
  let id = '';
  for (let i = 0; i < 32; i++) id += Math.floor(random() * 16).toString(16);
  return id;
}

const success = (overrides: Partial<SampledCall> = {}): SampledCall => ({
  status: 'success',
  slow: false,
  traceId: null,
  requestId: uuidv7(),
  ...overrides,
});

/** |observed − n·p| within k standard deviations of a binomial(n, p). */
function withinBinomial(observed: number, n: number, p: number, k = 4.5): boolean {
  return Math.abs(observed - n * p) <= k * Math.sqrt(n * p * (1 - p));
}

describe('sampling rule', () => {
  test('rate 1 logs every call and never hashes', () => {
    const sampler = successSampler(1);
    assert.equal(sampler.all, true);
    for (let i = 0; i < 100; i++) assert.equal(sampler.logs(success()), true);
    assert.equal(sampler.keeps(traceId('00000000000000'), 'x'), true);
  });

  test('failed, timed-out, cancelled and slow calls are always logged, at any rate', () => {
    const sampler = successSampler(1e-9);
    for (let i = 0; i < 200; i++) {
      const requestId = uuidv7();
      for (const status of ['error', 'timeout', 'cancelled'] as const)
        assert.equal(sampler.logs(success({ status, requestId })), true);
      assert.equal(sampler.logs(success({ slow: true, requestId })), true);
      assert.equal(sampler.logs(success({ slow: true, traceId: traceId('00000000000000') })), true);
    }
  });

  test("trace ids: OpenTelemetry's threshold rule on the rightmost 56 bits (kept iff R ≥ (1 − r)·2^56)", () => {
    // 0.1 → T = round(0.9 · 2^56) = 0xe6666666666666: the boundary is exact.
    assert.deepEqual(rejectionThreshold(0.1), [0xe666666, 0x6666666]);
    const tenth = successSampler(0.1);
    assert.equal(tenth.keeps(traceId('e6666666666666'), 'ignored'), true);
    assert.equal(tenth.keeps(traceId('e6666666666665'), 'ignored'), false);
    assert.equal(tenth.keeps(traceId('ffffffffffffff'), 'ignored'), true);
    assert.equal(tenth.keeps(traceId('00000000000000'), 'ignored'), false);
    // 0.5 → T = 2^55.
    const half = rejectionThreshold(0.5);
    assert.equal(traceKept(traceId('80000000000000'), half), true);
    assert.equal(traceKept(traceId('7fffffffffffff'), half), false);
    // The leftmost 18 hex digits do not matter.
    assert.equal(
      tenth.keeps(`ffffffffffffffffff${'e6666666666665'}`, 'x'),
      tenth.keeps(`000000000000000000${'e6666666666665'}`, 'x'),
    );
  });

  test('a trace kept at one rate is kept at every higher rate', () => {
    const random = seededRandom(7);
    const rates = [0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 0.9, 1];
    for (let i = 0; i < 2_000; i++) {
      const id = randomTraceId(random);
      const decisions = rates.map((rate) => successSampler(rate).keeps(id, 'x'));
      const first = decisions.indexOf(true);
      if (first >= 0) assert.ok(decisions.slice(first).every(Boolean), `${id}: ${decisions.join(',')}`);
    }
  });

  test('two samplers (two monitors) decide every trace id and request id alike', () => {
    const random = seededRandom(11);
    const a = successSampler(0.1);
    const b = successSampler(0.1);
    for (let i = 0; i < 2_000; i++) {
      const call = success({ traceId: i % 2 ? randomTraceId(random) : null });
      assert.equal(a.logs(call), b.logs({ ...call }));
    }
  });

  test('with a trace id, the request id does not matter; without, the request id decides', () => {
    const sampler = successSampler(0.3);
    const id = randomTraceId(seededRandom(3));
    const decisions = new Set(Array.from({ length: 50 }, () => sampler.keeps(id, uuidv7())));
    assert.equal(decisions.size, 1);
    const requestId = uuidv7();
    assert.equal(sampler.keeps(null, requestId), requestIdUnit(requestId) < 0.3);
  });

  test('successes are kept at the rate, within binomial bounds, by trace id and by UUIDv7 request id', () => {
    const random = seededRandom(5);
    const n = 20_000;
    for (const rate of [0.01, 0.1, 0.5]) {
      const sampler = successSampler(rate);
      let byTrace = 0;
      let byRequest = 0;
      for (let i = 0; i < n; i++) {
        if (sampler.keeps(randomTraceId(random), 'x')) byTrace++;
        if (sampler.keeps(null, uuidv7())) byRequest++;
      }
      assert.ok(withinBinomial(byTrace, n, rate), `rate ${rate}: ${byTrace} of ${n} by trace id`);
      assert.ok(withinBinomial(byRequest, n, rate), `rate ${rate}: ${byRequest} of ${n} by request id`);
    }
  });

  test('hash32 is stable and spreads ids made in one millisecond (same UUIDv7 prefix)', () => {
    assert.equal(hash32(''), hash32(''));
    assert.equal(
      hash32('01a22624-ae5c-77fa-a612-5247f4cbf9bd'),
      hash32('01a22624-ae5c-77fa-a612-5247f4cbf9bd'),
    );
    assert.notEqual(hash32('a'), hash32('b'));
    // Ids that differ in their last character only still land all over [0, 1).
    const units = Array.from({ length: 16 }, (_, i) =>
      requestIdUnit(`01a22624-ae5c-77fa-a612-5247f4cbf9b${i.toString(16)}`),
    );
    const halves = units.filter((u) => u < 0.5).length;
    assert.ok(halves >= 2 && halves <= 14, units.join(' '));
  });
});
