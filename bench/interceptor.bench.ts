/**
 * The monitor's cost on a grpc-js server, as whole-process CPU time per call: the same unary
 * server bare and monitored, each in its own child process, driven by 50 concurrent callers from
 * this process in back-to-back rounds that alternate between the servers. A server's CPU is
 * `process.cpuUsage()` (every thread: the event loop, the monitor's writer thread, V8's helpers),
 * counted from before a round until the monitor has flushed what the round recorded (its counts
 * shipped as delta items and its log items written), so everything the monitor does for the
 * round's calls is in it. Servers: bare; monitored with every call logged (r = 1); monitored with
 * 1 % of successes logged (r = 0.01); and a second bare server, the control, whose difference to
 * the first is this machine's noise. DynamoDB Local runs under SCHED_IDLE at nice 19 (in
 * production the database is not on the server's machine).
 */
import { fork, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import * as grpc from '@grpc/grpc-js';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DEFAULTS } from '../core/config';
import { startDynamoDbLocal } from '../local/dynamoDbLocal';
import { ensureTables } from '../local/tables';
import { createGrpcMonitor } from 'grpc-monitor-interceptor';
import { interceptorLoopCost } from './interceptorLoopCost';
import { mainThreadCpuMicros, median, renicedThreadsCpuMicros } from './measure';
import { EchoServiceClient, startEchoServer } from '../test/fixtures/echoServer';

const ROLE_ENV = 'GRPC_MONITOR_BENCH_ROLE';
const CONCURRENCY = 50;
const CALLS_PER_ROUND = 3_000;
const WARMUP_CALLS = 1_500;
const ROUNDS = 15;
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
  const monitor = table
    ? createGrpcMonitor({
        tableName: table,
        deltaTableName: process.env.BENCH_DELTA_TABLE,
        dynamoDb: JSON.parse(process.env.BENCH_DYNAMODB!),
        sampling: { success: Number(process.env.BENCH_SAMPLE_SUCCESS ?? 1) },
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
  role: 'server',
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

type Side = 'bare' | 'monitored' | 'sampled' | 'twin';
type Sides = Record<Side, Round[]>;
const SIDES: Side[] = ['bare', 'monitored', 'sampled', 'twin'];
/** The share of successes the sampled server logs. */
const LOW_RATE = 0.01;
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
 * next call as soon as its last one ended.
 */
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
  const calls = CALLS_PER_ROUND;
  const before = await remote.ask<Usage>('usage');
  const { seconds, latencies } = await drive(client, calls);
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
  try {
    const config = {
      ...DEFAULTS,
      requestLogTable: 'bench-requests',
      statsTable: 'bench-stats',
      deltaTable: 'bench-deltas',
    };
    const admin = new DynamoDBClient({ ...dynamo.clientConfig, maxAttempts: 1 });
    await ensureTables(admin, config);
    admin.destroy();
    const monitoredEnv = {
      BENCH_TABLE: config.requestLogTable,
      BENCH_DELTA_TABLE: config.deltaTable,
      BENCH_DYNAMODB: JSON.stringify(dynamo.clientConfig),
    };
    const envs: Record<Side, Record<string, string>> = {
      bare: {},
      monitored: { ...monitoredEnv, BENCH_SAMPLE_SUCCESS: '1' },
      sampled: { ...monitoredEnv, BENCH_SAMPLE_SUCCESS: String(LOW_RATE) },
      twin: {},
    };
    /** The monitors' stats, per monitored side, summed as each set stops. */
    const monitorStats: Record<'monitored' | 'sampled', Record<string, number>> = {
      monitored: {},
      sampled: {},
    };
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
    /** Stops a set, adding its monitors' stats to the run's. */
    const stopSet = async ({ servers, clients }: ServerSet) => {
      for (const client of Object.values(clients)) client.close();
      for (const side of ['monitored', 'sampled'] as const) {
        const stats = await servers[side].ask<Record<string, unknown>>('stats');
        const sum = monitorStats[side];
        for (const [key, value] of Object.entries(flatten(stats))) sum[key] = (sum[key] ?? 0) + value;
      }
      for (const remote of Object.values(servers)) {
        await remote.ask('stop');
        live.delete(remote);
      }
    };

    /** Back-to-back rounds of each side, in rotating order so drift falls on all sides. */
    const iterations = async (count: number) => {
      const results: Sides = { bare: [], monitored: [], sampled: [], twin: [] };
      let set: ServerSet | undefined;
      for (let i = 0; i < count; i++) {
        if (i % ITERATIONS_PER_SET === 0) {
          if (set) await stopSet(set);
          set = await startSet(sets++);
        }
        for (let k = 0; k < SIDES.length; k++) {
          const side = SIDES[(i + k) % SIDES.length]!;
          results[side].push(await round(set!.servers[side], set!.clients[side]));
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
    });
    const saturated = await iterations(ROUNDS);
    const loop = await interceptorLoopCost(config.requestLogTable, dynamo.clientConfig, config.deltaTable);

    // Each figure compares the rounds of one iteration, run within seconds of each other, so
    // drift of a shared machine between iterations cancels; the median of those paired figures is reported.
    const paired = (side: Side, figure: (bare: Round, other: Round) => number) =>
      median(saturated.bare.map((bare, i) => figure(bare, saturated[side][i]!)));
    /** What a side adds to the bare server. */
    const added = (side: Side) => ({
      processCpu: paired(side, (bare, other) => other.cpuMicrosPerCall - bare.cpuMicrosPerCall),
      loopCpu: paired(side, (bare, other) => other.mainCpuMicrosPerCall - bare.mainCpuMicrosPerCall),
      ratio: paired(side, (bare, other) => other.callsPerSecond / bare.callsPerSecond),
    });
    const all = added('monitored');
    const low = added('sampled');
    const twin = added('twin');
    const verdict = (ok: boolean) => (ok ? 'met' : 'NOT met');
    const LABELS: Record<Side, string> = {
      bare: 'bare',
      monitored: 'monitored, r = 1 (every call logged)',
      sampled: `monitored, r = ${LOW_RATE}`,
      twin: 'bare again (the control)',
    };
    const us = (n: number) => `${fmt(n)} µs`;
    const table = [
      '| server | calls/s | median latency | CPU / call: whole process | event loop | writer thread | other threads |',
      '|---|---:|---:|---:|---:|---:|---:|',
      ...SIDES.map((side) => {
        const x = summary(saturated[side]);
        return `| ${LABELS[side]} | ${fmt(x.callsPerSecond, 0)} | ${fmt(x.medianMs * 1000, 0)} µs | ${us(x.cpu)} | ${us(x.main)} | ${us(x.writer)} | ${us(x.others)} |`;
      }),
    ].join('\n');
    const goals = [
      '| goal (what the monitor adds to the bare server) | figure | | control (bare vs bare) |',
      '|---|---:|---|---:|',
      `| whole-process CPU per call ≤ 50 µs, r = 1 | ${us(all.processCpu)} | ${verdict(all.processCpu <= 50)} | ${us(twin.processCpu)} |`,
      `| whole-process CPU per call ≤ 15 µs, r = ${LOW_RATE} | ${us(low.processCpu)} | ${verdict(low.processCpu <= 15)} | ${us(twin.processCpu)} |`,
      `| (not a goal) event-loop CPU per call, r = 1 / r = ${LOW_RATE} | ${us(all.loopCpu)} / ${us(low.loopCpu)} | | ${us(twin.loopCpu)} |`,
      `| (not a goal) throughput ratio, r = 1 / r = ${LOW_RATE} | ${fmt(all.ratio, 3)} / ${fmt(low.ratio, 3)} | | ${fmt(twin.ratio, 3)} |`,
    ].join('\n');
    return `
Same unary server (fixture EchoService, one process each), ${CONCURRENCY} concurrent callers over one channel,
${ROUNDS} iterations of back-to-back rounds of ${CALLS_PER_ROUND} calls, one per server in rotating order. Every
${ITERATIONS_PER_SET} iterations all servers are replaced by fresh processes (${WARMUP_CALLS} warm-up calls each), so what
one process happens to be like (what V8 compiled, where the scheduler put it) does not bias a whole run.

A server's CPU per call is \`process.cpuUsage()\` (user + system, every thread of the process),
from before a round until \`monitor.flush()\` resolved after it: the round's counts shipped as
delta items and its log items written to DynamoDB Local. Each goal's figure is the median over
the iterations of (monitored − bare) in that iteration, so drift between iterations cancels; the
control is the same figure for a second bare server, i.e. the resolution of this machine.

${table}

${goals}

Every server runs the defaults otherwise (writer thread at nice 10, statsFlushMs 10 s). The
columns beside the whole process are the scheduler's count per thread (/proc/…/schedstat):
the event loop, the monitor's writer thread (the one reniced thread), and the rest (V8's garbage
collector and compiler helpers, libuv). Load average at the end: ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} cores.

In isolation (bench/interceptorLoopCost.ts): the real interceptor and writer thread around a
stand-in for grpc-js's transport call, driven in-process through a unary call's events;
${loop.calls} calls a round, medians of 5 alternating rounds: event-loop CPU ${fmt(loop.bare, 2)} µs a call
bare, ${fmt(loop.monitored, 2)} µs with the monitor (r = 1).

Monitors of the ${sets} sets, summed: r = 1 ${JSON.stringify(monitorStats.monitored)}; r = ${LOW_RATE} ${JSON.stringify(monitorStats.sampled)}.
`;
  } finally {
    await Promise.all([...live].map((s) => s.ask('stop').catch(() => undefined)));
    await dynamo.stop();
  }
}

/** `{ a: 1, b: { c: 2 } }` → `{ a: 1, 'b.c': 2 }` (numbers only). */
function flatten(value: Record<string, unknown>, prefix = ''): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, v] of Object.entries(value ?? {})) {
    if (typeof v === 'number') out[prefix + key] = v;
    else if (v && typeof v === 'object')
      Object.assign(out, flatten(v as Record<string, unknown>, `${prefix}${key}.`));
  }
  return out;
}

if (process.env[ROLE_ENV] === 'server') await serve();
