/**
 * The whole counting path with REAL monitors: three grpc-js servers, each with its own monitor
 * logging successes at `sampling.success = 0.1`, ship delta items to DynamoDB Local; the Deltas
 * stream is read back as Lambda records and delivered to the aggregate handler with Lambda's
 * rules, every batch twice and in random slices (redelivery, bisect-sized batches, repeats);
 * then a close pass with the clock seven hours on closes every level. Every counter the API
 * reads equals the ground truth of ALL calls, not of the logged ones.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import type { DynamoDBRecord } from 'aws-lambda';
import { createGrpcMonitor, type GrpcMonitor } from 'grpc-monitor-interceptor';
import { aggregateConsumer } from '../../core/streamConsumers';
import { matchesFilter } from '../../core/streamFilter';
import { ALL_SCOPE, methodScope, readWindow, serviceScope } from '../../core/stats';
import { createAggregateHandler } from '../../lambdas/aggregate';
import { lambdaContext } from '../../local/apiGatewayEvent';
import { scheduledEvent } from '../../local/scheduledEvent';
import { deliverBatch } from '../../local/streamDelivery';
import { latestStreamArn, readStreamToEnd, streamsClient } from '../../local/streamRecords';
import { seededRandom } from '../fixtures/random';
import { rawUnaryService } from '../fixtures/rawService';
import { startTestDynamo, type TestDynamo } from '../harness/dynamo';

const SLOW_MS = 500;
const CALLS_PER_MONITOR = 400;
const METHODS = ['Get', 'List', 'Fail'] as const;
const definition = rawUnaryService('e2e.v1.CountService', METHODS);
/** Request byte 0: 0 = ok, 1 = NOT_FOUND, 2 = slow ok. */
const implementation: grpc.UntypedServiceImplementation = Object.fromEntries(
  METHODS.map((m) => [
    m,
    (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      const kind = call.request[0];
      if (kind === 1) return cb({ code: grpc.status.NOT_FOUND, details: 'no such thing' });
      if (kind === 2) return void setTimeout(() => cb(null, Buffer.from('slow')), SLOW_MS + 100);
      cb(null, Buffer.from('ok'));
    },
  ]),
);

interface Truth {
  total: number;
  success: number;
  error: number;
  slow: number;
}
const emptyTruth = (): Truth => ({ total: 0, success: 0, error: 0, slow: 0 });

describe('real monitors → Deltas → aggregate → Stats, sampling 0.1 (DynamoDB Local)', () => {
  let db: TestDynamo;
  before(async () => {
    db = await startTestDynamo();
  });
  after(() => db.stop());

  it('every counter equals the ground truth of all calls under redelivery and repeats', async () => {
    // Prepare
    const config = await db.createTables({ slowThresholdMs: SLOW_MS, closeAfterMs: 1000 });
    const rand = seededRandom(7);
    const servers: grpc.Server[] = [];
    const monitors: GrpcMonitor[] = [];
    const clients: Array<grpc.Client & Record<string, (r: Buffer, cb: (e: unknown) => void) => void>> = [];
    for (let i = 0; i < 3; i++) {
      const monitor = createGrpcMonitor({
        tableName: config.requestLogTable,
        deltaTableName: config.deltaTable,
        dynamoDb: db.clientConfig,
        slowThresholdMs: SLOW_MS,
        statsFlushMs: 200,
        sampling: { success: 0.1 },
        console: false,
      });
      const server = new grpc.Server({ interceptors: [monitor.interceptor] });
      server.addService(definition, implementation);
      const port = await new Promise<number>((resolve, reject) =>
        server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
          e ? reject(e) : resolve(p),
        ),
      );
      const Client = grpc.makeGenericClientConstructor(definition, 'CountService');
      clients.push(new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as never);
      monitors.push(monitor);
      servers.push(server);
    }
    const truth = new Map<string, Truth>();
    const count = (scope: string, kind: number) => {
      const t = truth.get(scope) ?? emptyTruth();
      truth.set(scope, t);
      t.total += 1;
      if (kind === 1) t.error += 1;
      else t.success += 1;
      if (kind === 2) t.slow += 1;
    };
    const from = new Date();

    // Act: calls through every monitor, 5 % NOT_FOUND, 2 % slow.
    const calls: Array<Promise<void>> = [];
    for (let n = 0; n < CALLS_PER_MONITOR; n++) {
      for (const client of clients) {
        const method = METHODS[Math.floor(rand() * METHODS.length)]!;
        const r = rand();
        const kind = r < 0.05 ? 1 : r < 0.07 ? 2 : 0;
        for (const scope of [ALL_SCOPE, serviceScope('CountService'), methodScope('CountService', method)])
          count(scope, kind);
        calls.push(new Promise((resolve) => client[method]!(Buffer.from([kind]), () => resolve())));
      }
      if (n % 50 === 0) await Promise.all(calls.splice(0));
    }
    await Promise.all(calls);
    for (const monitor of monitors) await monitor.close();
    const stats = monitors.map((m) => m.stats());

    const deps = { ddb: db.ddb, config, now: () => new Date() };
    const aggregate = createAggregateHandler(deps);
    const records = (
      await readStreamToEnd(
        streamsClient(db.clientConfig),
        await latestStreamArn(db.client, config.deltaTable),
        'local',
      )
    ).filter((r) => matchesFilter(aggregateConsumer.filter, r));
    const deliver = (batch: readonly DynamoDBRecord[]) =>
      deliverBatch(batch, {
        settings: aggregateConsumer,
        handler: aggregate,
        context: () => lambdaContext('aggregate', 'e2e', 60_000),
        onDiscard: () => assert.fail('a record was given up on'),
        backoff: async () => {},
      });
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < records.length;) {
        const size = 1 + Math.floor(rand() * 8);
        await deliver(records.slice(i, i + size));
        i += size;
      }
    }
    const later = new Date(Date.now() + 7 * 3_600_000);
    await createAggregateHandler({ ...deps, now: () => later })(scheduledEvent('close', later));

    // Assess: counts of all calls, whatever was logged.
    assert.ok(records.length >= 3, `${records.length} delta records`);
    for (const s of stats) assert.equal(s.deltas.dropped, 0);
    const window = await readWindow(
      db.ddb,
      config,
      { from: new Date(from.getTime() - 60_000), to: new Date() },
      { now: later },
    );
    for (const [scope, t] of truth) {
      const got = window.get(scope);
      assert.ok(got, scope);
      assert.deepEqual(
        { total: got.total, success: got.byStatus.success, error: got.byStatus.error, slow: got.slow },
        t,
        scope,
      );
      assert.equal(got.byCode.NOT_FOUND ?? 0, t.error, scope);
    }
    // What was logged: every failure and slow call, about a tenth of the rest.
    const logged = (await db.scanAll(config.requestLogTable)).filter((i) => i.item_type === 'request');
    const all = truth.get(ALL_SCOPE)!;
    assert.equal(window.get(ALL_SCOPE)!.logged, logged.length);
    assert.equal(logged.filter((i) => i.status === 'error').length, all.error);
    const fastSuccesses = all.success - all.slow;
    const keptFast = logged.filter((i) => i.status === 'success' && Number(i.duration_ms) < SLOW_MS).length;
    const sigma = Math.sqrt(fastSuccesses * 0.1 * 0.9);
    assert.ok(
      Math.abs(keptFast - fastSuccesses * 0.1) <= 4.5 * sigma,
      `${keptFast} of ${fastSuccesses} kept`,
    );

    for (const c of clients) c.close();
    for (const s of servers) s.forceShutdown();
  });
});
