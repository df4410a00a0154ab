import { QueryCommand as RawQueryCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
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

/**
 * Every item of one partition with numbers and strings only, read with the low-level Query:
 * Stats items are hundreds of numeric attributes, and skipping the DocumentClient's generic
 * unmarshalling makes reading them markedly cheaper.
 */
async function queryFlatPartition(
  ddb: DynamoDBDocumentClient,
  table: string,
  pk: string,
): Promise<Record<string, number | string>[]> {
  const items: Record<string, number | string>[] = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const command = new RawQueryCommand({
      TableName: table,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': { S: pk } },
      ExclusiveStartKey: start,
    });
    // The DocumentClient sends low-level commands as they are (same client, no marshalling).
    const page = await (
      ddb as unknown as {
        send(c: RawQueryCommand): Promise<{
          Items?: Record<string, AttributeValue>[];
          LastEvaluatedKey?: Record<string, AttributeValue>;
        }>;
      }
    ).send(command);
    for (const raw of page.Items ?? []) {
      const item: Record<string, number | string> = {};
      for (const key in raw) {
        const value = raw[key]!;
        if (value.N !== undefined) item[key] = Number(value.N);
        else if (value.S !== undefined) item[key] = value.S;
      }
      items.push(item);
    }
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
  for (const item of await queryFlatPartition(ddb, table, bucket)) {
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
