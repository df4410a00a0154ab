/**
 * Fills a Stats table as the aggregator would after `requests` calls spread evenly over the
 * `hours` before `now`: synthetic calls (5 services × 4 methods, log-normal durations, a few
 * errors and timeouts) folded by the aggregator's own fold, then written as whole items with
 * BatchWriteItem (the table's counter and histogram items must not exist yet: seeding writes, it
 * does not add). 1,000,000 requests fold in a couple of seconds and write about 76,000 items
 * (a counter item and a histogram item per bucket and scope).
 * Used by bench/statsRead.bench.ts and the API's overview bench.
 */
import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { MonitorConfig } from '../core/config';
import type { FinalStatus } from '../core/record';
import { writeCatalog } from '../core/stats/apply';
import { foldCalls, type CountedCall } from '../core/stats/fold';
import { mapWithConcurrency } from '../core/stats/mapWithConcurrency';
import { deltaItems } from '../core/stats/updates';

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

function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function* syntheticCalls(options: SeedOptions): Generator<CountedCall> {
  const rand = random(options.seed ?? 1);
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
      requestId: `seed-${i}`,
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
  const deltas = foldCalls(syntheticCalls(options), config);
  const items = [...deltas.values()].flatMap((d) => deltaItems(d, config));
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
  await writeCatalog(ddb, config.statsTable, new Set([...deltas.values()].map((d) => d.sk)));
  return { requests: options.requests, items: items.length, services: [...SERVICES].sort() };
}
