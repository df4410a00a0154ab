/** How the writer retries: which errors are worth another try, and how long to wait first. */

const THROTTLING = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'LimitExceededException',
]);

/**
 * Throttling, server faults and network errors (DynamoDB unreachable, timeouts) are retried;
 * the caller's own faults (validation, missing table, access denied) are not: retrying cannot help,
 * unless the error says a retry will go differently (`$retryable`: say, our clock was corrected).
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
