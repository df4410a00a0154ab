import type { MonitorDeps } from '../deps';
import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  QueryCommand,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { FINAL_STATUSES } from '../record';
import {
  ALL_SCOPE,
  emptyScopeStats,
  mergeScopeStats,
  planWindow,
  readWindow,
  scopeStatsFromItem,
  type ScopeStats,
  type TimeRange,
} from '../stats';
import { STATS_ATTRIBUTE } from '../stats/updates';
import { recentWindow } from './window';

const windowOptions = (deps: MonitorDeps) => ({
  minuteRetentionHours: deps.config.minuteRetentionHours,
  now: deps.now(),
});

/**
 * The range the Stats answer exactly for `range`: whole minutes, widened to whole hours at an
 * end whose minute buckets have expired. Lists read this same range, so a list's length and
 * its count always agree.
 */
export function countableRange(deps: MonitorDeps, range: TimeRange): TimeRange {
  const plan = planWindow(range, windowOptions(deps));
  return { from: plan.from, to: plan.to };
}

/** Every scope's counters over `range` (readWindow with this deployment's retention). */
export function readStats(deps: MonitorDeps, range: TimeRange): Promise<Map<string, ScopeStats>> {
  return readWindow(deps.ddb, deps.config.statsTable, range, windowOptions(deps));
}

/** The last `hours` hours as the Stats count them (minute-aligned, see recentWindow). */
export const lastHours = (deps: MonitorDeps, hours: number): TimeRange =>
  countableRange(deps, recentWindow(deps.now(), hours));

/** The counter attributes of a Stats item: everything but the histogram and per-code counts. */
const COUNTER_ATTRIBUTES = [
  'sk',
  STATS_ATTRIBUTE.total,
  ...FINAL_STATUSES.map((s) => STATS_ATTRIBUTE.status(s)),
  STATS_ATTRIBUTE.durationSumCentis,
  STATS_ATTRIBUTE.durationMax,
  STATS_ATTRIBUTE.bytesIn,
  STATS_ATTRIBUTE.bytesOut,
  STATS_ATTRIBUTE.slow,
  STATS_ATTRIBUTE.lastRequestAt,
];
const READ_CONCURRENCY = 24;

async function queryAll(deps: MonitorDeps, input: Omit<QueryCommandInput, 'TableName'>) {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await deps.ddb.send(
      new QueryCommand({ ...input, TableName: deps.config.statsTable, ExclusiveStartKey: start }),
    );
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}

/** The whole `ALL` item of each bucket, by BatchGetItem (100 keys a call, unprocessed keys retried). */
async function overallItems(
  deps: MonitorDeps,
  buckets: readonly string[],
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  for (let i = 0; i < buckets.length; i += 100) {
    let keys: Record<string, unknown>[] | undefined = buckets
      .slice(i, i + 100)
      .map((pk) => ({ pk, sk: ALL_SCOPE }));
    for (let attempt = 0; keys && keys.length > 0; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 20 * 2 ** attempt)));
      const out: BatchGetCommandOutput = await deps.ddb.send(
        new BatchGetCommand({ RequestItems: { [deps.config.statsTable]: { Keys: keys } } }),
      );
      items.push(...(out.Responses?.[deps.config.statsTable] ?? []));
      keys = out.UnprocessedKeys?.[deps.config.statsTable]?.Keys;
    }
  }
  return items;
}

/**
 * Like readStats, but only the `ALL` scope carries its latency histogram (and per-code counts):
 * every other scope comes back as counters alone. At high traffic each scope's histogram holds
 * hundreds of bucket attributes, so an overview (one p95, counts per service and method) reads
 * and parses a fraction of the data: one projected Query per bucket for the counters of every
 * scope, and one BatchGetItem for the ALL items of all buckets.
 */
export async function readCountersWithOverallHistogram(
  deps: MonitorDeps,
  range: TimeRange,
): Promise<Map<string, ScopeStats>> {
  const plan = planWindow(range, windowOptions(deps));
  const names = Object.fromEntries(COUNTER_ATTRIBUTES.map((a, i) => [`#a${i}`, a]));
  const projection = Object.keys(names).join(', ');
  const merged = new Map<string, ScopeStats>();
  const add = (scope: string, stats: ScopeStats) => {
    let into = merged.get(scope);
    if (!into) merged.set(scope, (into = emptyScopeStats()));
    mergeScopeStats(into, stats);
  };
  const buckets = [...plan.hourBuckets, ...plan.minuteBuckets];
  let next = 0;
  const worker = async () => {
    while (next < buckets.length) {
      const bucket = buckets[next++]!;
      const counters = await queryAll(deps, {
        KeyConditionExpression: 'pk = :pk',
        ProjectionExpression: projection,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: { ':pk': bucket },
      });
      for (const item of counters) {
        if (typeof item.sk === 'string' && item.sk !== ALL_SCOPE) add(item.sk, scopeStatsFromItem(item));
      }
    }
  };
  const [overall] = await Promise.all([
    overallItems(deps, buckets),
    ...Array.from({ length: Math.min(READ_CONCURRENCY, buckets.length) }, worker),
  ]);
  for (const item of overall) add(ALL_SCOPE, scopeStatsFromItem(item));
  return merged;
}
