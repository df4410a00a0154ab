/** The error body every endpoint answers with: `{"error": {"code", "message", "field"}}`. */
export interface ErrorBody {
  error: { code: string; message: string; field: string | null };
}

/** An error the client should see as is (status, code, message, the field at fault). */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly field: string | null = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  toBody(): ErrorBody {
    return { error: { code: this.code, message: this.message, field: this.field } };
  }
}

/** A bad query or path parameter: always 400 and always names the field. */
export class BadParameterError extends ApiError {
  override name = 'BadParameterError';
  constructor(field: string, code: string, message: string) {
    super(400, code, message, field);
  }
}

export class NotFoundError extends ApiError {
  override name = 'NotFoundError';
  constructor(message = 'Not found') {
    super(404, 'not_found', message);
  }
}

/** Seconds a client should wait before retrying after a 503. */
export const RETRY_AFTER_SECONDS = 5;

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * True for failures of the data store rather than of our code: any AWS SDK service error (it
 * carries `$metadata`), SDK timeouts, and network errors reaching DynamoDB.
 */
export function isStoreUnavailable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { $metadata?: unknown; name?: unknown; code?: unknown; cause?: unknown };
  if (e.$metadata !== undefined) return true;
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return true;
  if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return true;
  if (error instanceof AggregateError) return error.errors.some(isStoreUnavailable);
  return e.cause !== undefined && e.cause !== error && isStoreUnavailable(e.cause);
}

/** Any thrown value → the ApiError the client sees (no stack, no internals). */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (isStoreUnavailable(error)) {
    return new ApiError(
      503,
      'store_unavailable',
      `The monitoring store is unavailable; retry in ${RETRY_AFTER_SECONDS} seconds.`,
      null,
      { 'Retry-After': String(RETRY_AFTER_SECONDS) },
    );
  }
  return new ApiError(500, 'internal_error', 'Internal error.');
}
