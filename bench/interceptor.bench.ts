/**
 * The monitor's cost on a grpc-js server: the same unary server with and without the monitor
 * (writing to DynamoDB Local, run at nice 19: in production the database is not on the server's
 * machine), each in its own child process, driven by 50 concurrent callers from this process in
 * alternating rounds. Reports calls/s, median latency, and the server's
 * CPU per call (process CPU time and event-loop busy time, measured until the monitor has
 * flushed what the round recorded, so the writer's work is included).
 */
import { fork, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import * as grpc from '@grpc/grpc-js';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DEFAULTS } from '../core/config';
import { startDynamoDbLocal } from '../local/dynamoDbLocal';
import { ensureTables } from '../local/tables';
import { createGrpcMonitor } from '../interceptor';
import { interceptorLoopCost } from './interceptorLoopCost';
import { mainThreadCpuMicros, median } from './measure';
import { EchoServiceClient, startEchoServer } from '../test/fixtures/echoServer';

const ROLE_ENV = 'GRPC_MONITOR_BENCH_ROLE';
const CONCURRENCY = 50;
const CALLS_PER_ROUND = 3_000;
const WARMUP_CALLS = 1_500;
const ROUNDS = 9;

type Command = { id: number; cmd: 'usage' | 'flush' | 'stats' | 'stop' };
interface Usage {
  cpuMicros: number;
  /** CPU time of the main thread alone (the gRPC event loop), from /proc; NaN elsewhere. */
  mainCpuMicros: number;
  eluActiveMs: number;
}

/** Child side: a server, with the monitor when a table is given, answering commands over IPC. */
async function serve(): Promise<void> {
  const table = process.env.BENCH_TABLE;
  const monitor = table
    ? createGrpcMonitor({
        tableName: table,
        dynamoDb: JSON.parse(process.env.BENCH_DYNAMODB!),
        console: false,
      })
    : undefined;
  const server = await startEchoServer(monitor ? [monitor.interceptor] : []);
  const usage = (): Usage => {
    const cpu = process.cpuUsage();
    return {
      cpuMicros: cpu.user + cpu.system,
      mainCpuMicros: mainThreadCpuMicros(),
      eluActiveMs: performance.eventLoopUtilization().active,
    };
  };
  process.on('message', async (message: Command) => {
    let result: unknown = null;
    if (message.cmd === 'usage') result = usage();
    if (message.cmd === 'flush') await monitor?.flush();
    if (message.cmd === 'stats') result = monitor?.stats() ?? null;
    if (message.cmd === 'stop') {
      await monitor?.close();
      await server.stop();
    }
    process.send!({ id: message.id, result });
    if (message.cmd === 'stop') process.exit(0);
  });
  process.send!({ ready: server.port });
}

interface Remote {
  port: number;
  ask<T>(cmd: Command['cmd']): Promise<T>;
  child: ChildProcess;
}

async function spawnServer(env: Record<string, string>): Promise<Remote> {
  const child = fork(import.meta.filename, [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, ...env, [ROLE_ENV]: 'server', NODE_ENV: 'production' },
  });
  const pending = new Map<number, (value: unknown) => void>();
  let nextId = 0;
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`bench server exited with ${code}`)));
    child.on('message', (message: { ready?: number; id?: number; result?: unknown }) => {
      if (message.ready) resolve(message.ready);
      else if (message.id !== undefined) pending.get(message.id)?.(message.result);
    });
  });
  return {
    port,
    child,
    ask: <T>(cmd: Command['cmd']) =>
      new Promise<T>((resolve) => {
        const id = nextId++;
        pending.set(id, (value) => resolve(value as T));
        child.send({ id, cmd });
      }),
  };
}

interface Round {
  callsPerSecond: number;
  medianMs: number;
  cpuMicrosPerCall: number;
  mainCpuMicrosPerCall: number;
  eluMicrosPerCall: number;
}

type UnaryClient = grpc.Client & {
  Unary(request: object, callback: (error: grpc.ServiceError | null) => void): void;
};

/** `calls` unary calls from `CONCURRENCY` callers; latencies of each call. */
async function drive(
  client: UnaryClient,
  calls: number,
): Promise<{ seconds: number; latencies: Float64Array }> {
  const latencies = new Float64Array(calls);
  let issued = 0;
  const started = performance.now();
  const caller = async () => {
    while (issued < calls) {
      const index = issued++;
      const t0 = performance.now();
      await new Promise<void>((resolve, reject) =>
        client.Unary({ text: 'bench' }, (error) => (error ? reject(error) : resolve())),
      );
      latencies[index] = performance.now() - t0;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, caller));
  return { seconds: (performance.now() - started) / 1000, latencies };
}

async function round(remote: Remote, client: UnaryClient): Promise<Round> {
  const before = await remote.ask<Usage>('usage');
  const { seconds, latencies } = await drive(client, CALLS_PER_ROUND);
  await remote.ask('flush');
  const after = await remote.ask<Usage>('usage');
  return {
    callsPerSecond: CALLS_PER_ROUND / seconds,
    medianMs: median(latencies),
    cpuMicrosPerCall: (after.cpuMicros - before.cpuMicros) / CALLS_PER_ROUND,
    mainCpuMicrosPerCall: (after.mainCpuMicros - before.mainCpuMicros) / CALLS_PER_ROUND,
    eluMicrosPerCall: ((after.eluActiveMs - before.eluActiveMs) * 1000) / CALLS_PER_ROUND,
  };
}

const fmt = (n: number, digits = 1) => n.toFixed(digits);

export default async function interceptorBench(): Promise<string> {
  const dynamo = await startDynamoDbLocal({ niceness: 19 });
  const servers: Remote[] = [];
  try {
    const config = { ...DEFAULTS, requestLogTable: 'bench-requests', statsTable: 'bench-stats' };
    const admin = new DynamoDBClient({ ...dynamo.clientConfig, maxAttempts: 1 });
    await ensureTables(admin, config);
    admin.destroy();
    const bare = await spawnServer({});
    servers.push(bare);
    const monitored = await spawnServer({
      BENCH_TABLE: config.requestLogTable,
      BENCH_DYNAMODB: JSON.stringify(dynamo.clientConfig),
    });
    servers.push(monitored);
    const clients = [bare, monitored].map(
      (s) =>
        new EchoServiceClient(
          `127.0.0.1:${s.port}`,
          grpc.credentials.createInsecure(),
        ) as unknown as UnaryClient,
    );
    await drive(clients[0]!, WARMUP_CALLS);
    await drive(clients[1]!, WARMUP_CALLS);
    await monitored.ask('flush');

    const results: { bare: Round[]; monitored: Round[] } = { bare: [], monitored: [] };
    for (let i = 0; i < ROUNDS; i++) {
      // Alternate the order so drift on a shared machine falls on both sides.
      const order = i % 2 === 0 ? (['bare', 'monitored'] as const) : (['monitored', 'bare'] as const);
      for (const name of order) {
        const index = name === 'bare' ? 0 : 1;
        results[name].push(await round(servers[index]!, clients[index]!));
      }
    }
    const stats = await monitored.ask<Record<string, number>>('stats');
    for (const client of clients) client.close();
    const loop = await interceptorLoopCost(config.requestLogTable, dynamo.clientConfig);
    const addedLoop = loop.monitored - loop.bare;

    const summary = (rounds: Round[]) => ({
      callsPerSecond: median(rounds.map((r) => r.callsPerSecond)),
      medianMs: median(rounds.map((r) => r.medianMs)),
      cpu: median(rounds.map((r) => r.cpuMicrosPerCall)),
      main: median(rounds.map((r) => r.mainCpuMicrosPerCall)),
      elu: median(rounds.map((r) => r.eluMicrosPerCall)),
    });
    const b = summary(results.bare);
    const m = summary(results.monitored);
    const ratio = m.callsPerSecond / b.callsPerSecond;
    const addedCpu = m.main - b.main;
    const addedProcessCpu = m.cpu - b.cpu;
    const addedElu = m.elu - b.elu;
    const addedLatencyUs = (m.medianMs - b.medianMs) * 1000;
    const verdict = (ok: boolean) => (ok ? 'met' : 'NOT met');
    return `
Same unary server (fixture EchoService, one process each), ${CONCURRENCY} concurrent callers over one channel,
${ROUNDS} alternating rounds of ${CALLS_PER_ROUND} calls after ${WARMUP_CALLS} warm-up calls; medians of the rounds.
The monitored server writes every call to DynamoDB Local; its CPU is counted until the round's items are flushed.

| | calls/s | median latency | event-loop thread CPU / call | whole server process CPU / call | event-loop busy / call |
|---|---:|---:|---:|---:|---:|
| bare | ${fmt(b.callsPerSecond, 0)} | ${fmt(b.medianMs * 1000, 0)} µs | ${fmt(b.main)} µs | ${fmt(b.cpu)} µs | ${fmt(b.elu)} µs |
| with monitor | ${fmt(m.callsPerSecond, 0)} | ${fmt(m.medianMs * 1000, 0)} µs | ${fmt(m.main)} µs | ${fmt(m.cpu)} µs | ${fmt(m.elu)} µs |

| goal | measured | |
|---|---:|---|
| throughput ratio ≥ 0.95 | ${fmt(ratio, 3)} | ${verdict(ratio >= 0.95)} |
| added event-loop CPU ≤ 10 µs/call, server under load | ${fmt(addedCpu)} µs (whole process incl. writer thread: ${fmt(addedProcessCpu)} µs; loop busy: ${fmt(addedElu)} µs) | ${verdict(addedCpu <= 10)} |
| added event-loop CPU ≤ 10 µs/call, in isolation (below) | ${fmt(addedLoop)} µs | ${verdict(addedLoop <= 10)} |
| added median latency ≤ 50 µs | ${fmt(addedLatencyUs, 0)} µs | ${verdict(addedLatencyUs <= 50)} |

The writer runs on its own thread at nice 10 (the defaults): the event-loop thread's CPU is the
scheduler's count for that thread (/proc/…/schedstat). "Event-loop busy" is wall time and counts
time the loop waited for a CPU on a loaded machine. DynamoDB Local runs at nice 19: in production
the database is a remote service, so here it only gets the CPU the client and the servers leave. Load average at the end: ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} cores.

In isolation (bench/interceptorLoopCost.ts): the real interceptor and writer thread around a
stand-in for grpc-js's transport call, driven in-process through a unary call's events, against
the stand-in alone; ${loop.calls} calls a round, medians of 5 alternating rounds. No network and
no other process's work on the loop, so it shows the interceptor's own share; it leaves out the
HTTP/2 encoding of the x-request-id header, which the server figures include:
event-loop CPU ${fmt(loop.bare, 2)} µs a call bare, ${fmt(loop.monitored, 2)} µs with the monitor.

Writer after the run: ${JSON.stringify(stats)}.
`;
  } finally {
    await Promise.all(servers.map((s) => s.ask('stop').catch(() => undefined)));
    await dynamo.stop();
  }
}

if (process.env[ROLE_ENV] === 'server') await serve();
