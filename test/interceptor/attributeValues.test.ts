import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { fromRequestLogItem } from '../../core/requestLogItem';
import { requestLogAttributeMap, toAttributeMap } from '../../interceptor/attributeValues';
import type { CallFacts } from '../../interceptor/callFacts';
import { callItem } from '../../interceptor/callItem';
import { callFacts } from '../fixtures/callFacts';

/** The writer's own marshalling must give DynamoDB exactly what the DocumentClient would. */
const OPTIONS = { shards: 4, slowThresholdMs: 1000, retentionDays: 30 };
const started = Date.UTC(2026, 10, 29, 7, 45, 1, 234);

const base = callFacts({
  started_at_ms: started,
  ended_at_ms: started + 13,
  duration_ms: 12.3456,
  request_size: 0,
  peer_address: '::ffff:10.1.2.3',
});

const cases: Record<string, CallFacts> = {
  success: base,
  'error with trailers, a user and a deadline': {
    ...base,
    status: 'error',
    code: 5,
    details: 'User 7 not found: "quoted" ✓',
    trailers: { 'debug-info': ['a', ''], 'debug-bin': ['AAEC'] },
    user: { id: 7, username: 'alice' },
    forwarded_for: '203.0.113.9, 10.0.0.1',
    deadline_at_ms: started + 5000,
    trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
  },
  pending: {
    ...base,
    status: 'pending',
    code: null,
    ended_at_ms: null,
    duration_ms: null,
    response_messages: 0,
  },
  'slow, string user id, empty strings': {
    ...base,
    duration_ms: 1500,
    user: { id: 'u-1', username: '' },
    user_agent: '',
  },
};

describe('toAttributeMap', () => {
  for (const [name, facts] of Object.entries(cases)) {
    test(`a ${name} item marshals as the DocumentClient marshals it`, () => {
      const item = callItem(facts, OPTIONS);
      assert.deepEqual(toAttributeMap(item), marshall(item, { removeUndefinedValues: true }));
    });
  }

  for (const [name, facts] of Object.entries(cases)) {
    test(`a ${name} item without its nulls reads back as the same record`, () => {
      const item = callItem(facts, OPTIONS);
      const stored = requestLogAttributeMap(item);
      assert.deepEqual(fromRequestLogItem(unmarshall(stored)), fromRequestLogItem(item));
      const nulls = Object.keys(item).filter((key) => item[key] === null && key !== 'client_request_id');
      for (const key of nulls) assert.equal(key in stored, false, `${key} left out`);
      assert.deepEqual(stored.client_request_id, { NULL: true }, 'client_request_id is kept, null or not');
      const { client_request_id: _, ...rest } = stored;
      assert.deepEqual(
        rest,
        toAttributeMap(
          Object.fromEntries(
            Object.entries(item).filter(([k, v]) => v !== null && k !== 'client_request_id'),
          ),
        ),
      );
    });
  }

  test('undefined values are left out; numbers DynamoDB cannot store become null', () => {
    assert.deepEqual(toAttributeMap({ a: undefined, b: Number.NaN, c: Infinity, d: [1, 'x', null] }), {
      b: { NULL: true },
      c: { NULL: true },
      d: { L: [{ N: '1' }, { S: 'x' }, { NULL: true }] },
    });
  });
});
