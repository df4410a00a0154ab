/**
 * Exact statistics from the Stats table: keys, the fold from stream records to deltas, the
 * latency sketch, window maths and reads. Layout, error bound and the exactly-once design:
 * docs/aggregation.md.
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
  type BucketLevel,
  bucketExpiresAt,
  type ScopeName,
  type RetentionSettings,
} from './keys';
export type { ScopeStats, TimeRange } from './scopeStats';
export { emptyScopeStats, mergeScopeStats, scopeStatsFromItem } from './scopeStats';
export {
  countedCall,
  foldCalls,
  foldRecords,
  type CountedCall,
  type FoldOptions,
  type StatsDelta,
  type StatsDeltas,
} from './fold';
export { planWindow, hoursStartingIn, type WindowPlan, type WindowOptions } from './window';
export { readWindow, readHours, readCatalog, readBucket, type ReadOptions } from './read';
export { applyDeltas } from './apply';
