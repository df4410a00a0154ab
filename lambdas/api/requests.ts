import type { MonitorDeps } from '../../core/deps';
import {
  checkPageBounds,
  filterDigest,
  MAX_PAGE_TOKEN_LENGTH,
  PageTokenError,
  ReadBudget,
  lastHours,
  requestLogs,
  signPageToken,
  truncatePage,
  verifyPageToken,
  type CountedPage,
  type ListCursor,
  type PageState,
  type RequestSummary,
} from '../../core/query';
import type { TimeRange } from '../../core/stats';
import { depsFromEnv, lazyHandler } from '../shared/fromEnv';
import type { CursorKeySource } from './auth/apiToken';
import { cursorKeyFromEnv } from './cursorKey';
import { apiHandler, type ApiEvent } from './middleware/apiHandler';
import { BadParameterError } from './middleware/errors';
import { queryValues, QueryParams } from './middleware/queryParams';
import { envelopeBytes, json, MAX_RESPONSE_BYTES } from './middleware/responses';
import { acceptsCsv, csvLine, CSV_ROWS_PER_RESPONSE, requestsToCsv } from './requestsCsv';
import { API_BASE_PATH } from '../../core/apiRoutes';

/**
 * GET /requests/ — the seed's paginated list, with `count`, `next`, `previous`, `results`,
 * plus what says how complete the page and the count are.
 */
export interface RequestsPage {
  /** Rows the filters match in the window; null when that cannot be had within the read bound. */
  count: number | null;
  /** True when `count` is null: the rows were not all read (see MAX_ITEMS_READ_PER_REQUEST). */
  count_is_partial: boolean;
  next: string | null;
  previous: string | null;
  /**
   * True when the read bound or the response size ended this page before `page_size` rows:
   * the link in the paging direction continues where it stopped (it may hold no rows at all).
   */
  partial: boolean;
  results: RequestSummary[];
}

export interface RequestsOptions {
  /** Signs paging cursors (default: cursorKeyFromEnv, a secret only the server knows). */
  readonly cursorKey?: CursorKeySource;
  /** Items one request may read (default MAX_ITEMS_READ_PER_REQUEST); tests lower it. */
  readonly readBudget?: number;
  /** Bytes a response body may take (default MAX_RESPONSE_BYTES); tests lower it. */
  readonly maxResponseBytes?: number;
}

const SEARCH_MAX_LENGTH = 200;

/** The page link: the same query with `cursor` replaced (relative, as the seed's `next`). */
function pageLink(event: ApiEvent, token: string): string {
  const params = new URLSearchParams();
  for (const [name, values] of queryValues(event)) {
    if (name !== 'cursor') for (const v of values) params.append(name, v);
  }
  params.set('cursor', token);
  return `${event.rawPath || `${API_BASE_PATH}/requests/`}?${params.toString()}`;
}

/** Room for what a response holds besides its rows (count, links, CSV header, envelope). */
const RESPONSE_OVERHEAD_BYTES = 4096;

/**
 * How many rows fit in `maxBytes` (at least one, so paging always moves on), taken from the
 * side the page was read from: the newest when walking older, the oldest when walking newer.
 */
function rowsThatFit(sizes: readonly number[], maxBytes: number, direction: 'older' | 'newer'): number {
  const ordered = direction === 'older' ? sizes : [...sizes].reverse();
  let bytes = RESPONSE_OVERHEAD_BYTES;
  for (let i = 0; i < ordered.length; i++) {
    bytes += ordered[i]!;
    if (bytes > maxBytes) return Math.max(1, i);
  }
  return ordered.length;
}

const HOUR_MS = 3_600_000;

/**
 * The window from its first whole hour within the retention: older rows and hour counters have
 * expired, and a cursor must not start before the retention (checkPageBounds), so a 720 h list
 * under a 7-day retention pages like a 7-day one.
 */
function withinRetention(range: TimeRange, deps: MonitorDeps): TimeRange {
  const start =
    Math.ceil((deps.now().getTime() - deps.config.retentionDays * 24 * HOUR_MS) / HOUR_MS) * HOUR_MS;
  return range.from.getTime() >= start ? range : { from: new Date(start), to: range.to };
}

export function createHandler(deps: MonitorDeps, options: RequestsOptions = {}) {
  const cursorKey = options.cursorKey ?? cursorKeyFromEnv();
  const maxBytes = options.maxResponseBytes ?? MAX_RESPONSE_BYTES;
  return apiHandler(async (event) => {
    const params = new QueryParams(event);
    const filters = {
      hours: params.hours(),
      status: params.status(),
      service: params.text('service'),
      method: params.text('method'),
      user: params.text('user'),
      search: params.text('search', SEARCH_MAX_LENGTH),
    };
    const format = params.choice('format', ['json', 'csv'] as const);
    const csv = format === 'csv' || (format === undefined && acceptsCsv(event.headers?.accept));
    const pageSize = params.integer('page_size', {
      min: 1,
      max: 100,
      fallback: csv ? CSV_ROWS_PER_RESPONSE : 20,
    });
    const token = params.raw('cursor', MAX_PAGE_TOKEN_LENGTH);

    const key = await cursorKey();
    const digest = filterDigest(filters);
    // Stats cannot count by user or search text: their count comes from reading rows, once.
    const rowCounted = filters.user !== undefined || filters.search !== undefined;
    let range: TimeRange = withinRetention(lastHours(deps, filters.hours), deps);
    let cursor: ListCursor | undefined;
    let knownCount: number | null | undefined;
    if (token !== undefined) {
      try {
        const state = verifyPageToken(token, key);
        if (state.filterDigest !== digest) throw new PageTokenError('cursor belongs to other filters');
        checkPageBounds(state, { now: deps.now(), retentionDays: deps.config.retentionDays });
        ({ range, cursor } = state);
        if (rowCounted) knownCount = state.rowCount ?? null;
      } catch (error) {
        if (error instanceof PageTokenError)
          throw new BadParameterError('cursor', 'invalid_cursor', error.message);
        throw error;
      }
    }

    let query = requestLogs(deps).between(range);
    if (filters.status) query = query.byStatus(filters.status);
    if (filters.service) query = query.byService(filters.service);
    if (filters.method) query = query.byMethod(filters.method);
    if (filters.user) query = query.byUser(filters.user);
    if (filters.search) query = query.search(filters.search);

    const budget = new ReadBudget(options.readBudget);
    const read = await query.listWithCount({ limit: pageSize, cursor, budget, knownCount });
    const count = read.count;
    const direction = cursor?.direction ?? 'older';
    // Sizes as the Lambda response carries them (escaped inside its JSON).
    const sizes = read.items.map((r) => envelopeBytes(csv ? csvLine(r) : JSON.stringify(r)) + 1);
    const keep = rowsThatFit(sizes, maxBytes, direction);
    const page: CountedPage = truncatePage(read, keep, direction);
    const partial = page.partial || keep < read.items.length;
    const state = (c: ListCursor): PageState => ({
      cursor: c,
      range,
      filterDigest: digest,
      ...(rowCounted && { rowCount: count }),
    });
    const link = (c: ListCursor | null) => (c ? pageLink(event, signPageToken(state(c), key)) : null);
    const next = link(page.next);
    const previous = link(page.previous);

    if (csv) {
      const links = [next && `<${next}>; rel="next"`, previous && `<${previous}>; rel="prev"`].filter(
        Boolean,
      );
      return {
        statusCode: 200,
        headers: {
          'Content-Type': 'text/csv; charset=utf-8',
          'Content-Disposition': 'attachment; filename="grpc-requests.csv"',
          'Cache-Control': 'no-store',
          ...(count === null ? { 'X-Count-Is-Partial': 'true' } : { 'X-Total-Count': String(count) }),
          ...(links.length > 0 && { Link: links.join(', ') }),
        },
        body: requestsToCsv(page.items),
      };
    }
    const body: RequestsPage = {
      count,
      count_is_partial: count === null,
      next,
      previous,
      partial,
      results: page.items,
    };
    return json(body);
  });
}

export const handler = lazyHandler(() => createHandler(depsFromEnv()));
