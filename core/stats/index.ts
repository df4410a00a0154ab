/**
 * Exact statistics: the Stats table's keys and items, the latency sketch, window maths and the
 * reads that merge closed Stats buckets with the open minutes of the Deltas table. Layout, error
 * bound and the recompute-on-close design: docs/aggregation.md.
 */
export type { Histogram } from './histogram';
export {
  GAMMA,
  RELATIVE_ERROR,
  ZERO_BUCKET,
  bucketIndex,
  bucketValue,
  addToHistogram,
  mergeHistogram,
  histogramCount,
  quantile,
} from './histogram';
export {
  ALL_SCOPE,
  serviceScope,
  methodScope,
  parseScope,
  histogramKey,
  scopeOfHistogramKey,
  HISTOGRAM_PREFIX,
  minuteBucket,
  fiveMinuteBucket,
  quarterHourBucket,
  hourBucket,
  sixHourBucket,
  bucketsOf,
  bucketStart,
  bucketEnd,
  BUCKET_LEVELS,
  levelOf,
  parentBucket,
  childBuckets,
  DIRTY_PK,
  WATERMARK_KEY,
  WATERMARK_ATTRIBUTE,
  CATALOG_PK,
  type BucketLevel,
  bucketExpiresAt,
  type ScopeName,
  type RetentionSettings,
} from './keys';
export type { ScopeStats, TimeRange } from './scopeStats';
export { emptyScopeStats, mergeScopeStats, scopeStatsFromCell, scopeStatsFromItem } from './scopeStats';
export { HISTOGRAM_ATTRIBUTE, STATS_ATTRIBUTE } from './attributes';
export { catalogItem, statsItems, type StatsItem } from './items';
export {
  planWindow,
  planMergedWindow,
  hoursStartingIn,
  type MergedWindowOptions,
  type MergedWindowPlan,
  type WindowPlan,
  type WindowOptions,
} from './window';
export {
  readWindow,
  readHours,
  readCatalog,
  readBucket,
  readMinuteCells,
  readWatermark,
  type ReadOptions,
  type StatsTables,
} from './read';
