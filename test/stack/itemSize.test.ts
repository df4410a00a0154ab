import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RequestLogRecord } from '../../core/record';
import { toRequestLogItem } from '../../core/requestLogItem';
import { requestLogTable } from '../../core/tables';
import { indexEntrySize, itemSize, writeUnits } from './dynamoItemSize';

/** A typical unary call as the interceptor records it (the cost table in README.md, "Deploy", uses it). */
export const typicalCall: RequestLogRecord = {
  request_id: '019a3c5e-7b21-7c4e-9d1a-2f6b8e4c1a37',
  service_name: 'UserService',
  method_name: 'GetUser',
  full_method: '/api.users.UserService/GetUser',
  status: 'success',
  grpc_status_code: 'OK',
  duration_ms: 12.34,
  request_size: 48,
  response_size: 312,
  request_messages: 1,
  response_messages: 1,
  user: { id: 4211, username: 'alice' },
  client_ip: '10.0.12.34',
  user_agent: 'grpc-node-js/1.14.3',
  peer: 'ipv4:10.0.12.34:53124',
  error_message: null,
  error_details: null,
  deadline_ms: 5000,
  trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
  created_at: '2026-11-29T04:05:06.789Z',
  updated_at: '2026-11-29T04:05:06.801Z',
  expires_at: 1_767_000_000,
};

const failedCall: RequestLogRecord = {
  ...typicalCall,
  status: 'error',
  grpc_status_code: 'NOT_FOUND',
  error_message: 'user 4211 not found in shard users-3 (looked up by id)',
  error_details: {
    code: 5,
    details: 'user 4211 not found',
    metadata: { 'x-request-id': typicalCall.request_id },
  },
};

describe('RequestLog item size (the cost model: 1 write unit for the item and 1 per GSI)', () => {
  const options = { shards: 4, slowThresholdMs: 1000 };
  for (const [name, record] of [
    ['a successful call', typicalCall],
    ['a failed call with details', failedCall],
  ] as const) {
    it(`keeps ${name} and each of its GSI entries within 1 KB`, () => {
      const item = toRequestLogItem(record, options);
      assert.equal(writeUnits(itemSize(item)), 1, `item is ${itemSize(item)} bytes`);
      for (const index of requestLogTable.globalIndexes) {
        const attributes = [
          requestLogTable.partitionKey.name,
          index.partitionKey.name,
          index.sortKey.name,
          ...index.nonKeyAttributes,
        ];
        const size = indexEntrySize(item, attributes);
        assert.equal(writeUnits(size), 1, `${index.indexName} entry is ${size} bytes`);
      }
    });
  }

  it('counts sizes as DynamoDB documents them', async () => {
    const { attributeValueSize } = await import('./dynamoItemSize');
    assert.equal(itemSize({ ab: 'xyz' }), 5);
    assert.equal(attributeValueSize(12.34), 3);
    assert.equal(attributeValueSize(1_767_000_000), 3);
    assert.equal(attributeValueSize(true), 1);
    assert.equal(attributeValueSize({ id: 1 }), 3 + 1 + 2 + 2);
  });
});
