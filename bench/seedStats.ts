/**
 * Fills a Stats table as the aggregator's close passes would after `requests` calls spread
 * evenly over the `hours` before `now`: synthetic calls (5 services × 4 methods, log-normal
 * durations, a few errors and timeouts) folded into cells per (bucket of every level, scope)
 * with core/deltas, written as the aggregator's whole items (statsItems) with BatchWriteItem,
 * plus the catalog and a watermark two minutes before `now` (the reads then take their last
 * minutes from the, here empty, Deltas table, as in production). 1,000,000 requests fold in a
 * few seconds.
 * Also the setup both read benches share (bench/statsRead.bench.ts, bench/overviewApi.bench.ts):
 * a DynamoDB Local, the 1k / 1M pair of seeded tables, interleaved timed rounds.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DEFAULTS, type MonitorConfig } from '../core/config';
import { documentClient } from '../core/deps';
import { addCallToCell, emptyCell, scopesOfCell, type DeltaCell } from '../core/deltas';
import type { FinalStatus } from '../core/record';
import {
  bucketExpiresAt,
  bucketsOf,
  catalogItem,
  scopeStatsFromCell,
  statsItems,
  WATERMARK_ATTRIBUTE,
  WATERMARK_KEY,
  type StatsItem,
} from '../core/stats';
import { mapWithConcurrency } from '../core/stats/mapWithConcurrency';
import { startDynamoDbLocal } from '../local/dynamoDbLocal';
import { ensureTables } from '../local/tables';
import { seededRandom } from '../test/fixtures/random';

export interface SeedOptions {
  readonly requests: number;
  /** The calls are spread over the `hours` before `now`. */
  readonly hours: number;
  readonly now: Date;
  /** PRNG seed (default 1): the same options give the same table. */
  readonly seed?: number;
}

export interface SeedResult {
  readonly requests: number;
  readonly items: number;
  readonly services: string[];
}

const SERVICES = ['UserService', 'OrderService', 'BillingService', 'CatalogService', 'SearchService'];
const METHODS = ['Get', 'List', 'Create', 'Update'];
const OUTCOMES: Array<[FinalStatus, string, number]> = [
  // status, code, weight in 1000
  ['error', 'NOT_FOUND', 20],
  ['error', 'INTERNAL', 10],
  ['timeout', 'DEADLINE_EXCEEDED', 5],
  ['cancelled', 'CANCELLED', 5],
];

interface SyntheticCall {
  readonly service: string;
  readonly method: string;
  readonly status: FinalStatus;
  readonly code: string;
  readonly durationMs: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly createdAt: string;
}

function* syntheticCalls(options: SeedOptions): Generator<SyntheticCall> {
  const rand = seededRandom(options.seed ?? 1);
  const span = options.hours * 3_600_000;
  const start = options.now.getTime() - span;
  for (let i = 0; i < options.requests; i++) {
    const service = SERVICES[i % SERVICES.length]!;
    const method = METHODS[Math.floor(rand() * METHODS.length)]!;
    let status: FinalStatus = 'success';
    let code = 'OK';
    let pick = rand() * 1000;
    for (const [s, c, weight] of OUTCOMES) {
      if (pick < weight) {
        status = s;
        code = c;
        break;
      }
      pick -= weight;
    }
    // Log-normal around 25 ms (Box–Muller), 2 decimals as the interceptor stores it.
    const normal = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
    const durationMs = Math.round(Math.exp(Math.log(25) + normal) * 100) / 100;
    yield {
      service,
      method,
      status,
      code,
      durationMs,
      bytesIn: 50 + Math.floor(rand() * 200),
      bytesOut: 100 + Math.floor(rand() * 2000),
      createdAt: new Date(start + Math.floor(((i + rand()) * span) / options.requests)).toISOString(),
    };
  }
}

export async function seedStats(
  ddb: DynamoDBDocumentClient,
  config: MonitorConfig,
  options: SeedOptions,
): Promise<SeedResult> {
  const cells = new Map<string, { bucket: string; scope: string; cell: DeltaCell }>();
  for (const call of syntheticCalls(options)) {
    for (const bucket of bucketsOf(call.createdAt)) {
      for (const scope of scopesOfCell(call)) {
        const key = `${bucket}|${scope}`;
        let entry = cells.get(key);
        if (!entry) cells.set(key, (entry = { bucket, scope, cell: emptyCell(call.service, call.method) }));
        addCallToCell(entry.cell, { ...call, slow: call.durationMs >= config.slowThresholdMs, logged: true });
      }
    }
  }
  const scopes = new Set([...cells.values()].map((e) => e.scope));
  const items: StatsItem[] = [
    ...[...cells.values()].flatMap(({ bucket, scope, cell }) =>
      statsItems(bucket, scope, scopeStatsFromCell(cell), bucketExpiresAt(bucket, config)),
    ),
    ...[...scopes].flatMap((scope) => catalogItem(scope) ?? []),
    {
      ...WATERMARK_KEY,
      [WATERMARK_ATTRIBUTE]: new Date(
        Math.floor(options.now.getTime() / 60_000) * 60_000 - 120_000,
      ).toISOString(),
    },
  ];
  const batches: (typeof items)[] = [];
  for (let i = 0; i < items.length; i += 25) batches.push(items.slice(i, i + 25));
  await mapWithConcurrency(batches, 8, async (batch) => {
    let pending: Array<{ PutRequest: { Item: Record<string, unknown> } }> | undefined = batch.map((Item) => ({
      PutRequest: { Item },
    }));
    for (let attempt = 0; pending && pending.length > 0; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 20 * 2 ** attempt)));
      const out = await ddb.send(new BatchWriteCommand({ RequestItems: { [config.statsTable]: pending } }));
      pending = out.UnprocessedItems?.[config.statsTable] as typeof pending;
    }
  });
  return { requests: options.requests, items: items.length, services: [...SERVICES].sort() };
}

/**
 * The two tables the read benches compare: the same services and methods after 1,000 and after
 * 1,000,000 aggregated requests over the 24 h before `now`.
 */
export interface SeededPair {
  readonly small: MonitorConfig;
  readonly large: MonitorConfig;
  /** Mid-hour (so a 24 h window has partial hours at both ends). */
  readonly now: Date;
  /** "1,000 requests → 7,026 Stats items in 4.7 s; …", for the report. */
  readonly seeded: string;
}

export const SMALL_REQUESTS = 1_000;
export const LARGE_REQUESTS = 1_000_000;

/**
 * Creates the tables `bench-<prefix>-{requests,stats}-{1k,1m}` and seeds their Stats
 * (seedStats); `prepare` may add to each table pair first (e.g. RequestLog items).
 */
export async function seedPair(
  client: DynamoDBClient,
  ddb: DynamoDBDocumentClient,
  prefix: string,
  prepare?: (config: MonitorConfig, now: Date) => Promise<void>,
): Promise<SeededPair> {
  const now = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000 - 30 * 60_000);
  const configFor = (name: string): MonitorConfig => ({
    ...DEFAULTS,
    requestLogTable: `bench-${prefix}-requests-${name}`,
    statsTable: `bench-${prefix}-stats-${name}`,
    deltaTable: `bench-${prefix}-deltas-${name}`,
  });
  const small = configFor('1k');
  const large = configFor('1m');
  const seeded: string[] = [];
  for (const [config, requests] of [
    [small, SMALL_REQUESTS],
    [large, LARGE_REQUESTS],
  ] as const) {
    await ensureTables(client, config);
    await prepare?.(config, now);
    const t = performance.now();
    const result = await seedStats(ddb, config, { requests, hours: 24, now });
    seeded.push(
      `${requests.toLocaleString('en')} requests → ${result.items.toLocaleString('en')} Stats items in ${((performance.now() - t) / 1000).toFixed(1)} s`,
    );
  }
  return { small, large, now, seeded: seeded.join('; ') };
}

export interface Timings<T> {
  readonly small: number[];
  readonly large: number[];
  /** The results of the last round. */
  readonly last: { small: T; large: T };
}

/**
 * Times each kind of read on the small and the large table, interleaved (each round reads every
 * kind from the small table, then from the large one, so drift in the machine's load hits both
 * alike), `rounds` times after `warmup` untimed rounds.
 */
export async function interleavedRounds<K extends string, T>(
  rounds: number,
  warmup: number,
  kinds: readonly K[],
  measure: (kind: K, which: 'small' | 'large') => Promise<T>,
): Promise<Record<K, Timings<T>>> {
  const out = Object.fromEntries(
    kinds.map((k) => [
      k,
      { small: [] as number[], large: [] as number[], last: {} as { small: T; large: T } },
    ]),
  ) as Record<K, { small: number[]; large: number[]; last: { small: T; large: T } }>;
  for (let round = 0; round < warmup + rounds; round++) {
    for (const kind of kinds) {
      for (const which of ['small', 'large'] as const) {
        const t = performance.now();
        const result = await measure(kind, which);
        const ms = performance.now() - t;
        if (round >= warmup) out[kind][which].push(ms);
        out[kind].last[which] = result;
      }
    }
  }
  return out;
}

/** Runs `body` against a fresh DynamoDB Local, stopped afterwards. */
export async function withDynamoDbLocal<T>(
  body: (client: DynamoDBClient, ddb: DynamoDBDocumentClient) => Promise<T>,
): Promise<T> {
  const dynamo = await startDynamoDbLocal();
  try {
    const client = new DynamoDBClient(dynamo.clientConfig);
    return await body(client, documentClient(client));
  } finally {
    await dynamo.stop();
  }
}
