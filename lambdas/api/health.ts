// STUB: the API work replaces this file.
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { MonitorDeps } from '../../core/deps';
import { depsFromEnv, lazyHandler } from '../shared/fromEnv';

export function createHandler(_deps: MonitorDeps) {
  return async (_event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => ({
    statusCode: 501,
    body: JSON.stringify({
      error: { code: 'not_implemented', message: 'health is not built yet', field: null },
    }),
  });
}

export const handler = lazyHandler(() => createHandler(depsFromEnv()));
