import {
  BatchGetItemCommand,
  GetItemCommand,
  QueryCommand as RawQueryCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { MonitorConfig } from '../config';
import { cellsOfItem } from '../deltas/deltaItem';
import { foldCellsByScope } from '../deltas/scopes';
import type { DeltaCell } from '../deltas/cell';
import { FINAL_STATUSES } from '../record';
import { HISTOGRAM_ATTRIBUTE, STATS_ATTRIBUTE } from './attributes';
import { histogramIndexOf, type Histogram } from './histogram';
import {
  bucketEnd,
  bucketStart,
  CATALOG_PK,
  COUNTERS_BELOW,
  histogramKey,
  LEGACY_PACKED_PREFIX,
  parseScope,
  scopeOfHistogramKey,
  WATERMARK_ATTRIBUTE,
  WATERMARK_KEY,
} from './keys';
import { mapWithConcurrency } from './mapWithConcurrency';
import { addPackedBins } from './packedHistogram';
import {
  emptyScopeStats,
  mergeScopeStats,
  scopeStatsFromCell,
  scopeStatsFromItem,
  type ScopeStats,
  type TimeRange,
} from './scopeStats';
import {
  DEFAULT_MAX_DELTA_MINUTES,
  hoursStartingIn,
  planMergedWindow,
  type MergedWindowOptions,
} from './window';

/** The tables a read merges: Stats up to the aggregator's watermark, Deltas after it. */
export type StatsTables = Pick<MonitorConfig, 'statsTable' | 'deltaTable'>;

export interface ReadOptions extends MergedWindowOptions {
  /** Queries in flight at once (default 24). */
  readonly concurrency?: number;
  /**
   * Read the latency histograms of these scope keys only (e.g. `[ALL_SCOPE]`); every other
   * scope comes back with counters and an empty histogram. Default: every scope's histogram.
   */
  readonly histogramsOf?: readonly string[];
  /**
   * With `histogramsOf`: `'figures'` reads only the counters the figures of every endpoint come
   * from (calls, calls per status, duration sum, logged calls: FIGURE_ATTRIBUTES), projected in the Stats
   * Query, so by-code counts, bytes, slow calls, max duration and last request time may come
   * back empty. Default `'all'`.
   */
  readonly counters?: 'all' | 'figures';
  /** The watermark to split at, when the caller already read it (readWatermark). */
  readonly watermark?: Date | undefined;
}

/** The counter attributes `counters: 'figures'` reads (and the key that names the scope). */
export const FIGURE_ATTRIBUTES: readonly string[] = [
  'sk',
  STATS_ATTRIBUTE.total,
  ...FINAL_STATUSES.map((status) => STATS_ATTRIBUTE.status(status)),
  STATS_ATTRIBUTE.durationSumCentis,
  // The overview says how many calls the log holds (sampling).
  STATS_ATTRIBUTE.logged,
];
const FIGURES_PROJECTION = {
  ProjectionExpression: FIGURE_ATTRIBUTES.map((_, i) => `#p${i}`).join(', '),
  ExpressionAttributeNames: Object.fromEntries(FIGURE_ATTRIBUTES.map((a, i) => [`#p${i}`, a])),
};

const DEFAULT_CONCURRENCY = 24;

/** Every item of one partition (all pages; `consistent` for a strongly consistent read). */
export async function queryPartition(
  ddb: DynamoDBDocumentClient,
  table: string,
  pk: string,
  consistent = false,
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
        ConsistentRead: consistent,
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
const sendRaw = <Out>(
  ddb: DynamoDBDocumentClient,
  command: RawQueryCommand | BatchGetItemCommand | GetItemCommand,
) => (ddb as unknown as { send(c: typeof command): Promise<Out> }).send(command);

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
 * The counter and histogram items of one bucket partition (all pages; `sk < '~P#'` leaves out
 * legacy packed copies), or only its counter items (`sk < '~'`), with the low-level Query (no
 * generic unmarshalling). `projection` limits the attributes of counter items.
 */
async function queryBucket(
  ddb: DynamoDBDocumentClient,
  table: string,
  pk: string,
  options: { countersOnly: boolean; consistent?: boolean; projection?: typeof FIGURES_PROJECTION },
  onItem: (item: RawItem) => void,
): Promise<void> {
  let start: RawItem | undefined;
  do {
    const command = new RawQueryCommand({
      TableName: table,
      ...options.projection,
      KeyConditionExpression: 'pk = :pk AND sk < :below',
      ExpressionAttributeValues: {
        ':pk': { S: pk },
        ':below': { S: options.countersOnly ? COUNTERS_BELOW : LEGACY_PACKED_PREFIX },
      },
      ExclusiveStartKey: start,
      ConsistentRead: options.consistent ?? false,
    });
    const page = await sendRaw<{ Items?: RawItem[]; LastEvaluatedKey?: RawItem }>(ddb, command);
    for (const raw of page.Items ?? []) onItem(raw);
    start = page.LastEvaluatedKey;
  } while (start);
}

/** These items by key, with BatchGetItem (100 keys a call; unprocessed keys retried with backoff). */
async function getItems(
  ddb: DynamoDBDocumentClient,
  table: string,
  keys: ReadonlyArray<{ pk: string; sk: string }>,
  concurrency: number,
  onItem: (item: RawItem) => void,
): Promise<void> {
  const batches: RawItem[][] = [];
  for (let i = 0; i < keys.length; i += 100) {
    batches.push(keys.slice(i, i + 100).map(({ pk, sk }) => ({ pk: { S: pk }, sk: { S: sk } })));
  }
  await mapWithConcurrency(batches, concurrency, async (batch) => {
    let pending: RawItem[] | undefined = batch;
    for (let attempt = 0; pending && pending.length > 0; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 20 * 2 ** attempt)));
      const out: {
        Responses?: Record<string, RawItem[]>;
        UnprocessedKeys?: Record<string, { Keys?: RawItem[] }>;
      } = await sendRaw(ddb, new BatchGetItemCommand({ RequestItems: { [table]: { Keys: pending } } }));
      for (const raw of out.Responses?.[table] ?? []) onItem(raw);
      pending = out.UnprocessedKeys?.[table]?.Keys;
    }
  });
}

/**
 * Adds a histogram item's bins to a histogram: the packed string (`b`), or, on an item written
 * before histograms were packed, its numeric bin attributes (`h<i>`, `hz`).
 */
function addHistogramItem(into: Histogram, raw: RawItem): void {
  const packed = raw[HISTOGRAM_ATTRIBUTE.bins]?.S;
  if (packed !== undefined) {
    addPackedBins(into, packed);
    return;
  }
  for (const attribute in raw) {
    if (attribute.charCodeAt(0) !== 104 /* h */) continue;
    const index = histogramIndexOf(attribute);
    const count = raw[attribute]!.N;
    if (index === undefined || count === undefined) continue;
    into.set(index, (into.get(index) ?? 0) + Number(count));
  }
}

const statsOf = (scopes: Map<string, ScopeStats>, scope: string): ScopeStats => {
  let stats = scopes.get(scope);
  if (!stats) scopes.set(scope, (stats = emptyScopeStats()));
  return stats;
};

/**
 * Adds a Stats item, a counter item (sk `<scope>`) or a histogram item (`~H#<scope>`), to its
 * scope's stats. Every item adds (counts and histogram bins) or raises (maxima), so the items of
 * any set of buckets that do not overlap add up to each scope's figures over their union.
 */
function addItem(scopes: Map<string, ScopeStats>, raw: RawItem): void {
  const sk = raw.sk?.S;
  if (sk === undefined) return;
  const histogramOf = scopeOfHistogramKey(sk);
  if (histogramOf !== undefined) addHistogramItem(statsOf(scopes, histogramOf).histogram, raw);
  else mergeScopeStats(statsOf(scopes, sk), scopeStatsFromItem(flatten(raw)));
}

/**
 * One bucket's scopes (counters and histograms): scope key → stats. `consistent` for the
 * aggregator, which reads what it has just written.
 */
export async function readBucket(
  ddb: DynamoDBDocumentClient,
  table: string,
  bucket: string,
  options: { consistent?: boolean } = {},
): Promise<Map<string, ScopeStats>> {
  const scopes = new Map<string, ScopeStats>();
  await queryBucket(ddb, table, bucket, { countersOnly: false, consistent: options.consistent }, (item) =>
    addItem(scopes, item),
  );
  return scopes;
}

/**
 * The aggregator's watermark: every Stats bucket that ends at or before it is final (see
 * docs/aggregation.md); undefined before the first close pass. An older value read (eventual
 * consistency) is safe: the reader then takes more minutes from the Deltas table.
 */
export async function readWatermark(
  ddb: DynamoDBDocumentClient,
  statsTable: string,
): Promise<Date | undefined> {
  const out: { Item?: RawItem } = await sendRaw(
    ddb,
    new GetItemCommand({
      TableName: statsTable,
      Key: { pk: { S: WATERMARK_KEY.pk }, sk: { S: WATERMARK_KEY.sk } },
    }),
  );
  const through = out.Item?.[WATERMARK_ATTRIBUTE]?.S;
  const time = through === undefined ? NaN : Date.parse(through);
  return Number.isNaN(time) ? undefined : new Date(time);
}

/** Every delta cell stored under one minute of the Deltas table (all pages). */
export async function readMinuteCells(
  ddb: DynamoDBDocumentClient,
  deltaTable: string,
  minute: string,
  options: { consistent?: boolean } = {},
): Promise<DeltaCell[]> {
  const items = await queryPartition(ddb, deltaTable, minute, options.consistent);
  return items.flatMap((item) => cellsOfItem(item));
}

/**
 * The Deltas table's minutes, folded per scope (one Query per minute, in parallel), added into
 * `into`. With `histogramsOf`, other scopes' histograms are left out, as from Stats.
 */
async function addDeltaMinutes(
  ddb: DynamoDBDocumentClient,
  deltaTable: string,
  minutes: readonly string[],
  into: Map<string, ScopeStats>,
  options: { concurrency: number; histogramsOf?: readonly string[] },
): Promise<void> {
  if (minutes.length === 0) return;
  const cells = new Map<string, DeltaCell>();
  await mapWithConcurrency(minutes, options.concurrency, async (minute) => {
    foldCellsByScope(await readMinuteCells(ddb, deltaTable, minute), cells);
  });
  const listed = options.histogramsOf && new Set(options.histogramsOf);
  for (const [scope, cell] of cells) {
    const stats = scopeStatsFromCell(cell);
    if (listed && !listed.has(scope)) stats.histogram = new Map();
    mergeScopeStats(statsOf(into, scope), stats);
  }
}

/**
 * Every scope's stats over [from, to), exact and fresh: the part of the window before the
 * aggregator's watermark from the few Stats buckets of every level that tile it (planWindow),
 * one Query per bucket; the rest, the minutes not closed yet, straight from the Deltas table,
 * one Query per minute (planMergedWindow). All run in parallel and add straight into each
 * scope's figures. Scopes with no calls in the window are absent.
 *
 * With `histogramsOf`, only those scopes carry their latency histogram (the others' is empty):
 * each bucket's Query then reads the counter items alone (`sk < '~'`; with `counters:
 * 'figures'` projected), and the listed scopes' histogram items (one packed string each) come
 * by BatchGetItem alongside.
 */
export async function readWindow(
  ddb: DynamoDBDocumentClient,
  tables: StatsTables,
  range: TimeRange,
  options: ReadOptions = {},
): Promise<Map<string, ScopeStats>> {
  const watermark = 'watermark' in options ? options.watermark : await readWatermark(ddb, tables.statsTable);
  const plan = planMergedWindow(range, watermark, options);
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  const merged = new Map<string, ScopeStats>();
  const deltas = addDeltaMinutes(ddb, tables.deltaTable, plan.deltaMinutes, merged, {
    concurrency,
    histogramsOf: options.histogramsOf,
  });
  const only = options.histogramsOf;
  if (!only) {
    await Promise.all([
      deltas,
      mapWithConcurrency(plan.buckets, concurrency, (bucket) =>
        queryBucket(ddb, tables.statsTable, bucket, { countersOnly: false }, (item) => addItem(merged, item)),
      ),
    ]);
    return merged;
  }
  const projection = options.counters === 'figures' ? FIGURES_PROJECTION : undefined;
  const counters = mapWithConcurrency(plan.buckets, concurrency, (bucket) =>
    queryBucket(ddb, tables.statsTable, bucket, { countersOnly: true, projection }, (item) =>
      addItem(merged, item),
    ),
  );
  const histogramKeys = plan.buckets.flatMap((bucket) =>
    only.map((scope) => ({ pk: bucket, sk: histogramKey(scope) })),
  );
  const histograms = getItems(ddb, tables.statsTable, histogramKeys, concurrency, (item) =>
    addItem(merged, item),
  );
  await Promise.all([deltas, counters, histograms]);
  return merged;
}

/**
 * Per-hour stats for each hour that starts in [from, to) (for timelines), keyed by the hour's
 * start as ISO 8601 (`2025-11-01T14:00:00.000Z`), in time order. Hours with no data are absent.
 * An hour that ends at or before the watermark is its hour bucket; a later one is read as a
 * window (readWindow: closed buckets plus the Deltas of its open minutes).
 */
export async function readHours(
  ddb: DynamoDBDocumentClient,
  tables: StatsTables,
  range: TimeRange,
  options: Pick<ReadOptions, 'concurrency' | 'now' | 'maxDeltaMinutes' | 'minuteRetentionHours'> = {},
): Promise<Map<string, Map<string, ScopeStats>>> {
  const stored = await readWatermark(ddb, tables.statsTable);
  // The same cap as readWindow's, counted from now: hours before it come from Stats as they are.
  const now = options.now ?? new Date();
  const capped = now.getTime() - (options.maxDeltaMinutes ?? DEFAULT_MAX_DELTA_MINUTES) * 60_000;
  const watermark = new Date(Math.max(stored?.getTime() ?? Number.NEGATIVE_INFINITY, capped));
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  const buckets = hoursStartingIn(range);
  const read = await mapWithConcurrency(buckets, Math.max(1, Math.floor(concurrency / 4)), (bucket) =>
    bucketEnd(bucket).getTime() <= watermark.getTime()
      ? readBucket(ddb, tables.statsTable, bucket)
      : readWindow(
          ddb,
          tables,
          { from: bucketStart(bucket), to: bucketEnd(bucket) },
          { ...options, now, concurrency, watermark },
        ),
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
