import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import * as grpc from '@grpc/grpc-js';
import { fromHeartbeatItem, HEARTBEAT_PARTITION } from '../../core/heartbeat';
import { REQUEST_LOG_KEYS } from '../../core/tables';
import { createGrpcMonitor } from 'grpc-monitor-interceptor';
import { unary } from '../fixtures/echoCalls';
import { startEchoServer } from '../fixtures/echoServer';
import { startTestDynamo, type TestDynamo } from '../harness/dynamo';

describe('heartbeats and console lines', () => {
  let db: TestDynamo;
  let table: string;
  let deltaTable: string;

  before(async () => {
    db = await startTestDynamo();
    ({ requestLogTable: table, deltaTable } = await db.createTables());
  });
  after(async () => {
    await db?.stop();
  });

  test('with `server`, a heartbeat item carries host, port and the final writer counters', async () => {
    const lines: string[] = [];
    const monitor = createGrpcMonitor({
      tableName: table,
      deltaTableName: deltaTable,
      dynamoDb: db.clientConfig,
      sampling: { success: 0.5 },
      server: { host: 'test-host', port: 50051 },
      heartbeatIntervalMs: 50,
      console: (line) => lines.push(line),
    });
    const echo = await startEchoServer([monitor.interceptor]);
    try {
      const client = echo.client();
      await unary(client, { text: 'ok' });
      await unary(client, { text: 'missing', behavior: 'not_found' });
      await unary(client, { text: 'slow', behavior: 'hang' }, { deadlineMs: 200 });
      await unary(client, { text: 'gone', behavior: 'hang' }, { cancelAfterMs: 50 });
      for (let i = 0; i < 200 && monitor.stats().calls < 4; i++) await new Promise((r) => setTimeout(r, 25));
    } finally {
      await monitor.close();
      await echo.stop();
    }

    const { Items = [] } = await db.ddb.send(
      new ScanCommand({
        TableName: table,
        FilterExpression: '#pk = :hb',
        ExpressionAttributeNames: { '#pk': REQUEST_LOG_KEYS.timePk },
        ExpressionAttributeValues: { ':hb': HEARTBEAT_PARTITION },
      }),
    );
    assert.equal(Items.length, 1);
    const heartbeat = fromHeartbeatItem(Items[0]!);
    assert.ok(heartbeat);
    assert.equal(heartbeat.host, 'test-host');
    assert.equal(heartbeat.port, 50051);
    assert.ok(heartbeat.last_seen >= heartbeat.started_at);
    // The success may be sampled out (r = 0.5); the three failures are always logged.
    const logged = heartbeat.writer.logged!;
    assert.ok(logged === 3 || logged === 4, `logged ${logged}`);
    // One delta item per minute touched: the four calls take well under a minute.
    const shipped = heartbeat.writer.deltas!.enqueued;
    assert.ok(shipped === 1 || shipped === 2, `deltas ${shipped}`);
    assert.deepEqual(heartbeat.writer, {
      enqueued: logged,
      written: logged,
      dropped: 0,
      retried: 0,
      failed: 0,
      queued: 0,
      calls: 4,
      logged,
      sampledOut: 4 - logged,
      unflushedCalls: 0,
      deltas: {
        enqueued: shipped,
        written: shipped,
        dropped: 0,
        retried: 0,
        queued: 0,
        calls: { enqueued: 4, written: 4, dropped: 0, queued: 0 },
      },
    });
    assert.equal(heartbeat.sampling_success, 0.5);

    // The seed's console lines, one start and one end line per call. End lines by status: the
    // server may see the deadline pass after the next call's cancel on a loaded machine.
    const ends = lines.filter((l) => !l.includes('➡️'));
    const endOf = (status: string) => {
      const found = ends.filter((l) => l.includes(` | status=${status} | `));
      assert.equal(found.length, 1, `one end line with status=${status}: ${JSON.stringify(ends)}`);
      return found[0]!;
    };
    assert.equal(
      lines.filter((l) => l.startsWith('[gRPC] ➡️  EchoService.Unary | peer=ipv4:127.0.0.1:')).length,
      4,
    );
    assert.equal(ends.length, 4);
    assert.match(
      endOf('OK'),
      /^\[gRPC\] ✅ EchoService\.Unary \| status=OK \| time=\d+\.\d{2}ms \| peer=ipv4:127\.0\.0\.1:\d+$/,
    );
    assert.match(
      endOf('NOT_FOUND'),
      /^\[gRPC\] ❌ EchoService\.Unary \| status=NOT_FOUND \| time=\d+\.\d{2}ms \| error=Echo not found \| peer=ipv4:/,
    );
    assert.match(
      endOf('DEADLINE_EXCEEDED'),
      /^\[gRPC\] ⏱️ EchoService\.Unary \| status=DEADLINE_EXCEEDED \| /,
    );
    assert.match(endOf('CANCELLED'), /^\[gRPC\] 🚫 EchoService\.Unary \| status=CANCELLED \| /);
  });

  test('health checks are skipped by default, other paths on request', async () => {
    const monitor = createGrpcMonitor({
      tableName: table,
      deltaTableName: deltaTable,
      dynamoDb: db.clientConfig,
      console: false,
      skipMethods: ['/test.fixtures.EchoService/Unary'],
    });
    const echo = await startEchoServer([monitor.interceptor]);
    try {
      const outcome = await unary(echo.client(), { text: 'skipped' });
      assert.equal(outcome.code, grpc.status.OK);
      assert.equal(outcome.headers?.get('x-request-id').length, 0, 'a skipped call is left alone');
      assert.equal(monitor.stats().enqueued, 0);
      assert.equal(monitor.stats().calls, 0);
    } finally {
      await monitor.close();
      await echo.stop();
    }
  });
});
