import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { DEFAULT_ALERT_RULES } from '../../core/alerts/config';
import { MemoryPublisher } from '../../core/alerts/memoryPublisher';
import type { AlertMessage, AlertPublisher } from '../../core/alerts/message';
import type { MonitorConfig } from '../../core/config';
import type { ScopeStats } from '../../core/stats';
import { createAlertHandler, createRuleEvaluationHandler, type AlertDeps } from '../../lambdas/alert';
import { startTestDynamo, type TestDynamo } from '../harness/dynamo';
import { deliver } from './deliver';
import { callRecord, failedCall } from './factories';

const T0 = Date.parse('2025-11-01T14:06:00.000Z');

/** Stats of one scope in the layout core/stats returns; p95 is carried as the only histogram key. */
function stats(total: number, failed: number, slow = 0, p95 = 20): ScopeStats {
  return {
    total,
    byStatus: { success: total - failed, error: failed, timeout: 0, cancelled: 0 },
    byCode: failed > 0 ? { OK: total - failed, INTERNAL: failed } : { OK: total },
    durationSumMs: total * 10,
    durationMaxMs: p95,
    bytesIn: 0,
    bytesOut: 0,
    slow,
    logged: total,
    durationMinMs: null,
    lastRequestAt: null,
    histogram: new Map([[p95, total]]),
  };
}

describe('window rules: fire once when crossed, resolve once when cleared (state in DynamoDB Local)', () => {
  let db: TestDynamo;
  let config: MonitorConfig;
  let window: Map<string, ScopeStats>;
  let t: number;
  let publisher: MemoryPublisher;

  before(async () => {
    db = await startTestDynamo();
  });
  after(async () => {
    await db.stop();
  });
  beforeEach(async () => {
    config = await db.createTables();
    window = new Map();
    t = T0;
    publisher = new MemoryPublisher({ print: false });
  });

  const deps = (overrides: Partial<AlertDeps> = {}): AlertDeps => ({
    ddb: db.ddb,
    config,
    now: () => new Date(t),
    publisher,
    rules: DEFAULT_ALERT_RULES,
    readWindow: async () => window,
    quantile: (h) => [...h.keys()][0] ?? null,
    ruleEvaluationIntervalMs: 0,
    ...overrides,
  });
  const sent = () => publisher.messages.map((m) => `${m.kind} ${m.rule} ${m.service}.${m.method}`);

  it('error rate: crosses → one [FIRING]; stays → nothing; clears → one [RESOLVED]', async () => {
    const evaluate = createRuleEvaluationHandler(deps());
    // Crosses: 30 % of 100 calls failed
    window.set('M#UserService#GetUser', stats(100, 30));
    window.set('ALL', stats(100, 30));
    await evaluate();
    assert.deepEqual(sent(), ['firing error_rate UserService.GetUser']);
    const fired = publisher.messages[0]!;
    assert.equal(fired.subject, '[FIRING] gRPC error rate 30.0% on UserService.GetUser');
    assert.deepEqual(fired.attributes, {
      severity: 'critical',
      rule: 'error_rate',
      service: 'UserService',
      method: 'GetUser',
      status: 'firing',
    });

    // Still crossed, a minute later, from the schedule and from the stream: nothing new
    t += 60_000;
    await evaluate();
    await deliver(createAlertHandler(deps()), [callRecord(failedCall({ request_id: 'r-stream-1' }))]);
    assert.deepEqual(sent(), ['firing error_rate UserService.GetUser', 'error error UserService.GetUser']);

    // Clears with no new error: the schedule notices
    window.set('M#UserService#GetUser', stats(100, 2));
    t += 60_000;
    await evaluate();
    await evaluate();
    assert.deepEqual(sent().slice(2), ['resolved error_rate UserService.GetUser']);
    const resolved = publisher.messages[2]!;
    assert.equal(resolved.subject, '[RESOLVED] gRPC error rate on UserService.GetUser back at or under 5.0%');
    assert.ok(resolved.text.includes('Firing since: 2025-11-01T14:06:00.000Z'));
    assert.equal(resolved.attributes.severity, 'info');
    assert.equal(resolved.attributes.status, 'resolved');
  });

  it('a rule that crosses again within the cooldown stays quiet, and fires after it', async () => {
    const evaluate = createRuleEvaluationHandler(deps());
    window.set('M#UserService#GetUser', stats(100, 30));
    await evaluate();
    window.set('M#UserService#GetUser', stats(100, 0));
    t += 60_000;
    await evaluate();
    window.set('M#UserService#GetUser', stats(100, 30));
    t += 60_000;
    await evaluate();
    assert.equal(publisher.messages.length, 2, 'flapped within the cooldown: no second firing');
    t = T0 + DEFAULT_ALERT_RULES.cooldownSeconds * 1000;
    await evaluate();
    assert.deepEqual(sent(), [
      'firing error_rate UserService.GetUser',
      'resolved error_rate UserService.GetUser',
      'firing error_rate UserService.GetUser',
    ]);
  });

  it('too many slow requests (over every call) and p95 of a method fire and resolve on their own thresholds', async () => {
    const evaluate = createRuleEvaluationHandler(deps());
    window.set('ALL', stats(500, 0, 11));
    window.set('M#UserService#Search', stats(40, 0, 11, 1500));
    await evaluate();
    assert.deepEqual(sent().sort(), ['firing p95_latency UserService.Search', 'firing slow_calls *.*']);
    assert.equal(
      publisher.messages.find((m) => m.rule === 'slow_calls')!.subject,
      '[FIRING] Too many slow gRPC requests! (11 in the last 60 min, all services)',
    );
    window.clear();
    t += 60_000;
    await evaluate();
    assert.deepEqual(sent().slice(2).sort(), [
      'resolved p95_latency UserService.Search',
      'resolved slow_calls *.*',
    ]);
  });

  it('two evaluations racing (schedule and stream) send one [FIRING]', async () => {
    window.set('M#UserService#GetUser', stats(100, 30));
    await Promise.all([
      createRuleEvaluationHandler(deps())(),
      createRuleEvaluationHandler(deps())(),
      createRuleEvaluationHandler(deps())(),
    ]);
    assert.deepEqual(sent(), ['firing error_rate UserService.GetUser']);
  });

  it('a [FIRING] that could not be published is sent by the next evaluation, once', async () => {
    let fail = true;
    const flaky: AlertPublisher = {
      publish: async (message: AlertMessage) => {
        if (fail) {
          fail = false;
          throw new Error('SNS unavailable');
        }
        await publisher.publish(message);
      },
    };
    const evaluate = createRuleEvaluationHandler(deps({ publisher: flaky }));
    window.set('M#UserService#GetUser', stats(100, 30));
    await assert.rejects(evaluate(), /rule evaluation failed/);
    t += 60_000;
    await evaluate();
    await evaluate();
    assert.deepEqual(sent(), ['firing error_rate UserService.GetUser']);
  });
});
