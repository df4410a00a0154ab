import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { API_ROUTES, type ApiRoute } from '../../core/apiRoutes';
import type { MonitorDeps } from '../../core/deps';
import { renderDashboardPage } from '../../web/src/page';

const withoutTrailingSlash = (path: string): string => path.replace(/\/+$/, '');

/** A route's path template as a matcher of its deployed form (`{name}` is one path segment). */
function deployedPattern(route: ApiRoute): RegExp {
  const source = withoutTrailingSlash(route.path)
    .split(/\{[A-Za-z0-9_]+\}/)
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('[^/]+');
  return new RegExp(`^${source}$`);
}

/**
 * The deployed route path (`/x`) that a request path in the contract's form (`/x/`) stands for,
 * or undefined when the path has no trailing slash or names no route (so no redirect can loop).
 */
export function deployedFormOf(
  rawPath: string,
  routes: readonly ApiRoute[] = API_ROUTES,
): string | undefined {
  const bare = withoutTrailingSlash(rawPath);
  if (bare === rawPath) return undefined;
  return routes.map(deployedPattern).some((pattern) => pattern.test(bare)) ? bare : undefined;
}

/**
 * `GET /cfg/grpc/monitor/ui` (and `ui/`): the dashboard page. Public (no token): the page asks
 * for the token and sends it to the other routes. The page is built once per container, in memory.
 * The stack also routes `/cfg/grpc/monitor/{proxy+}` here (lib/monitorApi.ts
 * `CONTRACT_SLASH_ROUTE`): a contract path with its trailing slash that API Gateway did not
 * match to its route is redirected there (308); any other path is API Gateway's 404.
 * `deps` is accepted for the uniform `createHandler(deps)` the local server calls, and unused.
 */
export function createHandler(_deps?: MonitorDeps) {
  const page = renderDashboardPage();
  const uiRoute = API_ROUTES.find((route) => route.name === 'ui');
  const pagePath = withoutTrailingSlash(uiRoute?.path ?? '/cfg/grpc/monitor/ui');
  const headers = {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-cache',
    'content-security-policy': page.contentSecurityPolicy,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  };
  return async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
    const rawPath = event.rawPath || pagePath;
    if (withoutTrailingSlash(rawPath) === pagePath) return { statusCode: 200, headers, body: page.html };
    const target = deployedFormOf(rawPath);
    if (target) {
      const query = event.rawQueryString ? `?${event.rawQueryString}` : '';
      return { statusCode: 308, headers: { location: `${target}${query}` }, body: '' };
    }
    return {
      statusCode: 404,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'Not Found' }),
    };
  };
}

// Lazy like every route's `handler`, but without lambdas/shared/fromEnv: the page reads no
// table, so the bundle carries no AWS SDK (about 40 KB instead of 400 KB: a faster cold start).
let built: ReturnType<typeof createHandler> | undefined;
export const handler = (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> =>
  (built ??= createHandler())(event);
