/**
 * The close pass's pure parts: the watermark it writes, what a container may skip marking, and
 * which minute a Deltas stream record names.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { minuteOfRecord, watermarkAfter } from '../../lambdas/aggregate';
import { KnownDirty } from '../../lambdas/aggregate/dirtyMarks';

const at = (iso: string) => Date.parse(iso);

describe('watermarkAfter', () => {
  it('is the minute at or before now − closeAfterMs when nothing due is left marked', () => {
    const marked = ['M#2025-11-01T14:05', 'H#2025-11-01T14', 'H6#2025-11-01T12'];
    assert.equal(watermarkAfter(at('2025-11-01T14:05:40Z'), marked), '2025-11-01T14:05:00.000Z');
  });

  it('stays before a bucket that should have closed but is still marked (a failed recompute)', () => {
    const marked = ['M15#2025-11-01T13:45', 'M#2025-11-01T14:01', 'not-a-bucket'];
    assert.equal(watermarkAfter(at('2025-11-01T14:05:40Z'), marked), '2025-11-01T13:45:00.000Z');
    assert.equal(
      watermarkAfter(at('2025-11-01T14:05:40Z'), ['M#2025-11-01T14:01']),
      '2025-11-01T14:01:00.000Z',
    );
  });
});

describe('KnownDirty', () => {
  it('trusts a marker it wrote only until a close pass (anywhere) may have taken its bucket', () => {
    const known = new KnownDirty(60_000, 5_000);
    known.add('M#2025-11-01T14:05');
    assert.equal(known.has('M#2025-11-01T14:05', at('2025-11-01T14:05:30Z')), true);
    assert.equal(known.has('M#2025-11-01T14:05', at('2025-11-01T14:06:54Z')), true);
    // 14:06:55 = end + closeAfterMs − margin: from then on the marker is written again.
    assert.equal(known.has('M#2025-11-01T14:05', at('2025-11-01T14:06:55Z')), false);
    assert.equal(known.has('M#2025-11-01T14:06', at('2025-11-01T14:06:00Z')), false);
    known.add('M#2025-11-01T14:06');
    known.delete('M#2025-11-01T14:06');
    assert.equal(known.has('M#2025-11-01T14:06', at('2025-11-01T14:06:10Z')), false);
  });
});

describe('minuteOfRecord', () => {
  it("is the delta item's pk when it is a minute bucket", () => {
    const record = (pk: string) => ({ dynamodb: { Keys: { pk: { S: pk }, sk: { S: 'i#000000000001' } } } });
    assert.equal(minuteOfRecord(record('M#2025-11-01T14:05')), 'M#2025-11-01T14:05');
    assert.equal(minuteOfRecord(record('H#2025-11-01T14')), undefined);
    assert.equal(minuteOfRecord(record('garbage')), undefined);
    assert.equal(minuteOfRecord({}), undefined);
  });
});
