import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  addToHistogram,
  mergeHistogram,
  quantile,
  RELATIVE_ERROR,
  type Histogram,
} from '../../core/stats/histogram';
import { seededRandom } from '../fixtures/random';

function normal(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

/** Durations as the interceptor stores them: ms with 2 decimals. */
const twoDecimals = (ms: number): number => Math.round(ms * 100) / 100;

const SHAPES: Record<string, (rand: () => number) => number> = {
  uniform: (rand) => twoDecimals(rand() * 2000),
  'log-normal': (rand) => twoDecimals(Math.exp(Math.log(40) + 1.2 * normal(rand))),
  bimodal: (rand) =>
    twoDecimals(rand() < 0.8 ? Math.max(0, 5 + 1.5 * normal(rand)) : Math.max(0, 800 + 150 * normal(rand))),
};

describe('quantile accuracy from merged hourly histograms', () => {
  const N = 100_000;
  const HOURS = 24;
  let worstOverall = 0;
  for (const [shape, draw] of Object.entries(SHAPES)) {
    it(`${shape}: p50/p95/p99 within ${(RELATIVE_ERROR * 100).toFixed(2)} % of the exact values`, () => {
      const rand = seededRandom(42);
      const values: number[] = [];
      const hourly: Histogram[] = Array.from({ length: HOURS }, () => new Map());
      for (let i = 0; i < N; i++) {
        const v = draw(rand);
        values.push(v);
        addToHistogram(hourly[i % HOURS]!, v);
      }
      const merged = hourly.reduce((into, h) => mergeHistogram(into, h), new Map() as Histogram);
      values.sort((a, b) => a - b);
      const errors: string[] = [];
      for (const q of [0.5, 0.95, 0.99]) {
        const exact = values[Math.floor(q * (N - 1))]!;
        const read = quantile(merged, q)!;
        const error = exact === 0 ? read : Math.abs(read - exact) / exact;
        worstOverall = Math.max(worstOverall, error);
        errors.push(`p${q * 100} exact ${exact} read ${read.toFixed(3)} error ${(error * 100).toFixed(3)} %`);
        assert.ok(error <= RELATIVE_ERROR, `${shape} p${q * 100}: ${errors.at(-1)}`);
      }
      console.log(`${shape}: ${errors.join('; ')}`);
    });
  }
  it('prints the worst error seen', () => {
    console.log(
      `worst relative error over all shapes and quantiles: ${(worstOverall * 100).toFixed(3)} % (bound ${(RELATIVE_ERROR * 100).toFixed(3)} %)`,
    );
    assert.ok(worstOverall > 0 && worstOverall <= RELATIVE_ERROR);
  });
});
