import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/**
 * Whether `given` equals `expected`, in time that does not depend on where they differ or on
 * the token's length (both are hashed to 32 bytes first). An empty expected token matches nothing.
 */
export function tokenMatches(given: string, expected: string): boolean {
  if (expected === '') return false;
  return timingSafeEqual(digest(given), digest(expected));
}

/** The token of an `Authorization: Bearer <token>` header value, or undefined. */
export function bearerToken(authorization: string | undefined): string | undefined {
  const match = /^Bearer +(\S+) *$/i.exec(authorization ?? '');
  return match?.[1];
}

/** The Authorization header of an event's headers, whatever its case. */
export function authorizationHeader(
  headers: Readonly<Record<string, string | undefined>> | undefined,
): string | undefined {
  if (!headers) return undefined;
  for (const [name, value] of Object.entries(headers)) {
    if (name.toLowerCase() === 'authorization') return value;
  }
  return undefined;
}

/** The one check every protected endpoint passes through (the authorizer, the local server). */
export function isAuthorized(
  headers: Readonly<Record<string, string | undefined>> | undefined,
  expectedToken: string,
): boolean {
  const token = bearerToken(authorizationHeader(headers));
  // Compare even when absent, so a missing header costs the same as a wrong one.
  return tokenMatches(token ?? '', expectedToken) && token !== undefined;
}
