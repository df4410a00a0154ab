/**
 * Reading a DynamoDB (Local) stream with the Streams API and turning its records into the
 * `DynamoDBRecord`s Lambda delivers, so the local pollers and the tests call the stream
 * handlers with the same event shape as AWS.
 *
 * Differences between the two shapes, handled by `toLambdaRecord`:
 * - Lambda adds `eventSourceARN` (the stream ARN); the Streams API does not.
 * - `ApproximateCreationDateTime` is a Date in the SDK, epoch seconds in Lambda.
 * - Binary attributes are bytes in the SDK, base64 strings in Lambda's JSON.
 * - `userIdentity` is `{ PrincipalId, Type }` in the SDK, `{ principalId, type }` in Lambda
 *   (only TTL deletions carry it: `Service` / `dynamodb.amazonaws.com`).
 */
import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type AttributeValue as SdkAttributeValue,
  type DynamoDBStreamsClientConfig,
  type _Record as SdkStreamRecord,
} from '@aws-sdk/client-dynamodb-streams';
import type { AttributeValue as LambdaAttributeValue, DynamoDBRecord } from 'aws-lambda';

/** A record as the Streams API's GetRecords returns it. */
export type StreamApiRecord = SdkStreamRecord;

/** One shard of a stream. `endingSequenceNumber` is set once the shard is closed. */
export interface StreamShard {
  readonly shardId: string;
  readonly parentShardId: string | undefined;
  readonly startingSequenceNumber: string | undefined;
  readonly endingSequenceNumber: string | undefined;
}

/** Where to start reading a shard. */
export type ShardPosition =
  | { readonly type: 'TRIM_HORIZON' | 'LATEST' }
  | { readonly type: 'AFTER_SEQUENCE_NUMBER' | 'AT_SEQUENCE_NUMBER'; readonly sequenceNumber: string };

export interface ShardPage {
  /** In sequence-number order. */
  readonly records: StreamApiRecord[];
  /** Undefined once a closed shard has been read to its end. */
  readonly nextIterator: string | undefined;
}

/** A Streams client for the same endpoint, region and credentials as a DynamoDB client config. */
export function streamsClient(config: DynamoDBStreamsClientConfig): DynamoDBStreamsClient {
  return new DynamoDBStreamsClient(config);
}

/** The table's current stream ARN; throws when the table has no stream. */
export async function latestStreamArn(client: DynamoDBClient, tableName: string): Promise<string> {
  const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
  const arn = Table?.LatestStreamArn;
  if (!arn) throw new Error(`table ${tableName} has no stream`);
  return arn;
}

/**
 * Every shard of the stream (all DescribeStream pages), parents before children, so reading
 * them in this order keeps each item's records in order across shard splits and rollovers.
 * A shard whose parent has been trimmed away counts as a root.
 */
export async function describeShards(
  streams: DynamoDBStreamsClient,
  streamArn: string,
): Promise<StreamShard[]> {
  const shards: StreamShard[] = [];
  let exclusiveStartShardId: string | undefined;
  do {
    const { StreamDescription } = await streams.send(
      new DescribeStreamCommand({ StreamArn: streamArn, ExclusiveStartShardId: exclusiveStartShardId }),
    );
    for (const shard of StreamDescription?.Shards ?? []) {
      if (!shard.ShardId) continue;
      shards.push({
        shardId: shard.ShardId,
        parentShardId: shard.ParentShardId,
        startingSequenceNumber: shard.SequenceNumberRange?.StartingSequenceNumber,
        endingSequenceNumber: shard.SequenceNumberRange?.EndingSequenceNumber,
      });
    }
    exclusiveStartShardId = StreamDescription?.LastEvaluatedShardId;
  } while (exclusiveStartShardId);
  return parentsFirst(shards);
}

/** Topological order over the parent links (stable otherwise). */
export function parentsFirst(shards: readonly StreamShard[]): StreamShard[] {
  const byId = new Map(shards.map((s) => [s.shardId, s]));
  const ordered: StreamShard[] = [];
  const placed = new Set<string>();
  const place = (shard: StreamShard, depth: number): void => {
    if (placed.has(shard.shardId)) return;
    const parent = shard.parentShardId ? byId.get(shard.parentShardId) : undefined;
    // depth guards against a malformed cycle; real lineage is a forest.
    if (parent && depth < shards.length) place(parent, depth + 1);
    placed.add(shard.shardId);
    ordered.push(shard);
  };
  for (const shard of shards) place(shard, 0);
  return ordered;
}

/** An iterator for reading one shard from a position. */
export async function shardIterator(
  streams: DynamoDBStreamsClient,
  streamArn: string,
  shardId: string,
  position: ShardPosition = { type: 'TRIM_HORIZON' },
): Promise<string | undefined> {
  const { ShardIterator } = await streams.send(
    new GetShardIteratorCommand({
      StreamArn: streamArn,
      ShardId: shardId,
      ShardIteratorType: position.type,
      SequenceNumber: 'sequenceNumber' in position ? position.sequenceNumber : undefined,
    }),
  );
  return ShardIterator;
}

/** One GetRecords page (at most `limit` records, ≤ 1,000 by the API). */
export async function readShard(
  streams: DynamoDBStreamsClient,
  iterator: string,
  limit = 1000,
): Promise<ShardPage> {
  const { Records, NextShardIterator } = await streams.send(
    new GetRecordsCommand({ ShardIterator: iterator, Limit: limit }),
  );
  return { records: Records ?? [], nextIterator: NextShardIterator };
}

function toLambdaAttribute(value: SdkAttributeValue): LambdaAttributeValue {
  if (value.S !== undefined) return { S: value.S };
  if (value.N !== undefined) return { N: value.N };
  if (value.BOOL !== undefined) return { BOOL: value.BOOL };
  if (value.NULL !== undefined) return { NULL: value.NULL };
  if (value.B !== undefined) return { B: Buffer.from(value.B).toString('base64') };
  if (value.SS !== undefined) return { SS: value.SS };
  if (value.NS !== undefined) return { NS: value.NS };
  if (value.BS !== undefined) return { BS: value.BS.map((b) => Buffer.from(b).toString('base64')) };
  if (value.L !== undefined) return { L: value.L.map(toLambdaAttribute) };
  if (value.M !== undefined) return { M: toLambdaImage(value.M) ?? {} };
  throw new Error(`unknown attribute value type: ${Object.keys(value).join(',')}`);
}

function toLambdaImage(
  image: Record<string, SdkAttributeValue> | undefined,
): Record<string, LambdaAttributeValue> | undefined {
  if (!image) return undefined;
  return Object.fromEntries(Object.entries(image).map(([k, v]) => [k, toLambdaAttribute(v)]));
}

/** A Streams API record as Lambda's event source mapping delivers it. */
export function toLambdaRecord(record: StreamApiRecord, streamArn: string, region: string): DynamoDBRecord {
  const stream = record.dynamodb ?? {};
  const created = stream.ApproximateCreationDateTime;
  const lambdaRecord: DynamoDBRecord = {
    eventID: record.eventID,
    eventName: record.eventName,
    eventVersion: record.eventVersion ?? '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: record.awsRegion ?? region,
    eventSourceARN: streamArn,
    dynamodb: {
      ApproximateCreationDateTime: created ? Math.floor(new Date(created).getTime() / 1000) : undefined,
      Keys: toLambdaImage(stream.Keys),
      NewImage: toLambdaImage(stream.NewImage),
      OldImage: toLambdaImage(stream.OldImage),
      SequenceNumber: stream.SequenceNumber,
      SizeBytes: stream.SizeBytes,
      StreamViewType: stream.StreamViewType,
    },
  };
  if (record.userIdentity) {
    lambdaRecord.userIdentity = {
      type: record.userIdentity.Type,
      principalId: record.userIdentity.PrincipalId,
    };
  }
  return lambdaRecord;
}

/**
 * Everything currently in the stream, as Lambda records, shard by shard (parents first), each
 * shard read until it is closed and read out or, if open, until a page comes back empty.
 * For tests and one-off replays; the pollers read continuously instead.
 */
export async function readStreamToEnd(
  streams: DynamoDBStreamsClient,
  streamArn: string,
  region: string,
): Promise<DynamoDBRecord[]> {
  const out: DynamoDBRecord[] = [];
  for (const shard of await describeShards(streams, streamArn)) {
    let iterator = await shardIterator(streams, streamArn, shard.shardId);
    let emptyPages = 0;
    while (iterator) {
      const page = await readShard(streams, iterator);
      for (const record of page.records) out.push(toLambdaRecord(record, streamArn, region));
      emptyPages = page.records.length === 0 ? emptyPages + 1 : 0;
      // An open shard has no end: an empty page means caught up. A closed one ends with no
      // next iterator, but may hand out a few empty pages first.
      if (emptyPages > (shard.endingSequenceNumber ? 5 : 0)) break;
      iterator = page.nextIterator;
    }
  }
  return out;
}
