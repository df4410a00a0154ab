import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hoursStartingIn, planWindow } from '../../core/stats/window';

const at = (iso: string) => new Date(iso);

describe('planWindow', () => {
  it('a window that starts mid-hour: minutes to the next hour, whole hours, minutes of the last hour', () => {
    const now = at('2025-11-01T14:05:30.000Z');
    const plan = planWindow({ from: at('2025-11-01T11:05:30.000Z'), to: now }, { now });
    assert.deepEqual(plan.hourBuckets, ['H#2025-11-01T12', 'H#2025-11-01T13']);
    assert.equal(plan.minuteBuckets.length, 55 + 6);
    assert.equal(plan.minuteBuckets[0], 'M#2025-11-01T11:05');
    assert.equal(plan.minuteBuckets[54], 'M#2025-11-01T11:59');
    assert.deepEqual(plan.minuteBuckets.slice(55), [
      'M#2025-11-01T14:00',
      'M#2025-11-01T14:01',
      'M#2025-11-01T14:02',
      'M#2025-11-01T14:03',
      'M#2025-11-01T14:04',
      'M#2025-11-01T14:05',
    ]);
    assert.deepEqual(plan.from, at('2025-11-01T11:05:00.000Z'));
    assert.deepEqual(plan.to, at('2025-11-01T14:06:00.000Z'));
  });

  it('a window across midnight', () => {
    const now = at('2025-11-02T00:30:00.000Z');
    const plan = planWindow(
      { from: at('2025-11-01T22:45:00.000Z'), to: at('2025-11-02T00:30:00.000Z') },
      { now },
    );
    assert.deepEqual(plan.hourBuckets, ['H#2025-11-01T23']);
    assert.equal(plan.minuteBuckets.length, 15 + 30);
    assert.equal(plan.minuteBuckets[14], 'M#2025-11-01T22:59');
    assert.equal(plan.minuteBuckets[15], 'M#2025-11-02T00:00');
    assert.equal(plan.minuteBuckets.at(-1), 'M#2025-11-02T00:29');
  });

  it('a window of 720 hours: its old end, whose minute buckets expired, widens to the hour', () => {
    const now = at('2025-11-01T14:05:00.000Z');
    const from = new Date(now.getTime() - 720 * 3_600_000);
    const plan = planWindow({ from, to: now }, { now, minuteRetentionHours: 48 });
    assert.equal(plan.hourBuckets[0], 'H#2025-10-02T14');
    assert.equal(plan.hourBuckets.at(-1), 'H#2025-11-01T13');
    assert.equal(plan.hourBuckets.length, 720);
    assert.deepEqual(plan.minuteBuckets, [
      'M#2025-11-01T14:00',
      'M#2025-11-01T14:01',
      'M#2025-11-01T14:02',
      'M#2025-11-01T14:03',
      'M#2025-11-01T14:04',
    ]);
    assert.deepEqual(plan.from, at('2025-10-02T14:00:00.000Z'));
  });

  it('a window within one hour uses minutes only; whole-hour windows use hours only', () => {
    const now = at('2025-11-01T15:00:00.000Z');
    const short = planWindow(
      { from: at('2025-11-01T14:10:00.000Z'), to: at('2025-11-01T14:13:00.000Z') },
      { now },
    );
    assert.deepEqual(short.hourBuckets, []);
    assert.deepEqual(short.minuteBuckets, ['M#2025-11-01T14:10', 'M#2025-11-01T14:11', 'M#2025-11-01T14:12']);
    const whole = planWindow({ from: at('2025-11-01T12:00:00.000Z'), to: now }, { now });
    assert.deepEqual(whole, {
      hourBuckets: ['H#2025-11-01T12', 'H#2025-11-01T13', 'H#2025-11-01T14'],
      minuteBuckets: [],
      from: at('2025-11-01T12:00:00.000Z'),
      to: now,
    });
    assert.deepEqual(planWindow({ from: now, to: now }, { now }).minuteBuckets, []);
  });

  it('hoursStartingIn lists the hours that start inside the range', () => {
    assert.deepEqual(
      hoursStartingIn({ from: at('2025-11-01T22:30:00.000Z'), to: at('2025-11-02T01:00:00.000Z') }),
      ['H#2025-11-01T23', 'H#2025-11-02T00'],
    );
  });
});
