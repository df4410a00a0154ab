import { createHmac, randomBytes } from 'node:crypto';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ENV } from '../../../core/config';

/** How long a token read from Secrets Manager is reused (rotation takes effect within this). */
export const TOKEN_CACHE_MS = 5 * 60_000;

export type TokenSource = () => Promise<string>;

type Env = Readonly<Record<string, string | undefined>>;

/** A secret's string, fetched at most once per `ttlMs` (a failed fetch is retried next call). */
export function secretTokenSource(
  secretId: string,
  client: Pick<SecretsManagerClient, 'send'> = new SecretsManagerClient({}),
  ttlMs = TOKEN_CACHE_MS,
  now: () => number = Date.now,
): TokenSource {
  let cached: { value: Promise<string>; at: number } | undefined;
  return () => {
    if (!cached || now() - cached.at > ttlMs) {
      const value = client
        .send(new GetSecretValueCommand({ SecretId: secretId }))
        .then((out) => (out.SecretString ?? '').trim());
      cached = { value, at: now() };
      value.catch(() => {
        cached = undefined;
      });
    }
    return cached.value;
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

/**
 * The key that signs paging cursors, derived from the API token (so no second secret exists to
 * wire or rotate; rotating the token invalidates open cursors, which only costs a fresh page 1).
 * With no token configured a random per-process key is used (cursors then live as long as the
 * process: fine for one machine, wrong for Lambda, where the stack always sets a token).
 */
export function cursorKeyFrom(token: TokenSource): CursorKeySource {
  const fallback = randomBytes(32);
  return async () => {
    const value = await token();
    return value === ''
      ? fallback
      : createHmac('sha256', value).update('grpc-monitor page cursor v1').digest();
  };
}
