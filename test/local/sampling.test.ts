/**
 * Log sampling as a user of `npm start` sees it: a monitor logging a tenth of its successes, and
 * the API of a runtime configured with the same rate. Every count stays exact; `/requests/`
 * lists the logged calls and its count says so; `/overview/` and `/health/` say sampling is on.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { createGrpcMonitor, type GrpcMonitor } from 'grpc-monitor-interceptor';
import { startLocal, type LocalEnvironment } from '../../local';
import { rawUnaryService } from '../fixtures/rawService';
import { SHARED_ENDPOINT_ENV } from '../harness/dynamo';

const TOKEN = 'sampling-test-token';
const RATE = 0.1;
const CALLS = 300;
const FAILURES = 20;
const SERVICE = rawUnaryService('sampled.v1.Echo', ['Say']);

describe('log sampling through startLocal: exact counts, the sample listed, the rate shown', () => {
  let env: LocalEnvironment;
  let monitor: GrpcMonitor;
  let server: grpc.Server;
  let client: grpc.Client & Record<string, (request: Buffer, callback: (error: unknown) => void) => void>;

  before(async () => {
    env = await startLocal({
      apiPort: 0,
      demo: false,
      apiToken: TOKEN,
      dynamoEndpoint: process.env[SHARED_ENDPOINT_ENV],
      printAlerts: false,
      log: () => {},
      config: { sampleSuccess: RATE },
    });
    monitor = createGrpcMonitor({
      tableName: env.tableName,
      deltaTableName: env.deltaTableName,
      dynamoDb: env.dynamoDb,
      statsFlushMs: 1000,
      sampling: { success: RATE },
      console: false,
    });
    server = new grpc.Server({ interceptors: [monitor.interceptor] });
    server.addService(SERVICE, {
      Say: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) =>
        call.request[0] === 1
          ? callback({ code: grpc.status.INTERNAL, details: 'down' })
          : callback(null, Buffer.from('ok')),
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
        e ? reject(e) : resolve(p),
      ),
    );
    const Client = grpc.makeGenericClientConstructor(SERVICE, 'Echo');
    client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as typeof client;
  });

  after(async () => {
    client?.close();
    server?.forceShutdown();
    await monitor?.close();
    await env?.stop();
  });

  const get = async (path: string) =>
    (await (
      await fetch(`${env.apiUrl}/cfg/grpc/monitor${path}`, { headers: { authorization: `Bearer ${TOKEN}` } })
    ).json()) as Record<string, unknown>;

  it('counts every call, lists the logged ones and says at what rate', async () => {
    // Act: CALLS calls, FAILURES of them failing, then everything shipped.
    for (let i = 0; i < CALLS; i++) {
      await new Promise<void>((resolve) => client.Say!(Buffer.from([i < FAILURES ? 1 : 0]), () => resolve()));
    }
    await monitor.flush();
    const stats = monitor.stats();

    // Assess: the counts are all calls; the log is what the monitor kept.
    assert.equal(stats.calls, CALLS);
    assert.ok(stats.logged >= FAILURES && stats.logged < CALLS / 2, `logged ${stats.logged}`);
    const overview = await get('/overview/');
    assert.equal(overview.total_requests, CALLS);
    assert.equal(overview.error_requests, FAILURES);
    assert.deepEqual(overview.sampling, { enabled: true, success_rate: RATE, logged_requests: stats.logged });
    const list = await get('/requests/?page_size=100');
    assert.equal(list.count, stats.logged);
    const errors = await get('/requests/?status=error&page_size=100');
    assert.equal(errors.count, FAILURES);
    const health = (await get('/health/')) as { sampling: { enabled: boolean; success_rate: number } };
    assert.equal(health.sampling.enabled, true);
    assert.equal(health.sampling.success_rate, RATE);
  });
});
