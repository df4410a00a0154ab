/**
 * The monitor's cost on a grpc-js server: the same unary server with and without the monitor
 * (writing to DynamoDB Local, run under SCHED_IDLE at nice 19: in production the database is not
 * on the server's machine), each in its own child process, driven by 50 concurrent callers from
 * this process in back-to-back rounds, saturated and then paced at half the bare throughput.
 * Reports calls/s, median latency, and the server's CPU per call (process CPU time and
 * event-loop busy time, measured until the monitor has flushed what the round recorded, so the
 * writer's work is included). A third server, monitored, writes to a stand-in that answers at
 * once, which separates the monitor's own cost from DynamoDB Local's work on the same cores; a
 * fourth records every call but its writer takes nothing in, which shows the interceptor's share
 * on the call path alone; a fifth, bare like the first, shows how far two identical servers
 * differ here (the resolution).
 */
import { fork, spawnSync, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import * as grpc from '@grpc/grpc-js';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DEFAULTS } from '../core/config';
import { startDynamoDbLocal } from '../local/dynamoDbLocal';
import { ensureTables } from '../local/tables';
import { createGrpcMonitor } from 'grpc-monitor-interceptor';
import { ThreadedWriter } from '../interceptor/threadedWriter';
import { interceptorLoopCost } from './interceptorLoopCost';
import { mainThreadCpuMicros, median, renicedThreadsCpuMicros } from './measure';
import { EchoServiceClient, startEchoServer } from '../test/fixtures/echoServer';

const ROLE_ENV = 'GRPC_MONITOR_BENCH_ROLE';
const CONCURRENCY = 50;
const CALLS_PER_ROUND = 3_000;
const WARMUP_CALLS = 1_500;
const ROUNDS = 15;
/** Paced rounds are shorter and more: the machine's drift over seconds, not the sample, is the noise. */
const PACED_ROUNDS = 20;
const PACED_CALLS_PER_ROUND = 1_500;
/**
 * Every this many iterations, all servers are replaced by fresh processes. Two identical
 * processes can differ by a few per cent for as long as they live (what V8 compiled, where the
 * scheduler put them); fresh ones make that a per-set difference, which the medians average out,
 * instead of a bias carried by one process through the whole run.
 */
const ITERATIONS_PER_SET = 5;

type Command = { id: number; cmd: 'usage' | 'flush' | 'stats' | 'stop' };
interface Usage {
  cpuMicros: number;
  /** CPU time of the main thread alone (the gRPC event loop), from /proc; NaN elsewhere. */
  mainCpuMicros: number;
  /** CPU time of the monitor's writer thread (the one reniced thread), from /proc; 0 when bare. */
  writerCpuMicros: number;
  eluActiveMs: number;
}

/** Child side: a server, with the monitor when a table is given, answering commands over IPC. */
async function serve(): Promise<void> {
  const table = process.env.BENCH_TABLE;
  if (process.env.BENCH_RECORDING_ONLY) {
    // Bench only: every call is recorded and handed to the writer, which drops it unseen, so
    // neither the handoff nor the writer thread nor the database does any work.
    ThreadedWriter.prototype.enqueue = () => undefined;
  }
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
      writerCpuMicros: renicedThreadsCpuMicros(),
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

/** Forks this file in `role` and waits for the port it reports ready on. */
async function forkRole(
  role: 'server' | 'stub',
  env: Record<string, string>,
): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(import.meta.filename, [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, ...env, [ROLE_ENV]: role, NODE_ENV: 'production' },
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`bench ${role} exited with ${code}`)));
    child.once('message', (message: { ready: number }) => resolve(message.ready));
  });
  return { child, port };
}

async function spawnServer(env: Record<string, string>): Promise<Remote> {
  const { child, port } = await forkRole('server', env);
  const pending = new Map<number, (value: unknown) => void>();
  let nextId = 0;
  child.on('message', (message: { id: number; result?: unknown }) =>
    pending.get(message.id)?.(message.result),
  );
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

type Side = 'bare' | 'monitored' | 'stubbed' | 'recording' | 'twin';
type Sides = Record<Side, Round[]>;
const SIDES: Side[] = ['bare', 'monitored', 'stubbed', 'recording', 'twin'];
/** The server processes of a set of iterations, one per side, and their clients. */
interface ServerSet {
  servers: Record<Side, Remote>;
  clients: Record<Side, UnaryClient>;
}

interface Round {
  callsPerSecond: number;
  medianMs: number;
  cpuMicrosPerCall: number;
  mainCpuMicrosPerCall: number;
  writerCpuMicrosPerCall: number;
  eluMicrosPerCall: number;
}

type UnaryClient = grpc.Client & {
  Unary(request: object, callback: (error: grpc.ServiceError | null) => void): void;
};

/**
 * `calls` unary calls from `CONCURRENCY` callers; latencies of each call. Each caller starts its
 * next call as soon as its last one ended, or, with `pace` (calls/s), not before call i's due
 * time, i / pace after the start.
 */
async function drive(
  client: UnaryClient,
  calls: number,
  pace?: number,
): Promise<{ seconds: number; latencies: Float64Array }> {
  const latencies = new Float64Array(calls);
  let issued = 0;
  const started = performance.now();
  const caller = async () => {
    while (issued < calls) {
      const index = issued++;
      if (pace) {
        const wait = started + (index * 1000) / pace - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      }
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

async function round(remote: Remote, client: UnaryClient, pace?: number): Promise<Round> {
  const calls = pace ? PACED_CALLS_PER_ROUND : CALLS_PER_ROUND;
  const before = await remote.ask<Usage>('usage');
  const { seconds, latencies } = await drive(client, calls, pace);
  await remote.ask('flush');
  const after = await remote.ask<Usage>('usage');
  return {
    callsPerSecond: calls / seconds,
    medianMs: median(latencies),
    cpuMicrosPerCall: (after.cpuMicros - before.cpuMicros) / calls,
    mainCpuMicrosPerCall: (after.mainCpuMicros - before.mainCpuMicros) / calls,
    writerCpuMicrosPerCall: (after.writerCpuMicros - before.writerCpuMicros) / calls,
    eluMicrosPerCall: ((after.eluActiveMs - before.eluActiveMs) * 1000) / calls,
  };
}

const fmt = (n: number, digits = 1) => n.toFixed(digits);

export default async function interceptorBench(): Promise<string> {
  const dynamo = await startDynamoDbLocal({ niceness: 19, idle: true });
  const live = new Set<Remote>();
  let stub: { endpoint: string; child: ChildProcess } | undefined;
  try {
    stub = await startStubDynamoDb();
    const config = { ...DEFAULTS, requestLogTable: 'bench-requests', statsTable: 'bench-stats' };
    const admin = new DynamoDBClient({ ...dynamo.clientConfig, maxAttempts: 1 });
    await ensureTables(admin, config);
    admin.destroy();
    const monitoredEnv = {
      BENCH_TABLE: config.requestLogTable,
      BENCH_DYNAMODB: JSON.stringify(dynamo.clientConfig),
    };
    const envs: Record<Side, Record<string, string>> = {
      bare: {},
      monitored: monitoredEnv,
      stubbed: {
        ...monitoredEnv,
        BENCH_DYNAMODB: JSON.stringify({ ...dynamo.clientConfig, endpoint: stub.endpoint }),
      },
      recording: { ...monitoredEnv, BENCH_RECORDING_ONLY: '1' },
      twin: {},
    };
    /** The writer stats of every monitored (DynamoDB Local) process, summed as each set stops. */
    const writerStats: Record<string, number> = {};
    let sets = 0;
    /** One fresh process per side, started in `first`'s rotation and warmed up, with its client. */
    const startSet = async (first: number): Promise<ServerSet> => {
      const servers = {} as Record<Side, Remote>;
      for (let k = 0; k < SIDES.length; k++) {
        const side = SIDES[(first + k) % SIDES.length]!;
        servers[side] = await spawnServer(envs[side]);
        live.add(servers[side]);
      }
      const clients = {} as Record<Side, UnaryClient>;
      for (const side of SIDES) {
        const address = `127.0.0.1:${servers[side].port}`;
        clients[side] = new EchoServiceClient(
          address,
          grpc.credentials.createInsecure(),
        ) as unknown as UnaryClient;
        await drive(clients[side], WARMUP_CALLS);
        await servers[side].ask('flush');
      }
      return { servers, clients };
    };
    /** Stops a set, adding its monitored server's writer stats to the run's. */
    const stopSet = async ({ servers, clients }: ServerSet) => {
      for (const client of Object.values(clients)) client.close();
      const stats = await servers.monitored.ask<Record<string, number>>('stats');
      for (const [key, value] of Object.entries(stats)) writerStats[key] = (writerStats[key] ?? 0) + value;
      for (const remote of Object.values(servers)) {
        await remote.ask('stop');
        live.delete(remote);
      }
    };

    /** Back-to-back rounds of each side, in rotating order so drift falls on all sides. */
    const iterations = async (count: number, pace?: number) => {
      const results: Sides = { bare: [], monitored: [], stubbed: [], recording: [], twin: [] };
      let set: ServerSet | undefined;
      for (let i = 0; i < count; i++) {
        if (i % ITERATIONS_PER_SET === 0) {
          if (set) await stopSet(set);
          set = await startSet(sets++);
        }
        for (let k = 0; k < SIDES.length; k++) {
          const side = SIDES[(i + k) % SIDES.length]!;
          results[side].push(await round(set!.servers[side], set!.clients[side], pace));
        }
      }
      if (set) await stopSet(set);
      return results;
    };
    const summary = (rounds: Round[]) => ({
      callsPerSecond: median(rounds.map((r) => r.callsPerSecond)),
      medianMs: median(rounds.map((r) => r.medianMs)),
      cpu: median(rounds.map((r) => r.cpuMicrosPerCall)),
      main: median(rounds.map((r) => r.mainCpuMicrosPerCall)),
      writer: median(rounds.map((r) => r.writerCpuMicrosPerCall)),
      others: median(
        rounds.map((r) => r.cpuMicrosPerCall - r.mainCpuMicrosPerCall - r.writerCpuMicrosPerCall),
      ),
      elu: median(rounds.map((r) => r.eluMicrosPerCall)),
    });
    const saturated = await iterations(ROUNDS);
    const b = summary(saturated.bare);
    // Half the bare server's saturated rate: busy, not queueing, as services mostly run.
    const pace = Math.round(b.callsPerSecond / 200) * 100;
    const paced = await iterations(PACED_ROUNDS, pace);
    const loop = await interceptorLoopCost(config.requestLogTable, dynamo.clientConfig);
    const addedLoop = loop.monitored - loop.bare;

    // Each figure compares the rounds of one iteration, run within seconds of each other, so
    // drift of a shared machine between iterations cancels; the median of those paired figures is reported.
    const paired = (results: Sides, side: Side, figure: (bare: Round, monitored: Round) => number) =>
      median(results.bare.map((bare, i) => figure(bare, results[side][i]!)));
    /** What a monitored side adds to the bare server. */
    const added = (side: Side) => ({
      ratio: paired(saturated, side, (bare, mon) => mon.callsPerSecond / bare.callsPerSecond),
      loopCpu: paired(saturated, side, (bare, mon) => mon.mainCpuMicrosPerCall - bare.mainCpuMicrosPerCall),
      processCpu: paired(saturated, side, (bare, mon) => mon.cpuMicrosPerCall - bare.cpuMicrosPerCall),
      elu: paired(saturated, side, (bare, mon) => mon.eluMicrosPerCall - bare.eluMicrosPerCall),
      latencyUs: paired(saturated, side, (bare, mon) => (mon.medianMs - bare.medianMs) * 1000),
      pacedLatencyUs: paired(paced, side, (bare, mon) => (mon.medianMs - bare.medianMs) * 1000),
    });
    const monitor = added('monitored');
    const stubbed = added('stubbed');
    const recording = added('recording');
    const twin = added('twin');
    const verdict = (ok: boolean) => (ok ? 'met' : 'NOT met');
    const LABELS: Record<Side, string> = {
      bare: 'bare',
      monitored: 'with monitor (DynamoDB Local)',
      stubbed: 'with monitor, writing to the stand-in',
      recording: 'recording only (the writer takes nothing in)',
      twin: 'bare again (the control)',
    };
    const us = (n: number) => `${fmt(n)} µs`;
    /** One table: each side's medians of the rounds in `results`. */
    const table = (title: string, results: Sides) =>
      [
        `| ${title} | calls/s | median latency | CPU / call: event loop | writer thread | other threads | whole process | event-loop busy / call |`,
        '|---|---:|---:|---:|---:|---:|---:|---:|',
        ...SIDES.map((side) => {
          const x = summary(results[side]);
          return `| ${LABELS[side]} | ${fmt(x.callsPerSecond, 0)} | ${fmt(x.medianMs * 1000, 0)} µs | ${us(x.main)} | ${us(x.writer)} | ${us(x.others)} | ${us(x.cpu)} | ${us(x.elu)} |`;
        }),
      ].join('\n');
    type Added = ReturnType<typeof added>;
    /** A figure for each monitored side and the control; for a goal (`ok`), the verdict on the monitored one. */
    const goal = (
      name: string,
      figure: keyof Added,
      ok: ((v: number) => boolean) | undefined,
      unit = ' µs',
      digits = 1,
    ) => {
      const shown = (a: Added) => `${fmt(a[figure], digits)}${unit}`;
      const met = ok ? verdict(ok(monitor[figure])) : '';
      return `| ${name} | ${shown(monitor)} | ${met} | ${shown(stubbed)} | ${shown(recording)} | ${shown(twin)} |`;
    };
    const goals = [
      goal('throughput ratio ≥ 0.95', 'ratio', (v) => v >= 0.95, '', 3),
      goal('added event-loop CPU ≤ 10 µs/call, server under load', 'loopCpu', (v) => v <= 10),
      `| added event-loop CPU ≤ 10 µs/call, in isolation (below) | ${fmt(addedLoop)} µs | ${verdict(addedLoop <= 10)} | | | |`,
      goal(
        'added median latency ≤ 50 µs, paced at half the bare throughput',
        'pacedLatencyUs',
        (v) => v <= 50,
        ' µs',
        0,
      ),
      goal('added median latency ≤ 50 µs, saturated', 'latencyUs', (v) => v <= 50, ' µs', 0),
      goal('(not a goal) added whole-process CPU, saturated', 'processCpu', undefined),
    ].join('\n');
    return `
Same unary server (fixture EchoService, one process each), ${CONCURRENCY} concurrent callers over one channel,
${ROUNDS} iterations of back-to-back rounds of ${CALLS_PER_ROUND} calls, one per server in rotating order. Every
${ITERATIONS_PER_SET} iterations all servers are replaced by fresh processes (${WARMUP_CALLS} warm-up calls each), so what
one process happens to be like (what V8 compiled, where the scheduler put it) does not bias a whole run. Five servers:
- **bare**: no interceptor;
- **with monitor**: the defaults, writing every call to DynamoDB Local (the goals are measured on this one);
- **writing to the stand-in**: the same, but writing to a stand-in for a remote DynamoDB (below);
- **recording only**: the monitor records every call, but its writer drops each record unseen, so
  the event loop does the interceptor's work and nothing else runs (no handoff, writer thread or database);
- **bare again**: the control. Whatever it "adds" to the first bare server is this machine's noise.

The tables have the medians of each side's rounds. Each goal's figure is the median over the
iterations of that iteration's ratio or difference, so drift between iterations cancels. A
monitored server's CPU is counted until the round's items are flushed.

${table('saturated', saturated)}

${table(`paced at ${pace} calls/s`, paced)}

| goal (what the monitor adds to the bare server) | with monitor | | writing to the stand-in | recording only | control |
|---|---:|---|---:|---:|---:|
${goals}

Saturated, the ${CONCURRENCY} callers keep the machine's 2 cores busy (the client, the server and its writer thread
share them), so a call's latency is mostly the wait behind the calls ahead of it: ${CONCURRENCY} ÷ throughput. There
the added latency is the throughput loss seen another way (1 % of throughput is about ${fmt(b.medianMs * 10, 0)} µs), and
50 µs would mean a loss under ${fmt((50 / (b.medianMs * 1000)) * 100, 2)} %. Paced (${PACED_ROUNDS} iterations of ${PACED_CALLS_PER_ROUND} calls a round, the same
${CONCURRENCY} callers, call i due i ÷ ${pace} s after the start), calls rarely wait for each other, so the
difference is what the monitor adds to a call itself.

DynamoDB Local runs on the same 2 cores, and its own work (a JVM, for every item) is part of what
the monitored server's calls wait behind here; a remote DynamoDB costs the server's machine nothing.
The stand-in (a small HTTP server, also under SCHED_IDLE) answers every BatchWriteItem at once:
against it the monitor does all of its own work, the database none. The recording-only server
leaves out everything that runs beside the call (the handoff, the writer thread, its requests,
the database), so what it adds is the interceptor's work on the call path.

The writer runs on its own thread at nice 10 (the defaults). Each thread's CPU is the
scheduler's count for it (/proc/…/schedstat): "writer thread" is the one reniced thread, "other
threads" is the rest of the process beside the event loop (V8's garbage collector and compiler
helpers, libuv). "Event-loop busy" is wall time and counts time the loop waited for a CPU on a
loaded machine. DynamoDB Local runs under SCHED_IDLE at nice 19: in production the database is a
remote service, so here it only gets the CPU the client and the servers leave. Load average at
the end: ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} cores.

In isolation (bench/interceptorLoopCost.ts): the real interceptor and writer thread around a
stand-in for grpc-js's transport call, driven in-process through a unary call's events, against
the stand-in alone; ${loop.calls} calls a round, medians of 5 alternating rounds. No network and
no other process's work on the loop, so it shows the interceptor's own share; it leaves out the
HTTP/2 encoding of the x-request-id header, which the server figures include:
event-loop CPU ${fmt(loop.bare, 2)} µs a call bare, ${fmt(loop.monitored, 2)} µs with the monitor.

Writers of the ${sets} monitored (DynamoDB Local) processes after their sets, summed: ${JSON.stringify(writerStats)}.
`;
  } finally {
    await Promise.all([...live].map((s) => s.ask('stop').catch(() => undefined)));
    stub?.child.kill();
    await dynamo.stop();
  }
}

/**
 * Child side: a stand-in for a remote DynamoDB that answers every BatchWriteItem at once with
 * nothing unprocessed, so the monitored server does all of its own work and the database none.
 */
function serveStub(): void {
  const server = http.createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      const body = '{"UnprocessedItems":{}}';
      response.writeHead(200, {
        'content-type': 'application/x-amz-json-1.0',
        'content-length': body.length,
        date: new Date().toUTCString(),
      });
      response.end(body);
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => process.send!({ ready: (server.address() as AddressInfo).port }));
}

/** The stub in its own process, under SCHED_IDLE like DynamoDB Local (where chrt exists). */
async function startStubDynamoDb(): Promise<{ endpoint: string; child: ChildProcess }> {
  const { child, port } = await forkRole('stub', {});
  spawnSync('chrt', ['--all-tasks', '--idle', '--pid', '0', String(child.pid)], { stdio: 'ignore' });
  return { endpoint: `http://127.0.0.1:${port}`, child };
}

if (process.env[ROLE_ENV] === 'server') await serve();
if (process.env[ROLE_ENV] === 'stub') serveStub();
