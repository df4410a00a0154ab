import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import * as grpc from '@grpc/grpc-js';
import { DEFAULTS, type MonitorConfig } from '../../core/config';
import { createGrpcMonitor, type GrpcMonitor } from 'grpc-monitor-interceptor';
import { handoffLimit } from '../../interceptor/threadedWriter';
import { startDynamoDbLocal, type DynamoDbLocal } from '../../local/dynamoDbLocal';
import { ensureTables } from '../../local/tables';
import { unary } from '../fixtures/echoCalls';
import { startEchoServer, type EchoServer } from '../fixtures/echoServer';

/**
 * DynamoDB goes away while calls continue. This file runs its own DynamoDB Local (data on disk,
 * so it can be stopped and started again on the same port with the table intact).
 */
const QUEUE_ITEMS = 100;
const SLOTS = 2;
/** Waiting + in flight + handed off to the writer thread but not yet taken in. */
const QUEUE_BOUND = QUEUE_ITEMS + SLOTS * 25 + handoffLimit(QUEUE_ITEMS);
/** Far more than the queue holds, so most must be dropped. */
const LONG_OUTAGE_CALLS = 2 * QUEUE_BOUND;

describe('DynamoDB outage', () => {
  let dataDir: string;
  let dynamo: DynamoDbLocal | undefined;
  let port: number;
  let config: MonitorConfig;
  let monitor: GrpcMonitor;
  let echo: EchoServer;
  let client: unknown;

  const clientConfig = () => ({
    endpoint: `http://127.0.0.1:${port}`,
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'grpc-monitor-fault-'));
    dynamo = await startDynamoDbLocal({ dataDir });
    port = dynamo.port;
    config = {
      ...DEFAULTS,
      requestLogTable: 'fault-requests',
      statsTable: 'fault-stats',
      deltaTable: 'fault-deltas',
    };
    const admin = new DynamoDBClient({ ...clientConfig(), maxAttempts: 1 });
    await ensureTables(admin, config);
    admin.destroy();
    monitor = createGrpcMonitor({
      tableName: config.requestLogTable,
      deltaTableName: config.deltaTable,
      dynamoDb: clientConfig(),
      console: false,
      maxQueueItems: QUEUE_ITEMS,
      maxConcurrentWrites: SLOTS,
      flushIntervalMs: 20,
      maxRetryDelayMs: 200,
    });
    echo = await startEchoServer([monitor.interceptor]);
    client = echo.client();
  });

  after(async () => {
    await monitor?.close({ timeoutMs: 2_000 });
    await echo?.stop();
    await dynamo?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function storedIds(): Promise<Set<string>> {
    const ddb = DynamoDBDocumentClient.from(new DynamoDBClient({ ...clientConfig(), maxAttempts: 3 }));
    const ids = new Set<string>();
    let start: Record<string, unknown> | undefined;
    do {
      const page = await ddb.send(
        new ScanCommand({
          TableName: config.requestLogTable,
          ProjectionExpression: 'client_request_id',
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) ids.add(String(item.client_request_id));
      start = page.LastEvaluatedKey;
    } while (start);
    ddb.destroy();
    return ids;
  }

  async function calls(prefix: string, count: number): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const metadata = new grpc.Metadata();
      const id = `${prefix}-${i}`;
      metadata.set('x-request-id', id);
      const outcome = await unary(client, { text: id }, { metadata });
      assert.equal(outcome.code, grpc.status.OK, `call ${id} failed: ${outcome.details}`);
      ids.push(id);
      const s = monitor.stats();
      assert.equal(s.enqueued, s.written + s.dropped + s.queued);
      assert.ok(s.queued <= QUEUE_BOUND, `queue grew to ${s.queued}`);
    }
    return ids;
  }

  async function restart(): Promise<void> {
    dynamo = await startDynamoDbLocal({ port, dataDir });
  }

  test('a short outage loses nothing: calls succeed without waiting, the queue drains when DynamoDB returns', async () => {
    const before = await calls('warm', 10);
    await monitor.flush();
    await dynamo!.stop();
    dynamo = undefined;

    const writtenAtStop = monitor.stats().written;
    const during = await calls('short', 40);
    // Every call finished while nothing could be written: the RPC path did not wait on DynamoDB.
    assert.equal(monitor.stats().written, writtenAtStop);
    assert.equal(monitor.stats().queued, 40);

    await restart();
    await monitor.flush();
    const stats = monitor.stats();
    assert.equal(stats.dropped, 0);
    assert.equal(stats.queued, 0);
    assert.equal(stats.written, stats.enqueued);
    const ids = await storedIds();
    for (const id of [...before, ...during]) assert.ok(ids.has(id), `${id} was lost`);
  });

  test('a long outage: memory stays bounded, the oldest are dropped and counted, the rest written after', async () => {
    const start = monitor.stats();
    await dynamo!.stop();
    dynamo = undefined;
    const heapBefore = process.memoryUsage().heapUsed;

    const during = await calls('long', LONG_OUTAGE_CALLS);
    const mid = monitor.stats();
    assert.ok(mid.dropped - start.dropped >= LONG_OUTAGE_CALLS - QUEUE_BOUND, JSON.stringify(mid));
    assert.equal(mid.enqueued, mid.written + mid.dropped + mid.queued);
    assert.ok(process.memoryUsage().heapUsed - heapBefore < 50 * 1024 * 1024, 'heap grew by more than 50 MB');

    await restart();
    await monitor.flush();
    const end = monitor.stats();
    assert.equal(end.queued, 0);
    assert.equal(end.enqueued, end.written + end.dropped);
    const ids = await storedIds();
    const storedDuring = during.filter((id) => ids.has(id));
    // Exactly the calls not dropped were written, and the newest survived (drop-oldest).
    assert.equal(storedDuring.length, LONG_OUTAGE_CALLS - (end.dropped - start.dropped));
    assert.ok(ids.has(during.at(-1)!), 'the newest call was written');
    assert.equal(end.failed, 0);
    // The counts lost nothing: no delta was evicted by the flood of log items, every call of
    // the run is in a delta item DynamoDB confirmed.
    assert.equal(end.deltas.dropped, 0);
    assert.equal(end.unflushedCalls, 0);
    assert.equal(end.deltas.calls.written, end.calls);
    assert.equal(end.calls, 10 + 40 + LONG_OUTAGE_CALLS);
  });
});
