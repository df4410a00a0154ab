import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { CATALOG_PK, parseScope } from './keys';
import { mapWithConcurrency } from './mapWithConcurrency';
import {
  emptyScopeStats,
  mergeScopeStats,
  scopeStatsFromItem,
  type ScopeStats,
  type TimeRange,
} from './scopeStats';
import { hoursStartingIn, planWindow, type WindowOptions } from './window';

export interface ReadOptions extends WindowOptions {
  /** Bucket Queries in flight at once (default 24). */
  readonly concurrency?: number;
}

const DEFAULT_CONCURRENCY = 24;

/** Every item of one partition (all pages). */
async function queryPartition(
  ddb: DynamoDBDocumentClient,
  table: string,
  pk: string,
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await ddb.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': pk },
        ExclusiveStartKey: start,
      }),
    );
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}

/** One bucket's scopes: scope key → stats. */
export async function readBucket(
  ddb: DynamoDBDocumentClient,
  table: string,
  bucket: string,
): Promise<Map<string, ScopeStats>> {
  const scopes = new Map<string, ScopeStats>();
  for (const item of await queryPartition(ddb, table, bucket)) {
    if (typeof item.sk === 'string') scopes.set(item.sk, scopeStatsFromItem(item));
  }
  return scopes;
}

/**
 * Every scope's stats over [from, to): one Query per bucket (each returns all scopes of it),
 * minute buckets at the partial ends and hour buckets between (see planWindow), run in
 * parallel. Scopes with no calls in the window are absent.
 */
export async function readWindow(
  ddb: DynamoDBDocumentClient,
  statsTable: string,
  range: TimeRange,
  options: ReadOptions = {},
): Promise<Map<string, ScopeStats>> {
  const plan = planWindow(range, options);
  const buckets = [...plan.hourBuckets, ...plan.minuteBuckets];
  const merged = new Map<string, ScopeStats>();
  await mapWithConcurrency(buckets, options.concurrency ?? DEFAULT_CONCURRENCY, async (bucket) => {
    for (const [scope, stats] of await readBucket(ddb, statsTable, bucket)) {
      let into = merged.get(scope);
      if (!into) merged.set(scope, (into = emptyScopeStats()));
      mergeScopeStats(into, stats);
    }
  });
  return merged;
}

/**
 * Per-hour stats for each hour that starts in [from, to) (for timelines), keyed by the hour's
 * start as ISO 8601 (`2025-11-01T14:00:00.000Z`), in time order. Hours with no data are absent.
 */
export async function readHours(
  ddb: DynamoDBDocumentClient,
  statsTable: string,
  range: TimeRange,
  options: Pick<ReadOptions, 'concurrency'> = {},
): Promise<Map<string, Map<string, ScopeStats>>> {
  const buckets = hoursStartingIn(range);
  const read = await mapWithConcurrency(buckets, options.concurrency ?? DEFAULT_CONCURRENCY, (bucket) =>
    readBucket(ddb, statsTable, bucket),
  );
  const hours = new Map<string, Map<string, ScopeStats>>();
  buckets.forEach((bucket, i) => {
    const scopes = read[i]!;
    if (scopes.size > 0) hours.set(`${bucket.slice(2)}:00:00.000Z`, scopes);
  });
  return hours;
}

/** Known services and their methods (the catalog the aggregator keeps), sorted by name. */
export async function readCatalog(
  ddb: DynamoDBDocumentClient,
  statsTable: string,
): Promise<Array<{ service: string; methods: string[] }>> {
  const services = new Map<string, Set<string>>();
  for (const item of await queryPartition(ddb, statsTable, CATALOG_PK)) {
    const name = typeof item.sk === 'string' ? parseScope(item.sk) : undefined;
    if (!name || name.kind === 'all') continue;
    const methods = services.get(name.service) ?? new Set<string>();
    services.set(name.service, methods);
    if (name.kind === 'method') methods.add(name.method);
  }
  return [...services]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([service, methods]) => ({ service, methods: [...methods].sort() }));
}
