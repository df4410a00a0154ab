import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { TimeRange } from '../stats';
import { MAX_ITEMS_READ_PER_REQUEST } from './readBudget';
import type { ListCursor } from './requestLogs';
import { WINDOW_HOURS } from './window';

/**
 * What a `next`/`previous` link carries: the position, the window frozen at the first page (so
 * paging is stable while new calls arrive), and a digest of the filters it was made for.
 */
export interface PageState {
  readonly cursor: ListCursor;
  readonly range: TimeRange;
  readonly filterDigest: string;
  /**
   * For filters the Stats cannot count (`user`, `search`): the count the first page's read
   * found (exact, so at most MAX_ITEMS_READ_PER_REQUEST), or null when it ran out of budget.
   * Absent for the other filters: every page counts them from Stats, exactly.
   */
  readonly rowCount?: number | null;
}

interface Wire {
  v: 2;
  k: string;
  d: 'o' | 'n';
  f: number;
  t: number;
  h: string;
  c?: number | null;
}

/** Longest token accepted before any parsing (a real one is about 150 characters). */
export const MAX_PAGE_TOKEN_LENGTH = 1024;

export class PageTokenError extends Error {
  override name = 'PageTokenError';
}

const mac = (key: Buffer, body: string): Buffer => createHmac('sha256', key).update(body).digest();

/** A short digest of the filter values a token belongs to (order-independent input expected). */
export function filterDigest(values: Record<string, string | number | undefined>): string {
  const canonical = JSON.stringify(
    Object.keys(values)
      .sort()
      .map((k) => [k, values[k] ?? null]),
  );
  return createHash('sha256').update(canonical).digest('base64url').slice(0, 16);
}

/** `base64url(json).base64url(hmac)`: opaque to clients, and any change to it is detected. */
export function signPageToken(state: PageState, key: Buffer): string {
  const wire: Wire = {
    v: 2,
    k: state.cursor.sortKey,
    d: state.cursor.direction === 'older' ? 'o' : 'n',
    f: state.range.from.getTime(),
    t: state.range.to.getTime(),
    h: state.filterDigest,
    ...(state.rowCount !== undefined && { c: state.rowCount }),
  };
  const body = Buffer.from(JSON.stringify(wire)).toString('base64url');
  return `${body}.${mac(key, body).toString('base64url')}`;
}

/** The state inside a token, or PageTokenError when it is malformed, forged or altered. */
export function verifyPageToken(token: string, key: Buffer): PageState {
  if (token.length > MAX_PAGE_TOKEN_LENGTH) throw new PageTokenError('cursor is too long');
  const [body, signature, extra] = token.split('.');
  if (!body || !signature || extra !== undefined) throw new PageTokenError('cursor is malformed');
  const given = Buffer.from(signature, 'base64url');
  const expected = mac(key, body);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new PageTokenError('cursor was not issued by this API');
  }
  let wire: Partial<Wire>;
  try {
    wire = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Partial<Wire>;
  } catch {
    throw new PageTokenError('cursor is malformed');
  }
  if (
    wire.v !== 2 ||
    typeof wire.k !== 'string' ||
    (wire.d !== 'o' && wire.d !== 'n') ||
    !Number.isSafeInteger(wire.f) ||
    !Number.isSafeInteger(wire.t) ||
    typeof wire.h !== 'string' ||
    !(wire.c === undefined || wire.c === null || Number.isSafeInteger(wire.c))
  ) {
    throw new PageTokenError('cursor is malformed');
  }
  return {
    cursor: { sortKey: wire.k, direction: wire.d === 'o' ? 'older' : 'newer' },
    range: { from: new Date(wire.f!), to: new Date(wire.t!) },
    filterDigest: wire.h,
    ...(wire.c !== undefined && { rowCount: wire.c }),
  };
}

const HOUR_MS = 3_600_000;

/**
 * Slack on the window's length and age: the old end of a window is widened to its whole hour
 * when its minute counters have expired (see countableRange), and a listing that reaches back
 * to the retention limit may be paged for about an hour after its first page.
 */
export const WINDOW_SLACK_MS = HOUR_MS;
/** How far past `now` a window may end (a window ends at the end of its first page's minute). */
export const MAX_FUTURE_MS = 60_000;

/**
 * Checks a verified cursor's contents against what this API ever issues, so that a leaked or
 * mis-issued key still cannot widen a request's work: the window spans at most 720 h, ends no
 * later than now + 60 s, starts within the retention, and a carried count is one a first page
 * can have counted. Throws PageTokenError otherwise.
 */
export function checkPageBounds(
  state: PageState,
  { now, retentionDays }: { now: Date; retentionDays: number },
): void {
  const from = state.range.from.getTime();
  const to = state.range.to.getTime();
  if (!(from < to) || to - from > WINDOW_HOURS.max * HOUR_MS + WINDOW_SLACK_MS) {
    throw new PageTokenError(`cursor window is not within ${WINDOW_HOURS.max} hours`);
  }
  if (to > now.getTime() + MAX_FUTURE_MS) throw new PageTokenError('cursor window ends in the future');
  if (from < now.getTime() - retentionDays * 24 * HOUR_MS - 2 * WINDOW_SLACK_MS) {
    throw new PageTokenError('cursor window starts before the retention: start again at the first page');
  }
  const count = state.rowCount;
  if (count !== undefined && count !== null && (count < 0 || count > MAX_ITEMS_READ_PER_REQUEST)) {
    throw new PageTokenError('cursor count is out of range');
  }
}
