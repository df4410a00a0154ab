/**
 * What the monitor costs in DynamoDB writes, counted from the requests the real pipeline sends:
 * monitor instances (each with its grpc-js server) → DynamoDB Local → Deltas stream → aggregator
 * → Stats, plus the RequestLog stream → alert handler, and the API polled like a dashboard. Every
 * component talks to DynamoDB through a metering proxy (writeMeter.ts) that bills each write by
 * DynamoDB's rules (writeBilling.ts).
 *
 * Coarse Stats buckets (5 min … 6 h) close after the traffic has stopped: once it has, the
 * aggregator's close pass runs once more with its clock set 7 h ahead, so their writes are
 * counted too (they are the same PUTs the schedule would make when those buckets end).
 *
 * Baseline: the writes one call costs in the per-call design this replaced, as measured in the
 * earlier cost review (9.6–42 units); the control is the same mix run twice (COST_SECONDS,
 * default 120 s of traffic per run; COST_RATE, default 200 calls/s).
 */
import * as grpc from '@grpc/grpc-js';
import { createGrpcMonitor, type GrpcMonitor } from 'grpc-monitor-interceptor';
import { startLocal } from '../local';
import { startDynamoDbLocal } from '../local/dynamoDbLocal';
import { createAggregateHandler } from '../lambdas/aggregate';
import { deltaTable, requestLogTable, statsTable, type TableDefinition } from '../core/tables';
import { scheduledEvent } from '../local/scheduledEvent';
import { levelOf, MINUTE_LEVEL } from '../core/stats/keys';
import { DEFAULTS } from '../core/config';
import { rawUnaryService } from '../test/fixtures/rawService';
import { startWriteMeter, type WriteMeter } from './writeMeter';

const SECONDS = Number(process.env.COST_SECONDS ?? 120);
const RATE = Number(process.env.COST_RATE ?? 200);
const INSTANCES = 4;
const ERROR_EVERY = 100; // 1 % errors
const TOKEN = 'cost-bench';
/** On-demand write price, USD per million write request units (us-east-1). */
const USD_PER_MILLION_WRU = 0.625;

interface Mix {
  readonly name: string;
  readonly services: number;
  readonly methods: number;
}
const MIX_A: Mix = { name: '(a) 1 service × 5 methods', services: 1, methods: 5 };
const MIX_B: Mix = { name: '(b) 5 services × 10 methods', services: 5, methods: 10 };

const serviceDefinition = (service: string, methods: number): grpc.ServiceDefinition =>
  rawUnaryService(
    `bench.cost.${service}`,
    Array.from({ length: methods }, (_, m) => `M${m}`),
  );

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface RunResult {
  readonly mix: Mix;
  readonly rate: number;
  readonly sampling: number;
  readonly calls: number;
  /** Units by part. */
  readonly log: number;
  readonly deltas: number;
  readonly stats: number;
  readonly alerts: number;
  /** Stats items written per minute at steady state (see steadyPerMinute). */
  readonly statsWritesPerMinute: number;
  /** Stats write units per minute at steady state. */
  readonly statsUnitsPerMinute: number;
  /** Calls per minute of traffic. */
  readonly callsPerMinute: number;
  /** RequestLog items the monitors dropped (their stats()): the log column is short by these. */
  readonly dropped: number;
  readonly reads: number;
}

type Write = WriteMeter['writes'][number];

/**
 * Stats writes per minute of steady traffic, from the writes counted. A run of a few minutes
 * writes each coarse bucket it touched once, but in steady traffic a 6-hour bucket is written
 * once per 6 hours: so each level's writes are taken per bucket written and spread over the
 * bucket's length (a 5-minute bucket's writes count 1/5 per minute). Minute buckets count per
 * minute; bookkeeping (dirty markers, the watermark, the catalog) per minute of the run.
 */
function steadyPerMinute(writes: readonly Write[], runMinutes: number): { items: number; units: number } {
  const byLevel = new Map<number, { items: number; units: number; buckets: Set<string> }>();
  let items = 0;
  let units = 0;
  for (const w of writes) {
    const level = w.pk ? levelOf(w.pk) : undefined;
    if (!level) {
      items += 1 / runMinutes;
      units += w.units / runMinutes;
      continue;
    }
    const entry = byLevel.get(level.ms) ?? { items: 0, units: 0, buckets: new Set<string>() };
    byLevel.set(level.ms, entry);
    entry.items += 1;
    entry.units += w.units;
    entry.buckets.add(w.pk!);
  }
  for (const [ms, entry] of byLevel) {
    const perBucketMinutes = entry.buckets.size * (ms / MINUTE_LEVEL.ms);
    items += entry.items / perBucketMinutes;
    units += entry.units / perBucketMinutes;
  }
  return { items, units };
}

async function run(dynamoEndpoint: string, mix: Mix, rate: number, sampling: number): Promise<RunResult> {
  const names: Record<string, TableDefinition> = {};
  const meter = await startWriteMeter(dynamoEndpoint, {
    gsiKeys: (t) => names[t]?.globalIndexes.map((i) => [i.partitionKey.name, i.sortKey.name]) ?? [],
    pkName: (t) => names[t]?.partitionKey.name ?? 'pk',
  });
  const env = await startLocal({
    apiPort: 0,
    demo: false,
    apiToken: TOKEN,
    printAlerts: false,
    log: () => {},
    dynamoEndpoint: meter.endpoint,
    // As in AWS: a minute closes 60 s after its end, when every monitor's 10 s flush is in.
    config: { closeAfterMs: DEFAULTS.closeAfterMs },
  });
  names[env.config.requestLogTable] = requestLogTable;
  names[env.config.statsTable] = statsTable;
  names[env.config.deltaTable] = deltaTable;
  const monitors: GrpcMonitor[] = [];
  const servers: grpc.Server[] = [];
  const clients: Array<Record<string, (req: Buffer, cb: (e: unknown) => void) => void> & grpc.Client> = [];
  const services = Array.from({ length: mix.services }, (_, s) => `Cost${s}Service`);
  try {
    for (let i = 0; i < INSTANCES; i++) {
      const monitor = createGrpcMonitor({
        tableName: env.config.requestLogTable,
        deltaTableName: env.config.deltaTable,
        dynamoDb: env.dynamoDb,
        console: false,
        statsFlushMs: 10_000,
        sampling: { success: sampling },
      });
      const server = new grpc.Server({ interceptors: [monitor.interceptor] });
      let n = 0;
      for (const service of services) {
        const definition = serviceDefinition(service, mix.methods);
        server.addService(
          definition,
          Object.fromEntries(
            Object.keys(definition).map((m) => [
              m,
              (_call: unknown, cb: grpc.sendUnaryData<Buffer>) =>
                ++n % ERROR_EVERY === 0
                  ? cb({ code: grpc.status.INTERNAL, details: 'cost bench' })
                  : cb(null, Buffer.from('ok')),
            ]),
          ),
        );
      }
      const port = await new Promise<number>((resolve, reject) =>
        server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
          e ? reject(e) : resolve(p),
        ),
      );
      for (const service of services) {
        const Client = grpc.makeGenericClientConstructor(serviceDefinition(service, mix.methods), service);
        clients.push(new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as never);
      }
      monitors.push(monitor);
      servers.push(server);
    }

    const start = Date.now();
    const polls = (async () => {
      while (Date.now() - start < SECONDS * 1000) {
        await fetch(`${env.apiUrl}/cfg/grpc/monitor/overview/?hours=1`, {
          headers: { authorization: `Bearer ${TOKEN}` },
        });
        await sleep(5000);
      }
    })();
    let calls = 0;
    const inFlight = new Set<Promise<void>>();
    const total = Math.round(SECONDS * rate);
    for (let k = 0; k < total; k++) {
      const due = start + (k * 1000) / rate;
      if (due > Date.now()) await sleep(due - Date.now());
      const client = clients[k % clients.length]!;
      const method = `M${Math.floor(k / clients.length) % mix.methods}`;
      const p = new Promise<void>((resolve) => client[method]!(Buffer.from([1]), () => resolve())).then(
        () => {
          calls++;
          inFlight.delete(p);
        },
      );
      inFlight.add(p);
    }
    await Promise.all(inFlight);
    const end = Date.now();
    await polls;
    for (const monitor of monitors) await monitor.close();
    const dropped = monitors.reduce((n, m) => n + m.stats().dropped, 0);

    // Let the aggregator close every minute, then close the coarse buckets with the clock ahead.
    await sleep(5_000);
    const future = new Date(end + 7 * 3_600_000);
    const closeAll = createAggregateHandler({ ...env.deps, now: () => future });
    await closeAll(scheduledEvent('cost-bench', future));

    const sum = (pred: (w: Write) => boolean) => meter.writes.filter(pred).reduce((n, w) => n + w.units, 0);
    const statsWrite = (w: Write) => w.table === env.config.statsTable && !(w.pk ?? '').startsWith('ALERT');
    const steady = steadyPerMinute(meter.writes.filter(statsWrite), (end - start) / 60_000);
    return {
      mix,
      rate,
      sampling,
      calls,
      log: sum((w) => w.table === env.config.requestLogTable),
      deltas: sum((w) => w.table === env.config.deltaTable),
      stats: sum(statsWrite),
      alerts: sum((w) => w.table === env.config.statsTable && (w.pk ?? '').startsWith('ALERT')),
      statsWritesPerMinute: steady.items,
      statsUnitsPerMinute: steady.units,
      callsPerMinute: calls / ((end - start) / 60_000),
      dropped,
      reads: [...meter.reads.values()].reduce((a, b) => a + b, 0),
    };
  } finally {
    for (const c of clients) c.close();
    for (const s of servers) s.forceShutdown();
    await Promise.allSettled(monitors.map((m) => m.close()));
    await env.stop();
    await meter.stop();
  }
}

const f = (n: number, digits = 3) => n.toFixed(digits);

export default async function cost(): Promise<string> {
  const dynamo = await startDynamoDbLocal();
  const results: RunResult[] = [];
  try {
    for (const mix of [MIX_A, MIX_B]) {
      for (const sampling of [1, 0.05]) {
        console.log(`cost: ${mix.name}, r = ${sampling}, ${RATE}/s`);
        results.push(await run(dynamo.endpoint, mix, RATE, sampling));
      }
    }
    console.log(`cost: ${MIX_B.name}, r = 0.05, ${RATE * 2}/s`);
    results.push(await run(dynamo.endpoint, MIX_B, RATE * 2, 0.05));
  } finally {
    await dynamo.stop();
  }
  const perCall = (r: RunResult, units: number) => units / r.calls;
  /** Stats WU per call at steady state: the steady per-minute units over the calls per minute. */
  const steadyStats = (r: RunResult) => r.statsUnitsPerMinute / r.callsPerMinute;
  const steadyTotal = (r: RunResult) => perCall(r, r.log + r.deltas + r.alerts) + steadyStats(r);
  const rows = results.map(
    (r) =>
      `| ${r.mix.name} | ${r.rate}/s | ${r.sampling} | ${r.calls} | ${f(perCall(r, r.log))} | ${f(perCall(r, r.deltas), 4)} | ${f(perCall(r, r.stats), 4)} / ${f(steadyStats(r), 4)} | ${f(perCall(r, r.alerts), 4)} | **${f(perCall(r, r.deltas) + steadyStats(r), 4)}** | **${f(steadyTotal(r))}** | $${f(steadyTotal(r) * USD_PER_MILLION_WRU, 3)} | ${f(r.statsWritesPerMinute, 1)} |`,
  );
  const byRate = results.filter((r) => r.mix === MIX_B && r.sampling === 0.05);
  const goal = (ok: boolean) => (ok ? 'met' : '**not met**');
  const deltasStats = results.map((r) => perCall(r, r.deltas) + steadyStats(r));
  const total1 = results.filter((r) => r.sampling === 1).map(steadyTotal);
  const total005 = results.filter((r) => r.sampling === 0.05).map(steadyTotal);
  const ratio = byRate.length === 2 ? byRate[1]!.statsWritesPerMinute / byRate[0]!.statsWritesPerMinute : NaN;
  return [
    `${INSTANCES} monitor instances (one grpc-js server each, \`statsFlushMs\` 10 s and \`closeAfterMs\` 60 s as in AWS), ${SECONDS} s of unary calls per run, 1 % errors, round-robin over the mix's methods; the whole pipeline of \`startLocal\` behind a metering proxy that bills each write by DynamoDB's rules (each started KB of an item a unit, plus a unit per GSI entry, transactional writes double). The coarse Stats buckets are closed after the traffic by one close pass with the clock 7 h ahead, so every write is counted. Price: $${USD_PER_MILLION_WRU} per million write units (on-demand).`,
    '',
    "Stats are shown whole-run / steady: a run of two minutes writes each 5-minute … 6-hour bucket it touched once, which steady traffic spreads over the bucket's length (a 6-hour bucket is written once per 6 hours); steady = each level's counted writes per bucket, divided by the bucket's minutes, plus bookkeeping per minute. Totals and $ use the steady figure.",
    '',
    '| mix | rate | r | calls | log WU/call | deltas WU/call | Stats WU/call (whole run / steady) | alert state WU/call | deltas + Stats | total WU/call | $ per million calls | Stats items written per minute (steady) |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    '| goal | measured | verdict |',
    '|---|---|---|',
    `| deltas + Stats ≤ 0.05 WU per call at ≥ 200 calls/s, both mixes (was 3.6–38) | ${deltasStats.map((v) => f(v, 4)).join(', ')} | ${goal(deltasStats.every((v) => v <= 0.05))} |`,
    `| Stats writes per minute the same at two call rates | ${byRate.map((r) => `${f(r.statsWritesPerMinute, 1)} at ${r.rate}/s`).join(', ')} (ratio ${f(ratio, 2)}) | ${goal(Math.abs(ratio - 1) <= 0.1)} |`,
    `| total ≤ 3.2 WU per call, r = 1 (was ≥ 9.6) | ${total1.map((v) => f(v)).join(', ')} | ${goal(total1.every((v) => v <= 3.2))} |`,
    `| total ≤ 0.35 WU per call (≈ $0.22 per million), r = 0.05 | ${total005.map((v) => f(v)).join(', ')} | ${goal(total005.every((v) => v <= 0.35))} |`,
    '',
    `Baseline: the per-call design this replaced cost 9.6 to 42 WU per call (4 log + 2 marker + 3.6–38 Stats, by stream shards), as modelled and reproduced in the cost review of issue 17. Control: the two (b) r = 0.05 runs differ only in rate, and their Stats items per minute are the figure that must not move. Log items the monitors dropped (counted in their \`stats()\`; the log column is short by these): ${results.map((r) => r.dropped).join(', ')}. Reads: ${results.map((r) => r.reads).join(', ')} read requests per run (the API polled every 5 s, the aggregator's Queries).`,
  ].join('\n');
}
