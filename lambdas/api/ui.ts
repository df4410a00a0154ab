import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { MonitorDeps } from '../../core/deps';
import { renderDashboardPage } from '../../web/src/page';

/**
 * `GET /cfg/grpc/monitor/ui/`: the dashboard page. Public (no token): the page asks for the
 * token and sends it to the other routes. The page is built once per container, in memory.
 * `deps` is accepted for the uniform `createHandler(deps)` the local server calls, and unused.
 */
export function createHandler(_deps?: MonitorDeps) {
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

// Lazy like every route's `handler`, but without lambdas/shared/fromEnv: the page reads no
// table, so the bundle carries no AWS SDK (about 40 KB instead of 400 KB: a faster cold start).
let built: ReturnType<typeof createHandler> | undefined;
export const handler = (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> =>
  (built ??= createHandler())(event);
