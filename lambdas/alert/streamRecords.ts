import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { FINAL_STATUSES, type RequestLogRecord } from '../../core/record';
import { fromRequestLogItem } from '../../core/requestLogItem';

/** A final call from the stream, with the sequence number Lambda retries by. */
export interface StreamedCall {
  readonly record: RequestLogRecord;
  readonly sequenceNumber: string;
}

type Image = Record<string, AttributeValue>;

const isFinal = (status: unknown): boolean => (FINAL_STATUSES as readonly unknown[]).includes(status);

function callOf(streamRecord: DynamoDBRecord): StreamedCall | undefined {
  const { eventName, dynamodb } = streamRecord;
  // The event filter already drops these; checked again so a local poller or a hand-built
  // event can never alert on a TTL deletion, a pending item or a heartbeat.
  if (eventName !== 'INSERT' && eventName !== 'MODIFY') return undefined;
  const image = dynamodb?.NewImage;
  const sequenceNumber = dynamodb?.SequenceNumber;
  if (!image || !sequenceNumber) return undefined;
  const item = unmarshall(image as Image);
  if (item.item_type !== 'request' || !isFinal(item.status)) return undefined;
  // A later write to an item that was already final (same status) is not a new call.
  const old = dynamodb.OldImage ? unmarshall(dynamodb.OldImage as Image) : undefined;
  if (old && old.status === item.status) return undefined;
  return { record: fromRequestLogItem(item), sequenceNumber };
}

/** The final request items of a batch, in stream order. */
export function streamedCalls(event: DynamoDBStreamEvent): StreamedCall[] {
  return (event.Records ?? []).flatMap((r) => callOf(r) ?? []);
}
