import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { App } from 'aws-cdk-lib';
import { createTableInput, deltaTable, requestLogTable, statsTable } from '../../core/tables';
import { ensureTables } from '../../local/tables';
import { MonitorStack } from '../../lib/monitorStack';

describe('one table definition for the stack and the local runtime', () => {
  it('creates locally exactly the tables the stack was built from', async () => {
    // Prepare: the stack (constructed, bundling skipped) and the local runtime against a mock.
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new MonitorStack(app, 'SameTables');
    const ddb = mockClient(DynamoDBClient);
    ddb.on(CreateTableCommand).resolves({});
    ddb.on(DescribeTableCommand).resolves({ Table: { TableStatus: 'ACTIVE' } });
    ddb.on(UpdateTimeToLiveCommand).resolves({});

    // Act
    await ensureTables(new DynamoDBClient({ region: 'local' }), {
      requestLogTable: 'logs',
      statsTable: 'stats',
      deltaTable: 'deltas',
    });
    ddb.restore();

    // Assess: the stack's definitions are the core exports, and local sent exactly them.
    assert.equal(stack.tables.requestLogDefinition, requestLogTable);
    assert.equal(stack.tables.statsDefinition, statsTable);
    assert.equal(stack.tables.deltaDefinition, deltaTable);
    const created = ddb.commandCalls(CreateTableCommand).map((call) => call.args[0].input);
    assert.deepEqual(created, [
      createTableInput(stack.tables.requestLogDefinition, 'logs'),
      createTableInput(stack.tables.statsDefinition, 'stats'),
      createTableInput(stack.tables.deltaDefinition, 'deltas'),
    ]);
    const ttl = ddb.commandCalls(UpdateTimeToLiveCommand).map((call) => call.args[0].input);
    assert.deepEqual(
      ttl.map((input) => input.TimeToLiveSpecification?.AttributeName),
      [
        stack.tables.requestLogDefinition.timeToLiveAttribute,
        stack.tables.statsDefinition.timeToLiveAttribute,
        stack.tables.deltaDefinition.timeToLiveAttribute,
      ],
    );
  });
});
