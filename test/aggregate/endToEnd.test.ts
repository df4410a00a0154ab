/**
 * End to end: calls through a real grpc-js server with the monitor's interceptor, the items it
 * writes to DynamoDB Local, the table's real stream read back as Lambda records and passed
 * through the stack's event filter (as the pollers and AWS do), the aggregate handler, and the
 * Stats read API: the counts match what the client saw, the sums match what was stored.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import * as grpc from '@grpc/grpc-js';
import type { MonitorConfig } from '../../core/config';
import { fromRequestLogItem } from '../../core/requestLogItem';
import { codeName, statusFromCode } from '../../core/status';
import { aggregateFilter } from '../../core/streamConsumers';
import { matchesFilter } from '../../core/streamFilter';
import { ALL_SCOPE, methodScope, quantile, readCatalog, readWindow, serviceScope } from '../../core/stats';
import { createGrpcMonitor, type GrpcMonitor } from 'grpc-monitor-interceptor';
import { createAggregateHandler } from '../../lambdas/aggregate';
import { latestStreamArn, readStreamToEnd, streamsClient } from '../../local/streamRecords';
import { expand, unary, type CallOutcome } from '../fixtures/echoCalls';
import { startEchoServer, type EchoServer } from '../fixtures/echoServer';
import { startTestDynamo, type TestDynamo } from '../harness/dynamo';

describe('interceptor → stream → aggregate → Stats', () => {
  let db: TestDynamo;
  let config: MonitorConfig;
  let monitor: GrpcMonitor;
  let echo: EchoServer;

  before(async () => {
    db = await startTestDynamo();
    config = await db.createTables();
    monitor = createGrpcMonitor({
      tableName: config.requestLogTable,
      dynamoDb: db.clientConfig,
      console: false,
    });
    echo = await startEchoServer([monitor.interceptor]);
  });
  after(async () => {
    await monitor?.close();
    await echo?.stop();
    await db?.stop();
  });

  it('Stats count every call once, by method, status and code', async () => {
    // Prepare: 30 calls of four outcomes over two methods.
    const client = echo.client();
    const started = new Date();
    const outcomes: Array<{ method: string; outcome: CallOutcome }> = [];
    for (let i = 0; i < 12; i++)
      outcomes.push({ method: 'Unary', outcome: await unary(client, { text: `ok-${i}` }) });
    for (let i = 0; i < 5; i++) {
      outcomes.push({ method: 'Unary', outcome: await unary(client, { text: 'nf', behavior: 'not_found' }) });
    }
    for (let i = 0; i < 3; i++) {
      outcomes.push({ method: 'Unary', outcome: await unary(client, { text: 'boom', behavior: 'throw' }) });
    }
    for (let i = 0; i < 8; i++) {
      outcomes.push({ method: 'Expand', outcome: await expand(client, { text: `e-${i}`, count: 3 }) });
    }
    for (let i = 0; i < 2; i++) {
      outcomes.push({
        method: 'Unary',
        outcome: await unary(client, { text: 'slow', behavior: 'hang' }, { deadlineMs: 200 }),
      });
    }
    for (let i = 0; i < 200 && monitor.stats().enqueued < outcomes.length; i++) {
      await new Promise((r) => setTimeout(r, 25));
    }
    await monitor.flush();

    // Act: the stream, filtered as the stack filters it, through the handler in batches of 7.
    const streams = streamsClient(db.clientConfig);
    const arn = await latestStreamArn(db.client, config.requestLogTable);
    const records = (await readStreamToEnd(streams, arn, 'local')).filter((r) =>
      matchesFilter(aggregateFilter, r),
    );
    streams.destroy();
    const aggregate = createAggregateHandler({ ddb: db.ddb, config, now: () => new Date() });
    for (let i = 0; i < records.length; i += 7) {
      assert.deepEqual(await aggregate({ Records: records.slice(i, i + 7) }), { batchItemFailures: [] });
    }
    // A redelivery of everything changes nothing.
    assert.deepEqual(await aggregate({ Records: records }), { batchItemFailures: [] });
    const stats = await readWindow(
      db.ddb,
      config.statsTable,
      { from: new Date(started.getTime() - 60_000), to: new Date(Date.now() + 60_000) },
      { now: new Date() },
    );

    // Assess: counts from what the client saw.
    const expected = (method?: string) => {
      const byCode: Record<string, number> = {};
      const byStatus = { success: 0, error: 0, cancelled: 0, timeout: 0 };
      for (const o of outcomes.filter((x) => !method || x.method === method)) {
        const code = codeName(o.outcome.code);
        byCode[code] = (byCode[code] ?? 0) + 1;
        byStatus[statusFromCode(o.outcome.code)] += 1;
      }
      return { byCode, byStatus };
    };
    const service = serviceScope('EchoService');
    for (const [scope, method] of [
      [ALL_SCOPE, undefined],
      [service, undefined],
      [methodScope('EchoService', 'Unary'), 'Unary'],
      [methodScope('EchoService', 'Expand'), 'Expand'],
    ] as const) {
      const s = stats.get(scope);
      assert.ok(s, `scope ${scope}`);
      const want = expected(method);
      assert.deepEqual({ byCode: s.byCode, byStatus: s.byStatus }, want, scope);
      assert.equal(s.total, outcomes.filter((x) => !method || x.method === method).length);
    }
    assert.equal(stats.get(ALL_SCOPE)!.byStatus.timeout, 2);

    // Sums and maxima from what the interceptor stored.
    const { Items = [] } = await db.ddb.send(new ScanCommand({ TableName: config.requestLogTable }));
    const calls = Items.filter((i) => i.item_type === 'request').map(fromRequestLogItem);
    assert.equal(calls.length, outcomes.length);
    const all = stats.get(ALL_SCOPE)!;
    const sum = (f: (c: (typeof calls)[number]) => number) => calls.reduce((a, c) => a + f(c), 0);
    assert.equal(all.durationSumMs, Math.round(sum((c) => c.duration_ms ?? 0) * 100) / 100);
    assert.equal(all.durationMaxMs, Math.max(...calls.map((c) => c.duration_ms ?? 0)));
    assert.equal(
      all.bytesIn,
      sum((c) => c.request_size),
    );
    assert.equal(
      all.bytesOut,
      sum((c) => c.response_size),
    );
    assert.equal(
      all.lastRequestAt,
      calls
        .map((c) => c.created_at)
        .sort()
        .at(-1),
    );
    assert.ok(quantile(all.histogram, 0.95)! >= quantile(all.histogram, 0.5)!);
    assert.deepEqual(await readCatalog(db.ddb, config.statsTable), [
      { service: 'EchoService', methods: ['Expand', 'Unary'] },
    ]);
    assert.equal(grpc.status.DEADLINE_EXCEEDED, 4);
  });
});
