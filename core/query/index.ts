export {
  requestLogs,
  RequestLogQuery,
  loggedCalls,
  type CountedPage,
  type ListCursor,
  type ListOptions,
  type RequestPage,
} from './requestLogs';
export { getStatistics, type Statistics } from './statistics';
export { type RequestFilter, planRead, searchMatcher } from './requestFilter';
export { toRequestSummary, clientRequestId, type RequestSummary } from './requestSummary';
export { ReadBudget, MAX_ITEMS_READ_PER_REQUEST } from './readBudget';
export { scopeFigures, percent, round1, type ScopeFigures } from './scopeSummary';
export {
  countableRange,
  lastHours,
  readStats,
  readCounters,
  readCountersWithOverallHistogram,
} from './statsWindow';
export { allScope, servicesOf, methodsOf, scopeFor, byTotalDesc, type WindowStats } from './scopes';
export {
  recentWindow,
  lastFullMinute,
  timelineHours,
  hoursOverlapping,
  windowSeconds,
  WINDOW_HOURS,
} from './window';
export type { Direction } from './partitionReader';
export {
  signPageToken,
  verifyPageToken,
  checkPageBounds,
  filterDigest,
  PageTokenError,
  MAX_PAGE_TOKEN_LENGTH,
  type PageState,
} from './pageToken';
export { truncatePage } from './truncatePage';
