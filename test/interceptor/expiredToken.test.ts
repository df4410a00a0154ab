import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { callItem } from '../../interceptor/callItem';
import { monitorTable } from '../../interceptor/dynamoSender';
import { RequestLogWriter } from '../../interceptor/writer';
import { callFacts } from '../fixtures/callFacts';

/**
 * Issue 18, finding 15: DynamoDB answers ExpiredTokenException when the session token of
 * temporary credentials expired though the provider still thought them valid (a role session
 * cut short, a clock off). The writer re-resolves the credentials and retries with the fresh
 * ones, on both of its senders: its own signed HTTP request and the SDK client's pipeline.
 */

const EXPIRED =
  '{"__type":"com.amazon.coral.service#ExpiredTokenException","message":"The security token included in the request is expired"}';
const WRITER = {
  maxQueueItems: 100,
  maxQueueBytes: 1 << 20,
  flushIntervalMs: 10,
  maxConcurrentWrites: 1,
  maxRetryDelayMs: 20,
};
const ITEM_OPTIONS = { shards: 1, slowThresholdMs: 1000, retentionDays: 30 };

/** A DynamoDB stand-in: answers ExpiredTokenException to the first `expiredAnswers` requests, then success. */
async function stub(): Promise<{
  endpoint: string;
  received: IncomingHttpHeaders[];
  expiredAnswers: number;
  close(): Promise<void>;
}> {
  const state = { received: [] as IncomingHttpHeaders[], expiredAnswers: 1 };
  const server: Server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      state.received.push(request.headers);
      if (state.expiredAnswers > 0) {
        state.expiredAnswers--;
        response.writeHead(400, {
          'content-type': 'application/x-amz-json-1.0',
          date: new Date().toUTCString(),
        });
        response.end(EXPIRED);
        return;
      }
      response.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
      response.end('{"UnprocessedItems":{}}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return Object.assign(state, {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
}

/** Temporary credentials, new ones at each resolution, each valid for an hour as far as the provider knows. */
function rotatingCredentials(): { provider: AwsCredentialIdentityProvider; resolutions: () => number } {
  let n = 0;
  return {
    provider: async () => {
      n++;
      return {
        accessKeyId: `ASIAEXAMPLE${n}`,
        secretAccessKey: `secret-${n}`,
        sessionToken: `session-${n}`,
        expiration: new Date(Date.now() + 3_600_000),
      };
    },
    resolutions: () => n,
  };
}

const keyIdOf = (headers: IncomingHttpHeaders): string =>
  /Credential=([^/]+)\//.exec(String(headers.authorization))?.[1] ?? '';

async function writeOne(dynamoDb: DynamoDBClient | DynamoDBClientConfig): Promise<RequestLogWriter> {
  const table = monitorTable(dynamoDb, 'requests');
  const writer = new RequestLogWriter(table.sendBatch, WRITER);
  try {
    writer.enqueue('r1', callItem(callFacts({ request_id: 'r1' }), ITEM_OPTIONS));
    await writer.flush();
  } finally {
    table.destroy();
  }
  return writer;
}

describe('ExpiredTokenException: retried with fresh credentials', () => {
  let dynamo: Awaited<ReturnType<typeof stub>>;
  before(async () => (dynamo = await stub()));
  after(() => dynamo.close());

  const senders: Array<[string, (config: DynamoDBClientConfig) => DynamoDBClient | DynamoDBClientConfig]> = [
    ['the writer’s own signed request (a client config)', (config) => config],
    ['the SDK client’s pipeline (a client passed in)', (config) => new DynamoDBClient(config)],
  ];
  for (const [name, dynamoDbFor] of senders) {
    test(`${name}: one expired answer, then the write goes through, signed with new credentials`, async () => {
      dynamo.received.length = 0;
      dynamo.expiredAnswers = 1;
      const credentials = rotatingCredentials();
      const writer = await writeOne(
        dynamoDbFor({
          region: 'us-east-1',
          endpoint: dynamo.endpoint,
          maxAttempts: 1,
          credentials: credentials.provider,
        }),
      );
      assert.deepEqual(
        { ...writer.stats(), queued: undefined },
        { enqueued: 1, written: 1, dropped: 0, retried: 1, failed: 0, queued: undefined },
      );
      const keys = dynamo.received.map(keyIdOf);
      // The direct sender resolves its target once with a request the SDK signs but never sends.
      assert.equal(keys.length, 2, `requests: ${keys.join(', ')}`);
      assert.notEqual(keys[0], keys[1], 'the retry is signed with credentials resolved after the refusal');
      assert.equal(keys[1], `ASIAEXAMPLE${credentials.resolutions()}`);
    });
  }

  test('credentials that come back the same (static keys) are not retried forever: the item fails', async () => {
    dynamo.received.length = 0;
    dynamo.expiredAnswers = 1_000;
    const writer = await writeOne({
      region: 'us-east-1',
      endpoint: dynamo.endpoint,
      maxAttempts: 1,
      credentials: { accessKeyId: 'AKIDSTATIC', secretAccessKey: 's', sessionToken: 'stale' },
    });
    assert.deepEqual(
      { ...writer.stats(), queued: undefined },
      { enqueued: 1, written: 0, dropped: 1, retried: 0, failed: 1, queued: undefined },
    );
    assert.equal(dynamo.received.length, 1);
  });
});
