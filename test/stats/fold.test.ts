import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toHeartbeatItem } from '../../core/heartbeat';
import { countedCall, foldRecords } from '../../core/stats/fold';
import { bucketIndex, ZERO_BUCKET } from '../../core/stats/histogram';
import { callRecord, imageOf, insert, streamRecord } from './factories';

describe('status-transition rule (countedCall)', () => {
  const pending = callRecord({
    request_id: 'p1',
    status: 'pending',
    grpc_status_code: null,
    duration_ms: null,
  });
  const final = callRecord({ request_id: 'p1', status: 'error', grpc_status_code: 'NOT_FOUND' });
  const cases: Array<[string, Parameters<typeof streamRecord>, boolean]> = [
    ['INSERT of a final item counts', ['INSERT', { newImage: imageOf(final) }], true],
    ['INSERT of a pending item does not', ['INSERT', { newImage: imageOf(pending) }], false],
    [
      'MODIFY pending → final counts',
      ['MODIFY', { oldImage: imageOf(pending), newImage: imageOf(final) }],
      true,
    ],
    ['MODIFY with no old image → final counts', ['MODIFY', { newImage: imageOf(final) }], true],
    [
      'MODIFY final → final does not',
      ['MODIFY', { oldImage: imageOf(final), newImage: imageOf(final) }],
      false,
    ],
    [
      'MODIFY final → pending does not',
      ['MODIFY', { oldImage: imageOf(final), newImage: imageOf(pending) }],
      false,
    ],
    ['REMOVE (TTL) does not', ['REMOVE', { oldImage: imageOf(final) }], false],
    [
      'a heartbeat does not',
      [
        'INSERT',
        {
          newImage: imageOf(
            toHeartbeatItem(
              {
                instance_id: 'i',
                host: 'h',
                port: 1,
                started_at: '',
                last_seen: '',
                writer: { enqueued: 0, written: 0, dropped: 0, retried: 0, failed: 0, queued: 0 },
              },
              0,
            ),
          ),
        },
      ],
      false,
    ],
    [
      'an item without created_at does not',
      ['INSERT', { newImage: imageOf({ request_id: 'x', item_type: 'request', status: 'success' }) }],
      false,
    ],
  ];
  for (const [name, args, counts] of cases) {
    it(name, () => {
      assert.equal(countedCall(streamRecord(...args)) !== undefined, counts);
    });
  }
});

describe('foldRecords', () => {
  it('adds each call to its bucket of every level, for all, its service and its method', () => {
    // Prepare
    const records = [
      insert(callRecord({ duration_ms: 10.25, request_size: 5, response_size: 7 })),
      insert(callRecord({ duration_ms: 1500.5, status: 'timeout', grpc_status_code: 'DEADLINE_EXCEEDED' })),
      insert(
        callRecord({ method_name: 'ListUsers', created_at: '2025-11-01T14:59:59.999Z', duration_ms: 0 }),
      ),
      streamRecord('REMOVE', { oldImage: imageOf(callRecord()) }),
    ];
    // Act
    const deltas = foldRecords(records, { slowThresholdMs: 1000 });
    // Assess
    const scopesOf = (bucket: string) =>
      [...deltas.keys()]
        .filter((k) => k.startsWith(`${bucket}|`))
        .map((k) => k.slice(bucket.length + 1))
        .sort();
    const everyScope = ['ALL', 'M#UserService#GetUser', 'M#UserService#ListUsers', 'S#UserService'];
    assert.deepEqual([...new Set([...deltas.keys()].map((k) => k.split('|')[0]))].sort(), [
      'H#2025-11-01T14',
      'H6#2025-11-01T12',
      'M#2025-11-01T14:05',
      'M#2025-11-01T14:59',
      'M15#2025-11-01T14:00',
      'M15#2025-11-01T14:45',
      'M5#2025-11-01T14:05',
      'M5#2025-11-01T14:55',
    ]);
    for (const bucket of ['H#2025-11-01T14', 'H6#2025-11-01T12'])
      assert.deepEqual(scopesOf(bucket), everyScope);
    for (const bucket of ['M#2025-11-01T14:05', 'M5#2025-11-01T14:05', 'M15#2025-11-01T14:00']) {
      assert.deepEqual(scopesOf(bucket), ['ALL', 'M#UserService#GetUser', 'S#UserService']);
    }
    for (const bucket of ['M#2025-11-01T14:59', 'M5#2025-11-01T14:55', 'M15#2025-11-01T14:45']) {
      assert.deepEqual(scopesOf(bucket), ['ALL', 'M#UserService#ListUsers', 'S#UserService']);
    }
    assert.deepEqual(deltas.get('H6#2025-11-01T12|ALL'), {
      ...deltas.get('H#2025-11-01T14|ALL')!,
      pk: 'H6#2025-11-01T12',
    });
    const hour = deltas.get('H#2025-11-01T14|ALL')!;
    assert.equal(hour.total, 3);
    assert.deepEqual(hour.byStatus, { success: 2, timeout: 1 });
    assert.deepEqual(hour.byCode, { OK: 2, DEADLINE_EXCEEDED: 1 });
    assert.equal(hour.durationSumCentis, 1025 + 150050 + 0);
    assert.equal(hour.durationMaxMs, 1500.5);
    assert.equal(hour.bytesIn, 5 + 10 + 10);
    assert.equal(hour.bytesOut, 7 + 20 + 20);
    assert.equal(hour.slow, 1);
    assert.equal(hour.lastRequestAt, '2025-11-01T14:59:59.999Z');
    assert.deepEqual(
      hour.histogram,
      new Map([
        [bucketIndex(10.25), 1],
        [bucketIndex(1500.5), 1],
        [ZERO_BUCKET, 1],
      ]),
    );
    assert.equal(deltas.get('M#2025-11-01T14:05|M#UserService#GetUser')!.total, 2);
  });

  it('counts a call once when it goes pending → final, not at its pending insert', () => {
    const pending = callRecord({
      request_id: 'p',
      status: 'pending',
      grpc_status_code: null,
      duration_ms: null,
    });
    const done = callRecord({ request_id: 'p', duration_ms: 3 });
    const deltas = foldRecords(
      [
        insert(pending),
        streamRecord('MODIFY', { oldImage: imageOf(pending), newImage: imageOf(done) }),
        streamRecord('MODIFY', { oldImage: imageOf(done), newImage: imageOf(done) }),
      ],
      { slowThresholdMs: 1000 },
    );
    assert.equal(deltas.get('H#2025-11-01T14|ALL')!.total, 1);
  });
});
