import {
  CreateTableCommand,
  DescribeTableCommand,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import {
  createTableInput,
  deltaTable,
  requestLogTable,
  statsTable,
  type TableDefinition,
} from '../core/tables';

export interface TableNames {
  readonly requestLogTable: string;
  readonly statsTable: string;
  readonly deltaTable: string;
}

/** Creates one table from its core definition (if missing), waits for it, and turns on TTL. */
export async function ensureTable(
  client: DynamoDBClient,
  definition: TableDefinition,
  tableName: string,
): Promise<void> {
  try {
    await client.send(new CreateTableCommand(createTableInput(definition, tableName)));
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  for (let i = 0; i < 100; i++) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    if (Table?.TableStatus === 'ACTIVE') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  try {
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: definition.timeToLiveAttribute, Enabled: true },
      }),
    );
  } catch (error) {
    // Already enabled (a kept --data-dir): DynamoDB answers ValidationException.
    if ((error as Error).name !== 'ValidationException') throw error;
  }
}

/** The RequestLog, Stats and Deltas tables, from the same definitions the stack deploys. */
export async function ensureTables(client: DynamoDBClient, names: TableNames): Promise<void> {
  await ensureTable(client, requestLogTable, names.requestLogTable);
  await ensureTable(client, statsTable, names.statsTable);
  await ensureTable(client, deltaTable, names.deltaTable);
}
