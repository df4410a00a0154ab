/**
 * Packed histograms (the form of a Stats histogram item's `b` and of a delta cell's `h`): the
 * pure packing round-trips every bin and refuses what it did not write.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Histogram } from '../../core/stats';
import { ZERO_BUCKET } from '../../core/stats/histogram';
import { addPackedBins, packHistogram } from '../../core/stats/packedHistogram';

const sorted = (h: Histogram) => new Map([...h].sort(([a], [b]) => a - b));

describe('packHistogram / addPackedBins', () => {
  it('round-trips every kind of bin, zero bucket and negative indexes included', () => {
    const histogram: Histogram = new Map([
      [170, 42],
      [ZERO_BUCKET, 3],
      [-12, 5],
      [0, 1],
      [9, 0],
      [400, 123_456_789],
    ]);
    const packed = packHistogram(histogram);
    assert.equal(packed, 'z:3,-12:5,0:1,170:42,400:123456789');
    const back: Histogram = new Map([[170, 1]]);
    assert.equal(addPackedBins(back, packed), 3 + 5 + 1 + 42 + 123_456_789);
    assert.deepEqual(
      sorted(back),
      sorted(
        new Map([
          [ZERO_BUCKET, 3],
          [-12, 5],
          [0, 1],
          [170, 43],
          [400, 123_456_789],
        ]),
      ),
    );
    assert.equal(packHistogram(new Map()), '');
    assert.equal(addPackedBins(new Map(), ''), 0);
  });

  it('refuses a malformed string', () => {
    for (const bad of ['5', 'a:1', '5:-1', '5:0', 'z5:1', '1.5:2', '5:1,', ':3']) {
      assert.throws(() => addPackedBins(new Map(), bad), /malformed packed histogram bin/, bad);
    }
  });
});
