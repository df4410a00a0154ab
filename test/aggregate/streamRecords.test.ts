import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DeleteCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import {
  describeShards,
  latestStreamArn,
  parentsFirst,
  readStreamToEnd,
  streamsClient,
  toLambdaRecord,
  type StreamShard,
} from '../../local/streamRecords';
import { startTestDynamo, type TestDynamo } from '../harness/dynamo';

describe('toLambdaRecord', () => {
  it('gives the Lambda shape: epoch seconds, base64 binaries, lower-case userIdentity, the stream ARN', () => {
    // Prepare
    const arn = 'arn:aws:dynamodb:local:000000000000:table/t/stream/2026-01-01T00:00:00.000';
    // Act
    const record = toLambdaRecord(
      {
        eventID: 'e1',
        eventName: 'REMOVE',
        eventVersion: '1.1',
        eventSource: 'aws:dynamodb',
        awsRegion: 'eu-west-1',
        dynamodb: {
          ApproximateCreationDateTime: new Date('2026-01-01T00:00:05.900Z'),
          Keys: { request_id: { S: 'r1' } },
          OldImage: {
            request_id: { S: 'r1' },
            n: { N: '1.5' },
            b: { B: new Uint8Array([1, 2, 3]) },
            m: { M: { l: { L: [{ BOOL: true }, { NULL: true }] } } },
          },
          SequenceNumber: '000000000000000000042',
          SizeBytes: 40,
          StreamViewType: 'NEW_AND_OLD_IMAGES',
        },
        userIdentity: { Type: 'Service', PrincipalId: 'dynamodb.amazonaws.com' },
      },
      arn,
      'local',
    );
    // Assess
    assert.deepEqual(record, {
      eventID: 'e1',
      eventName: 'REMOVE',
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: 'eu-west-1',
      eventSourceARN: arn,
      dynamodb: {
        ApproximateCreationDateTime: 1767225605,
        Keys: { request_id: { S: 'r1' } },
        NewImage: undefined,
        OldImage: {
          request_id: { S: 'r1' },
          n: { N: '1.5' },
          b: { B: 'AQID' },
          m: { M: { l: { L: [{ BOOL: true }, { NULL: true }] } } },
        },
        SequenceNumber: '000000000000000000042',
        SizeBytes: 40,
        StreamViewType: 'NEW_AND_OLD_IMAGES',
      },
      userIdentity: { type: 'Service', principalId: 'dynamodb.amazonaws.com' },
    });
  });
});

describe('parentsFirst', () => {
  it('puts every parent before its children, and treats a trimmed parent as absent', () => {
    const shard = (shardId: string, parentShardId?: string): StreamShard => ({
      shardId,
      parentShardId,
      startingSequenceNumber: undefined,
      endingSequenceNumber: undefined,
    });
    const ordered = parentsFirst([shard('c', 'b'), shard('d', 'b'), shard('b', 'a'), shard('a', 'gone')]);
    assert.deepEqual(
      ordered.map((s) => s.shardId),
      ['a', 'b', 'c', 'd'],
    );
  });
});

describe('reading DynamoDB Local stream', () => {
  let db: TestDynamo;
  let streams: DynamoDBStreamsClient;
  before(async () => {
    db = await startTestDynamo();
    streams = streamsClient(db.clientConfig);
  });
  after(async () => {
    streams.destroy();
    await db.stop();
  });

  it('returns puts, updates and deletes as Lambda records, in order, with images', async () => {
    // Prepare
    const config = await db.createTables();
    const TableName = config.requestLogTable;
    await db.ddb.send(new PutCommand({ TableName, Item: { request_id: 'r1', status: 'pending' } }));
    await db.ddb.send(
      new UpdateCommand({
        TableName,
        Key: { request_id: 'r1' },
        UpdateExpression: 'SET #s = :s, duration_ms = :d',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':s': 'success', ':d': 12.5 },
      }),
    );
    await db.ddb.send(new DeleteCommand({ TableName, Key: { request_id: 'r1' } }));
    const arn = await latestStreamArn(db.client, TableName);
    // Act
    const shards = await describeShards(streams, arn);
    const records = await readStreamToEnd(streams, arn, 'local');
    // Assess
    assert.ok(shards.length >= 1);
    assert.deepEqual(
      records.map((r) => r.eventName),
      ['INSERT', 'MODIFY', 'REMOVE'],
    );
    const [insert, modify, remove] = records;
    for (const r of records) {
      assert.equal(r.eventSource, 'aws:dynamodb');
      assert.equal(r.eventSourceARN, arn);
      assert.equal(typeof r.eventID, 'string');
      assert.equal(typeof r.dynamodb?.ApproximateCreationDateTime, 'number');
      assert.equal(r.dynamodb?.StreamViewType, 'NEW_AND_OLD_IMAGES');
      assert.deepEqual(r.dynamodb?.Keys, { request_id: { S: 'r1' } });
    }
    assert.equal(insert?.dynamodb?.OldImage, undefined);
    assert.deepEqual(insert?.dynamodb?.NewImage, { request_id: { S: 'r1' }, status: { S: 'pending' } });
    assert.deepEqual(modify?.dynamodb?.OldImage?.status, { S: 'pending' });
    assert.deepEqual(modify?.dynamodb?.NewImage?.duration_ms, { N: '12.5' });
    assert.equal(remove?.dynamodb?.NewImage, undefined);
    assert.deepEqual(remove?.dynamodb?.OldImage?.status, { S: 'success' });
    const sequence = records.map((r) => BigInt(r.dynamodb?.SequenceNumber ?? '0'));
    assert.ok(sequence[0]! < sequence[1]! && sequence[1]! < sequence[2]!, 'sequence numbers increase');
  });
});
