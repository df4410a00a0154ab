import { v7 as uuidv7 } from 'uuid';
import { LIMITS } from './record';

const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]+$/;

/**
 * The client's `x-request-id` when it is sane (printable, ≤ 100 chars, no separators that could
 * break a key or a CSV), else null. It is data (`client_request_id`), never a key: two clients
 * may send the same one, and neither may overwrite the other's record.
 */
export function clientRequestIdFrom(incoming: unknown): string | null {
  return typeof incoming === 'string' && incoming.length <= LIMITS.requestId && SANE_REQUEST_ID.test(incoming)
    ? incoming
    : null;
}

/** A call's key: a new time-ordered UUIDv7, made by the server, always. */
export { uuidv7 as newRequestId };
