import {
  BatchWriteItemCommand,
  DynamoDBClient,
  type AttributeValue,
  type DynamoDBClientConfig,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { EncodedItem, encodeRequestLogItem, requestLogAttributeMap, toAttributeMap } from './attributeValues';
import { batchWriteHttp, unprocessedItems, type KeyAttribute } from './batchWriteHttp';
import { refreshAfterExpiredToken } from './retryPolicy';
import { configFromEnv } from '../core/config';
import type { BatchSender, QueuedItem } from './writer';

/** The monitor's DynamoDB access: BatchWriteItem for records and deltas, PutItem for heartbeats. */
export interface MonitorTable {
  readonly sendBatch: BatchSender;
  /** BatchWriteItem to the Deltas table (queue keys: deltaQueueKey). */
  readonly sendDeltaBatch: BatchSender;
  put(item: Record<string, unknown>): Promise<void>;
  /** A RequestLog item as `sendBatch` wants it queued (encoded once, for the direct path). */
  encode(item: Record<string, unknown>): QueuedItem['item'];
  /** Destroys the client when the monitor built it (a client the user passed stays theirs). */
  destroy(): void;
}

/** The writer's request timeouts, through the SDK or batchWriteHttp alike. */
export const WRITE_TIMEOUTS = { connectionTimeoutMs: 2_000, requestTimeoutMs: 5_000 };

/**
 * Our writer retries with its own backoff, so a client we build makes one attempt per send and
 * gives up on a silent endpoint after a few seconds instead of hanging a batch forever.
 */
function ownClient(config: DynamoDBClientConfig): DynamoDBClient {
  return new DynamoDBClient({
    maxAttempts: 1,
    requestHandler: {
      connectionTimeout: WRITE_TIMEOUTS.connectionTimeoutMs,
      requestTimeout: WRITE_TIMEOUTS.requestTimeoutMs,
    },
    ...config,
  });
}

/** The writer's key of a delta item: its table key, `pk` and `sk`. */
export const deltaQueueKey = (pk: string, sk: string): string => `${pk} ${sk}`;
const deltaKeyOf = (item: Record<string, KeyAttribute | undefined>): string =>
  deltaQueueKey(item.pk?.S ?? '', item.sk?.S ?? '');

export function monitorTable(
  dynamoDb: DynamoDBClient | DynamoDBClientConfig,
  tableName: string,
  deltaTableName: string = configFromEnv().deltaTable,
): MonitorTable {
  const owned = !(dynamoDb instanceof DynamoDBClient);
  const client = dynamoDb instanceof DynamoDBClient ? dynamoDb : ownClient(dynamoDb);
  const ddb = DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: true },
  });
  // Batches from a client we built go out as signed HTTP requests of our own (half the CPU per
  // item); a client passed in, or a config with its own requestHandler (a proxy, say), keeps the
  // SDK's whole pipeline, so its middleware and handler see every request.
  const direct =
    dynamoDb instanceof DynamoDBClient || dynamoDb.requestHandler
      ? undefined
      : batchWriteHttp(client, tableName, WRITE_TIMEOUTS);
  return {
    sendBatch: direct?.send ?? sdkBatchSender(client, tableName, undefined, requestLogAttributeMap),
    // A few delta items per flush: the SDK's pipeline costs nothing that matters here, and it
    // marshals their binary cells (the direct path's JSON body has no bytes).
    sendDeltaBatch: sdkBatchSender(client, deltaTableName, deltaKeyOf),
    encode: direct ? encodeRequestLogItem : (item) => item,
    async put(item) {
      await ddb.send(new PutCommand({ TableName: tableName, Item: item }));
    },
    destroy() {
      direct?.destroy();
      if (owned) client.destroy();
    },
  };
}

/** BatchWriteItem through the SDK client's own pipeline. */
function sdkBatchSender(
  client: DynamoDBClient,
  tableName: string,
  keyOf?: Parameters<typeof unprocessedItems>[2],
  attributes: typeof toAttributeMap = toAttributeMap,
): BatchSender {
  return async (items) => {
    const command = new BatchWriteItemCommand({
      RequestItems: {
        [tableName]: items.map(({ item }) => ({
          PutRequest: {
            Item:
              item instanceof EncodedItem
                ? (JSON.parse(item.json) as Record<string, AttributeValue>)
                : attributes(item),
          },
        })),
      },
    });
    try {
      const result = await client.send(command);
      return unprocessedItems(
        result.UnprocessedItems?.[tableName] as Parameters<typeof unprocessedItems>[0],
        items,
        keyOf,
      );
    } catch (error) {
      await refreshAfterExpiredToken(error, client.config.credentials);
      throw error;
    }
  };
}
