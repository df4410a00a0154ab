import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DescribeTableCommand, DescribeTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { createTableInput, requestLogTable, REQUEST_LOG_INDEX } from '../../core/tables';
import { startTestDynamo, type TestDynamo } from '../harness/dynamo';

describe('table definitions', () => {
  it('RequestLog has the three sharded GSIs with INCLUDE projections and a stream', () => {
    const input = createTableInput(requestLogTable, 't');
    assert.deepEqual(
      input.GlobalSecondaryIndexes?.map((i) => i.IndexName),
      [REQUEST_LOG_INDEX.byTime, REQUEST_LOG_INDEX.byService, REQUEST_LOG_INDEX.byStatus],
    );
    assert.ok(input.GlobalSecondaryIndexes?.every((i) => i.Projection?.ProjectionType === 'INCLUDE'));
    assert.equal(input.StreamSpecification?.StreamViewType, 'NEW_AND_OLD_IMAGES');
    // DynamoDB refuses a projection that names an attribute twice.
    for (const index of input.GlobalSecondaryIndexes ?? []) {
      const names = index.Projection?.NonKeyAttributes ?? [];
      assert.equal(new Set(names).size, names.length, index.IndexName);
    }
  });
});

describe('tables in DynamoDB Local', () => {
  let db: TestDynamo;
  before(async () => {
    db = await startTestDynamo();
  });
  after(() => db.stop());

  it('creates both tables from core with TTL on expires_at', async () => {
    const config = await db.createTables();
    const { Table } = await db.client.send(new DescribeTableCommand({ TableName: config.requestLogTable }));
    assert.equal(Table?.GlobalSecondaryIndexes?.length, 3);
    assert.equal(Table?.StreamSpecification?.StreamEnabled, true);
    const ttl = await db.client.send(new DescribeTimeToLiveCommand({ TableName: config.statsTable }));
    assert.equal(ttl.TimeToLiveDescription?.AttributeName, 'expires_at');
  });
});
