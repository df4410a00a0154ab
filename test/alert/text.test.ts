import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RuleDecision } from '../../core/alerts/rules';
import {
  errorAlertMessage,
  ruleAlertMessage,
  subjectLine,
  suppressedSummaryMessage,
  SUBJECT_MAX,
} from '../../core/alerts/text';
import { failedCall } from './factories';

describe('per-error alert text (the seed example, plus code and request id)', () => {
  it('names service.method, the error and code, the user, the time and the request id', () => {
    // Act
    const message = errorAlertMessage(failedCall(), 'error', { count: 0, since: null }, 300);
    // Assess
    assert.deepEqual(message, {
      kind: 'error',
      subject: 'gRPC Error: UserService.GetUser (NOT_FOUND)',
      text: [
        'gRPC Error: UserService.GetUser',
        'Error: user 42 not found',
        'Code: NOT_FOUND',
        'User: alice (id 42)',
        'Time: 2025-11-01T14:05:03.123Z',
        'Request ID: 0193a0b2-0000-7000-8000-000000000001',
        'Duration: 12.34 ms',
        'Method: /api.users.UserService/GetUser',
      ].join('\n'),
      attributes: {
        severity: 'error',
        rule: 'error',
        service: 'UserService',
        method: 'GetUser',
        status: 'error',
      },
      severity: 'error',
      rule: 'error',
      service: 'UserService',
      method: 'GetUser',
      status: 'error',
      time: '2025-11-01T14:05:03.123Z',
      requestId: '0193a0b2-0000-7000-8000-000000000001',
      suppressed: 0,
      value: null,
      threshold: null,
    });
  });

  it('says how many alerts the cooldown held back', () => {
    const message = errorAlertMessage(
      failedCall({
        user: null,
        status: 'timeout',
        grpc_status_code: 'DEADLINE_EXCEEDED',
        error_message: null,
      }),
      'warning',
      { count: 9_999, since: '2025-11-01T14:00:00.000Z' },
      300,
    );
    assert.equal(
      message.subject,
      'gRPC Timeout: UserService.GetUser (DEADLINE_EXCEEDED) (+9,999 suppressed)',
    );
    assert.equal(
      message.text,
      [
        'gRPC Timeout: UserService.GetUser',
        'Error: (no message)',
        'Code: DEADLINE_EXCEEDED',
        'User: anonymous',
        'Time: 2025-11-01T14:05:03.123Z',
        'Request ID: 0193a0b2-0000-7000-8000-000000000001',
        'Duration: 12.34 ms',
        'Method: /api.users.UserService/GetUser',
        'Suppressed: 9,999 similar alerts since 2025-11-01T14:00:00.000Z (cooldown 300 s)',
      ].join('\n'),
    );
    assert.deepEqual(message.attributes, {
      severity: 'warning',
      rule: 'error',
      service: 'UserService',
      method: 'GetUser',
      status: 'timeout',
    });
    assert.equal(message.suppressed, 9_999);
  });

  it('keeps a long error message bounded in the body', () => {
    const message = errorAlertMessage(
      failedCall({ error_message: 'x'.repeat(4_000) }),
      'error',
      { count: 0, since: null },
      300,
    );
    assert.ok(message.text.includes(`Error: ${'x'.repeat(1_000)}... (3,000 more characters)\n`));
  });

  it('summarises a storm that stopped', () => {
    const message = suppressedSummaryMessage(
      { service: 'UserService', method: 'GetUser' },
      'error',
      { count: 9_999, since: '2025-11-01T14:00:00.000Z' },
      300,
      '2025-11-01T14:10:00.000Z',
    );
    assert.equal(message.subject, 'gRPC Error: UserService.GetUser (9,999 more errors suppressed)');
    assert.equal(
      message.text,
      [
        'gRPC Error: UserService.GetUser',
        '9,999 more errors arrived during the cooldown and were not sent one by one.',
        'Suppressed: 9,999 similar alerts since 2025-11-01T14:00:00.000Z (cooldown 300 s)',
        'Time: 2025-11-01T14:10:00.000Z',
      ].join('\n'),
    );
    assert.equal(message.attributes.status, 'suppressed');
  });
});

describe('SNS subjects', () => {
  it('are one printable-ASCII line under 100 characters', () => {
    const subject = subjectLine(`gRPC Error: Ünïcødé\nService.${'M'.repeat(200)} ✓`);
    assert.ok(subject.length <= SUBJECT_MAX && SUBJECT_MAX < 100);
    assert.match(subject, /^[\x20-\x7e]+$/);
    assert.ok(subject.startsWith('gRPC Error: Unic?de Service.MMM'));
    assert.ok(subject.endsWith('...'));
  });
});

const decision = (overrides: Partial<RuleDecision>): RuleDecision => ({
  transition: 'fire',
  rule: 'error_rate',
  scopeKey: 'M#UserService#GetUser',
  service: 'UserService',
  method: 'GetUser',
  severity: 'critical',
  value: 12.5,
  threshold: 5,
  total: 200,
  failed: 25,
  minCalls: 20,
  windowMinutes: 5,
  slowThresholdMs: 1000,
  firingSince: null,
  ...overrides,
});

describe('window rule text', () => {
  const time = '2025-11-01T14:06:00.000Z';
  const cases: Array<[string, RuleDecision, string, string[], string]> = [
    [
      'error rate fires',
      decision({}),
      '[FIRING] gRPC error rate 12.5% on UserService.GetUser',
      [
        '[FIRING] gRPC error rate over 5.0% on UserService.GetUser',
        'Scope: UserService.GetUser',
        'Error rate: 12.5% (25 of 200 calls failed) in the last 5 minutes',
        'Threshold: over 5.0% with at least 20 calls',
        `Time: ${time}`,
      ],
      'critical/firing',
    ],
    [
      'error rate resolves',
      decision({ transition: 'resolve', value: 1, failed: 2, firingSince: '2025-11-01T14:01:00.000Z' }),
      '[RESOLVED] gRPC error rate on UserService.GetUser back at or under 5.0%',
      [
        '[RESOLVED] gRPC error rate on UserService.GetUser back at or under 5.0%',
        'Scope: UserService.GetUser',
        'Error rate: 1.0% (2 of 200 calls failed) in the last 5 minutes',
        'Threshold: over 5.0% with at least 20 calls',
        'Firing since: 2025-11-01T14:01:00.000Z',
        `Time: ${time}`,
      ],
      'info/resolved',
    ],
    [
      'too many slow requests fires (the seed example, over every call)',
      decision({
        rule: 'slow_calls',
        scopeKey: 'ALL',
        service: '*',
        method: '*',
        severity: 'warning',
        value: 15,
        threshold: 10,
        windowMinutes: 60,
      }),
      '[FIRING] Too many slow gRPC requests! (15 in the last 60 min, all services)',
      [
        '[FIRING] Too many slow gRPC requests!',
        'Scope: all services',
        'Slow calls: 15 at or over 1,000 ms in the last 60 minutes',
        'Threshold: more than 10',
        `Time: ${time}`,
      ],
      'warning/firing',
    ],
    [
      'too many slow requests resolves',
      decision({
        rule: 'slow_calls',
        scopeKey: 'ALL',
        service: '*',
        method: '*',
        transition: 'resolve',
        value: 3,
        threshold: 10,
        windowMinutes: 60,
        firingSince: '2025-11-01T13:30:00.000Z',
      }),
      '[RESOLVED] Slow gRPC requests back at or under 10 (all services)',
      [
        '[RESOLVED] Slow gRPC requests back at or under 10 (all services)',
        'Scope: all services',
        'Slow calls: 3 at or over 1,000 ms in the last 60 minutes',
        'Threshold: more than 10',
        'Firing since: 2025-11-01T13:30:00.000Z',
        `Time: ${time}`,
      ],
      'info/resolved',
    ],
    [
      'p95 fires',
      decision({
        rule: 'p95_latency',
        severity: 'warning',
        value: 1234.567,
        threshold: 1000,
        windowMinutes: 15,
      }),
      '[FIRING] gRPC p95 latency 1,234.57 ms on UserService.GetUser',
      [
        '[FIRING] gRPC p95 latency over 1,000 ms on UserService.GetUser',
        'Scope: UserService.GetUser',
        'p95 latency: 1,234.57 ms over 200 calls in the last 15 minutes',
        'Threshold: over 1,000 ms with at least 20 calls',
        `Time: ${time}`,
      ],
      'warning/firing',
    ],
  ];
  for (const [name, d, subject, lines, severityStatus] of cases) {
    it(name, () => {
      const message = ruleAlertMessage(d, time);
      assert.equal(message.subject, subject);
      assert.equal(message.text, lines.join('\n'));
      const [severity, status] = severityStatus.split('/');
      assert.deepEqual(message.attributes, {
        severity,
        rule: d.rule,
        service: d.service,
        method: d.method,
        status,
      });
      assert.equal(message.value, d.value);
      assert.equal(message.threshold, d.threshold);
    });
  }
});

describe('alert text from a hostile client (issue 18, finding 4)', () => {
  const forged = 'boom\r\nCode: OK\nUser: admin (id 1)\u2028Time: never\u001b[2J';

  it('cannot forge Code: or User: lines: every client field stays on its own line', () => {
    const message = errorAlertMessage(
      failedCall({
        error_message: forged,
        user: { id: '7\nCode: OK', username: 'mallory\r\nUser: admin (id 1)' },
        service_name: 'UserService\nCode: OK',
        method_name: 'Get\u0085User',
        full_method: '/api.users.UserService/GetUser\nUser: root',
        grpc_status_code: 'NOT_FOUND\nUser: x',
        request_id: 'id\u202eevil',
      }),
      'error',
      { count: 0, since: null },
      300,
    );
    const lines = message.text.split('\n');
    assert.equal(lines.length, 8, 'eight lines, as for an honest call');
    assert.deepEqual(
      lines.map((line) => line.slice(0, line.indexOf(':'))),
      ['gRPC Error', 'Error', 'Code', 'User', 'Time', 'Request ID', 'Duration', 'Method'],
    );
    assert.equal(lines.filter((line) => line.startsWith('Code:')).length, 1);
    assert.equal(lines.filter((line) => line.startsWith('User:')).length, 1);
    assert.equal(lines[1], 'Error: boom\\r\\nCode: OK\\nUser: admin (id 1)\\u2028Time: never\\u001b[2J');
    assert.equal(lines[2], 'Code: NOT_FOUND\\nUser: x');
    assert.equal(lines[3], 'User: mallory\\r\\nUser: admin (id 1) (id 7\\nCode: OK)');
    assert.doesNotMatch(
      message.text,
      // eslint-disable-next-line no-control-regex -- finding control characters is the point
      /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e]/,
      'no control character but the line breaks of the text itself',
    );
    assert.match(message.subject, /^[\x20-\x7e]+$/);
  });

  it('a cut error message stays on one line too', () => {
    const message = errorAlertMessage(
      failedCall({ error_message: `${'x'.repeat(999)}\nCode: OK\n${'y'.repeat(2_000)}` }),
      'error',
      { count: 0, since: null },
      300,
    );
    assert.equal(message.text.split('\n').length, 8);
  });

  it('rule and summary texts keep service and method names on their lines', () => {
    const rule = ruleAlertMessage(
      decision({ service: 'Svc\nThreshold: none', method: 'M\r\nScope: all services' }),
      '2025-11-01T14:06:00.000Z',
    );
    assert.equal(rule.text.split('\n').length, 5);
    assert.equal(rule.text.split('\n').filter((line) => line.startsWith('Threshold:')).length, 1);
    const summary = suppressedSummaryMessage(
      { service: 'Svc\nTime: forged', method: 'M' },
      'error',
      { count: 2, since: '2025-11-01T14:00:00.000Z\nUser: admin' },
      300,
      '2025-11-01T14:10:00.000Z',
    );
    assert.equal(summary.text.split('\n').length, 4);
    assert.equal(summary.text.split('\n').filter((line) => line.startsWith('Time:')).length, 1);
  });
});
