import { randomUUID } from 'node:crypto';
import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { DEFAULTS, type MonitorConfig } from '../../core/config';
import { startDynamoDbLocal, type DynamoDbLocal } from '../../local/dynamoDbLocal';
import { ensureTables } from '../../local/tables';

/** Set by scripts/test.ts: one DynamoDB Local shared by every test file of a run. */
export const SHARED_ENDPOINT_ENV = 'GRPC_MONITOR_TEST_DYNAMODB_ENDPOINT';

export interface TestDynamo {
  readonly clientConfig: DynamoDbLocal['clientConfig'];
  /** Low-level client (no SDK retries, so faults show at once). */
  readonly client: DynamoDBClient;
  /** DocumentClient as the handlers use it. */
  readonly ddb: DynamoDBDocumentClient;
  /** Fresh RequestLog + Stats tables with unique names, and a config that points at them. */
  createTables(overrides?: Partial<MonitorConfig>): Promise<MonitorConfig>;
  /** Every item of a table (a Scan, all pages), as the DocumentClient returns them. */
  scanAll(tableName: string): Promise<Array<Record<string, unknown>>>;
  /** Deletes the tables it created in a shared DynamoDB Local, or stops the one this file started. */
  stop(): Promise<void>;
}

export interface TestDynamoOptions {
  /**
   * Start this file's own DynamoDB Local (free port, stopped by stop()) even when the run has a
   * shared one. For a file whose load would saturate the shared instance (one JVM, one SQLite
   * database) and so slow down, or time out, the files running beside it: the exactly-once test.
   */
  readonly own?: boolean;
}

/**
 * DynamoDB Local for a test file: the run's shared instance when scripts/test.ts started one,
 * else (or with `own`) its own on a free port (so one file can also run alone:
 * `node --import tsx --test f.test.ts`).
 */
export async function startTestDynamo(options: TestDynamoOptions = {}): Promise<TestDynamo> {
  const shared = options.own ? undefined : process.env[SHARED_ENDPOINT_ENV];
  const own = shared ? undefined : await startDynamoDbLocal();
  const clientConfig = own?.clientConfig ?? {
    endpoint: shared!,
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  };
  const client = new DynamoDBClient({ ...clientConfig, maxAttempts: 1 });
  const ddb = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  const created: string[] = [];
  return {
    clientConfig,
    client,
    ddb,
    async createTables(overrides = {}) {
      const id = randomUUID().slice(0, 8);
      const config: MonitorConfig = {
        ...DEFAULTS,
        requestLogTable: `requests-${id}`,
        statsTable: `stats-${id}`,
        deltaTable: `deltas-${id}`,
        ...overrides,
      };
      await ensureTables(client, config);
      created.push(config.requestLogTable, config.statsTable, config.deltaTable);
      return config;
    },
    async scanAll(TableName) {
      const items: Array<Record<string, unknown>> = [];
      let start: Record<string, unknown> | undefined;
      do {
        const page = await ddb.send(new ScanCommand({ TableName, ExclusiveStartKey: start }));
        items.push(...(page.Items ?? []));
        start = page.LastEvaluatedKey;
      } while (start);
      return items;
    },
    async stop() {
      if (shared) {
        await Promise.allSettled(
          created.map((TableName) => client.send(new DeleteTableCommand({ TableName }))),
        );
      }
      client.destroy();
      await own?.stop();
    },
  };
}
