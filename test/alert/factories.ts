import { marshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { DEFAULTS } from '../../core/config';
import { toHeartbeatItem } from '../../core/heartbeat';
import type { RequestLogRecord } from '../../core/record';
import { toRequestLogItem } from '../../core/requestLogItem';

const STREAM_ARN =
  'arn:aws:dynamodb:us-east-1:123456789012:table/grpc-monitor-requests/stream/2025-11-01T00:00:00.000';

/** A final failed call as the interceptor records it; override any field. */
export function failedCall(overrides: Partial<RequestLogRecord> = {}): RequestLogRecord {
  return {
    request_id: '0193a0b2-0000-7000-8000-000000000001',
    service_name: 'UserService',
    method_name: 'GetUser',
    full_method: '/api.users.UserService/GetUser',
    status: 'error',
    grpc_status_code: 'NOT_FOUND',
    duration_ms: 12.34,
    request_size: 8,
    response_size: 0,
    request_messages: 1,
    response_messages: 0,
    user: { id: 42, username: 'alice' },
    client_ip: '10.0.0.7',
    user_agent: 'grpc-node-js/1.14.0',
    peer: 'ipv4:10.0.0.7:50123',
    error_message: 'user 42 not found',
    error_details: null,
    deadline_ms: null,
    trace_id: null,
    created_at: '2025-11-01T14:05:03.123Z',
    updated_at: '2025-11-01T14:05:03.135Z',
    expires_at: 1_764_597_903,
    ...overrides,
  };
}

type Image = Record<string, AttributeValue>;
const image = (item: Record<string, unknown>): Image =>
  marshall(item, { removeUndefinedValues: true }) as unknown as Image;

let sequence = 100_000_000_000_000_000_000n;
/** Stream sequence numbers: increasing decimal strings, as DynamoDB Streams writes them. */
export const nextSequence = (): string => String(sequence++);

/** A stream record for a RequestLog item write, as Lambda receives it (NEW_AND_OLD_IMAGES). */
export function itemRecord(
  item: Record<string, unknown>,
  options: { eventName?: 'INSERT' | 'MODIFY'; old?: Record<string, unknown>; sequenceNumber?: string } = {},
): DynamoDBRecord {
  const sequenceNumber = options.sequenceNumber ?? nextSequence();
  return {
    eventID: `evt-${sequenceNumber}`,
    eventName: options.eventName ?? 'INSERT',
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: 'us-east-1',
    eventSourceARN: STREAM_ARN,
    dynamodb: {
      ApproximateCreationDateTime: 1_761_999_903,
      Keys: image({ request_id: item.request_id }),
      NewImage: image(item),
      ...(options.old && { OldImage: image(options.old) }),
      SequenceNumber: sequenceNumber,
      SizeBytes: 512,
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
  };
}

/** The stream record of a recorded call (item built by the real codec). */
export function callRecord(
  record: RequestLogRecord,
  options: Parameters<typeof itemRecord>[1] & { slowThresholdMs?: number } = {},
): DynamoDBRecord {
  const item = toRequestLogItem(record, {
    shards: 1,
    slowThresholdMs: options.slowThresholdMs ?? DEFAULTS.slowThresholdMs,
  });
  return itemRecord(item, options);
}

/** A TTL deletion: REMOVE by the DynamoDB service, old image only. */
export function ttlRemoveRecord(record: RequestLogRecord): DynamoDBRecord {
  const item = toRequestLogItem(record, { shards: 1, slowThresholdMs: DEFAULTS.slowThresholdMs });
  const sequenceNumber = nextSequence();
  return {
    eventID: `evt-${sequenceNumber}`,
    eventName: 'REMOVE',
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: 'us-east-1',
    eventSourceARN: STREAM_ARN,
    userIdentity: { type: 'Service', principalId: 'dynamodb.amazonaws.com' },
    dynamodb: {
      Keys: image({ request_id: item.request_id }),
      OldImage: image(item),
      SequenceNumber: sequenceNumber,
      SizeBytes: 512,
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
  };
}

export function heartbeatRecord(): DynamoDBRecord {
  const item = toHeartbeatItem(
    {
      instance_id: 'host-1',
      host: 'localhost',
      port: 50051,
      started_at: '2025-11-01T14:00:00.000Z',
      last_seen: '2025-11-01T14:05:00.000Z',
      writer: { enqueued: 1, written: 1, dropped: 0, retried: 0, failed: 0, queued: 0 },
    },
    1_764_597_903,
  );
  return itemRecord(item, { eventName: 'MODIFY' });
}

export const streamEvent = (records: DynamoDBRecord[]): DynamoDBStreamEvent => ({ Records: records });
