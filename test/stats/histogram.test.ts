import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  addToHistogram,
  bucketIndex,
  bucketValue,
  histogramAttribute,
  histogramIndexOf,
  mergeHistogram,
  quantile,
  RELATIVE_ERROR,
  ZERO_BUCKET,
  type Histogram,
} from '../../core/stats/histogram';

describe('latency histogram', () => {
  it('states an error bound of at most 1 %', () => {
    assert.ok(RELATIVE_ERROR <= 0.01, `α = ${RELATIVE_ERROR}`);
  });

  it('reads every duration from 1 µs to 1 h back within the bound', () => {
    let worst = 0;
    for (let d = 0.001; d < 3_600_000; d *= 1.0007) {
      const error = Math.abs(bucketValue(bucketIndex(d)) - d) / d;
      worst = Math.max(worst, error);
    }
    assert.ok(worst <= RELATIVE_ERROR + 1e-12, `worst ${worst}`);
  });

  it('puts 0 and sub-µs durations in the zero bucket, read back as 0; sub-ms ones in real buckets', () => {
    assert.equal(bucketIndex(0), ZERO_BUCKET);
    assert.equal(bucketIndex(0.0004), ZERO_BUCKET);
    assert.equal(bucketIndex(-1), ZERO_BUCKET);
    assert.equal(bucketValue(ZERO_BUCKET), 0);
    assert.ok(Math.abs(bucketValue(bucketIndex(0.01)) - 0.01) / 0.01 <= RELATIVE_ERROR);
    assert.ok(Math.abs(bucketValue(bucketIndex(0.5)) - 0.5) / 0.5 <= RELATIVE_ERROR);
  });

  it('merges by adding counts: merged halves equal the histogram of the whole', () => {
    const values = Array.from({ length: 1000 }, (_, i) => (i * 7.3) % 500);
    const whole: Histogram = new Map();
    const a: Histogram = new Map();
    const b: Histogram = new Map();
    values.forEach((v, i) => {
      addToHistogram(whole, v);
      addToHistogram(i % 2 ? a : b, v);
    });
    assert.deepEqual(mergeHistogram(a, b), whole);
  });

  it('reads quantiles by rank, and null when empty', () => {
    const h: Histogram = new Map();
    for (const v of [0, 1, 2, 3, 4, 5, 6, 7, 8, 100]) addToHistogram(h, v);
    assert.equal(quantile(new Map(), 0.5), null);
    assert.equal(quantile(h, 0), 0);
    const p50 = quantile(h, 0.5)!; // rank floor(0.5·9) = 4 → value 4
    assert.ok(Math.abs(p50 - 4) / 4 <= RELATIVE_ERROR, `p50 ${p50}`);
    const p100 = quantile(h, 1)!;
    assert.ok(Math.abs(p100 - 100) / 100 <= RELATIVE_ERROR, `p100 ${p100}`);
  });

  it('names buckets as attributes and parses them back', () => {
    for (const index of [ZERO_BUCKET, -232, 0, 1, 515]) {
      assert.equal(histogramIndexOf(histogramAttribute(index)), index);
    }
    assert.equal(histogramIndexOf('n'), undefined);
    assert.equal(histogramIndexOf('h'), undefined);
    assert.equal(histogramIndexOf('hx'), undefined);
  });
});
