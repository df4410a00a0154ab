import {
  BatchGetItemCommand,
  PutItemCommand,
  QueryCommand as RawQueryCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { histogramCount, histogramIndexOf, mergeHistogram, type Histogram } from './histogram';
import {
  bucketEnd,
  CATALOG_PK,
  COUNTERS_BELOW,
  histogramKey,
  packedHistogramKey,
  PACKED_HISTOGRAM_PREFIX,
  parseScope,
  scopeOfHistogramKey,
} from './keys';
import { addPackedBins, packHistogram, PACKED_ATTRIBUTE } from './packedHistogram';
import { mapWithConcurrency } from './mapWithConcurrency';
import { FINAL_STATUSES } from '../record';
import { STATS_ATTRIBUTE } from './updates';
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
  /**
   * With `histogramsOf`: `'figures'` reads only the counters the figures of every endpoint come
   * from (calls, calls per status, duration sum: FIGURE_ATTRIBUTES), projected in the Query, so
   * by-code counts, bytes, slow calls, max duration and last request time come back empty.
   * Default `'all'`.
   */
  readonly counters?: 'all' | 'figures';
  /**
   * With `histogramsOf`: when a closed bucket's histogram had to be read in full, write its
   * packed copy (`~P#<scope>`, PutItem on the Stats table) so later reads of that bucket get
   * one string instead of hundreds of bins. Reads use valid copies whether or not this is set.
   * Default false.
   */
  readonly packClosedHistograms?: boolean;
}

/**
 * A bucket counts as closed, for packing, this long after its end: records still in the
 * aggregator's pipeline land first, so a copy is rarely made stale (a stale one is only skipped).
 */
export const PACK_AFTER_MS = 2 * 60_000;

/** The counter attributes `counters: 'figures'` reads (and the key that names the scope). */
export const FIGURE_ATTRIBUTES: readonly string[] = [
  'sk',
  STATS_ATTRIBUTE.total,
  ...FINAL_STATUSES.map((status) => STATS_ATTRIBUTE.status(status)),
  STATS_ATTRIBUTE.durationSumCentis,
];
const FIGURES_PROJECTION = {
  ProjectionExpression: FIGURE_ATTRIBUTES.map((_, i) => `#p${i}`).join(', '),
  ExpressionAttributeNames: Object.fromEntries(FIGURE_ATTRIBUTES.map((a, i) => [`#p${i}`, a])),
};

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
const sendRaw = <Out>(
  ddb: DynamoDBDocumentClient,
  command: RawQueryCommand | BatchGetItemCommand | PutItemCommand,
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
 * the packed copies), or only its counter items (`sk < '~'`), read with the low-level Query:
 * histogram items are hundreds of numeric attributes, and skipping the DocumentClient's generic
 * unmarshalling makes reading them markedly cheaper. `projection` limits the attributes (of
 * counter items: it would drop a histogram's bins).
 */
async function queryBucket(
  ddb: DynamoDBDocumentClient,
  table: string,
  pk: string,
  countersOnly: boolean,
  onItem: (item: RawItem) => void,
  projection?: typeof FIGURES_PROJECTION,
): Promise<void> {
  let start: RawItem | undefined;
  do {
    const command = new RawQueryCommand({
      TableName: table,
      ...projection,
      // Counter items sort before `~`, histogram items (`~H#`) before packed copies (`~P#`).
      KeyConditionExpression: 'pk = :pk AND sk < :below',
      ExpressionAttributeValues: {
        ':pk': { S: pk },
        ':below': { S: countersOnly ? COUNTERS_BELOW : PACKED_HISTOGRAM_PREFIX },
      },
      ExclusiveStartKey: start,
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

/** Adds a histogram item's bucket counts (`h<i>`, `hz`) to a histogram, straight from the raw item. */
function addHistogramItem(into: Histogram, raw: RawItem): void {
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

/** One bucket's scopes (counters and histograms): scope key → stats. */
export async function readBucket(
  ddb: DynamoDBDocumentClient,
  table: string,
  bucket: string,
): Promise<Map<string, ScopeStats>> {
  const scopes = new Map<string, ScopeStats>();
  await queryBucket(ddb, table, bucket, false, (item) => addItem(scopes, item));
  return scopes;
}

/**
 * Every scope's stats over [from, to): one Query per bucket (each returns all scopes of it),
 * the few buckets of every level that tile the window (see planWindow), run in parallel, each
 * item added straight into its scope's figures. Scopes with no calls in the window are absent.
 *
 * With `histogramsOf`, only those scopes carry their latency histogram (the others' is
 * empty): each bucket's Query then reads the counter items alone (`sk < '~'`; with `counters:
 * 'figures'` projected), and the listed scopes' histograms come by BatchGetItem alongside
 * (readListedHistograms). A histogram holds up to hundreds of bins once traffic fills it,
 * counters a dozen numbers, so this read costs about the same whatever the traffic.
 */
export async function readWindow(
  ddb: DynamoDBDocumentClient,
  statsTable: string,
  range: TimeRange,
  options: ReadOptions = {},
): Promise<Map<string, ScopeStats>> {
  const plan = planWindow(range, options);
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  // Buckets never overlap, so every item adds straight into the window's figures.
  const merged = new Map<string, ScopeStats>();
  const only = options.histogramsOf;
  if (!only) {
    await mapWithConcurrency(plan.buckets, concurrency, (bucket) =>
      queryBucket(ddb, statsTable, bucket, false, (item) => addItem(merged, item)),
    );
    return merged;
  }
  const listed = new Set(only);
  const totals = new Map<string, number>();
  const projection = options.counters === 'figures' ? FIGURES_PROJECTION : undefined;
  const counters = mapWithConcurrency(plan.buckets, concurrency, (bucket) =>
    queryBucket(
      ddb,
      statsTable,
      bucket,
      true,
      (item) => {
        addItem(merged, item);
        const sk = item.sk?.S;
        if (sk !== undefined && listed.has(sk))
          totals.set(slotKey(bucket, sk), Number(item[STATS_ATTRIBUTE.total]?.N ?? 0));
      },
      projection,
    ),
  );
  const histograms = readListedHistograms(ddb, statsTable, plan.buckets, only, {
    histogramOf: (scope) => statsOf(merged, scope).histogram,
    concurrency,
    now: options.now ?? new Date(),
    pack: options.packClosedHistograms === true,
    // Asked for only once the histograms are in: had it been made up front, a failed read
    // would leave it rejected and unawaited.
    totals: () => counters.then(() => totals),
  });
  await Promise.all([counters, histograms]);
  return merged;
}

/** Map key of a (bucket, sort key) pair. */
const slotKey = (bucket: string, sk: string) => `${bucket}\u0000${sk}`;

/**
 * The histograms of `scopes` over `buckets`, merged per scope. A closed bucket's histogram is
 * read from its packed copy (`~P#<scope>`) when the copy's count equals the scope's counter
 * total in that bucket (`totals`, read alongside); an open bucket's, or a closed one whose copy
 * is missing or stale, from the histogram item, in a second BatchGetItem. With `pack`, a closed
 * bucket read that way gets its copy written (conditionally: never over a copy of more calls),
 * so each closed bucket costs one full read, not one per request. A failed write is ignored:
 * the next read reads the histogram item again.
 */
async function readListedHistograms(
  ddb: DynamoDBDocumentClient,
  table: string,
  buckets: readonly string[],
  scopes: readonly string[],
  options: {
    /** The histogram of a scope's window figures, to add into. */
    histogramOf: (scope: string) => Histogram;
    concurrency: number;
    now: Date;
    pack: boolean;
    totals: () => Promise<Map<string, number>>;
  },
): Promise<void> {
  const closedBefore = options.now.getTime() - PACK_AFTER_MS;
  const slots = buckets.flatMap((bucket) => {
    const closed = bucketEnd(bucket).getTime() <= closedBefore;
    return scopes.map((scope) => ({ bucket, scope, closed }));
  });
  const copies = new Map<string, RawItem>();
  const items = new Map<string, RawItem>();
  const get = (wanted: typeof slots, key: (scope: string) => string, into: Map<string, RawItem>) =>
    getItems(
      ddb,
      table,
      wanted.map(({ bucket, scope }) => ({ pk: bucket, sk: key(scope) })),
      options.concurrency,
      (raw) => into.set(slotKey(raw.pk?.S ?? '', raw.sk?.S ?? ''), raw),
    );
  const rawOf = (into: Map<string, RawItem>, bucket: string, sk: string) => into.get(slotKey(bucket, sk));
  await Promise.all([
    get(
      slots.filter((s) => s.closed),
      packedHistogramKey,
      copies,
    ),
    get(
      slots.filter((s) => !s.closed),
      histogramKey,
      items,
    ),
  ]);
  const totals = await options.totals();
  const unpacked: typeof slots = [];
  for (const slot of slots) {
    const total = totals.get(slotKey(slot.bucket, slot.scope)) ?? 0;
    // No counter item, no calls: the aggregator writes both in one transaction.
    if (!slot.closed || total === 0) continue;
    const copy = rawOf(copies, slot.bucket, packedHistogramKey(slot.scope));
    const bins = copy?.[PACKED_ATTRIBUTE.bins]?.S;
    if (bins !== undefined && Number(copy?.[PACKED_ATTRIBUTE.count]?.N) === total) {
      addPackedBins(options.histogramOf(slot.scope), bins);
    } else unpacked.push(slot);
  }
  if (unpacked.length > 0) await get(unpacked, histogramKey, items);
  const writes: Array<Promise<unknown>> = [];
  for (const slot of slots) {
    const raw = rawOf(items, slot.bucket, histogramKey(slot.scope));
    if (!raw) continue;
    // This bucket's own histogram too: it is what a copy would hold.
    const histogram: Histogram = new Map();
    addHistogramItem(histogram, raw);
    mergeHistogram(options.histogramOf(slot.scope), histogram);
    const total = totals.get(slotKey(slot.bucket, slot.scope)) ?? 0;
    const packable = slot.closed && total > 0 && raw[STATS_ATTRIBUTE.expiresAt]?.N !== undefined;
    if (options.pack && packable && histogramCount(histogram) === total) {
      writes.push(
        writePackedCopy(ddb, table, slot.bucket, slot.scope, histogram, total, raw).catch(() => undefined),
      );
    }
  }
  await Promise.all(writes);
}

/**
 * Writes a bucket's packed histogram copy of `count` calls (its histogram's sum), unless one of
 * at least as many calls is there.
 */
function writePackedCopy(
  ddb: DynamoDBDocumentClient,
  table: string,
  bucket: string,
  scope: string,
  histogram: Histogram,
  count: number,
  histogramItem: RawItem,
): Promise<unknown> {
  return sendRaw(
    ddb,
    new PutItemCommand({
      TableName: table,
      Item: {
        pk: { S: bucket },
        sk: { S: packedHistogramKey(scope) },
        [PACKED_ATTRIBUTE.count]: { N: String(count) },
        [PACKED_ATTRIBUTE.bins]: { S: packHistogram(histogram) },
        // Expires with the bucket's other items.
        [STATS_ATTRIBUTE.expiresAt]: histogramItem[STATS_ATTRIBUTE.expiresAt]!,
      },
      ConditionExpression: 'attribute_not_exists(#n) OR #n < :n',
      ExpressionAttributeNames: { '#n': PACKED_ATTRIBUTE.count },
      ExpressionAttributeValues: { ':n': { N: String(count) } },
    }),
  );
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
