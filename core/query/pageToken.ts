import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { TimeRange } from '../stats';
import type { ListCursor } from './requestLogs';

/**
 * What a `next`/`previous` link carries: the position, the window frozen at the first page (so
 * paging is stable while new calls arrive), and a digest of the filters it was made for.
 */
export interface PageState {
  readonly cursor: ListCursor;
  readonly range: TimeRange;
  readonly filterDigest: string;
  /** The exact count taken with the first page: later pages of the same frozen window reuse it. */
  readonly count: number;
}

interface Wire {
  v: 1;
  k: string;
  d: 'o' | 'n';
  f: number;
  t: number;
  h: string;
  c: number;
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
    v: 1,
    k: state.cursor.sortKey,
    d: state.cursor.direction === 'older' ? 'o' : 'n',
    f: state.range.from.getTime(),
    t: state.range.to.getTime(),
    h: state.filterDigest,
    c: state.count,
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
    wire.v !== 1 ||
    typeof wire.k !== 'string' ||
    (wire.d !== 'o' && wire.d !== 'n') ||
    !Number.isSafeInteger(wire.f) ||
    !Number.isSafeInteger(wire.t) ||
    typeof wire.h !== 'string' ||
    !Number.isSafeInteger(wire.c) ||
    wire.c! < 0
  ) {
    throw new PageTokenError('cursor is malformed');
  }
  return {
    cursor: { sortKey: wire.k, direction: wire.d === 'o' ? 'older' : 'newer' },
    range: { from: new Date(wire.f!), to: new Date(wire.t!) },
    filterDigest: wire.h,
    count: wire.c!,
  };
}
