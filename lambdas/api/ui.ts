import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { MonitorDeps } from '../../core/deps';
import { renderDashboardPage } from '../../web/src/page';
import { depsFromEnv, lazyHandler } from '../shared/fromEnv';

/**
 * `GET /cfg/grpc/monitor/ui/`: the dashboard page. Public (no token): the page asks for the
 * token and sends it to the other routes. The page is built once per container, in memory.
 */
export function createHandler(_deps: MonitorDeps) {
  const page = renderDashboardPage();
  const headers = {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-cache',
    'content-security-policy': page.contentSecurityPolicy,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  };
  return async (_event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => ({
    statusCode: 200,
    headers,
    body: page.html,
  });
}

export const handler = lazyHandler(() => createHandler(depsFromEnv()));
