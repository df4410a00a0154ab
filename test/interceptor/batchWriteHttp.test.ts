import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { BatchWriteItemCommand, DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import {
  answerError,
  batchWriteBody,
  batchWriteHttp,
  correctedClockOffset,
  resolveBatchWriteTarget,
  unprocessedItems,
} from '../../interceptor/batchWriteHttp';
import { fromRequestLogItem } from '../../core/requestLogItem';
import { EncodedItem, encodeRequestLogItem } from '../../interceptor/attributeValues';
import { callItem } from '../../interceptor/callItem';
import { WRITE_TIMEOUTS } from '../../interceptor/dynamoSender';
import { isRetryableWriteError } from '../../interceptor/retryPolicy';
import type { QueuedItem } from '../../interceptor/writer';
import { callFacts } from '../fixtures/callFacts';
import { startTestDynamo, type TestDynamo } from '../harness/dynamo';

const OPTIONS = { shards: 4, slowThresholdMs: 1000, retentionDays: 30 };
const CREDENTIALS = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
};

const queued = (id: string, overrides = {}): QueuedItem & { item: Record<string, unknown> } => ({
  key: id,
  item: callItem(callFacts({ request_id: id, user: { id: 7, username: 'alice' }, ...overrides }), OPTIONS),
});

/** An item as stored: null fields left out but client_request_id (see requestLogAttributeMap). */
const withoutNulls = (item: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(item).filter(([k, v]) => v !== null || k === 'client_request_id'));

describe('batchWriteHttp: the pure parts', () => {
  test('the body is the BatchWriteItem the DocumentClient would marshal, without null fields', () => {
    const items = [queued('a'), queued('b', { status: 'error', code: 5, details: 'not "found" ✓' })];
    assert.deepEqual(JSON.parse(batchWriteBody('requests', items)), {
      RequestItems: {
        requests: items.map(({ item }) => ({
          PutRequest: { Item: marshall(withoutNulls(item), { removeUndefinedValues: true }) },
        })),
      },
    });
  });

  test('items encoded as they are queued make the same body', () => {
    const items = [queued('a'), queued('b', { status: 'error', code: 5, details: 'not "found" ✓' })];
    const encoded = items.map(({ key, item }) => ({ key, item: encodeRequestLogItem(item) }));
    assert.equal(batchWriteBody('requests', encoded), batchWriteBody('requests', items));
    assert.ok(encoded.every(({ item }) => item instanceof EncodedItem));
  });

  test('unprocessed items are found by request_id; an answer without them leaves none', () => {
    const sent = [queued('a'), queued('b'), queued('c')];
    const left = (ids: string[]) =>
      ids.map((id) => ({ PutRequest: { Item: { request_id: { S: id }, n: { N: '1' } } } }));
    assert.deepEqual(unprocessedItems(left(['c', 'a']), sent), [sent[0], sent[2]]);
    assert.deepEqual(unprocessedItems([], sent), []);
    assert.deepEqual(unprocessedItems(undefined, sent), []);
  });

  test('error answers become errors the writer classifies like the SDK’s', () => {
    const throttled = answerError(
      400,
      '{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"slow down"}',
    );
    assert.equal(throttled.name, 'ProvisionedThroughputExceededException');
    assert.equal(throttled.message, 'slow down');
    assert.equal(throttled.$fault, 'client');
    assert.equal(isRetryableWriteError(throttled), true);

    const missing = answerError(
      400,
      '{"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException","Message":"no table"}',
    );
    assert.deepEqual([missing.name, missing.message], ['ResourceNotFoundException', 'no table']);
    assert.equal(isRetryableWriteError(missing), false);

    const fault = answerError(500, '{"__type":"com.amazonaws.dynamodb#InternalServerError"}');
    assert.deepEqual(
      [fault.name, fault.$fault, fault.$metadata.httpStatusCode],
      ['InternalServerError', 'server', 500],
    );
    assert.equal(isRetryableWriteError(fault), true);

    const proxy = answerError(502, '<html>Bad gateway</html>');
    assert.deepEqual([proxy.name, proxy.message], ['Http502Error', 'DynamoDB answered 502']);
    assert.equal(isRetryableWriteError(proxy), true);
  });

  test('the clock offset moves only when the server’s clock is 5 min or more away', () => {
    const now = Date.UTC(2026, 10, 29, 12, 0, 0);
    const date = (ms: number) => new Date(ms).toUTCString();
    assert.equal(correctedClockOffset(0, date(now + 299_000), now), 0);
    assert.equal(correctedClockOffset(0, date(now + 3_600_000), now), 3_600_000);
    assert.equal(correctedClockOffset(3_600_000, date(now + 3_600_000), now), 3_600_000);
    assert.equal(correctedClockOffset(3_600_000, date(now), now), 0);
    assert.equal(correctedClockOffset(42, 'not a date', now), 42);
    assert.equal(correctedClockOffset(42, undefined, now), 42);
  });
});

describe('resolveBatchWriteTarget: where the SDK client would send it, without sending', () => {
  test('a region’s public endpoint, signed for that region and dynamodb', async () => {
    const client = new DynamoDBClient({ region: 'eu-west-1', credentials: CREDENTIALS });
    assert.deepEqual(await resolveBatchWriteTarget(client, 'requests'), {
      protocol: 'https:',
      hostname: 'dynamodb.eu-west-1.amazonaws.com',
      port: undefined,
      path: '/',
      signingRegion: 'eu-west-1',
      signingService: 'dynamodb',
    });
  });

  test('a configured endpoint with its port and path', async () => {
    const client = new DynamoDBClient({
      region: 'local',
      endpoint: 'http://127.0.0.1:1/ddb',
      credentials: CREDENTIALS,
    });
    assert.deepEqual(await resolveBatchWriteTarget(client, 'requests'), {
      protocol: 'http:',
      hostname: '127.0.0.1',
      port: 1,
      path: '/ddb/', // the SDK's own choice for a base path
      signingRegion: 'local',
      signingService: 'dynamodb',
    });
  });

  test('missing credentials fail the batch, and the next batch resolves again', async () => {
    let calls = 0;
    const client = new DynamoDBClient({
      region: 'local',
      endpoint: 'http://127.0.0.1:1',
      credentials: async () => {
        calls++;
        if (calls === 1) throw new Error('no credentials yet');
        return CREDENTIALS;
      },
    });
    const sender = batchWriteHttp(client, 'requests', { connectionTimeoutMs: 500, requestTimeoutMs: 500 });
    try {
      await assert.rejects(sender.send([queued('a')]), /no credentials yet/);
      // Resolved now; port 1 refuses the connection: a network error, which the writer retries.
      const error = await sender.send([queued('a')]).then(
        () => assert.fail('port 1 answered'),
        (caught: unknown) => caught,
      );
      assert.match(String((error as Error).message), /ECONNREFUSED/);
      assert.equal(isRetryableWriteError(error), true);
    } finally {
      sender.destroy();
    }
  });
});

/** A SigV4 check written from AWS's documented algorithm, independent of @smithy/signature-v4. */
function verifySigV4(request: {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}): {
  valid: boolean;
  scope: string;
} {
  const authorization = String(request.headers.authorization);
  const [, keyId, scope, signedHeaders, signature] =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/([^,]+), SignedHeaders=([^,]+), Signature=([0-9a-f]+)$/.exec(
      authorization,
    ) ?? [];
  assert.equal(keyId, CREDENTIALS.accessKeyId);
  const [day, region, service] = scope!.split('/');
  const sha256 = (data: string) => createHash('sha256').update(data).digest('hex');
  const canonical = [
    request.method,
    request.path,
    '',
    ...signedHeaders!.split(';').map((name) => `${name}:${String(request.headers[name]).trim()}`),
    '',
    signedHeaders,
    sha256(request.body),
  ].join('\n');
  const stringToSign = ['AWS4-HMAC-SHA256', request.headers['x-amz-date'], scope, sha256(canonical)].join(
    '\n',
  );
  const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();
  let key = hmac(`AWS4${CREDENTIALS.secretAccessKey}`, day!);
  for (const part of [region!, service!, 'aws4_request']) key = hmac(key, part);
  return { valid: hmac(key, stringToSign).toString('hex') === signature, scope: scope! };
}

interface Received {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** An HTTP server that records each request and answers with the next queued answer (or never). */
async function stubDynamo(): Promise<{
  config: DynamoDBClientConfig;
  received: Received[];
  answers: Array<((response: ServerResponse) => void) | 'never'>;
  close(): Promise<void>;
}> {
  const received: Received[] = [];
  const answers: Array<((response: ServerResponse) => void) | 'never'> = [];
  const server: Server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    request.on('end', () => {
      received.push({ method: request.method!, path: request.url!, headers: request.headers, body });
      const answer = answers.shift() ?? ((r: ServerResponse) => r.end('{}'));
      if (answer !== 'never') answer(response);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    config: {
      region: 'us-east-1',
      endpoint: `http://127.0.0.1:${port}`,
      credentials: CREDENTIALS,
      maxAttempts: 1,
    },
    received,
    answers,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

describe('batchWriteHttp against a stub: signing, unprocessed items, clock skew, timeouts', () => {
  let stub: Awaited<ReturnType<typeof stubDynamo>>;
  before(async () => (stub = await stubDynamo()));
  after(() => stub.close());

  /** A sender and its client on the stub; both released, and the stub's log cleared, afterwards. */
  async function withSender(
    run: (sender: ReturnType<typeof batchWriteHttp>, client: DynamoDBClient) => Promise<void>,
    timeouts = WRITE_TIMEOUTS,
  ): Promise<void> {
    const client = new DynamoDBClient(stub.config);
    const sender = batchWriteHttp(client, 'requests', timeouts);
    try {
      await run(sender, client);
    } finally {
      stub.received.length = 0;
      sender.destroy();
      client.destroy();
    }
  }

  test('its requests carry a valid SigV4 signature, as the SDK’s do, with the same scope', () =>
    withSender(async (sender, client) => {
      const items = [queued('a'), queued('b')];
      await sender.send(items);
      await client.send(new BatchWriteItemCommand(JSON.parse(batchWriteBody('requests', items))));
      const [ours, sdks] = stub.received.splice(0);
      const mine = verifySigV4(ours!);
      const theirs = verifySigV4(sdks!);
      assert.equal(theirs.valid, true, 'the check accepts the SDK’s own signature');
      assert.equal(mine.valid, true);
      assert.equal(mine.scope, theirs.scope);
      assert.equal(ours!.headers['x-amz-target'], sdks!.headers['x-amz-target']);
      assert.equal(ours!.headers['content-type'], sdks!.headers['content-type']);
      assert.deepEqual(JSON.parse(ours!.body), JSON.parse(sdks!.body));

      // The check can fail: a changed body no longer matches the signature.
      assert.equal(verifySigV4({ ...ours!, body: ours!.body.replace('alice', 'mallory') }).valid, false);
    }));

  test('items DynamoDB left unprocessed come back to the writer', () =>
    withSender(async (sender) => {
      const items = [queued('a'), queued('b'), queued('c')];
      stub.answers.push((response) =>
        response.end(
          JSON.stringify({
            UnprocessedItems: { requests: [{ PutRequest: { Item: { request_id: { S: 'b' } } } }] },
          }),
        ),
      );
      assert.deepEqual(await sender.send(items), [items[1]]);
    }));

  test('an answer that shows our clock is off corrects it, and the error is retried', () =>
    withSender(async (sender, client) => {
      const serverNow = Date.now() + 3_600_000;
      stub.answers.push((response) => {
        response.writeHead(400, { date: new Date(serverNow).toUTCString() });
        response.end(
          '{"__type":"com.amazon.coral.service#InvalidSignatureException","message":"Signature expired"}',
        );
      });
      const error = await sender.send([queued('a')]).then(
        () => assert.fail('the stub refused it'),
        (caught: unknown) => caught,
      );
      assert.equal((error as Error).name, 'InvalidSignatureException');
      assert.equal(
        isRetryableWriteError(error),
        true,
        'retried: the next signature uses the corrected clock',
      );
      assert.ok(Math.abs(client.config.systemClockOffset - 3_600_000) < 5_000);

      await sender.send([queued('a')]);
      const signedAt = (request: Received) =>
        Date.parse(
          String(request.headers['x-amz-date']).replace(
            /^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/,
            '$1-$2-$3T$4:$5:$6Z',
          ),
        );
      const [first, second] = stub.received.splice(0);
      assert.ok(Math.abs(signedAt(first!) - Date.now()) < 10_000, 'the first was signed with our clock');
      assert.ok(Math.abs(signedAt(second!) - serverNow) < 10_000, 'the second with the server’s');
    }));

  test('a refusal that says nothing about the clock is not retried', () =>
    withSender(async (sender) => {
      stub.answers.push((response) => {
        response.writeHead(400, { date: new Date().toUTCString() });
        response.end('{"__type":"com.amazon.coral.service#AccessDeniedException","message":"no"}');
      });
      await assert.rejects(sender.send([queued('a')]), (error: unknown) => {
        assert.equal((error as Error).name, 'AccessDeniedException');
        assert.equal(isRetryableWriteError(error), false);
        return true;
      });
    }));

  test('a server that never answers fails the request after the request timeout', () =>
    withSender(
      async (sender) => {
        stub.answers.push('never');
        const started = Date.now();
        await assert.rejects(sender.send([queued('a')]), (error: unknown) => {
          assert.equal((error as Error).name, 'TimeoutError');
          assert.equal(isRetryableWriteError(error), true);
          return true;
        });
        assert.ok(Date.now() - started < 3_000);
      },
      { connectionTimeoutMs: 2_000, requestTimeoutMs: 300 },
    ));
});

describe('batchWriteHttp against DynamoDB Local', () => {
  let dynamo: TestDynamo;
  let table: string;
  before(async () => {
    dynamo = await startTestDynamo();
    table = (await dynamo.createTables()).requestLogTable;
  });
  after(() => dynamo.stop());

  test('batches land as the items the writer queued', async () => {
    const client = new DynamoDBClient({ ...dynamo.clientConfig, maxAttempts: 1 });
    const sender = batchWriteHttp(client, table, WRITE_TIMEOUTS);
    const items = Array.from({ length: 60 }, (_, i) =>
      queued(`id-${i}`, i % 3 ? {} : { status: 'error', code: 13, details: `boom ${i} “quoted”` }),
    );
    try {
      for (let i = 0; i < items.length; i += 25) {
        assert.deepEqual(await sender.send(items.slice(i, i + 25)), []);
      }
      const stored = await dynamo.scanAll(table);
      const byId = new Map(stored.map((item) => [item.request_id, item]));
      assert.equal(stored.length, 60);
      for (const { key, item } of items) {
        assert.deepEqual(byId.get(key), JSON.parse(JSON.stringify(withoutNulls(item))), key);
        assert.deepEqual(fromRequestLogItem(byId.get(key)!), fromRequestLogItem(item), key);
      }
    } finally {
      sender.destroy();
      client.destroy();
    }
  });

  test('DynamoDB’s refusals arrive named, and only the transient ones are retried', async () => {
    const client = new DynamoDBClient({ ...dynamo.clientConfig, maxAttempts: 1 });
    const missing = batchWriteHttp(client, 'no-such-table', WRITE_TIMEOUTS);
    const sender = batchWriteHttp(client, table, WRITE_TIMEOUTS);
    try {
      await assert.rejects(missing.send([queued('a')]), (error: unknown) => {
        assert.equal((error as Error).name, 'ResourceNotFoundException');
        assert.equal(isRetryableWriteError(error), false);
        return true;
      });
      // Two puts of one key in one batch: DynamoDB refuses the request.
      await assert.rejects(sender.send([queued('twice'), queued('twice')]), (error: unknown) => {
        assert.equal((error as Error).name, 'ValidationException');
        assert.equal(isRetryableWriteError(error), false);
        return true;
      });
    } finally {
      missing.destroy();
      sender.destroy();
      client.destroy();
    }
  });
});
