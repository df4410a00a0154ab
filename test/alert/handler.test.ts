import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { DEFAULT_ALERT_RULES } from '../../core/alerts/config';
import { MemoryPublisher } from '../../core/alerts/memoryPublisher';
import type { MonitorConfig } from '../../core/config';
import { createAlertHandler, createRuleEvaluationHandler, type AlertDeps } from '../../lambdas/alert';
import { CooldownStore } from '../../lambdas/alert/cooldownStore';
import { SnsPublisher } from '../../lambdas/alert/snsPublisher';
import { startTestDynamo, type TestDynamo } from '../harness/dynamo';
import { deliver } from './deliver';
import { callRecord, failedCall } from './factories';

const TOPIC = 'arn:aws:sns:us-east-1:123456789012:grpc-monitor-alerts';
const T0 = Date.parse('2025-11-01T14:05:00.000Z');

/** A controllable clock, as deps.now. */
function clock(start = T0) {
  let t = start;
  return { now: () => new Date(t), set: (ms: number) => void (t = ms) };
}

/** Unique request ids, one per call, as the interceptor makes them. */
let seq = 0;
const rid = () => `0193a0b2-0000-7000-8000-${String(++seq).padStart(12, '0')}`;

const errorsOn = (method: string, n: number, at = T0) =>
  Array.from({ length: n }, (_, i) =>
    callRecord(
      failedCall({
        request_id: rid(),
        method_name: method,
        full_method: `/api.users.UserService/${method}`,
        created_at: new Date(at + Math.floor((i * 60_000) / n)).toISOString(),
      }),
    ),
  );

describe('alert handler against DynamoDB Local', () => {
  let db: TestDynamo;
  let config: MonitorConfig;
  const sns = mockClient(SNSClient);
  const errors: unknown[] = [];

  before(async () => {
    db = await startTestDynamo();
  });
  after(async () => {
    sns.restore();
    await db.stop();
  });
  beforeEach(async () => {
    config = await db.createTables();
    sns.reset();
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
    errors.length = 0;
  });

  const depsWith = (overrides: Partial<AlertDeps> = {}): AlertDeps => ({
    ddb: db.ddb,
    config,
    now: () => new Date(T0),
    publisher: new MemoryPublisher({ print: false }),
    rules: DEFAULT_ALERT_RULES,
    // No Stats in these tests: the window rules see empty windows.
    readWindow: async () => new Map(),
    logError: (_m, e) => void errors.push(e),
    ...overrides,
  });

  it('publishes the per-error alert to SNS with its exact text and message attributes', async () => {
    // Prepare
    const handler = createAlertHandler(depsWith({ publisher: new SnsPublisher(TOPIC, new SNSClient({})) }));
    const call = failedCall({ request_id: rid(), grpc_status_code: 'INTERNAL', error_message: 'db down' });
    // Act
    const { delivered, failures } = await deliver(handler, [callRecord(call)]);
    // Assess
    assert.equal(delivered, 1);
    assert.deepEqual(failures, []);
    const calls = sns.commandCalls(PublishCommand);
    assert.equal(calls.length, 1);
    assert.deepEqual(calls[0]!.args[0].input, {
      TopicArn: TOPIC,
      Subject: 'gRPC Error: UserService.GetUser (INTERNAL)',
      Message: [
        'gRPC Error: UserService.GetUser',
        'Error: db down',
        'Code: INTERNAL',
        'User: alice (id 42)',
        'Time: 2025-11-01T14:05:03.123Z',
        `Request ID: ${call.request_id}`,
        'Duration: 12.34 ms',
        'Method: /api.users.UserService/GetUser',
      ].join('\n'),
      MessageAttributes: {
        severity: { DataType: 'String', StringValue: 'error' },
        rule: { DataType: 'String', StringValue: 'error' },
        service: { DataType: 'String', StringValue: 'UserService' },
        method: { DataType: 'String', StringValue: 'GetUser' },
        status: { DataType: 'String', StringValue: 'error' },
      },
    });
    assert.deepEqual(errors, []);
  });

  it('sends per-error alerts only for the chosen codes and services', async () => {
    const publisher = new MemoryPublisher({ print: false });
    const rules = {
      ...DEFAULT_ALERT_RULES,
      perError: { ...DEFAULT_ALERT_RULES.perError, codes: ['INTERNAL'], services: ['UserService'] },
    };
    const handler = createAlertHandler(depsWith({ publisher, rules }));
    await deliver(handler, [
      callRecord(failedCall({ request_id: rid(), method_name: 'A', grpc_status_code: 'NOT_FOUND' })),
      callRecord(failedCall({ request_id: rid(), method_name: 'B', grpc_status_code: 'INTERNAL' })),
      callRecord(
        failedCall({ request_id: rid(), service_name: 'OrderService', grpc_status_code: 'INTERNAL' }),
      ),
    ]);
    assert.deepEqual(
      publisher.messages.map((m) => `${m.service}.${m.method}`),
      ['UserService.B'],
    );
  });

  it('storm: 10,000 errors on one method in a minute → one alert; after the cooldown one alert that says 9,999 were suppressed', async () => {
    // Prepare
    const publisher = new MemoryPublisher({ print: false });
    const time = clock();
    const handler = createAlertHandler(depsWith({ publisher, now: time.now }));
    const storm = errorsOn('GetUser', 10_000);
    // Some healthy traffic in between: the filter keeps it away from the handler.
    const healthy = Array.from({ length: 500 }, () =>
      callRecord(
        failedCall({ request_id: rid(), status: 'success', grpc_status_code: 'OK', duration_ms: 3 }),
      ),
    );
    // Act
    const { delivered, failures } = await deliver(handler, [...storm, ...healthy]);
    // Assess
    assert.equal(delivered, 10_000);
    assert.deepEqual(failures, []);
    assert.equal(publisher.messages.length, 1);
    assert.equal(publisher.messages[0]!.suppressed, 0);
    const cooldown = await new CooldownStore(db.ddb, config.statsTable).get('error#UserService#GetUser');
    assert.equal(cooldown?.suppressed, 9_999);

    // Act: one more error just after the cooldown
    time.set(T0 + DEFAULT_ALERT_RULES.cooldownSeconds * 1000 + 1_000);
    await deliver(handler, errorsOn('GetUser', 1, T0 + 301_000));
    // Assess
    assert.equal(publisher.messages.length, 2);
    const next = publisher.messages[1]!;
    assert.equal(next.suppressed, 9_999);
    assert.equal(next.subject, 'gRPC Error: UserService.GetUser (NOT_FOUND) (+9,999 suppressed)');
    assert.ok(
      next.text.endsWith('Suppressed: 9,999 similar alerts since 2025-11-01T14:05:00.000Z (cooldown 300 s)'),
    );
  });

  it('storm that stops: the scheduled evaluation reports the suppressed count once the cooldown ends', async () => {
    const publisher = new MemoryPublisher({ print: false });
    const time = clock();
    const deps = depsWith({ publisher, now: time.now });
    await deliver(createAlertHandler(deps), errorsOn('GetUser', 250));
    const evaluate = createRuleEvaluationHandler(deps);
    assert.equal((await evaluate()).sent, 0, 'nothing to report while the cooldown runs');
    time.set(T0 + 301_000);
    const result = await evaluate();
    assert.deepEqual(
      result.messages.map((m) => [m.kind, m.subject, m.suppressed]),
      [['suppressed', 'gRPC Error: UserService.GetUser (249 more errors suppressed)', 249]],
    );
    assert.equal((await evaluate()).sent, 0, 'reported once');
    assert.equal(publisher.messages.length, 2);
  });

  it('two methods failing → two alerts', async () => {
    const publisher = new MemoryPublisher({ print: false });
    const handler = createAlertHandler(depsWith({ publisher }));
    const a = errorsOn('GetUser', 300);
    const b = errorsOn('ListUsers', 300);
    const interleaved = a.flatMap((r, i) => [r, b[i]!]);
    await deliver(handler, interleaved);
    assert.deepEqual(publisher.messages.map((m) => `${m.service}.${m.method}`).sort(), [
      'UserService.GetUser',
      'UserService.ListUsers',
    ]);
  });

  it('with cooldownSeconds 0 every error is its own alert', async () => {
    const publisher = new MemoryPublisher({ print: false });
    const rules = { ...DEFAULT_ALERT_RULES, cooldownSeconds: 0 };
    const handler = createAlertHandler(depsWith({ publisher, rules }));
    const batch = errorsOn('GetUser', 7);
    await deliver(handler, batch);
    await deliver(handler, batch);
    assert.equal(publisher.messages.length, 7);
    assert.deepEqual(
      publisher.messages.map((m) => m.suppressed),
      [0, 0, 0, 0, 0, 0, 0],
    );
  });

  it('redelivery of the same batch never sends twice', async () => {
    const publisher = new MemoryPublisher({ print: false });
    const handler = createAlertHandler(depsWith({ publisher }));
    const batch = [...errorsOn('GetUser', 5), ...errorsOn('ListUsers', 5)];
    await deliver(handler, batch);
    await deliver(handler, batch);
    await deliver(handler, batch);
    assert.equal(publisher.messages.length, 2);
    // Redelivered groups whose alert was sent are skipped whole: the suppressed counts stay exact.
    const store = new CooldownStore(db.ddb, config.statsTable);
    assert.equal((await store.get('error#UserService#GetUser'))?.suppressed, 4);
  });

  it('redelivery after a failed publish sends exactly once (Lambda retries the failed record)', async () => {
    // Prepare: SNS fails once
    sns.reset();
    sns.on(PublishCommand).rejectsOnce(new Error('SNS throttled')).resolves({ MessageId: 'm-2' });
    const handler = createAlertHandler(depsWith({ publisher: new SnsPublisher(TOPIC, new SNSClient({})) }));
    const batch = errorsOn('GetUser', 3);
    // Act
    const first = await deliver(handler, batch);
    // Assess: the first record (the one that alerts) is reported failed
    assert.deepEqual(first.failures, [batch[0]!.dynamodb!.SequenceNumber]);
    // Act: Lambda retries from the failed record, then (say) the whole batch once more
    const second = await deliver(handler, batch);
    await deliver(handler, batch);
    // Assess
    assert.deepEqual(second.failures, []);
    const subjects = sns.commandCalls(PublishCommand).map((c) => c.args[0].input.Subject);
    assert.deepEqual(subjects, [
      'gRPC Error: UserService.GetUser (NOT_FOUND)',
      'gRPC Error: UserService.GetUser (NOT_FOUND)',
    ]);
    assert.equal(errors.length, 1);
  });
});
