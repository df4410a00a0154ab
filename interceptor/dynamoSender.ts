import { BatchWriteItemCommand, DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { toAttributeMap } from './attributeValues';
import type { BatchSender, QueuedItem } from './writer';

/** The monitor's DynamoDB access: BatchWriteItem for records, PutItem for heartbeats. */
export interface MonitorTable {
  readonly sendBatch: BatchSender;
  put(item: Record<string, unknown>): Promise<void>;
  /** Destroys the client when the monitor built it (a client the user passed stays theirs). */
  destroy(): void;
}

/**
 * Our writer retries with its own backoff, so a client we build makes one attempt per send and
 * gives up on a silent endpoint after a few seconds instead of hanging a batch forever.
 */
function ownClient(config: DynamoDBClientConfig): DynamoDBClient {
  return new DynamoDBClient({
    maxAttempts: 1,
    requestHandler: { connectionTimeout: 2_000, requestTimeout: 5_000 },
    ...config,
  });
}

export function monitorTable(
  dynamoDb: DynamoDBClient | DynamoDBClientConfig,
  tableName: string,
): MonitorTable {
  const owned = !(dynamoDb instanceof DynamoDBClient);
  const client = dynamoDb instanceof DynamoDBClient ? dynamoDb : ownClient(dynamoDb);
  const ddb = DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: true },
  });
  return {
    async sendBatch(items: readonly QueuedItem[]): Promise<readonly QueuedItem[]> {
      // The low-level command with items marshalled by toAttributeMap: the writer's hot path.
      const result = await client.send(
        new BatchWriteItemCommand({
          RequestItems: {
            [tableName]: items.map(({ item }) => ({ PutRequest: { Item: toAttributeMap(item) } })),
          },
        }),
      );
      const left = result.UnprocessedItems?.[tableName];
      if (!left || left.length === 0) return [];
      const keys = new Set(left.map((request) => request.PutRequest?.Item?.request_id?.S));
      return items.filter((queued) => keys.has(queued.key));
    },
    async put(item) {
      await ddb.send(new PutCommand({ TableName: tableName, Item: item }));
    },
    destroy() {
      if (owned) client.destroy();
    },
  };
}
