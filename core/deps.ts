import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { MonitorConfig } from './config';

/**
 * What every handler is built from. In AWS, `depsFromEnv()` (lambdas/shared) builds it once per
 * container; locally and in tests `startLocal`/the test builds it, pointing at DynamoDB Local.
 */
export interface MonitorDeps {
  readonly ddb: DynamoDBDocumentClient;
  readonly config: MonitorConfig;
  /** The clock, injectable so window maths can be tested. */
  readonly now: () => Date;
}

/** A DocumentClient from a DynamoDBClient or its config, with the marshalling we rely on. */
export function documentClient(client: DynamoDBClient | DynamoDBClientConfig): DynamoDBDocumentClient {
  const base = client instanceof DynamoDBClient ? client : new DynamoDBClient(client);
  return DynamoDBDocumentClient.from(base, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
}
