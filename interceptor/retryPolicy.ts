/** How the writer retries: which errors are worth another try, and how long to wait first. */

const THROTTLING = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'LimitExceededException',
]);

/**
 * DynamoDB's answer when the session token of temporary credentials expired (the credentials
 * looked valid to us when we signed: a clock off, or a role session revoked or cut short).
 */
const EXPIRED_CREDENTIALS = new Set(['ExpiredTokenException', 'ExpiredToken']);

export function isExpiredCredentialsError(error: unknown): boolean {
  const name = error && typeof error === 'object' ? (error as { name?: unknown }).name : undefined;
  return typeof name === 'string' && EXPIRED_CREDENTIALS.has(name);
}

/** The SDK client's credential provider (`client.config.credentials`), which memoizes and accepts `forceRefresh`. */
export type CredentialProvider = (options?: { forceRefresh?: boolean }) => Promise<{
  readonly accessKeyId: string;
  readonly sessionToken?: string;
}>;

/**
 * After an expired-token answer, re-resolves the credentials (`forceRefresh` past the
 * provider's cache, as AWS SDKs refresh credentials on this error) and marks the error
 * retryable when fresh credentials came: the next signature uses them. The same credentials
 * again (static keys, say) leave the error final, so a token that cannot renew is not retried
 * forever; a provider that fails now is retried, as the next send resolves it again.
 */
export async function refreshAfterExpiredToken(
  error: unknown,
  credentials: CredentialProvider,
): Promise<void> {
  if (!isExpiredCredentialsError(error)) return;
  const mark = (): void => {
    (error as { $retryable?: { throttling: boolean } }).$retryable = { throttling: false };
  };
  let before: Awaited<ReturnType<CredentialProvider>> | undefined;
  try {
    before = await credentials();
    const fresh = await credentials({ forceRefresh: true });
    if (fresh.accessKeyId !== before.accessKeyId || fresh.sessionToken !== before.sessionToken) mark();
  } catch {
    mark();
  }
}

/**
 * Throttling, server faults and network errors (DynamoDB unreachable, timeouts) are retried;
 * the caller's own faults (validation, missing table, access denied) are not: retrying cannot help,
 * unless the error says a retry will go differently (`$retryable`: say, our clock was corrected,
 * or expired credentials were replaced by fresh ones: refreshAfterExpiredToken).
 */
export function isRetryableWriteError(error: unknown): boolean {
  if (!error || typeof error !== 'object') return true;
  const { name, $fault, $metadata, $retryable } = error as {
    name?: string;
    $fault?: string;
    $metadata?: { httpStatusCode?: number };
    $retryable?: unknown;
  };
  if ($retryable || (name && THROTTLING.has(name))) return true;
  if ($fault === 'client') return false;
  const status = $metadata?.httpStatusCode;
  if (status !== undefined && status >= 400 && status < 500 && status !== 429) return false;
  return true;
}

/** Exponential backoff with full jitter: uniform in [0, min(cap, 50 ms × 2^attempt)], at least 10 ms. */
export function retryDelayMs(attempt: number, capMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(capMs, 50 * 2 ** Math.min(attempt, 20));
  return Math.max(10, Math.floor(random() * ceiling));
}
