import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import * as grpc from '@grpc/grpc-js';
import { cellsOfItem } from '../../core/deltas';
import type { RequestLogRecord } from '../../core/record';
import { fromRequestLogItem } from '../../core/requestLogItem';
import { createGrpcMonitor, type GrpcMonitor } from 'grpc-monitor-interceptor';
import { chat, collect, expand, unary, type CallOutcome, type CallControl } from '../fixtures/echoCalls';
import {
  NOT_FOUND_MESSAGE,
  SERVICE_PATH,
  THROWN_MESSAGE,
  repliesFor,
  replyBytes,
  requestBytes,
  startEchoServer,
  type EchoReply,
  type EchoRequest,
  type EchoServer,
} from '../fixtures/echoServer';
import { startTestDynamo, type TestDynamo } from '../harness/dynamo';

/**
 * Real grpc-js server and client, real DynamoDB Local: for every RPC kind and every way a call
 * can end, the stored item matches what the client did, field by field.
 */

type Kind = 'Unary' | 'Collect' | 'Expand' | 'Chat';
type Outcome = 'ok' | 'not_found' | 'throw' | 'deadline' | 'cancel';

interface Expected {
  status: RequestLogRecord['status'];
  code: string;
  requests: EchoRequest[];
  replies: EchoReply[];
}

/** What each kind sends for each outcome, and what the server answers. */
function scenario(kind: Kind, outcome: Outcome): Expected & { control: CallControl } {
  const behavior = outcome === 'deadline' || outcome === 'cancel' ? 'hang' : outcome;
  const control: CallControl =
    outcome === 'deadline' ? { deadlineMs: 400 } : outcome === 'cancel' ? { cancelAfterMs: 150 } : {};
  const status: Expected['status'] =
    outcome === 'ok'
      ? 'success'
      : outcome === 'deadline'
        ? 'timeout'
        : outcome === 'cancel'
          ? 'cancelled'
          : 'error';
  const code = {
    ok: 'OK',
    not_found: 'NOT_FOUND',
    throw: 'UNKNOWN',
    deadline: 'DEADLINE_EXCEEDED',
    cancel: 'CANCELLED',
  }[outcome];
  const failed = outcome !== 'ok';
  switch (kind) {
    case 'Unary': {
      const request = { text: `unary-${outcome}`, behavior };
      return {
        status,
        code,
        control,
        requests: [request],
        replies: failed ? [] : repliesFor({ text: request.text }),
      };
    }
    case 'Collect': {
      const requests = [
        { text: 'a', behavior },
        { text: 'bb' },
        { text: 'ccc', payload: Buffer.alloc(300, 7) },
      ];
      const reply = { text: 'a,bb,ccc', index: 3 };
      return { status, code, control, requests, replies: failed ? [] : [reply] };
    }
    case 'Expand': {
      const request = { text: `expand-${outcome}`, count: 3, behavior };
      // A throwing handler sends nothing; the others stream their replies before failing or hanging.
      return {
        status,
        code,
        control,
        requests: [request],
        replies: outcome === 'throw' ? [] : repliesFor(request),
      };
    }
    case 'Chat': {
      const requests = [
        { text: 'x', count: 2, behavior },
        { text: 'yy', count: 1 },
      ];
      return { status, code, control, requests, replies: requests.flatMap(repliesFor) };
    }
  }
}

function run(
  kind: Kind,
  client: unknown,
  requests: EchoRequest[],
  control: CallControl,
): Promise<CallOutcome> {
  switch (kind) {
    case 'Unary':
      return unary(client, requests[0]!, control);
    case 'Collect':
      return collect(client, requests, control);
    case 'Expand':
      return expand(client, requests[0]!, control);
    case 'Chat':
      return chat(client, requests, control);
  }
}

const KINDS: Kind[] = ['Unary', 'Collect', 'Expand', 'Chat'];
const OUTCOMES: Outcome[] = ['ok', 'not_found', 'throw', 'deadline', 'cancel'];

describe('the interceptor records every call kind and ending', () => {
  let db: TestDynamo;
  let table: string;
  let deltaTable: string;
  let monitor: GrpcMonitor;
  let echo: EchoServer;
  let client: unknown;
  /** The server's own view of each call's peer, from an interceptor after ours. */
  const peers = new Map<string, string>();

  before(async () => {
    db = await startTestDynamo();
    const config = await db.createTables();
    table = config.requestLogTable;
    deltaTable = config.deltaTable;
    monitor = createGrpcMonitor({
      tableName: table,
      deltaTableName: config.deltaTable,
      dynamoDb: db.clientConfig,
      console: false,
      resolveUser: (metadata) => {
        const name = metadata.get('x-user')[0];
        return typeof name === 'string' ? { id: `u-${name}`, username: name } : undefined;
      },
    });
    const peerProbe: grpc.ServerInterceptor = (_method, call) =>
      new grpc.ServerInterceptingCall(call, {
        start: (next) =>
          next({
            onReceiveMetadata: (metadata, nextMetadata) => {
              peers.set(String(metadata.get('x-request-id')[0]), call.getPeer());
              nextMetadata(metadata);
            },
          }),
      });
    echo = await startEchoServer([monitor.interceptor, peerProbe]);
    client = echo.client();
  });

  after(async () => {
    await monitor?.close();
    await echo?.stop();
    await db?.stop();
  });

  /**
   * A call's end reaches the server after the client saw it when the client ended it (deadline,
   * cancel): wait (bounded) until the monitor has taken `count` items, then flush.
   */
  async function settled(count: number): Promise<void> {
    for (let i = 0; i < 200 && monitor.stats().calls < count; i++)
      await new Promise((r) => setTimeout(r, 25));
    await monitor.flush();
  }

  async function stored(requestId: string): Promise<RequestLogRecord> {
    await monitor.flush();
    const { Item } = await db.ddb.send(new GetCommand({ TableName: table, Key: { request_id: requestId } }));
    assert.ok(Item, `no item stored for ${requestId}`);
    return fromRequestLogItem(Item);
  }

  /** The one record whose client sent `clientRequestId` (the key is always ours). */
  async function storedByClientId(clientRequestId: string): Promise<RequestLogRecord> {
    await monitor.flush();
    const items = (await db.scanAll(table)).filter((item) => item.client_request_id === clientRequestId);
    assert.equal(items.length, 1, `items stored for ${clientRequestId}`);
    return fromRequestLogItem(items[0]!);
  }

  for (const kind of KINDS) {
    for (const outcome of OUTCOMES) {
      test(`${kind} × ${outcome}`, async () => {
        // Prepare
        const expected = scenario(kind, outcome);
        const requestId = `rec-${kind}-${outcome}-${Date.now()}`;
        const metadata = new grpc.Metadata();
        metadata.set('x-request-id', requestId);
        metadata.set('x-user', `${kind.toLowerCase()}-user`);
        const started = Date.now();
        const seen = monitor.stats().calls;

        // Act
        const result = await run(kind, client, expected.requests, { ...expected.control, metadata });
        await settled(seen + 1);
        const record = await storedByClientId(requestId);

        // Assess: the client saw what we expect, and the record says the same
        assert.equal(grpc.status[result.code], expected.code, `client saw ${result.details}`);
        if (outcome !== 'deadline' && outcome !== 'cancel') {
          assert.deepEqual(result.replies, expected.replies);
          const echoed = result.headers?.get('x-request-id')[0] ?? result.trailers?.get('x-request-id')[0];
          assert.equal(echoed, requestId, 'request id echoed in response metadata');
        }
        assert.match(
          record.request_id,
          /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
        );
        assert.equal(record.client_request_id, requestId);
        assert.equal(record.service_name, 'EchoService');
        assert.equal(record.method_name, kind);
        assert.equal(record.full_method, `${SERVICE_PATH}/${kind}`);
        assert.equal(record.status, expected.status);
        assert.equal(record.grpc_status_code, expected.code);
        assert.equal(record.request_messages, expected.requests.length);
        assert.equal(
          record.request_size,
          expected.requests.map(requestBytes).reduce((a, b) => a + b, 0),
        );
        assert.equal(record.response_messages, expected.replies.length);
        assert.equal(
          record.response_size,
          expected.replies.map(replyBytes).reduce((a, b) => a + b, 0),
        );
        assert.deepEqual(record.user, {
          id: `u-${kind.toLowerCase()}-user`,
          username: `${kind.toLowerCase()}-user`,
        });
        assert.equal(record.peer, `ipv4:${peers.get(requestId)}`);
        assert.match(record.peer!, /^ipv4:127\.0\.0\.1:\d+$/);
        assert.equal(record.client_ip, '127.0.0.1');
        assert.match(record.user_agent!, /^grpc-node-js\//);
        if (outcome === 'ok') {
          assert.equal(record.error_message, null);
          assert.equal(record.error_details, null);
        } else if (outcome === 'not_found' || outcome === 'throw') {
          // What the client was told: the handler's message (grpc-js hides a synchronous throw's text).
          assert.equal(record.error_message, result.details);
          if (outcome === 'not_found') assert.equal(record.error_message, NOT_FOUND_MESSAGE);
          if (outcome === 'throw' && (kind === 'Collect' || kind === 'Chat'))
            assert.equal(record.error_message, THROWN_MESSAGE);
          assert.equal((record.error_details as { code: string }).code, expected.code);
        } else {
          assert.ok(record.error_message);
        }
        if (outcome === 'deadline') {
          assert.ok(
            record.deadline_ms! > 300 && record.deadline_ms! <= 400,
            `deadline_ms ${record.deadline_ms}`,
          );
        } else {
          assert.equal(record.deadline_ms, null);
        }
        assert.equal(typeof record.duration_ms, 'number');
        assert.equal(record.duration_ms, Math.round(record.duration_ms! * 100) / 100);
        assert.ok(
          Date.parse(record.created_at) >= started - 5 && Date.parse(record.created_at) <= Date.now(),
        );
        assert.match(record.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
        assert.ok(record.updated_at >= record.created_at);
        assert.equal(record.expires_at, Math.floor(Date.parse(record.created_at) / 1000) + 30 * 86_400);
      });
    }
  }

  test('a request without x-request-id gets a new UUIDv7, echoed back', async () => {
    const result = await unary(client, { text: 'no id' });
    const echoed = String(result.headers?.get('x-request-id')[0]);
    assert.match(echoed, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const record = await stored(echoed);
    assert.equal(record.status, 'success');
    assert.equal(record.client_request_id, null);
    assert.equal(record.user, null);
  });

  test('x-forwarded-for, traceparent and the deadline budget are recorded', async () => {
    const metadata = new grpc.Metadata();
    metadata.set('x-request-id', `ctx-${Date.now()}`);
    metadata.set('x-forwarded-for', '203.0.113.7, 10.0.0.1');
    metadata.set('traceparent', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
    const requestId = String(metadata.get('x-request-id')[0]);
    await unary(client, { text: 'ctx' }, { metadata, deadlineMs: 5_000 });
    const record = await storedByClientId(requestId);
    // No proxy is trusted by default: the peer is the client; the header is kept apart.
    assert.equal(record.client_ip, '127.0.0.1');
    assert.equal(record.forwarded_for, '203.0.113.7, 10.0.0.1');
    assert.equal(record.trace_id, '4bf92f3577b34da6a3ce929d0e0e4736');
    assert.ok(
      record.deadline_ms! > 4_000 && record.deadline_ms! <= 5_000,
      `deadline_ms ${record.deadline_ms}`,
    );
  });

  test('sizes are the wire bytes, not a re-encoding with proto-loader defaults', async () => {
    const requestId = `size-${Date.now()}`;
    const metadata = new grpc.Metadata();
    metadata.set('x-request-id', requestId);
    await unary(client, { text: 'hi' }, { metadata });
    const record = await storedByClientId(requestId);
    assert.equal(record.request_size, 4); // field 1, length 2, "hi"; a defaults-filled re-encoding is 12
    assert.equal(record.response_size, replyBytes({ text: 'hi#0', index: 0 }));
  });

  test('every call is accounted for in stats(), written from the writer thread', async () => {
    assert.equal(monitor.writerThread, true);
    await monitor.flush();
    const stats = monitor.stats();
    assert.equal(stats.enqueued, stats.written + stats.dropped + stats.queued);
    assert.equal(stats.dropped, 0);
    assert.equal(stats.failed, 0);
    // Every call is counted in a delta item, stored: the sum of their cells is every call.
    assert.equal(stats.unflushedCalls, 0);
    assert.equal(stats.deltas.calls.written, stats.calls);
    const deltas = await db.scanAll(deltaTable);
    assert.equal(deltas.length, stats.deltas.written);
    const cells = deltas.flatMap(cellsOfItem);
    assert.equal(
      cells.reduce((sum, cell) => sum + cell.total, 0),
      stats.calls,
    );
    assert.ok(cells.every((cell) => cell.service === 'EchoService'));
    assert.equal(stats.calls, KINDS.length * OUTCOMES.length + 3);
  });

  test('the writer thread runs at nice 10 and the event loop keeps its priority (Linux)', (t) => {
    if (process.platform !== 'linux') return t.skip('per-thread nice values are Linux only');
    const niceOf = (tid: string) => {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
    };
    const nices = readdirSync('/proc/self/task').map(niceOf);
    assert.equal(niceOf(String(process.pid)), 0);
    assert.equal(nices.filter((n) => n === 10).length, 1, `thread nice values: ${nices.join(' ')}`);
  });

  test('writerNiceness out of range is refused with its name', () => {
    for (const writerNiceness of [-1, 20, 2.5]) {
      assert.throws(() => createGrpcMonitor({ tableName: 't', writerNiceness }), /writerNiceness/);
    }
  });
});
