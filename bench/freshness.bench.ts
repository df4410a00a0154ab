/**
 * Freshness of the local runtime (`startLocal`, as `npm start` runs it): how long after a call
 * ends it shows in `/requests/` and is counted in `/overview/`, and how long after a failing call
 * ends its alert is published. Calls go through a real grpc-js server with the interceptor at
 * its defaults; the API is polled over HTTP like a dashboard would. Baseline: one GET of
 * `/requests/` (the polling cost itself), in the same run.
 *
 * FRESHNESS_CALLS (default 1000) and FRESHNESS_ERRORS (default 100) shrink it while developing.
 */
import * as grpc from '@grpc/grpc-js';
import { createGrpcMonitor } from 'grpc-monitor-interceptor';
import { startLocal } from '../local';
import { DEFAULT_ALERT_RULES } from '../core/alerts';
import { rawUnaryMethod } from '../test/fixtures/rawService';

const CALLS = Number(process.env.FRESHNESS_CALLS ?? 1000);
const ERRORS = Number(process.env.FRESHNESS_ERRORS ?? 100);
const CALLS_PER_SECOND = 10;
const ERRORS_PER_SECOND = 4;
const POLL_MS = 25;
const TOKEN = 'freshness-bench';

const method = (name: string) => rawUnaryMethod(`/bench.v1.Fresh/${name}`);
// One method per failing call: per-error alerts are one per (service, method) per batch/cooldown.
const failNames = Array.from({ length: ERRORS }, (_, i) => `Fail${i}`);
const definition = Object.fromEntries([['Ok', method('Ok')], ...failNames.map((n) => [n, method(n)])]);
const implementation: grpc.UntypedServiceImplementation = Object.fromEntries([
  ['Ok', (_call: unknown, cb: grpc.sendUnaryData<Buffer>) => cb(null, Buffer.from('ok'))],
  ...failNames.map((n) => [
    n,
    (_call: unknown, cb: grpc.sendUnaryData<Buffer>) =>
      cb({ code: grpc.status.INTERNAL, details: `bench ${n}` }),
  ]),
]);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? NaN;
}
const ms = (v: number) => `${Math.round(v)} ms`;

export default async function freshness(): Promise<string> {
  const env = await startLocal({
    apiPort: 0,
    demo: false,
    apiToken: TOKEN,
    printAlerts: false,
    log: () => {},
    alertRules: { ...DEFAULT_ALERT_RULES, cooldownSeconds: 0 },
  });
  // As `npm start`'s demo: counts shipped every second (statsFlushMs), the log at its defaults.
  const monitor = createGrpcMonitor({
    tableName: env.tableName,
    deltaTableName: env.deltaTableName,
    dynamoDb: env.dynamoDb,
    statsFlushMs: 1000,
    console: false,
  });
  const server = new grpc.Server({ interceptors: [monitor.interceptor] });
  server.addService(definition, implementation);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  const Client = grpc.makeGenericClientConstructor(definition, 'Fresh');
  const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as Record<
    string,
    (req: Buffer, md: grpc.Metadata, cb: (e: unknown) => void) => void
  > &
    grpc.Client;
  const get = async (path: string) => {
    const r = await fetch(`${env.apiUrl}/cfg/grpc/monitor${path}`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    return (await r.json()) as Record<string, unknown>;
  };
  const call = (name: string, id: string) =>
    new Promise<number>((resolve) => {
      const md = new grpc.Metadata();
      md.set('x-request-id', id);
      client[name]!(Buffer.from([1]), md, () => resolve(Date.now()));
    });

  try {
    // Baseline: what one poll of /requests/ costs.
    const baseline: number[] = [];
    for (let i = 0; i < 30; i++) {
      const t = Date.now();
      await get('/requests/?page_size=100');
      baseline.push(Date.now() - t);
    }

    // 1. Successful calls at a steady rate; pollers note when each id and each count first shows.
    const ended = new Map<string, number>();
    const endOrder: number[] = [];
    const seenInRequests = new Map<string, number>();
    const countSeenAt: number[] = []; // countSeenAt[k-1]: first time total_requests >= k
    let polling = true;
    const pollRequests = (async () => {
      while (polling || seenInRequests.size < ended.size) {
        const page = await get('/requests/?page_size=100');
        const now = Date.now();
        for (const r of (page.results as Array<{ client_request_id: string }>) ?? []) {
          // The key is the server's own id; ours went in as x-request-id.
          const id = r.client_request_id;
          if (ended.has(id) && !seenInRequests.has(id)) seenInRequests.set(id, now);
        }
        if (!polling && Date.now() - (endOrder.at(-1) ?? 0) > 30_000) break;
        await sleep(POLL_MS);
      }
    })();
    const pollOverview = (async () => {
      while (polling || countSeenAt.length < CALLS) {
        const total = Number((await get('/overview/')).total_requests ?? 0);
        const now = Date.now();
        while (countSeenAt.length < Math.min(total, CALLS)) countSeenAt.push(now);
        if (!polling && Date.now() - (endOrder.at(-1) ?? 0) > 30_000) break;
        await sleep(POLL_MS);
      }
    })();
    const inFlight: Promise<void>[] = [];
    for (let i = 0; i < CALLS; i++) {
      const id = `fresh-${i}-${Date.now()}`;
      inFlight.push(
        call('Ok', id).then((end) => {
          ended.set(id, end);
          endOrder.push(end);
        }),
      );
      await sleep(1000 / CALLS_PER_SECOND);
    }
    await Promise.all(inFlight);
    polling = false;
    await Promise.all([pollRequests, pollOverview]);
    const toRequests = [...ended]
      .filter(([id]) => seenInRequests.has(id))
      .map(([id, end]) => seenInRequests.get(id)! - end);
    const toOverview = countSeenAt.map((seen, k) => seen - endOrder[k]!);

    // 2. Failing calls, each its own method, and the time until its alert is published.
    // The alerts are watched while the calls are made, so each is timed when it appears.
    const errorEnded = new Map<string, number>();
    const alertAt = new Map<string, number>();
    const deadline = Date.now() + ERRORS * (1000 / ERRORS_PER_SECOND) + 60_000;
    const watchAlerts = (async () => {
      while (alertAt.size < ERRORS && Date.now() < deadline) {
        for (const alert of env.alerts) {
          // Each failing call has a method of its own: the alert names it.
          if (alert.kind === 'error' && !alertAt.has(alert.method)) alertAt.set(alert.method, Date.now());
        }
        await sleep(5);
      }
    })();
    for (let i = 0; i < ERRORS; i++) {
      void call(failNames[i]!, `fail-${i}-${Date.now()}`).then((end) => errorEnded.set(failNames[i]!, end));
      await sleep(1000 / ERRORS_PER_SECOND);
    }
    await watchAlerts;
    const toAlert = [...errorEnded]
      .filter(([id]) => alertAt.has(id))
      .map(([id, end]) => alertAt.get(id)! - end);

    const row = (what: string, values: number[], n: number, goal: number) =>
      `| ${what} | ${values.length}/${n} | ${ms(quantile(values, 0.5))} | ${ms(quantile(values, 0.95))} | ${ms(goal)} | ${(quantile(values, 0.5) / quantile(baseline, 0.5)).toFixed(1)}× |`;
    return [
      `${CALLS} successful calls at ${CALLS_PER_SECOND}/s and ${ERRORS} failing calls at ${ERRORS_PER_SECOND}/s through a grpc-js server with the interceptor (defaults), on \`startLocal\` (DynamoDB Local, stream pollers, local API). The API is polled every ${POLL_MS} ms; a poll of \`/requests/\` takes ${ms(quantile(baseline, 0.5))} (median, the baseline).`,
      '',
      '| from a call’s end to | seen | median | p95 | goal (median) | median ÷ baseline |',
      '|---|---|---|---|---|---|',
      row('its row in `/requests/`', toRequests, CALLS, 1000),
      row('its count in `/overview/`', toOverview, CALLS, 5000),
      row('its alert in `env.alerts` (failing calls)', toAlert, ERRORS, 5000),
    ].join('\n');
  } finally {
    client.close();
    server.forceShutdown();
    await monitor.close();
    await env.stop();
  }
}
