import {
  BatchGetItemCommand,
  QueryCommand as RawQueryCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mergeHistogram } from './histogram';
import { CATALOG_PK, COUNTERS_BELOW, histogramKey, parseScope, scopeOfHistogramKey } from './keys';
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
  /**
   * Read the latency histograms of these scope keys only (e.g. `[ALL_SCOPE]`); every other
   * scope comes back with counters and an empty histogram. Default: every scope's histogram.
   */
  readonly histogramsOf?: readonly string[];
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

type RawItem = Record<string, AttributeValue>;
type FlatItem = Record<string, number | string>;

/** The DocumentClient sends low-level commands as they are (same client, no marshalling). */
const sendRaw = <Out>(ddb: DynamoDBDocumentClient, command: RawQueryCommand | BatchGetItemCommand) =>
  (ddb as unknown as { send(c: typeof command): Promise<Out> }).send(command);

/** Numbers and strings only: Stats items are numeric counters, a few strings and keys. */
function flatten(raw: RawItem): FlatItem {
  const item: FlatItem = {};
  for (const key in raw) {
    const value = raw[key]!;
    if (value.N !== undefined) item[key] = Number(value.N);
    else if (value.S !== undefined) item[key] = value.S;
  }
  return item;
}

/**
 * Every item of one bucket partition (all pages), optionally only the counter items
 * (`sk < '~'`), read with the low-level Query: histogram items are hundreds of numeric
 * attributes, and skipping the DocumentClient's generic unmarshalling makes reading them
 * markedly cheaper.
 */
async function queryBucket(
  ddb: DynamoDBDocumentClient,
  table: string,
  pk: string,
  countersOnly: boolean,
): Promise<FlatItem[]> {
  const items: FlatItem[] = [];
  let start: RawItem | undefined;
  do {
    const command = new RawQueryCommand({
      TableName: table,
      KeyConditionExpression: countersOnly ? 'pk = :pk AND sk < :below' : 'pk = :pk',
      ExpressionAttributeValues: countersOnly
        ? { ':pk': { S: pk }, ':below': { S: COUNTERS_BELOW } }
        : { ':pk': { S: pk } },
      ExclusiveStartKey: start,
    });
    const page = await sendRaw<{ Items?: RawItem[]; LastEvaluatedKey?: RawItem }>(ddb, command);
    for (const raw of page.Items ?? []) items.push(flatten(raw));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}

/** These items by key, with BatchGetItem (100 keys a call; unprocessed keys retried with backoff). */
async function getItems(
  ddb: DynamoDBDocumentClient,
  table: string,
  keys: ReadonlyArray<{ pk: string; sk: string }>,
  concurrency: number,
): Promise<FlatItem[]> {
  const batches: RawItem[][] = [];
  for (let i = 0; i < keys.length; i += 100) {
    batches.push(keys.slice(i, i + 100).map(({ pk, sk }) => ({ pk: { S: pk }, sk: { S: sk } })));
  }
  const items: FlatItem[] = [];
  await mapWithConcurrency(batches, concurrency, async (batch) => {
    let pending: RawItem[] | undefined = batch;
    for (let attempt = 0; pending && pending.length > 0; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 20 * 2 ** attempt)));
      const out: {
        Responses?: Record<string, RawItem[]>;
        UnprocessedKeys?: Record<string, { Keys?: RawItem[] }>;
      } = await sendRaw(ddb, new BatchGetItemCommand({ RequestItems: { [table]: { Keys: pending } } }));
      for (const raw of out.Responses?.[table] ?? []) items.push(flatten(raw));
      pending = out.UnprocessedKeys?.[table]?.Keys;
    }
  });
  return items;
}

/**
 * Adds a counter item or a histogram item (`~H#<scope>`) of one bucket to its scope's stats.
 * Items of a bucket never overlap, so this assembles each scope exactly as stored.
 */
function addItem(scopes: Map<string, ScopeStats>, item: FlatItem): void {
  if (typeof item.sk !== 'string') return;
  const histogramOf = scopeOfHistogramKey(item.sk);
  const scope = histogramOf ?? item.sk;
  const stats = scopeStatsFromItem(item);
  const into = scopes.get(scope);
  if (!into) scopes.set(scope, stats);
  else if (histogramOf !== undefined) mergeHistogram(into.histogram, stats.histogram);
  else mergeScopeStats(into, stats);
}

/** One bucket's scopes (counters and histograms): scope key → stats. */
export async function readBucket(
  ddb: DynamoDBDocumentClient,
  table: string,
  bucket: string,
): Promise<Map<string, ScopeStats>> {
  const scopes = new Map<string, ScopeStats>();
  for (const item of await queryBucket(ddb, table, bucket, false)) addItem(scopes, item);
  return scopes;
}

const mergeInto = (merged: Map<string, ScopeStats>, scopes: Map<string, ScopeStats>): void => {
  for (const [scope, stats] of scopes) {
    let into = merged.get(scope);
    if (!into) merged.set(scope, (into = emptyScopeStats()));
    mergeScopeStats(into, stats);
  }
};

/**
 * Every scope's stats over [from, to): one Query per bucket (each returns all scopes of it),
 * minute buckets at the partial ends and hour buckets between (see planWindow), run in
 * parallel. Scopes with no calls in the window are absent.
 *
 * With `histogramsOf`, only those scopes carry their latency histogram (the others' is
 * empty): each bucket's Query then reads the counter items alone (`sk < '~'`), and the
 * histogram items of the listed scopes come by BatchGetItem (100 keys a call) alongside. A
 * histogram holds up to hundreds of buckets once traffic fills it, counters a dozen numbers,
 * so this read costs about the same whatever the traffic.
 */
export async function readWindow(
  ddb: DynamoDBDocumentClient,
  statsTable: string,
  range: TimeRange,
  options: ReadOptions = {},
): Promise<Map<string, ScopeStats>> {
  const plan = planWindow(range, options);
  const buckets = [...plan.hourBuckets, ...plan.minuteBuckets];
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  const merged = new Map<string, ScopeStats>();
  const only = options.histogramsOf;
  if (!only) {
    await mapWithConcurrency(buckets, concurrency, async (bucket) => {
      mergeInto(merged, await readBucket(ddb, statsTable, bucket));
    });
    return merged;
  }
  const keys = buckets.flatMap((pk) => only.map((scope) => ({ pk, sk: histogramKey(scope) })));
  const [, histograms] = await Promise.all([
    mapWithConcurrency(buckets, concurrency, async (bucket) => {
      const scopes = new Map<string, ScopeStats>();
      for (const item of await queryBucket(ddb, statsTable, bucket, true)) addItem(scopes, item);
      mergeInto(merged, scopes);
    }),
    getItems(ddb, statsTable, keys, concurrency),
  ]);
  for (const item of histograms) {
    const scope = typeof item.sk === 'string' ? scopeOfHistogramKey(item.sk) : undefined;
    if (scope === undefined) continue;
    let into = merged.get(scope);
    if (!into) merged.set(scope, (into = emptyScopeStats()));
    mergeHistogram(into.histogram, scopeStatsFromItem(item).histogram);
  }
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
