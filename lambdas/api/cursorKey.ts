import { createHmac, randomBytes } from 'node:crypto';
import { ENV } from '../../core/config';
import { secretTokenSource, type CursorKeySource, type TokenSource } from './auth/apiToken';

type Env = Readonly<Record<string, string | undefined>>;

/** Label the cursor key is derived under (a new label invalidates every open cursor). */
const CURSOR_KEY_LABEL = 'grpc-monitor page cursor v2';

/** The HMAC key for page cursors from a secret only the server knows. */
export const cursorKeyOf = (secret: string): Buffer =>
  createHmac('sha256', secret).update(CURSOR_KEY_LABEL).digest();

/**
 * Signs cursors with a key from `secret`. An empty secret (none configured) falls back to a
 * random key made once per process: cursors then do not survive a restart or a Lambda cold
 * start, and one Lambda container rejects another's (the client starts again at page 1).
 */
export function cursorKeyFromSecret(secret: TokenSource): CursorKeySource {
  let fallback: Buffer | undefined;
  return async () => {
    const value = await secret();
    if (value !== '') return cursorKeyOf(value);
    fallback ??= randomBytes(32);
    return fallback;
  };
}

/**
 * The cursor key from configuration: the Secrets Manager secret named by
 * GRPC_MONITOR_CURSOR_SECRET_ID (AWS: a generated secret only the `requests` Lambda reads),
 * else the value of GRPC_MONITOR_CURSOR_SECRET (local runs), else a random per-process key.
 * It is never derived from the API token: whoever holds the token could then sign cursors.
 */
export function cursorKeyFromEnv(env: Env = process.env): CursorKeySource {
  const secretId = env[ENV.cursorSecretId];
  if (secretId) return cursorKeyFromSecret(secretTokenSource(secretId));
  const value = env[ENV.cursorSecret] ?? '';
  // Fine on one machine; in Lambda say it (every container has its own key).
  if (value === '' && env.AWS_LAMBDA_FUNCTION_NAME) {
    console.warn(
      `requests: ${ENV.cursorSecret} is not set: page cursors are signed with a random per-process key (they do not survive a restart or a cold start)`,
    );
  }
  return cursorKeyFromSecret(async () => value);
}
