import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import * as grpc from '@grpc/grpc-js';
import { LIMITS, type RequestLogRecord } from '../../core/record';
import { fromRequestLogItem } from '../../core/requestLogItem';
import { createGrpcMonitor, type GrpcMonitor } from 'grpc-monitor-interceptor';
import { unary, type CallOutcome } from '../fixtures/echoCalls';
import { HUGE_DETAIL_BYTES, startEchoServer, type EchoServer } from '../fixtures/echoServer';
import { startTestDynamo, type TestDynamo } from '../harness/dynamo';

/**
 * Hostile input: the call ends exactly as it does on a server without the monitor, nothing
 * crashes, and what is stored is bounded.
 */
describe('bad input', () => {
  let db: TestDynamo;
  let table: string;
  let deltaTable: string;
  let monitor: GrpcMonitor;
  let monitored: EchoServer;
  let bare: EchoServer;

  before(async () => {
    db = await startTestDynamo();
    const config = await db.createTables();
    table = config.requestLogTable;
    deltaTable = config.deltaTable;
    monitor = createGrpcMonitor({
      tableName: table,
      deltaTableName: deltaTable,
      dynamoDb: db.clientConfig,
      console: false,
      // A resolver that trusts a header blindly: the monitor must still bound what it returns.
      resolveUser: (metadata) => {
        const name = metadata.get('x-user')[0];
        return typeof name === 'string' ? { id: name, username: name } : undefined;
      },
    });
    monitored = await startEchoServer([monitor.interceptor]);
    bare = await startEchoServer([]);
  });

  after(async () => {
    await monitor?.close();
    await monitored?.stop();
    await bare?.stop();
    await db?.stop();
  });

  const essentials = (outcome: CallOutcome) => ({
    code: outcome.code,
    details: outcome.details,
    replies: outcome.replies,
  });

  async function latestRecord(): Promise<RequestLogRecord> {
    await monitor.flush();
    const id = lastEchoedId;
    assert.ok(id, 'the monitored call echoed a request id');
    const { Item } = await db.ddb.send(new GetCommand({ TableName: table, Key: { request_id: id } }));
    assert.ok(Item, `no item for ${id}`);
    assert.ok(Buffer.byteLength(JSON.stringify(Item)) < 64_000, 'the item stays far below 400 KB');
    return fromRequestLogItem(Item);
  }

  let lastEchoedId: string | undefined;
  async function both(run: (server: EchoServer) => Promise<CallOutcome>): Promise<CallOutcome> {
    const [withMonitor, without] = [await run(monitored), await run(bare)];
    assert.deepEqual(essentials(withMonitor), essentials(without), 'the monitor changed the call');
    lastEchoedId = String(
      withMonitor.headers?.get('x-request-id')[0] ?? withMonitor.trailers?.get('x-request-id')[0],
    );
    return withMonitor;
  }

  test('metadata as large as HTTP/2 lets through: call unaffected, every field bounded', async () => {
    const size = 15_000;
    const outcome = await both((server) => {
      const metadata = new grpc.Metadata();
      metadata.set('x-forwarded-for', `${'9'.repeat(size)}, 10.0.0.1`);
      metadata.set('x-request-id', 'r'.repeat(10_000));
      metadata.set('traceparent', `00-${'a'.repeat(size)}`);
      metadata.set('x-user', 'u'.repeat(size));
      metadata.set('x-blob-bin', Buffer.alloc(size, 1));
      const client = server.client({ 'grpc.primary_user_agent': 'agent'.repeat(size / 5) });
      return unary(client, { text: 'big metadata' }, { metadata });
    });
    assert.equal(outcome.code, grpc.status.OK);
    const record = await latestRecord();
    assert.notEqual(record.request_id, 'r'.repeat(10_000));
    assert.ok(record.request_id.length <= LIMITS.requestId);
    assert.equal(record.user_agent!.length, LIMITS.userAgent);
    assert.equal(record.client_ip, '127.0.0.1', 'a first hop that is no IP address falls back to the peer');
    assert.equal(record.trace_id, null);
    assert.equal(record.user!.username.length, LIMITS.username);
    assert.equal(String(record.user!.id).length, LIMITS.username);
  });

  test('1 MB metadata values: the transport refuses them with or without the monitor, which carries on', async () => {
    const before = monitor.stats();
    const outcome = await both((server) => {
      const metadata = new grpc.Metadata();
      metadata.set('x-forwarded-for', 'y'.repeat(1_000_000));
      metadata.set('x-blob-bin', Buffer.alloc(1_000_000, 1));
      return unary(server.client(), { text: 'huge metadata' }, { metadata });
    });
    assert.notEqual(outcome.code, grpc.status.OK);
    // The monitored server still serves and records the next call.
    const next = await both((server) => unary(server.client(), { text: 'after' }));
    assert.equal(next.code, grpc.status.OK);
    const record = await latestRecord();
    assert.equal(record.status, 'success');
    assert.equal(monitor.stats().dropped, before.dropped);
  });

  test('a malformed x-request-id is not kept: the call has only our UUIDv7', async () => {
    for (const bad of ['has spaces', 'a#b', '<script>', 'a/b', '', 'x'.repeat(LIMITS.requestId + 1)]) {
      await both((server) => {
        const metadata = new grpc.Metadata();
        metadata.set('x-request-id', bad);
        return unary(server.client(), { text: 'bad id' }, { metadata });
      });
      const record = await latestRecord();
      assert.notEqual(record.request_id, bad);
      assert.match(record.request_id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-/);
      assert.equal(record.client_request_id, null);
    }
  });

  test('an error with huge message and trailing metadata: call unaffected, details bounded', async () => {
    const outcome = await both((server) => unary(server.client(), { text: 'boom', behavior: 'details' }));
    assert.equal(outcome.code, grpc.status.FAILED_PRECONDITION);
    assert.equal(outcome.details.length, HUGE_DETAIL_BYTES);
    const record = await latestRecord();
    assert.equal(record.status, 'error');
    assert.equal(record.grpc_status_code, 'FAILED_PRECONDITION');
    assert.equal(record.error_message!.length, LIMITS.errorMessage);
    assert.ok(Buffer.byteLength(JSON.stringify(record.error_details)) <= LIMITS.errorDetailsBytes + 200);
  });

  test('a resolveUser that throws records user null and the call goes on (inline writer)', async () => {
    const throwing = createGrpcMonitor({
      tableName: table,
      deltaTableName: deltaTable,
      dynamoDb: db.clientConfig,
      console: false,
      writerThread: false, // the writer on the event loop: the other path of createGrpcMonitor
      resolveUser: () => {
        throw new Error('resolver bug');
      },
    });
    const server = await startEchoServer([throwing.interceptor]);
    try {
      assert.equal(throwing.writerThread, false);
      const outcome = await unary(server.client(), { text: 'resolver' });
      assert.equal(outcome.code, grpc.status.OK);
      await throwing.flush();
      const id = String(outcome.headers?.get('x-request-id')[0]);
      const { Item } = await db.ddb.send(new GetCommand({ TableName: table, Key: { request_id: id } }));
      assert.equal(fromRequestLogItem(Item!).user, null);
      // The inline writer ships deltas too.
      assert.deepEqual(throwing.stats().deltas.calls, { enqueued: 1, written: 1, dropped: 0, queued: 0 });
    } finally {
      await throwing.close();
      await server.stop();
    }
  });
});
