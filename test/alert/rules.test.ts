import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_ALERT_RULES, type AlertRulesConfig } from '../../core/alerts/config';
import {
  evaluateRules,
  metricsFromStats,
  parseScopeKey,
  type RuleState,
  type RuleWindows,
  type ScopeMetrics,
} from '../../core/alerts/rules';
import type { ScopeStats } from '../../core/stats';

const NOW = new Date('2025-11-01T14:06:00.000Z');

const method = (overrides: Partial<ScopeMetrics>): ScopeMetrics => ({
  scopeKey: 'M#UserService#GetUser',
  service: 'UserService',
  method: 'GetUser',
  total: 100,
  failed: 0,
  slow: 0,
  p95Ms: 50,
  ...overrides,
});

const windows = (metrics: Partial<Record<keyof RuleWindows, ScopeMetrics[]>>): RuleWindows => ({
  error_rate: [],
  slow_calls: [],
  p95_latency: [],
  ...metrics,
});

const firing = (overrides: Partial<RuleState>): RuleState => ({
  rule: 'error_rate',
  scopeKey: 'M#UserService#GetUser',
  service: 'UserService',
  method: 'GetUser',
  firing: true,
  firingSince: '2025-11-01T14:00:00.000Z',
  lastFiredAt: '2025-11-01T14:00:00.000Z',
  ...overrides,
});

const evaluate = (w: RuleWindows, states: RuleState[] = [], rules: AlertRulesConfig = DEFAULT_ALERT_RULES) =>
  evaluateRules(w, states, rules, NOW, 1000).map((d) => `${d.transition} ${d.rule} ${d.scopeKey} ${d.value}`);

describe('evaluateRules: error rate over X % with at least M calls in N minutes', () => {
  it('fires over the threshold with enough calls', () => {
    assert.deepEqual(evaluate(windows({ error_rate: [method({ total: 20, failed: 2 })] })), [
      'fire error_rate M#UserService#GetUser 10',
    ]);
  });
  it('stays quiet at exactly the threshold, and under the minimum number of calls', () => {
    assert.deepEqual(evaluate(windows({ error_rate: [method({ total: 100, failed: 5 })] })), []);
    assert.deepEqual(evaluate(windows({ error_rate: [method({ total: 19, failed: 19 })] })), []);
  });
  it('looks only at the configured scope (methods by default)', () => {
    const service = method({ scopeKey: 'S#UserService', method: '*', total: 100, failed: 50 });
    assert.deepEqual(evaluate(windows({ error_rate: [service] })), []);
    const byService = {
      ...DEFAULT_ALERT_RULES,
      errorRate: { ...DEFAULT_ALERT_RULES.errorRate, scope: 'service' as const },
    };
    assert.deepEqual(evaluate(windows({ error_rate: [service] }), [], byService), [
      'fire error_rate S#UserService 50',
    ]);
  });
});

describe('evaluateRules: fire once, resolve once', () => {
  const crossed = windows({ error_rate: [method({ total: 100, failed: 30 })] });
  const cleared = windows({ error_rate: [method({ total: 100, failed: 1 })] });
  it('does not fire again while firing', () => {
    assert.deepEqual(evaluate(crossed, [firing({})]), []);
  });
  it('resolves when the value clears', () => {
    const [decision] = evaluateRules(cleared, [firing({})], DEFAULT_ALERT_RULES, NOW, 1000);
    assert.equal(decision?.transition, 'resolve');
    assert.equal(decision?.value, 1);
    assert.equal(decision?.firingSince, '2025-11-01T14:00:00.000Z');
  });
  it('resolves when the scope has no calls left in the window', () => {
    assert.deepEqual(evaluate(windows({}), [firing({})]), ['resolve error_rate M#UserService#GetUser 0']);
  });
  it('does not resolve what is not firing', () => {
    assert.deepEqual(evaluate(cleared, [firing({ firing: false })]), []);
  });
  it('does not fire again within the cooldown of its last firing (no flapping storm)', () => {
    const recent = firing({ firing: false, lastFiredAt: '2025-11-01T14:02:00.000Z' });
    assert.deepEqual(evaluate(crossed, [recent]), []);
    const old = firing({ firing: false, lastFiredAt: '2025-11-01T14:00:59.000Z' });
    assert.deepEqual(evaluate(crossed, [old]), ['fire error_rate M#UserService#GetUser 30']);
  });
  it('a disabled rule resolves what it left firing and fires nothing', () => {
    const off = { ...DEFAULT_ALERT_RULES, errorRate: { ...DEFAULT_ALERT_RULES.errorRate, enabled: false } };
    assert.deepEqual(evaluate(crossed, [firing({})], off), ['resolve error_rate M#UserService#GetUser 30']);
    assert.deepEqual(evaluate(crossed, [], off), []);
  });
});

describe('evaluateRules: too many slow calls in the last hour (the seed example)', () => {
  const all = (slow: number) => ({
    scopeKey: 'ALL',
    service: '*',
    method: '*',
    total: 500,
    failed: 0,
    slow,
    p95Ms: 10,
  });
  it('fires over K slow calls over every call, not per method by default', () => {
    assert.deepEqual(evaluate(windows({ slow_calls: [all(11), method({ slow: 50 })] })), [
      'fire slow_calls ALL 11',
    ]);
    assert.deepEqual(evaluate(windows({ slow_calls: [all(10)] })), []);
  });
});

describe('evaluateRules: p95 of a method over a limit', () => {
  it('uses the method limit when one is set, the default limit otherwise', () => {
    const rules = {
      ...DEFAULT_ALERT_RULES,
      p95Latency: { ...DEFAULT_ALERT_RULES.p95Latency, methodLimitsMs: { 'UserService.GetUser': 200 } },
    };
    const other = method({ scopeKey: 'M#UserService#ListUsers', method: 'ListUsers', p95Ms: 500 });
    assert.deepEqual(evaluate(windows({ p95_latency: [method({ p95Ms: 250 }), other] }), [], rules), [
      'fire p95_latency M#UserService#GetUser 250',
    ]);
    assert.deepEqual(evaluate(windows({ p95_latency: [method({ p95Ms: 1500, total: 19 })] })), []);
  });
});

describe('metricsFromStats', () => {
  it('reads failures (error + timeout), slow calls and p95 from Stats scopes', () => {
    const stats = (total: number): ScopeStats => ({
      total,
      byStatus: { success: total - 5, error: 3, timeout: 2, cancelled: 0 },
      byCode: {},
      durationSumMs: 0,
      durationMaxMs: 0,
      bytesIn: 0,
      bytesOut: 0,
      slow: 4,
      logged: total,
      durationMinMs: null,
      lastRequestAt: null,
      histogram: new Map([[1, total]]),
    });
    const window = new Map([
      ['ALL', stats(100)],
      ['M#UserService#GetUser', stats(40)],
      ['CATALOG', stats(1)],
    ]);
    const metrics = metricsFromStats(window, (h, q) => (q === 0.95 ? [...h.values()][0]! : null));
    assert.deepEqual(metrics, [
      { scopeKey: 'ALL', service: '*', method: '*', total: 100, failed: 5, slow: 4, p95Ms: 100 },
      {
        scopeKey: 'M#UserService#GetUser',
        service: 'UserService',
        method: 'GetUser',
        total: 40,
        failed: 5,
        slow: 4,
        p95Ms: 40,
      },
    ]);
  });
  it('parses scope keys', () => {
    assert.deepEqual(parseScopeKey('M#Svc#Do#It'), { service: 'Svc', method: 'Do#It' });
    assert.deepEqual(parseScopeKey('S#Svc'), { service: 'Svc', method: '*' });
    assert.equal(parseScopeKey('CKPT#x'), undefined);
  });
});
