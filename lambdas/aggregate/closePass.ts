import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { MonitorConfig } from '../../core/config';
import { foldCellsByScope } from '../../core/deltas/scopes';
import { catalogItem, statsItems } from '../../core/stats/items';
import {
  BUCKET_LEVELS,
  bucketEnd,
  bucketExpiresAt,
  bucketStart,
  childBuckets,
  floorToMinute,
  levelOf,
  MINUTE_LEVEL,
  parentBucket,
  WATERMARK_ATTRIBUTE,
  WATERMARK_KEY,
} from '../../core/stats/keys';
import { mapWithConcurrency } from '../../core/stats/mapWithConcurrency';
import { readBucket, readMinuteCells } from '../../core/stats/read';
import {
  emptyScopeStats,
  mergeScopeStats,
  scopeStatsFromCell,
  type ScopeStats,
} from '../../core/stats/scopeStats';
import { listMarked, markerItem, type KnownDirty } from './dirtyMarks';
import { sendWrites, type StatsWrite } from './statsWrites';

/** What a container keeps between invocations (all of it only saves writes; none is needed). */
export interface AggregatorCaches {
  readonly known: KnownDirty;
  /** Catalog entries this container has written; the catalog only ever grows. */
  readonly catalogued: Set<string>;
  /** The watermark this container last wrote (ISO), to skip writing the same again. */
  watermark: string | undefined;
}

export interface PassResult {
  /** Buckets recomputed, finest first. */
  readonly closed: string[];
  /** Buckets whose recompute failed (still marked: the next pass tries again). */
  readonly failed: string[];
  /** The watermark after the pass (ISO minute). */
  readonly watermark: string;
}

export interface PassOptions {
  readonly ddb: DynamoDBDocumentClient;
  readonly config: Pick<
    MonitorConfig,
    'statsTable' | 'deltaTable' | 'closeAfterMs' | 'minuteRetentionHours' | 'retentionDays'
  >;
  readonly now: Date;
  readonly caches: AggregatorCaches;
  /** Start no bucket after this (epoch ms, real clock): what is left stays marked. */
  readonly stopAt?: number;
  readonly concurrency?: number;
  readonly onError?: (bucket: string, error: unknown) => void;
}

/** A minute's figures per scope: every delta stored under it, folded (all instances, all flushes). */
async function minuteScopes(options: PassOptions, minute: string): Promise<Map<string, ScopeStats>> {
  const cells = await readMinuteCells(options.ddb, options.config.deltaTable, minute, { consistent: true });
  const scopes = new Map<string, ScopeStats>();
  for (const [scope, cell] of foldCellsByScope(cells)) scopes.set(scope, scopeStatsFromCell(cell));
  return scopes;
}

/** A coarser bucket's figures per scope: the sum of its children one level finer, from Stats. */
async function childrenScopes(options: PassOptions, bucket: string): Promise<Map<string, ScopeStats>> {
  const children = await Promise.all(
    childBuckets(bucket).map((child) =>
      readBucket(options.ddb, options.config.statsTable, child, { consistent: true }),
    ),
  );
  const scopes = new Map<string, ScopeStats>();
  for (const child of children) {
    for (const [scope, stats] of child) {
      let sum = scopes.get(scope);
      if (!sum) scopes.set(scope, (sum = emptyScopeStats()));
      mergeScopeStats(sum, stats);
    }
  }
  return scopes;
}

/**
 * Recomputes one bucket: PUTs every scope's counter and histogram items, the catalog entries of
 * scopes new to this container (minutes only: coarser buckets hold the same scopes), and the
 * parent's dirty marker, in that order, so the marker of this bucket can go next.
 */
async function recompute(options: PassOptions, bucket: string): Promise<void> {
  const minute = levelOf(bucket) === MINUTE_LEVEL;
  const scopes = minute ? await minuteScopes(options, bucket) : await childrenScopes(options, bucket);
  const expiresAt = bucketExpiresAt(bucket, options.config);
  const writes: StatsWrite[] = [];
  const catalogued: string[] = [];
  for (const [scope, stats] of scopes) {
    if (minute && !options.caches.catalogued.has(scope)) {
      const entry = catalogItem(scope);
      if (entry) writes.push({ put: entry });
      catalogued.push(scope);
    }
    for (const item of statsItems(bucket, scope, stats, expiresAt)) writes.push({ put: item });
  }
  const parent = parentBucket(bucket);
  const nowMs = options.now.getTime();
  if (parent && scopes.size > 0 && !options.caches.known.has(parent, nowMs)) {
    writes.push({ put: markerItem(parent) });
  }
  await sendWrites(options.ddb, options.config.statsTable, writes);
  for (const scope of catalogued) options.caches.catalogued.add(scope);
  if (parent && scopes.size > 0) options.caches.known.add(parent);
}

/**
 * The close pass: every marked bucket that ended at least `closeAfterMs` ago is recomputed,
 * finest level first (a minute from its deltas, a coarser bucket from its children, which this
 * same pass has just closed), its parent marked, its marker deleted. Then the watermark: every
 * bucket that ends at or before it is final in Stats; it stays before any bucket whose
 * recompute failed. Buckets not closable yet keep their markers for a later pass.
 */
export async function closePass(options: PassOptions): Promise<PassResult> {
  const { ddb, config, caches } = options;
  const nowMs = options.now.getTime();
  const closeBefore = nowMs - config.closeAfterMs;
  const marked = new Set(await listMarked(ddb, config.statsTable));
  const closed: string[] = [];
  const failed = new Set<string>();
  for (const level of BUCKET_LEVELS) {
    const due = [...marked]
      .filter((bucket) => levelOf(bucket) === level && bucketEnd(bucket).getTime() <= closeBefore)
      .sort();
    const done: string[] = [];
    await mapWithConcurrency(due, options.concurrency ?? 8, async (bucket) => {
      if (options.stopAt !== undefined && Date.now() > options.stopAt) return;
      try {
        await recompute(options, bucket);
        done.push(bucket);
      } catch (error) {
        failed.add(bucket);
        options.onError?.(bucket, error);
      }
    });
    for (const bucket of done) {
      const parent = parentBucket(bucket);
      if (parent) marked.add(parent);
    }
    try {
      await sendWrites(
        ddb,
        config.statsTable,
        done.map((bucket) => ({ delete: markerItem(bucket) })),
      );
      for (const bucket of done.sort()) {
        marked.delete(bucket);
        caches.known.delete(bucket);
        closed.push(bucket);
      }
    } catch (error) {
      // Recomputed but still marked: the next pass recomputes them again, to the same values.
      for (const bucket of done) failed.add(bucket);
      options.onError?.('markers', error);
    }
  }
  const watermark = watermarkAfter(closeBefore, marked);
  if (watermark !== caches.watermark) {
    await ddb.send(
      new PutCommand({
        TableName: config.statsTable,
        Item: { ...WATERMARK_KEY, [WATERMARK_ATTRIBUTE]: watermark },
      }),
    );
    caches.watermark = watermark;
  }
  return { closed, failed: [...failed], watermark };
}

/**
 * The watermark after a pass: the minute boundary at or before `closeBefore`, lowered to the
 * start of any bucket still marked that should have closed by then (a failed or unfinished
 * recompute), so every bucket ending at or before it is final.
 */
export function watermarkAfter(closeBefore: number, stillMarked: Iterable<string>): string {
  let through = floorToMinute(new Date(closeBefore)).getTime();
  for (const bucket of stillMarked) {
    if (levelOf(bucket) && bucketEnd(bucket).getTime() <= through)
      through = Math.min(through, bucketStart(bucket).getTime());
  }
  return new Date(through).toISOString();
}
