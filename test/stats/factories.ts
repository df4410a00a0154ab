import type { AttributeValue, DynamoDBRecord } from 'aws-lambda';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { RequestLogRecord } from '../../core/record';
import { toRequestLogItem } from '../../core/requestLogItem';

let sequence = 1000n;

/** A finished (or pending) call record with sensible defaults. */
export function callRecord(overrides: Partial<RequestLogRecord> = {}): RequestLogRecord {
  const createdAt = overrides.created_at ?? '2025-11-01T14:05:30.000Z';
  return {
    request_id: `r-${sequence}`,
    service_name: 'UserService',
    method_name: 'GetUser',
    full_method: '/api.users.UserService/GetUser',
    status: 'success',
    grpc_status_code: 'OK',
    duration_ms: 12.34,
    request_size: 10,
    response_size: 20,
    request_messages: 1,
    response_messages: 1,
    user: null,
    client_ip: '127.0.0.1',
    user_agent: null,
    peer: 'ipv4:127.0.0.1:5000',
    error_message: null,
    error_details: null,
    deadline_ms: null,
    trace_id: null,
    created_at: createdAt,
    updated_at: createdAt,
    expires_at: 0,
    ...overrides,
  };
}

/** The RequestLog item of a record, as a stream image. */
export function imageOf(record: RequestLogRecord | Record<string, unknown>): Record<string, AttributeValue> {
  const item =
    'full_method' in record
      ? toRequestLogItem(record as RequestLogRecord, { shards: 1, slowThresholdMs: 1000 })
      : record;
  return marshall(item, { removeUndefinedValues: true }) as Record<string, AttributeValue>;
}

/** A Lambda DynamoDB stream record with a fresh increasing sequence number. */
export function streamRecord(
  eventName: 'INSERT' | 'MODIFY' | 'REMOVE',
  images: { newImage?: Record<string, AttributeValue>; oldImage?: Record<string, AttributeValue> },
): DynamoDBRecord {
  sequence += 1n;
  return {
    eventID: `e${sequence}`,
    eventName,
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: 'local',
    eventSourceARN: 'arn:aws:dynamodb:local:000000000000:table/t/stream/x',
    dynamodb: {
      ApproximateCreationDateTime: 1_700_000_000,
      NewImage: images.newImage,
      OldImage: images.oldImage,
      SequenceNumber: String(sequence).padStart(21, '0'),
      SizeBytes: 100,
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
  };
}

export const insert = (record: RequestLogRecord): DynamoDBRecord =>
  streamRecord('INSERT', { newImage: imageOf(record) });
