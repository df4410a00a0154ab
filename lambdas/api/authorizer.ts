// STUB: the API work replaces this file.
import type { APIGatewayRequestAuthorizerEventV2, APIGatewaySimpleAuthorizerResult } from 'aws-lambda';
import { lazyHandler } from '../shared/fromEnv';

export function createAuthorizer(_options: { token: () => Promise<string> }) {
  return async (_event: APIGatewayRequestAuthorizerEventV2): Promise<APIGatewaySimpleAuthorizerResult> => ({
    isAuthorized: false,
  });
}

export const handler = lazyHandler(() => createAuthorizer({ token: async () => '' }));
