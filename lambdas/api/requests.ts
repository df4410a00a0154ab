import type { MonitorDeps } from '../../core/deps';
import {
  filterDigest,
  MAX_PAGE_TOKEN_LENGTH,
  PageTokenError,
  lastHours,
  requestLogs,
  signPageToken,
  verifyPageToken,
  type ListCursor,
  type RequestSummary,
} from '../../core/query';
import type { TimeRange } from '../../core/stats';
import { depsFromEnv, lazyHandler } from '../shared/fromEnv';
import { apiTokenFromEnv, cursorKeyFrom, type CursorKeySource } from './auth/apiToken';
import { apiHandler, type ApiEvent } from './middleware/apiHandler';
import { BadParameterError } from './middleware/errors';
import { queryValues, QueryParams } from './middleware/queryParams';
import { json } from './middleware/responses';
import { acceptsCsv, CSV_ROWS_PER_RESPONSE, requestsToCsv } from './requestsCsv';
import { API_BASE_PATH } from '../../core/apiRoutes';

/** GET /requests/ — the seed's paginated list, with `count`, `next`, `previous`, `results`. */
export interface RequestsPage {
  count: number;
  next: string | null;
  previous: string | null;
  results: RequestSummary[];
}

export interface RequestsOptions {
  /** Signs paging cursors (default: derived from the API token, see cursorKeyFrom). */
  readonly cursorKey?: CursorKeySource;
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

export function createHandler(deps: MonitorDeps, options: RequestsOptions = {}) {
  const cursorKey = options.cursorKey ?? cursorKeyFrom(apiTokenFromEnv());
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
    let range: TimeRange = lastHours(deps, filters.hours);
    let cursor: ListCursor | undefined;
    let knownCount: number | undefined;
    if (token !== undefined) {
      try {
        const state = verifyPageToken(token, key);
        if (state.filterDigest !== digest) throw new PageTokenError('cursor belongs to other filters');
        ({ range, cursor, count: knownCount } = state);
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

    // The count is taken once, with the first page, for the window the cursor then freezes.
    const [page, count] = await Promise.all([
      query.list({ limit: pageSize, cursor }),
      knownCount ?? query.count(),
    ]);
    const link = (c: ListCursor | null) =>
      c ? pageLink(event, signPageToken({ cursor: c, range, filterDigest: digest, count }, key)) : null;
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
          'X-Total-Count': String(count),
          ...(links.length > 0 && { Link: links.join(', ') }),
        },
        body: requestsToCsv(page.items),
      };
    }
    const body: RequestsPage = { count, next, previous, results: page.items };
    return json(body);
  });
}

export const handler = lazyHandler(() => createHandler(depsFromEnv()));
