import type { APIGatewayRequestAuthorizerEventV2, APIGatewaySimpleAuthorizerResult } from 'aws-lambda';
import { lazyHandler } from '../shared/fromEnv';
import { apiTokenFromEnv, type TokenSource } from './auth/apiToken';
import { isAuthorized } from './auth/bearerToken';

export interface AuthorizerOptions {
  /** The expected token (Secrets Manager in AWS, an env var locally); cached by the source. */
  readonly token: TokenSource;
}

/**
 * HTTP API Lambda authorizer (payload 2.0, simple responses): allows a request whose
 * `Authorization: Bearer <token>` equals the configured token, compared in constant time.
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
    return { isAuthorized: isAuthorized(event.headers, expected) };
  };
}

export const handler = lazyHandler(() => createAuthorizer({ token: apiTokenFromEnv() }));
