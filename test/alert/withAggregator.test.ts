import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_ALERT_RULES } from '../../core/alerts/config';
import { MemoryPublisher } from '../../core/alerts/memoryPublisher';
import type { RequestLogRecord } from '../../core/record';
import { createAggregateHandler } from '../../lambdas/aggregate';
import { createAlertHandler, createRuleEvaluationHandler } from '../../lambdas/alert';
import { truthCallOf } from '../aggregate/groundTruth';
import { aggregateCalls } from '../aggregate/seedStats';
import { startTestDynamo, type TestDynamo } from '../harness/dynamo';
import { deliver } from './deliver';
import { callRecord, failedCall } from './factories';

// Stats buckets expire by DynamoDB Local's wall clock: work near real time, not in 2025.
const T0 = Math.floor(Date.now() / 60_000) * 60_000 + 30_000;

let n = 0;
function call(
  method: string,
  status: 'success' | 'error',
  durationMs: number,
  agoMs: number,
): RequestLogRecord {
  const created = new Date(T0 - agoMs);
  return failedCall({
    request_id: `agg-${method}-${++n}`,
    method_name: method,
    full_method: `/api.users.UserService/${method}`,
    status,
    grpc_status_code: status === 'success' ? 'OK' : 'INTERNAL',
    error_message: status === 'success' ? null : 'db down',
    duration_ms: durationMs,
    created_at: created.toISOString(),
    updated_at: new Date(created.getTime() + durationMs).toISOString(),
  });
}

describe('window rules over the real aggregator’s Stats (deltas → aggregate; RequestLog stream → alert)', () => {
  let db: TestDynamo;

  before(async () => {
    db = await startTestDynamo();
  });
  after(async () => {
    await db.stop();
  });

  it('fire from the stream as Stats cross, resolve from the schedule as windows slide past', async () => {
    // Prepare
    const config = await db.createTables();
    let t = T0;
    const publisher = new MemoryPublisher({ print: false });
    const deps = { ddb: db.ddb, config, now: () => new Date(t), publisher, rules: DEFAULT_ALERT_RULES };
    const aggregate = createAggregateHandler(deps);
    const alert = createAlertHandler({ ...deps, ruleEvaluationIntervalMs: 0 });
    const evaluate = createRuleEvaluationHandler(deps);
    const calls = [
      // GetUser: 30 of 100 calls failed in the last two minutes → error rate 30 % > 5 %
      ...Array.from({ length: 100 }, (_, i) =>
        call('GetUser', i % 10 < 3 ? 'error' : 'success', 5, i * 1_000),
      ),
      // Search: 40 slow calls of 1.5 s → p95 over 1,000 ms, and 40 > 10 slow calls in the hour
      ...Array.from({ length: 40 }, (_, i) => call('Search', 'success', 1_500, i * 1_000)),
    ];

    // Act: the monitors' deltas reach the aggregator (the minutes before the last close, the
    // rest read from Deltas), then the RequestLog stream reaches the alert consumer
    await aggregateCalls(db.ddb, config, calls.map(truthCallOf), new Date(t), aggregate);
    const { delivered } = await deliver(
      alert,
      calls.map((c) => callRecord(c)),
    );

    // Assess: 30 errors + 40 slow calls reach the alert handler; one per-error alert (cooldown), three rules fire
    assert.equal(delivered, 70);
    const fired = publisher.messages.map((m) => `${m.kind} ${m.rule} ${m.service}.${m.method}`);
    assert.deepEqual(fired.sort(), [
      'error error UserService.GetUser',
      'firing error_rate UserService.GetUser',
      'firing p95_latency UserService.Search',
      'firing slow_calls *.*',
    ]);
    const rate = publisher.messages.find((m) => m.rule === 'error_rate')!;
    assert.equal(rate.value, 30);
    assert.ok(rate.text.includes('Error rate: 30.0% (30 of 100 calls failed) in the last 5 minutes'));
    const p95 = publisher.messages.find((m) => m.rule === 'p95_latency')!;
    assert.ok(Math.abs(p95.value! - 1_500) <= 15, `p95 ${p95.value} within the sketch's 1 % of 1,500 ms`);
    assert.equal(publisher.messages.find((m) => m.rule === 'slow_calls')!.value, 40);

    // Act: no new calls; the schedule runs as the 5-minute, then 15-minute, then 60-minute windows pass
    publisher.messages.length = 0;
    t = T0 + 6 * 60_000;
    await evaluate();
    const at6 = publisher.messages.map((m) => `${m.kind} ${m.rule}`);
    t = T0 + 16 * 60_000;
    await evaluate();
    const at16 = publisher.messages.map((m) => `${m.kind} ${m.rule}`).slice(at6.length);
    t = T0 + 61 * 60_000;
    await evaluate();
    await evaluate();
    const at61 = publisher.messages.map((m) => `${m.kind} ${m.rule}`).slice(at6.length + at16.length);

    // Assess: each resolves once, when its own window no longer holds the calls (and the
    // cooldown of the per-error alert has ended: its 29 held-back errors are reported)
    assert.deepEqual(at6.sort(), ['resolved error_rate', 'suppressed error']);
    assert.equal(publisher.messages.find((m) => m.kind === 'suppressed')!.suppressed, 29);
    assert.deepEqual(at16, ['resolved p95_latency']);
    assert.deepEqual(at61, ['resolved slow_calls']);
  });
});
