import type { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import type { ShardPage, StreamSource } from './streamPoller';
import { describeShards, readShard, shardIterator, toLambdaRecord } from './streamRecords';

/**
 * The pollers' StreamSource over a DynamoDB (Local) stream, on the streamRecords primitives:
 * every shard with its parent link, iterators from TRIM_HORIZON or after a sequence number,
 * and records converted to what Lambda delivers.
 */
export interface DynamoStreamSourceOptions {
  readonly streams: DynamoDBStreamsClient;
  readonly streamArn: string;
  readonly region: string;
  /** Records per GetRecords call (at most 1,000). */
  readonly limit?: number;
}

export function dynamoStreamSource(options: DynamoStreamSourceOptions): StreamSource {
  const { streams, streamArn, region } = options;
  return {
    async listShards() {
      return (await describeShards(streams, streamArn)).map((shard) => ({
        shardId: shard.shardId,
        ...(shard.parentShardId ? { parentShardId: shard.parentShardId } : {}),
      }));
    },
    shardIterator(shardId, afterSequenceNumber) {
      return shardIterator(
        streams,
        streamArn,
        shardId,
        afterSequenceNumber
          ? { type: 'AFTER_SEQUENCE_NUMBER', sequenceNumber: afterSequenceNumber }
          : { type: 'TRIM_HORIZON' },
      );
    },
    async read(iterator): Promise<ShardPage> {
      const page = await readShard(streams, iterator, options.limit ?? 1_000);
      return {
        records: page.records.map((record) => toLambdaRecord(record, streamArn, region)),
        nextIterator: page.nextIterator,
      };
    },
  };
}
