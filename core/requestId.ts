import { v7 as uuidv7 } from 'uuid';
import { LIMITS } from './record';

const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]+$/;

/**
 * The request id for a call: the incoming `x-request-id` when it is sane (printable,
 * ≤ 100 chars, no separators that could break our keys), else a new time-ordered UUIDv7.
 */
export function requestIdFrom(incoming: unknown): string {
  if (typeof incoming === 'string' && incoming.length <= LIMITS.requestId && SANE_REQUEST_ID.test(incoming)) {
    return incoming;
  }
  return uuidv7();
}

export { uuidv7 as newRequestId };
