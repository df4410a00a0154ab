import type { APIGatewayRequestAuthorizerEventV2, APIGatewaySimpleAuthorizerResult } from 'aws-lambda';
import { lazyHandler } from '../shared/fromEnv';
import { apiTokenFromEnv, type TokenSource } from './auth/apiToken';
import { authorizationHeader, bearerToken, isAuthorized } from './auth/bearerToken';

export interface AuthorizerOptions {
  /**
   * The expected token (Secrets Manager in AWS, an env var locally); cached by the source, which
   * is asked for a fresh read once before a token is denied.
   */
  readonly token: TokenSource;
}

/**
 * HTTP API Lambda authorizer (payload 2.0, simple responses): allows a request whose
 * `Authorization: Bearer <token>` equals the configured token, compared in constant time. A
 * token that differs is checked once more against a fresh read of the secret (a rotation).
 * It says nothing else: no context, no reason.
 */
export function createAuthorizer(options: AuthorizerOptions) {
  return async (event: APIGatewayRequestAuthorizerEventV2): Promise<APIGatewaySimpleAuthorizerResult> => {
    let expected: string;
    try {
      expected = await options.token();
    } catch (error) {
      // No token to compare with (Secrets Manager unreachable): deny, and say why in the log only.
      console.error('authorizer: cannot read the API token', error);
      return { isAuthorized: false };
    }
    if (isAuthorized(event.headers, expected)) return { isAuthorized: true };
    if (bearerToken(authorizationHeader(event.headers)) === undefined) return { isAuthorized: false };
    // The token may have been rotated since the cached read: read it again (rate-limited by the
    // source) before denying, so a new token works at once rather than after the cache expires.
    try {
      const fresh = await options.token({ fresh: true });
      return { isAuthorized: fresh !== expected && isAuthorized(event.headers, fresh) };
    } catch (error) {
      console.error('authorizer: cannot re-read the API token', error);
      return { isAuthorized: false };
    }
  };
}

export const handler = lazyHandler(() => createAuthorizer({ token: apiTokenFromEnv() }));
