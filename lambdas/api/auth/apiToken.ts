import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ENV } from '../../../core/config';

/** How long a token read from Secrets Manager is reused. */
export const TOKEN_CACHE_MS = 5 * 60_000;

/**
 * The least time between two reads a caller forces (`{ fresh: true }`): the authorizer forces one
 * before it denies a token, so a rotated token works at once, and a flood of wrong tokens costs at
 * most one Secrets Manager read per this period and container.
 */
export const TOKEN_REFRESH_MIN_MS = 10_000;

/**
 * The expected API token. `fresh` asks for a new read of its source when the cached value may be
 * outdated (at most once per TOKEN_REFRESH_MIN_MS); sources without a cache ignore it.
 */
export type TokenSource = (options?: { readonly fresh?: boolean }) => Promise<string>;

type Env = Readonly<Record<string, string | undefined>>;

/**
 * A secret's string, fetched at most once per `ttlMs`, or sooner when asked `fresh` and the value
 * is older than `refreshMinMs`. A failed fetch is retried on the next call; a failed forced one
 * keeps the value it was to replace.
 */
export function secretTokenSource(
  secretId: string,
  client: Pick<SecretsManagerClient, 'send'> = new SecretsManagerClient({}),
  ttlMs = TOKEN_CACHE_MS,
  now: () => number = Date.now,
  refreshMinMs = TOKEN_REFRESH_MIN_MS,
): TokenSource {
  let cached: { value: Promise<string>; at: number } | undefined;
  let lastForcedAt = -Infinity;
  return ({ fresh = false } = {}) => {
    const stale = !cached || now() - cached.at > ttlMs;
    const forced =
      fresh &&
      cached !== undefined &&
      now() - cached.at >= refreshMinMs &&
      now() - lastForcedAt >= refreshMinMs;
    if (stale || forced) {
      const previous = stale ? undefined : cached;
      if (forced) lastForcedAt = now();
      const value = client
        .send(new GetSecretValueCommand({ SecretId: secretId }))
        .then((out) => (out.SecretString ?? '').trim());
      const entry = { value, at: now() };
      cached = entry;
      value.catch(() => {
        if (cached === entry) cached = previous;
      });
    }
    return cached!.value;
  };
}

/**
 * The API token from configuration: the Secrets Manager secret named by
 * GRPC_MONITOR_API_TOKEN_SECRET (AWS), else GRPC_MONITOR_API_TOKEN (local runs, tests), else
 * the empty token, which authorizes nothing.
 */
export function apiTokenFromEnv(env: Env = process.env): TokenSource {
  const secretId = env[ENV.apiTokenSecret];
  if (secretId) return secretTokenSource(secretId);
  const token = env[ENV.apiToken] ?? '';
  return async () => token;
}

export type CursorKeySource = () => Promise<Buffer>;
