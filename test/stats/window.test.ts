import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BUCKET_LEVELS,
  bucketEnd,
  bucketExpiresAt,
  bucketOf,
  bucketStart,
  bucketsOf,
  childBuckets,
  levelOf,
  minuteBucket,
  parentBucket,
} from '../../core/stats/keys';
import { hoursStartingIn, planMergedWindow, planWindow } from '../../core/stats/window';

const at = (iso: string) => new Date(iso);
const HOUR = 3_600_000;

/** The plan's buckets tile [from, to): each starts where the previous ended, each aligned to its level. */
function assertTiles(plan: ReturnType<typeof planWindow>): void {
  let t = plan.from.getTime();
  for (const bucket of plan.buckets) {
    assert.equal(bucketStart(bucket).getTime(), t, `${bucket} starts where the previous bucket ended`);
    assert.equal(bucketOf(levelOf(bucket)!, bucketStart(bucket)), bucket, `${bucket} is aligned`);
    t = bucketEnd(bucket).getTime();
  }
  assert.equal(t, plan.to.getTime(), 'the last bucket ends at the window end');
}

describe('bucket keys', () => {
  it('a call counts in one bucket of each level, aligned to UTC', () => {
    assert.deepEqual(bucketsOf('2025-11-01T14:07:59.999Z'), [
      'M#2025-11-01T14:07',
      'M5#2025-11-01T14:05',
      'M15#2025-11-01T14:00',
      'H#2025-11-01T14',
      'H6#2025-11-01T12',
    ]);
    assert.deepEqual(bucketsOf(at('2025-11-02T05:59:00.000Z')), [
      'M#2025-11-02T05:59',
      'M5#2025-11-02T05:55',
      'M15#2025-11-02T05:45',
      'H#2025-11-02T05',
      'H6#2025-11-02T00',
    ]);
    assert.deepEqual(
      BUCKET_LEVELS.map((l) => l.prefix),
      ['M#', 'M5#', 'M15#', 'H#', 'H6#'],
    );
    assert.deepEqual(bucketEnd('M15#2025-11-01T23:45'), at('2025-11-02T00:00:00.000Z'));
    assert.deepEqual(bucketEnd('H6#2025-11-01T18'), at('2025-11-02T00:00:00.000Z'));
    assert.equal(levelOf('SEEN#r1#2025-11-01T14:00:00.000Z'), undefined);
    assert.equal(levelOf('CATALOG'), undefined);
  });

  it('finer-than-hour buckets expire with the minute buckets, coarser ones with the hour buckets', () => {
    const retention = { minuteRetentionHours: 48, retentionDays: 30 };
    const start = Date.parse('2025-11-01T12:00:00.000Z') / 1000;
    assert.equal(bucketExpiresAt('M#2025-11-01T12:00', retention), start + 48 * 3600);
    assert.equal(bucketExpiresAt('M5#2025-11-01T12:00', retention), start + 48 * 3600);
    assert.equal(bucketExpiresAt('M15#2025-11-01T12:00', retention), start + 48 * 3600);
    assert.equal(bucketExpiresAt('H#2025-11-01T12', retention), start + 30 * 86_400);
    assert.equal(bucketExpiresAt('H6#2025-11-01T12', retention), start + 30 * 86_400);
  });
});

describe('planWindow', () => {
  it('a window that starts mid-hour: finer buckets up to the next hour, whole hours, then back down', () => {
    const now = at('2025-11-01T14:05:30.000Z');
    const plan = planWindow({ from: at('2025-11-01T11:05:30.000Z'), to: now }, { now });
    assert.deepEqual(plan.buckets, [
      'M5#2025-11-01T11:05',
      'M5#2025-11-01T11:10',
      'M15#2025-11-01T11:15',
      'M15#2025-11-01T11:30',
      'M15#2025-11-01T11:45',
      'H#2025-11-01T12',
      'H#2025-11-01T13',
      'M5#2025-11-01T14:00',
      'M#2025-11-01T14:05',
    ]);
    assert.deepEqual(plan.from, at('2025-11-01T11:05:00.000Z'));
    assert.deepEqual(plan.to, at('2025-11-01T14:06:00.000Z'));
    assertTiles(plan);
    const odd = planWindow(
      { from: at('2025-11-01T11:02:00.000Z'), to: at('2025-11-01T12:59:00.000Z') },
      { now },
    );
    assert.deepEqual(odd.buckets, [
      'M#2025-11-01T11:02',
      'M#2025-11-01T11:03',
      'M#2025-11-01T11:04',
      'M5#2025-11-01T11:05',
      'M5#2025-11-01T11:10',
      'M15#2025-11-01T11:15',
      'M15#2025-11-01T11:30',
      'M15#2025-11-01T11:45',
      'M15#2025-11-01T12:00',
      'M15#2025-11-01T12:15',
      'M15#2025-11-01T12:30',
      'M5#2025-11-01T12:45',
      'M5#2025-11-01T12:50',
      'M#2025-11-01T12:55',
      'M#2025-11-01T12:56',
      'M#2025-11-01T12:57',
      'M#2025-11-01T12:58',
    ]);
    assertTiles(odd);
  });

  it('a window across midnight', () => {
    const now = at('2025-11-02T00:30:00.000Z');
    const plan = planWindow(
      { from: at('2025-11-01T22:44:00.000Z'), to: at('2025-11-02T00:30:00.000Z') },
      { now },
    );
    assert.deepEqual(plan.buckets, [
      'M#2025-11-01T22:44',
      'M15#2025-11-01T22:45',
      'H#2025-11-01T23',
      'M15#2025-11-02T00:00',
      'M15#2025-11-02T00:15',
    ]);
    assertTiles(plan);
  });

  it('a 24 h window takes six-hour blocks in the middle: at most 18 buckets (it was up to 141)', () => {
    const now = at('2025-11-01T14:30:00.000Z');
    const plan = planWindow({ from: at('2025-10-31T14:30:00.000Z'), to: now }, { now });
    assert.deepEqual(plan.buckets, [
      'M15#2025-10-31T14:30',
      'M15#2025-10-31T14:45',
      'H#2025-10-31T15',
      'H#2025-10-31T16',
      'H#2025-10-31T17',
      'H6#2025-10-31T18',
      'H6#2025-11-01T00',
      'H6#2025-11-01T06',
      'H#2025-11-01T12',
      'H#2025-11-01T13',
      'M15#2025-11-01T14:00',
      'M15#2025-11-01T14:15',
    ]);
    assertTiles(plan);
    for (let minute = 0; minute < 24 * 60; minute++) {
      const to = new Date(now.getTime() + minute * 60_000 + 60_000);
      const day = planWindow({ from: new Date(to.getTime() - 24 * HOUR), to }, { now: to });
      assert.ok(day.buckets.length <= 18, `${to.toISOString()}: ${day.buckets.length} buckets`);
    }
  });

  it('a window of 720 hours: its old end, whose minute buckets expired, widens to the hour', () => {
    const now = at('2025-11-01T14:05:00.000Z');
    const from = new Date(now.getTime() - 720 * HOUR);
    const plan = planWindow({ from, to: now }, { now, minuteRetentionHours: 48 });
    assert.deepEqual(plan.from, at('2025-10-02T14:00:00.000Z'));
    assert.deepEqual(plan.buckets.slice(0, 5), [
      'H#2025-10-02T14',
      'H#2025-10-02T15',
      'H#2025-10-02T16',
      'H#2025-10-02T17',
      'H6#2025-10-02T18',
    ]);
    assert.deepEqual(plan.buckets.slice(-4), [
      'H6#2025-11-01T06',
      'H#2025-11-01T12',
      'H#2025-11-01T13',
      'M5#2025-11-01T14:00',
    ]);
    assert.equal(plan.buckets.filter((b) => b.startsWith('H6#')).length, 119);
    assert.equal(plan.buckets.length, 4 + 119 + 2 + 1);
    assertTiles(plan);
  });

  it('a window within one hour uses finer buckets only; whole-hour windows use no finer bucket', () => {
    const now = at('2025-11-01T15:00:00.000Z');
    const short = planWindow(
      { from: at('2025-11-01T14:10:00.000Z'), to: at('2025-11-01T14:13:00.000Z') },
      { now },
    );
    assert.deepEqual(short.buckets, ['M#2025-11-01T14:10', 'M#2025-11-01T14:11', 'M#2025-11-01T14:12']);
    const whole = planWindow({ from: at('2025-11-01T12:00:00.000Z'), to: now }, { now });
    assert.deepEqual(whole, {
      buckets: ['H#2025-11-01T12', 'H#2025-11-01T13', 'H#2025-11-01T14'],
      from: at('2025-11-01T12:00:00.000Z'),
      to: now,
    });
    assert.deepEqual(planWindow({ from: now, to: now }, { now }).buckets, []);
  });

  it('any window is tiled exactly, and no finer-than-hour bucket is read past its retention', () => {
    let seed = 7;
    const rand = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    const now = at('2025-11-01T14:05:17.000Z');
    for (let i = 0; i < 2000; i++) {
      const to = new Date(now.getTime() - Math.floor(rand() * 80 * HOUR));
      const from = new Date(to.getTime() - Math.floor(rand() * (i % 2 ? 800 : 30) * HOUR));
      const plan = planWindow({ from, to }, { now, minuteRetentionHours: 48 });
      assertTiles(plan);
      assert.ok(plan.from.getTime() <= from.getTime() && plan.to.getTime() >= to.getTime());
      for (const bucket of plan.buckets) {
        if (levelOf(bucket)!.short) {
          // Its TTL (start + 48 h) is still ahead.
          assert.ok(bucketStart(bucket).getTime() + 48 * HOUR > now.getTime(), `${bucket} expired`);
        }
      }
    }
  });

  it('hoursStartingIn lists the hours that start inside the range', () => {
    assert.deepEqual(
      hoursStartingIn({ from: at('2025-11-01T22:30:00.000Z'), to: at('2025-11-02T01:00:00.000Z') }),
      ['H#2025-11-01T23', 'H#2025-11-02T00'],
    );
  });
});

describe('planMergedWindow (Stats before the watermark, Deltas minutes after it)', () => {
  const range = { from: at('2025-11-01T10:07:00Z'), to: at('2025-11-01T14:31:20Z') };
  const now = at('2025-11-01T14:31:20Z');

  /** Stats buckets tile [from, watermark), delta minutes [watermark, min(to, now + 2 min)). */
  function assertSplit(plan: ReturnType<typeof planMergedWindow>, boundary: Date, end: Date): void {
    assertTiles({ ...plan, to: boundary });
    assert.equal(plan.deltaMinutes[0] ?? minuteBucket(end), minuteBucket(boundary));
    plan.deltaMinutes.forEach((minute, i) =>
      assert.equal(bucketStart(minute).getTime(), boundary.getTime() + i * 60_000),
    );
    assert.equal(boundary.getTime() + plan.deltaMinutes.length * 60_000, end.getTime());
  }

  it('splits at the watermark: closed buckets from Stats, the open minutes from Deltas', () => {
    const plan = planMergedWindow(range, at('2025-11-01T14:29:00Z'), { now });
    assert.deepEqual(plan.deltaMinutes, ['M#2025-11-01T14:29', 'M#2025-11-01T14:30', 'M#2025-11-01T14:31']);
    assert.equal(plan.to.toISOString(), '2025-11-01T14:32:00.000Z');
    assertSplit(plan, at('2025-11-01T14:29:00Z'), plan.to);
  });

  it('with no watermark yet, or one long behind, takes at most the last maxDeltaMinutes from Deltas', () => {
    for (const watermark of [undefined, at('2025-11-01T09:00:00Z')]) {
      const plan = planMergedWindow(range, watermark, { now, maxDeltaMinutes: 30 });
      assert.equal(plan.deltaMinutes.length, 30);
      assertSplit(plan, at('2025-11-01T14:02:00Z'), plan.to);
    }
  });

  it('a window wholly before the watermark reads Stats only, one after it Deltas only', () => {
    const before = planMergedWindow(range, at('2025-11-01T15:00:00Z'), { now });
    assert.deepEqual(before.deltaMinutes, []);
    assert.deepEqual(before.buckets, planWindow(range, { now }).buckets);
    const after = planMergedWindow(
      { from: at('2025-11-01T14:20:00Z'), to: now },
      at('2025-11-01T14:00:00Z'),
      { now },
    );
    assert.deepEqual(after.buckets, []);
    assert.equal(after.deltaMinutes.length, 12);
  });

  it('never reads Deltas minutes that have not started yet (a window ending in the future)', () => {
    const plan = planMergedWindow(
      { from: at('2025-11-01T14:00:00Z'), to: at('2025-11-01T15:00:00Z') },
      at('2025-11-01T14:10:00Z'),
      { now },
    );
    // 14:10 … 14:32: the minutes up to the one after now's (a monitor's clock may run ahead).
    assert.equal(plan.deltaMinutes.at(-1), 'M#2025-11-01T14:32');
    assert.equal(plan.deltaMinutes.length, 23);
  });
});

describe('parent and child buckets', () => {
  it('each level sums into the next: 5 minutes, 3 fives, 4 quarters, 6 hours', () => {
    assert.equal(parentBucket('M#2025-11-01T14:07'), 'M5#2025-11-01T14:05');
    assert.equal(parentBucket('M5#2025-11-01T14:05'), 'M15#2025-11-01T14:00');
    assert.equal(parentBucket('M15#2025-11-01T14:45'), 'H#2025-11-01T14');
    assert.equal(parentBucket('H#2025-11-01T14'), 'H6#2025-11-01T12');
    assert.equal(parentBucket('H6#2025-11-01T12'), undefined);
    assert.deepEqual(childBuckets('M5#2025-11-01T14:05'), [
      'M#2025-11-01T14:05',
      'M#2025-11-01T14:06',
      'M#2025-11-01T14:07',
      'M#2025-11-01T14:08',
      'M#2025-11-01T14:09',
    ]);
    assert.deepEqual(childBuckets('H6#2025-11-01T18'), [
      'H#2025-11-01T18',
      'H#2025-11-01T19',
      'H#2025-11-01T20',
      'H#2025-11-01T21',
      'H#2025-11-01T22',
      'H#2025-11-01T23',
    ]);
    assert.deepEqual(childBuckets('M#2025-11-01T14:05'), []);
    for (const bucket of [
      'M5#2025-11-01T14:05',
      'M15#2025-11-01T14:15',
      'H#2025-11-01T14',
      'H6#2025-11-01T00',
    ]) {
      for (const child of childBuckets(bucket)) assert.equal(parentBucket(child), bucket);
    }
  });
});
