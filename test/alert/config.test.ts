import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AlertRulesError,
  DEFAULT_ALERT_RULES,
  alertRulesFromEnv,
  alertRulesToEnv,
} from '../../core/alerts/config';

const env = (value: string) => ({ GRPC_MONITOR_ALERT_RULES: value });

describe('alertRulesFromEnv', () => {
  it('gives the defaults when the variable is unset or blank', () => {
    assert.equal(alertRulesFromEnv({}), DEFAULT_ALERT_RULES);
    assert.equal(alertRulesFromEnv(env('  ')), DEFAULT_ALERT_RULES);
  });

  it('merges overrides field by field over the defaults', () => {
    const rules = alertRulesFromEnv(
      env(
        JSON.stringify({
          errorRate: { thresholdPercent: 10 },
          perError: { codes: ['INTERNAL'], services: ['UserService'] },
          p95Latency: { methodLimitsMs: { 'UserService.GetUser': 250 } },
          cooldownSeconds: 60,
        }),
      ),
    );
    assert.deepEqual(rules, {
      ...DEFAULT_ALERT_RULES,
      errorRate: { ...DEFAULT_ALERT_RULES.errorRate, thresholdPercent: 10 },
      perError: { ...DEFAULT_ALERT_RULES.perError, codes: ['INTERNAL'], services: ['UserService'] },
      p95Latency: { ...DEFAULT_ALERT_RULES.p95Latency, methodLimitsMs: { 'UserService.GetUser': 250 } },
      cooldownSeconds: 60,
    });
  });

  it('round-trips through alertRulesToEnv', () => {
    const rules = { ...DEFAULT_ALERT_RULES, cooldownSeconds: 42 };
    assert.deepEqual(alertRulesFromEnv(alertRulesToEnv(rules)), rules);
  });

  const bad: Array<[string, string]> = [
    ['{', 'GRPC_MONITOR_ALERT_RULES is not valid JSON'],
    ['[]', 'the value must be a JSON object, got []'],
    [
      '{"errorRate":{"tresholdPercent":10}}',
      'errorRate.tresholdPercent must be one of enabled, thresholdPercent',
    ],
    [
      '{"errorRate":{"thresholdPercent":150}}',
      'errorRate.thresholdPercent must be a number from 0 to 100, got 150',
    ],
    [
      '{"errorRate":{"minCalls":"20"}}',
      'errorRate.minCalls must be a whole number from 1 to 1000000000, got "20"',
    ],
    ['{"slowCalls":{"scope":"host"}}', 'slowCalls.scope must be one of all, service, method, got "host"'],
    ['{"perError":{"statuses":["cancelled"]}}', 'perError.statuses[0] must be one of error, timeout'],
    [
      '{"p95Latency":{"methodLimitsMs":{"GetUser":5}}}',
      'p95Latency.methodLimitsMs key must be "Service.Method"',
    ],
    ['{"cooldownSeconds":-1}', 'cooldownSeconds must be a whole number from 0 to 604800, got -1'],
    ['{"cooldown":5}', 'cooldown must be one of perError, errorRate'],
    ['{"errorRate":5}', 'errorRate must be an object, got 5'],
  ];
  for (const [value, message] of bad) {
    it(`refuses ${value} with a clear error`, () => {
      assert.throws(
        () => alertRulesFromEnv(env(value)),
        (error: unknown) => error instanceof AlertRulesError && error.message.includes(message),
      );
    });
  }
});
