import type { NativeAttributeValue } from '@aws-sdk/lib-dynamodb';
import { FINAL_STATUSES } from '../record';
import { HISTOGRAM_ATTRIBUTE, STATS_ATTRIBUTE } from './attributes';
import { CATALOG_PK, histogramKey, parseScope } from './keys';
import { packHistogram } from './packedHistogram';
import type { ScopeStats } from './scopeStats';

/** A Stats item as the DocumentClient writes it. */
export type StatsItem = Record<string, NativeAttributeValue> & { pk: string; sk: string };

/**
 * One (bucket, scope)'s figures as whole Stats items, what the aggregator PUTs when it closes a
 * bucket: the counter item (SK the scope) and, when the scope had calls, its histogram item
 * (SK `~H#<scope>`, the bins packed in one string with their count). Zero counters are left
 * out (a reader reads an absent counter as 0). Both carry the bucket's TTL.
 */
export function statsItems(bucket: string, scope: string, stats: ScopeStats, expiresAt: number): StatsItem[] {
  const counters: StatsItem = {
    pk: bucket,
    sk: scope,
    [STATS_ATTRIBUTE.total]: stats.total,
    [STATS_ATTRIBUTE.expiresAt]: expiresAt,
  };
  const put = (attribute: string, value: number) => {
    if (value) counters[attribute] = value;
  };
  for (const status of FINAL_STATUSES) put(STATS_ATTRIBUTE.status(status), stats.byStatus[status]);
  for (const [code, count] of Object.entries(stats.byCode)) put(STATS_ATTRIBUTE.code(code), count);
  // Sums of 2-decimal durations: integers in hundredths of a ms, exact.
  put(STATS_ATTRIBUTE.durationSumCentis, Math.round(stats.durationSumMs * 100));
  if (stats.total > 0) counters[STATS_ATTRIBUTE.durationMax] = stats.durationMaxMs;
  if (stats.durationMinMs !== null) counters[STATS_ATTRIBUTE.durationMin] = stats.durationMinMs;
  put(STATS_ATTRIBUTE.logged, stats.logged);
  put(STATS_ATTRIBUTE.bytesIn, stats.bytesIn);
  put(STATS_ATTRIBUTE.bytesOut, stats.bytesOut);
  put(STATS_ATTRIBUTE.slow, stats.slow);
  if (stats.lastRequestAt) counters[STATS_ATTRIBUTE.lastRequestAt] = stats.lastRequestAt;
  if (stats.histogram.size === 0) return [counters];
  let count = 0;
  for (const n of stats.histogram.values()) count += n;
  const histogram: StatsItem = {
    pk: bucket,
    sk: histogramKey(scope),
    [HISTOGRAM_ATTRIBUTE.count]: count,
    [HISTOGRAM_ATTRIBUTE.bins]: packHistogram(stats.histogram),
    [STATS_ATTRIBUTE.expiresAt]: expiresAt,
  };
  return [counters, histogram];
}

/** The catalog item of a service or method scope (`CATALOG` × `S#…` / `M#…#…`); undefined for `ALL`. */
export function catalogItem(scope: string): StatsItem | undefined {
  const name = parseScope(scope);
  if (!name || name.kind === 'all') return undefined;
  return name.kind === 'method'
    ? { pk: CATALOG_PK, sk: scope, service: name.service, method: name.method }
    : { pk: CATALOG_PK, sk: scope, service: name.service };
}
