import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  durationBadge,
  formatBytes,
  formatCount,
  formatDuration,
  formatPercent,
  formatRate,
  formatTimestamp,
  FORMATTERS,
  healthBadge,
  samplingNotice,
  statusBadge,
} from '../../web/src/format';

describe('samplingNotice', () => {
  it('says the rate when sampling is on, nothing when every call is logged', () => {
    assert.match(samplingNotice({ enabled: true, success_rate: 0.05 }), /^sampling 5 % of successes/);
    assert.match(samplingNotice({ enabled: true, success_rate: 0.125 }), /^sampling 12\.5 % /);
    assert.equal(samplingNotice({ enabled: false, success_rate: 1 }), '');
    assert.equal(samplingNotice(undefined), '');
  });
});

describe('statusBadge', () => {
  it('follows the seed legend with text as well as colour', () => {
    // Act
    const badges = ['success', 'error', 'pending', 'cancelled', 'timeout'].map((s) => statusBadge(s));
    // Assess
    assert.deepEqual(
      badges.map((b) => [b.label, b.tone]),
      [
        ['Success', 'green'],
        ['Error', 'red'],
        ['Pending', 'grey'],
        ['Cancelled', 'orange'],
        ['Timeout', 'yellow'],
      ],
    );
    assert.ok(badges.every((b) => b.symbol.length > 0));
  });

  it('shows an unknown status as grey text', () => {
    assert.deepEqual(statusBadge('weird'), { label: 'weird', tone: 'grey', symbol: '?' });
  });
});

describe('durationBadge', () => {
  it('is green below 100 ms, yellow from 100 to 1000 ms, red above 1000 ms', () => {
    const cases: Array<[number, string]> = [
      [0, 'green'],
      [99.99, 'green'],
      [100, 'yellow'],
      [500, 'yellow'],
      [1000, 'yellow'],
      [1000.01, 'red'],
      [42_000, 'red'],
    ];
    for (const [ms, tone] of cases) assert.equal(durationBadge(ms).tone, tone, `${ms} ms`);
  });

  it('labels milliseconds, seconds from 1 s, and a dash for a running call', () => {
    assert.equal(durationBadge(12.5).label, '12.5 ms');
    assert.equal(durationBadge(999.999).label, '1,000 ms');
    assert.equal(durationBadge(2400.25).label, '2.40 s');
    assert.deepEqual(durationBadge(null), { label: '—', tone: 'grey', symbol: '' });
  });
});

describe('formatters', () => {
  it('give sizes in B, KB and MB', () => {
    assert.equal(formatBytes(0), '0 B');
    assert.equal(formatBytes(1023), '1023 B');
    assert.equal(formatBytes(1024), '1.0 KB');
    assert.equal(formatBytes(1536), '1.5 KB');
    assert.equal(formatBytes(5 * 1024 * 1024), '5.0 MB');
    assert.equal(formatBytes(null), '—');
  });

  it('give durations, counts, percentages and UTC times as the API reports them', () => {
    assert.equal(formatDuration(125.3), '125.3 ms');
    assert.equal(formatDuration(2400.25), '2,400.25 ms');
    assert.equal(formatDuration(12_345), '12.3 s');
    assert.equal(formatDuration(undefined), '—');
    assert.equal(formatCount(1543), '1,543');
    assert.equal(formatPercent(96.5), '96.5 %');
    assert.equal(formatPercent(0), '0 %');
    assert.equal(formatRate(0.0125), '0.013 /s');
    assert.equal(formatRate(1234.5), '1,234.5 /s');
    assert.equal(formatTimestamp('2025-11-01T14:30:00.123Z'), '2025-11-01 14:30:00');
    assert.equal(formatTimestamp(null), '—');
  });

  it('map health to a badge', () => {
    assert.equal(healthBadge('healthy').tone, 'green');
    assert.equal(healthBadge('degraded').tone, 'yellow');
    assert.deepEqual([healthBadge('unhealthy').tone, healthBadge('unhealthy').label], ['red', 'Unhealthy']);
  });
});

describe('formatters in the browser', () => {
  // The page inlines each formatter with toString(): one that reached for a module binding
  // would throw there. Evaluate every source alone (with the __name shim the page defines).
  const inputs: Record<keyof typeof FORMATTERS, unknown[]> = {
    statusBadge: ['success', 'timeout', 'x'],
    durationBadge: [5, 500, 5000, null],
    formatDuration: [1.5, 20_000, null],
    formatBytes: [10, 4096, 9_999_999],
    formatCount: [1234567],
    formatPercent: [33.3],
    formatRate: [0.125, 12, null],
    formatTimestamp: ['2025-11-01T14:30:00Z', 'nonsense'],
    healthBadge: ['healthy', 'degraded', undefined],
    samplingNotice: [{ enabled: true, success_rate: 0.05 }, { enabled: false, success_rate: 1 }, undefined],
  };
  for (const [name, fn] of Object.entries(FORMATTERS)) {
    it(`${name} is self-contained`, () => {
      // Prepare
      const isolated = new Function('__name', `"use strict"; return (${fn.toString()});`)(
        (f: unknown) => f,
      ) as (...args: unknown[]) => unknown;
      // Act + Assess
      for (const input of inputs[name as keyof typeof FORMATTERS]) {
        assert.deepEqual(isolated(input), (fn as (...args: unknown[]) => unknown)(input));
      }
    });
  }
});
