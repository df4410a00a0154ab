import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import type { RequestLogRecord } from '../../core/record';
import { fromRequestLogItem } from '../../core/requestLogItem';
import { createGrpcMonitor, GrpcMonitorConfigError, type GrpcMonitorOptions } from 'grpc-monitor-interceptor';
import { forwardedChain, forwardedClient, trustedProxyMatcher } from '../../interceptor/callContext';
import { unary } from '../fixtures/echoCalls';
import { echoService, EchoServiceClient, type EchoReply, type EchoRequest } from '../fixtures/echoServer';
import { startTestDynamo, type TestDynamo } from '../harness/dynamo';

/**
 * Issue 18, findings 5 and 6: what a hostile gRPC client (or a careless handler) can make the
 * monitor store. Real grpc-js clients and servers, real DynamoDB Local.
 */

/** Trailers a failing handler sends: credentials beside one harmless debugging key. */
const SECRET_TRAILERS: Record<string, string> = {
  authorization: 'Bearer eyJhbGciOi.secret',
  cookie: 'session=abc123',
  'set-cookie': 'session=abc123; HttpOnly',
  'x-session-token': 'tok-123',
  'x-client-secret': 'sec-456',
  'db-password': 'hunter2',
  'debug-info': 'retry later',
};

const implementation: grpc.UntypedServiceImplementation = {
  Unary(call: grpc.ServerUnaryCall<EchoRequest, EchoReply>, callback: grpc.sendUnaryData<EchoReply>) {
    if (call.request.behavior === 'secret_trailers') {
      const metadata = new grpc.Metadata();
      for (const [key, value] of Object.entries(SECRET_TRAILERS)) metadata.set(key, value);
      callback(Object.assign(new Error('denied'), { code: grpc.status.PERMISSION_DENIED, metadata }));
      return;
    }
    callback(null, { text: call.request.text ?? '', index: 0 });
  },
};

interface Monitored {
  readonly client: grpc.Client;
  close(): Promise<void>;
}

describe('a hostile gRPC client and a careless handler', () => {
  let db: TestDynamo;
  let table: string;
  const started: Monitored[] = [];

  before(async () => {
    db = await startTestDynamo();
    table = (await db.createTables()).requestLogTable;
  });
  after(async () => {
    for (const m of started) await m.close();
    await db?.stop();
  });

  /** A real server on 127.0.0.1 with a monitor of these options, and a client of it. */
  async function serve(options: Partial<GrpcMonitorOptions> = {}): Promise<{
    call(request: EchoRequest, headers?: Record<string, string>): Promise<RequestLogRecord>;
  }> {
    const monitor = createGrpcMonitor({
      tableName: table,
      dynamoDb: db.clientConfig,
      console: false,
      ...options,
    });
    const server = new grpc.Server({ interceptors: [monitor.interceptor] });
    server.addService(echoService, implementation);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) =>
        error ? reject(error) : resolve(bound),
      ),
    );
    const client = new EchoServiceClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    started.push({
      client,
      async close() {
        client.close();
        await monitor.close();
        server.forceShutdown();
      },
    });
    let n = 0;
    return {
      async call(request, headers = {}) {
        const metadata = new grpc.Metadata();
        const requestId = `hostile-${port}-${n++}`;
        metadata.set('x-request-id', requestId);
        for (const [key, value] of Object.entries(headers)) metadata.set(key, value);
        await unary(client, request, { metadata });
        await monitor.flush();
        // The key is the server's own id; the client's is kept as client_request_id.
        const Item = (await db.scanAll(table)).find((item) => item.client_request_id === requestId);
        assert.ok(Item, `no item for ${requestId}`);
        return fromRequestLogItem(Item);
      },
    };
  }

  describe('client_ip cannot be forged with x-forwarded-for (finding 5)', () => {
    test('by default nobody is trusted: the peer address is recorded, the header kept apart', async () => {
      const server = await serve();
      const record = await server.call({ text: 'hi' }, { 'x-forwarded-for': '6.6.6.6' });
      assert.equal(record.client_ip, '127.0.0.1');
      assert.equal(record.forwarded_for, '6.6.6.6');

      const plain = await server.call({ text: 'no header' });
      assert.equal(plain.client_ip, '127.0.0.1');
      assert.equal(plain.forwarded_for, undefined, 'absent without the header');
    });

    test('a peer that is no trusted proxy is not believed, even with proxies configured', async () => {
      const server = await serve({ trustedProxies: ['10.0.0.0/8'] });
      const record = await server.call({ text: 'hi' }, { 'x-forwarded-for': '6.6.6.6, 10.0.0.1' });
      assert.equal(record.client_ip, '127.0.0.1');
      assert.equal(record.forwarded_for, '6.6.6.6, 10.0.0.1');
    });

    test('behind trusted proxies: the right-most hop that is not a trusted proxy', async () => {
      const server = await serve({ trustedProxies: ['127.0.0.1', '10.0.0.0/8'] });
      // The client wrote 6.6.6.6; the edge proxy appended the address it saw (203.0.113.7),
      // an inner proxy its own peer (10.1.2.3).
      const record = await server.call(
        { text: 'hi' },
        { 'x-forwarded-for': '6.6.6.6, 203.0.113.7, 10.1.2.3' },
      );
      assert.equal(record.client_ip, '203.0.113.7');
      assert.equal(record.forwarded_for, '6.6.6.6, 203.0.113.7, 10.1.2.3');

      const garbage = await server.call({ text: 'hi' }, { 'x-forwarded-for': 'not-an-ip' });
      assert.equal(garbage.client_ip, '127.0.0.1', 'a hop that is no address: the peer');

      const huge = await server.call(
        { text: 'hi' },
        { 'x-forwarded-for': `${'9.9.9.9, '.repeat(1_000)}198.51.100.4` },
      );
      assert.equal(huge.client_ip, '198.51.100.4');
      assert.ok(huge.forwarded_for!.length <= 500 && huge.forwarded_for!.endsWith('9.9.9.9, 198.51.100.4'));
    });

    test('trustedProxies entries are checked', async () => {
      for (const entry of ['10.0.0.0/33', 'proxy.local', '10.0.0.1/8/8']) {
        let monitor: ReturnType<typeof createGrpcMonitor> | undefined;
        assert.throws(
          () =>
            (monitor = createGrpcMonitor({ tableName: 't', writerThread: false, trustedProxies: [entry] })),
          GrpcMonitorConfigError,
          entry,
        );
        await monitor?.close({ timeoutMs: 0 });
      }
    });

    test('the pure parts: matching, the walk, the bound', () => {
      const trusted = trustedProxyMatcher(['10.0.0.0/8', '::1', 'fd00::/8'])!;
      assert.equal(trusted('10.200.0.1'), true);
      assert.equal(trusted('::ffff:10.200.0.1'), true);
      assert.equal(trusted('::1'), true);
      assert.equal(trusted('fd12::5'), true);
      assert.equal(trusted('11.0.0.1'), false);
      assert.equal(trustedProxyMatcher([]), undefined);
      const peer = { address: '10.0.0.2', port: 1 };
      assert.equal(forwardedClient('1.1.1.1, [2001:db8::1]:443', peer, trusted), '2001:db8::1');
      assert.equal(forwardedClient('203.0.113.9:5000, 10.0.0.3', peer, trusted), '203.0.113.9');
      assert.equal(
        forwardedClient('10.0.0.9, 10.0.0.3', peer, trusted),
        '10.0.0.9',
        'all trusted: the left-most',
      );
      assert.equal(forwardedClient('1.1.1.1', { address: '8.8.8.8' }, trusted), null);
      assert.equal(forwardedClient('1.1.1.1', peer, undefined), null);
      assert.equal(forwardedChain(` ${'a'.repeat(600)}, 1.2.3.4 `), '1.2.3.4');
    });
  });

  describe('error_details keeps no credentials from trailing metadata (finding 6)', () => {
    const storedKeys = (record: RequestLogRecord): string[] =>
      Object.keys(
        (record.error_details as { metadata?: Record<string, unknown> } | null)?.metadata ?? {},
      ).sort();

    test('by default: authorization, cookies and keys naming a token, secret or password are dropped', async () => {
      const server = await serve();
      const record = await server.call({ behavior: 'secret_trailers' });
      assert.equal(record.grpc_status_code, 'PERMISSION_DENIED');
      assert.deepEqual(storedKeys(record), ['debug-info']);
      const json = JSON.stringify(record);
      for (const secret of ['eyJhbGciOi', 'abc123', 'tok-123', 'sec-456', 'hunter2']) {
        assert.ok(!json.includes(secret), `${secret} was stored`);
      }
    });

    test('an allow-list keeps only the keys named (and never a sensitive one)', async () => {
      const server = await serve({ errorMetadata: { allow: ['debug-info', 'Authorization'] } });
      assert.deepEqual(storedKeys(await server.call({ behavior: 'secret_trailers' })), ['debug-info']);
    });

    test('more words to drop, or a predicate that decides alone', async () => {
      const dropMore = await serve({ errorMetadata: { drop: ['debug'] } });
      assert.deepEqual(storedKeys(await dropMore.call({ behavior: 'secret_trailers' })), []);
      const none = await serve({ errorMetadata: () => false });
      const record = await none.call({ behavior: 'secret_trailers' });
      assert.deepEqual(storedKeys(record), []);
      assert.equal((record.error_details as { code: string }).code, 'PERMISSION_DENIED');
    });
  });
});
