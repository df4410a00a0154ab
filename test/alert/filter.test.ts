import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { streamedCalls } from '../../lambdas/alert/streamRecords';
import { alertConsumer, alertFilter } from '../../core/streamConsumers';
import { matchesFilter, toFilterPatterns } from '../../core/streamFilter';
import { callRecord, failedCall, heartbeatRecord, streamEvent, ttlRemoveRecord } from './factories';

describe('which records reach the alert handler (alertFilter, as the stack deploys it)', () => {
  const pending = failedCall({
    status: 'pending',
    grpc_status_code: null,
    duration_ms: null,
    error_message: null,
  });
  const cases: Array<[string, Parameters<typeof matchesFilter>[1], boolean]> = [
    ['an error insert', callRecord(failedCall()), true],
    [
      'a timeout insert',
      callRecord(failedCall({ status: 'timeout', grpc_status_code: 'DEADLINE_EXCEEDED' })),
      true,
    ],
    [
      'a pending → error update',
      callRecord(failedCall(), { eventName: 'MODIFY', old: { ...pending, item_type: 'request' } }),
      true,
    ],
    [
      'a slow success',
      callRecord(failedCall({ status: 'success', grpc_status_code: 'OK', duration_ms: 1500 })),
      true,
    ],
    [
      'a success at exactly the slow threshold',
      callRecord(failedCall({ status: 'success', grpc_status_code: 'OK', duration_ms: 1000 })),
      true,
    ],
    [
      'a fast success',
      callRecord(failedCall({ status: 'success', grpc_status_code: 'OK', duration_ms: 999.99 })),
      false,
    ],
    [
      'a cancelled call',
      callRecord(failedCall({ status: 'cancelled', grpc_status_code: 'CANCELLED' })),
      false,
    ],
    ['a pending insert', callRecord(pending), false],
    ['a TTL deletion of an error', ttlRemoveRecord(failedCall()), false],
    ['a heartbeat', heartbeatRecord(), false],
  ];
  for (const [name, record, expected] of cases) {
    it(`${expected ? 'delivers' : 'drops'} ${name}`, () => {
      assert.equal(matchesFilter(alertFilter, record), expected);
    });
  }

  it('is the filter the alert consumer deploys, as Lambda FilterCriteria patterns', () => {
    assert.equal(alertConsumer.filter, alertFilter);
    assert.deepEqual(toFilterPatterns(alertFilter), [
      {
        eventName: ['INSERT', 'MODIFY'],
        dynamodb: { NewImage: { item_type: { S: ['request'] }, status: { S: ['error', 'timeout'] } } },
      },
      {
        eventName: ['INSERT', 'MODIFY'],
        dynamodb: { NewImage: { item_type: { S: ['request'] }, slow: { BOOL: [true] } } },
      },
    ]);
  });

  it('and the handler still ignores removals, pending items, heartbeats and repeated final writes', () => {
    const error = failedCall();
    const errorItem = { ...error, item_type: 'request' };
    const calls = streamedCalls(
      streamEvent([
        ttlRemoveRecord(error),
        callRecord(pending),
        heartbeatRecord(),
        callRecord(error, { eventName: 'MODIFY', old: errorItem }),
        callRecord(error),
      ]),
    );
    assert.equal(calls.length, 1);
    assert.deepEqual(calls[0]!.record, error);
  });
});
