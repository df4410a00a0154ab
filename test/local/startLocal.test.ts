import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { createGrpcMonitor, type GrpcMonitor } from 'grpc-monitor-interceptor';
import { startLocal, type LocalEnvironment } from '../../local';
import { bucketEnd, minuteBucket, readBucket, readWatermark } from '../../core/stats';
import { SimulatedMonitor, writeDeltas } from '../aggregate/simulatedMonitors';
import { SHARED_ENDPOINT_ENV } from '../harness/dynamo';
import { rawUnaryMethod } from '../fixtures/rawService';

/**
 * The whole flow through startLocal, as a user's test would run it: our own gRPC server with the
 * interceptor pointed at env.dynamoDb/env.tableName, known calls, then the calls seen in
 * /requests/, counted exactly in /overview/, and alerted in env.alerts. Freshness is measured by
 * bench/freshness.bench.ts; here the waits are generous and the observed times are reported.
 */
const TOKEN = 'local-test-token';
const method = (name: string) => rawUnaryMethod(`/local.v1.Shop/${name}`);
const SHOP = { Buy: method('Buy'), Pay: method('Pay') };

const shop: grpc.UntypedServiceImplementation = {
  Buy: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) =>
    call.request[0] === 0
      ? callback(null, Buffer.from('ok'))
      : callback({ code: grpc.status.NOT_FOUND, details: 'no such item' }),
  Pay: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) =>
    callback({ code: grpc.status.INTERNAL, details: 'payment gateway down' }),
};

async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > end) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('startLocal: calls flow to the API and alerts', () => {
  const lines: string[] = [];
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
      log: (line) => lines.push(line),
    });
    monitor = createGrpcMonitor({
      tableName: env.tableName,
      dynamoDb: env.dynamoDb,
      console: false,
      // Where it ships its deltas, and as often as under `npm start`.
      ...{ deltaTableName: env.deltaTableName, statsFlushMs: 1000 },
    });
    server = new grpc.Server({ interceptors: [monitor.interceptor] });
    server.addService(SHOP, shop);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
        e ? reject(e) : resolve(p),
      ),
    );
    const Client = grpc.makeGenericClientConstructor(SHOP, 'Shop');
    client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as typeof client;
    // The writer thread boots once per process (under tsx it compiles its TypeScript first, a few
    // seconds on a busy machine); a flush answers once it is up, so the timings below measure the
    // data path, not that one-time start.
    await monitor.flush();
  });

  after(async () => {
    client?.close();
    server?.forceShutdown();
    await monitor?.close();
    await env?.stop();
  });

  const get = async (path: string, token = TOKEN) => {
    const response = await fetch(`${env.apiUrl}/cfg/grpc/monitor${path}`, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
    return {
      status: response.status,
      json: (await response.json().catch(() => undefined)) as Record<string, never>,
    };
  };

  it('sees known calls in /requests/, exact counts in /overview/, and the failure as an alert', async (t) => {
    // Prepare / Act: 4 successes, 2 NOT_FOUND, 1 INTERNAL.
    const call = (name: 'Buy' | 'Pay', byte: number) =>
      new Promise<void>((resolve) => client[name]!(Buffer.from([byte]), () => resolve()));
    for (const byte of [0, 0, 1, 0, 1, 0]) await call('Buy', byte);
    await call('Pay', 0);
    const lastCallEnd = Date.now();

    // Assess
    const requests = await eventually(
      () => get('/requests/?page_size=100'),
      (r) => r.json?.count === 7,
    );
    const seenInRequests = Date.now() - lastCallEnd;
    assert.equal(requests.status, 200);
    assert.equal(requests.json.count, 7, JSON.stringify(requests.json)?.slice(0, 300));
    const results = requests.json.results as unknown as Array<Record<string, unknown>>;
    assert.deepEqual(results.map((r) => `${r.method_name}:${r.status}:${r.grpc_status_code}`).sort(), [
      'Buy:error:NOT_FOUND',
      'Buy:error:NOT_FOUND',
      'Buy:success:OK',
      'Buy:success:OK',
      'Buy:success:OK',
      'Buy:success:OK',
      'Pay:error:INTERNAL',
    ]);

    const overview = await eventually(
      () => get('/overview/'),
      (r) => r.json?.total_requests === 7,
    );
    const seenInOverview = Date.now() - lastCallEnd;
    assert.equal(overview.json.total_requests, 7, JSON.stringify(overview.json)?.slice(0, 300));
    assert.equal(overview.json.successful_requests, 4);
    assert.equal(overview.json.error_requests, 3);

    const payAlert = () =>
      env.alerts.find((a) => a.kind === 'error' && a.service === 'Shop' && a.method === 'Pay');
    const buyAlert = () => env.alerts.some((a) => a.kind === 'error' && a.method === 'Buy');
    // Both: a retried write can put the Buy errors on the stream after the Pay error.
    await eventually(async () => Boolean(payAlert()) && buyAlert(), Boolean);
    const seenAsAlert = Date.now() - lastCallEnd;
    assert.ok(payAlert(), `alerts: ${JSON.stringify(env.alerts.map((a) => a.subject))}`);
    assert.match(payAlert()!.text, /payment gateway down/);
    assert.ok(buyAlert(), `alerts: ${JSON.stringify(env.alerts.map((a) => a.subject))}`);

    t.diagnostic(
      `after the last call: in /requests/ ${seenInRequests} ms, in /overview/ ${seenInOverview} ms, alert ${seenAsAlert} ms`,
    );
  });

  it('closes shipped deltas into Stats: the Deltas poller marks their minute, the tick closes it', async () => {
    // Prepare: a monitor instance's delta for a call in the previous minute (so it closes within
    // seconds, by the stream batch's pass or the tick's), in a service of its own.
    const monitor = new SimulatedMonitor(env.config.slowThresholdMs);
    const createdAt = new Date(Math.floor(Date.now() / 60_000) * 60_000 - 5_000).toISOString();
    monitor.record({
      service: 'Ledger',
      method: 'Post',
      status: 'success',
      code: 'OK',
      durationMs: 3.5,
      bytesIn: 1,
      bytesOut: 2,
      createdAt,
      logged: true,
    });
    const passesBefore = env.closePasses.count;

    // Act
    await writeDeltas(env.deps.ddb, env.deltaTableName, monitor.flush());

    // Assess: counted at once (read from Deltas), then closed into the minute's Stats bucket
    // by a close pass (closeAfterMs 3 s, a pass every 2 s), and the watermark past it.
    type Services = { services?: Array<{ service_name: string; total_requests: number }> };
    const ledger = (r: { json: Record<string, never> }) =>
      (r.json as Services).services?.find((s) => s.service_name === 'Ledger');
    const services = await eventually(
      () => get('/services/?hours=1'),
      (r) => ledger(r)?.total_requests === 1,
    );
    assert.equal(ledger(services)?.total_requests, 1, JSON.stringify(services.json));
    const minute = minuteBucket(createdAt);
    const closed = await eventually(
      () => readBucket(env.deps.ddb, env.statsTableName, minute),
      (scopes) => scopes.get('S#Ledger')?.total === 1,
    );
    assert.equal(closed.get('S#Ledger')?.total, 1);
    // The pass that closed it writes the watermark last.
    const watermark = await eventually(
      () => readWatermark(env.deps.ddb, env.statsTableName),
      (w) => w !== undefined && w.getTime() >= bucketEnd(minute).getTime(),
    );
    assert.ok(watermark && watermark.getTime() >= bucketEnd(minute).getTime(), String(watermark));
    // The tick keeps running (every 2 s), whether or not it was the one that closed the minute.
    await eventually(
      async () => env.closePasses.count,
      (count) => count > passesBefore,
    );
    assert.ok(env.closePasses.count > passesBefore);
    assert.equal(env.closePasses.failed, 0, lines.join('\n'));
    assert.ok(env.pollers.aggregate.counts.invocations >= 1);
  });

  it('answers 401 without the token, 404 for unknown routes, and serves the dashboard', async () => {
    assert.equal((await get('/overview/', '')).status, 401);
    assert.equal((await get('/overview/', 'wrong')).status, 401);
    assert.equal((await get('/nothing-here/')).status, 404);
    const ui = await fetch(`${env.apiUrl}/cfg/grpc/monitor/ui/`);
    assert.equal(ui.status, 200);
    assert.match(ui.headers.get('content-type') ?? '', /text\/html/);
  });
});

/**
 * After stop() nothing of ours is left: this starts its own DynamoDB Local (not the run's shared
 * one) and the demo, then checks that the watchdog, the JVM under it, and every port are gone.
 */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function children(pid: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return []; // pgrep exits 1 when there are none
  }
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

const portOf = (address: string) =>
  Number(new URL(address.includes('://') ? address : `http://${address}`).port);

describe('startLocal: stop()', () => {
  it('leaves no process and no open port behind', async () => {
    // Prepare
    const env = await startLocal({
      apiPort: 0,
      grpcPort: 0,
      demo: true,
      apiToken: 'stop-test',
      printAlerts: false,
      demoConsole: false,
      log: () => {},
    });
    const pid = env.dynamoDbLocalPid!;
    const processes = [pid, ...children(pid)];
    const ports = [portOf(env.apiUrl), portOf(env.grpcAddress!), portOf(env.dynamoDb.endpoint)];
    assert.ok(processes.length >= 2, 'the watchdog and the JVM under it');
    assert.ok(processes.every(alive));
    for (const port of ports) assert.equal(await listening(port), true, `port ${port} open while running`);
    const health = await fetch(`${env.apiUrl}/cfg/grpc/monitor/health/`);
    assert.equal(health.status, 200);

    // Act
    await env.stop();
    await env.stop(); // idempotent

    // Assess
    assert.deepEqual(processes.filter(alive), [], 'processes left running');
    for (const port of ports) assert.equal(await listening(port), false, `port ${port} still open`);
  });
});
