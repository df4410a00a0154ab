/**
 * What the HTTP API hands out in AWS that no local test can see: the route keys it deploys (the
 * forms the dashboard, the links and the docs must call) and the CORS configuration API Gateway
 * answers with instead of the Lambdas' own CORS headers.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { API_BASE_PATH, API_ROUTES } from '../../core/apiRoutes';
import { synthMonitorStack } from './synth';

// Prepare: one synthesis with a CORS origin, as a dashboard served elsewhere needs.
const { template, ofType, stack } = synthMonitorStack({ corsAllowOrigins: 'https://dash.example.com' });
const routes = ofType('AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties);
const routeKeys = routes.map((r) => String(r.RouteKey)).sort();

describe('API Gateway routes', () => {
  it('deploys every contract path without its trailing slash (route keys cannot end in one)', () => {
    const expected = [
      'GET /cfg/grpc/monitor/health',
      'GET /cfg/grpc/monitor/methods',
      'GET /cfg/grpc/monitor/overview',
      'GET /cfg/grpc/monitor/requests',
      'GET /cfg/grpc/monitor/requests/{request_id}',
      'GET /cfg/grpc/monitor/services',
      'GET /cfg/grpc/monitor/timeline',
      'GET /cfg/grpc/monitor/ui',
    ];
    for (const key of expected) assert.ok(routeKeys.includes(key), `${key} in ${routeKeys.join(', ')}`);
    for (const key of routeKeys) assert.doesNotMatch(key, /\/$/, key);
  });

  it('catches the contract form `/x/` with a public route to the page Lambda, which redirects to `/x`', () => {
    // Whatever API Gateway does with a trailing slash, `/x/` reaches `/x`: either it matches the
    // route itself, or it falls to this greedy route (lambdas/api/ui.ts answers 308).
    const greedy = routes.find((r) => r.RouteKey === `GET ${API_BASE_PATH}/{proxy+}`);
    assert.ok(greedy, routeKeys.join(', '));
    assert.equal(greedy.AuthorizationType, 'NONE');
    const uiIntegration = routes.find((r) => r.RouteKey === `GET ${API_BASE_PATH}/ui`)?.Target;
    assert.deepEqual(greedy.Target, uiIntegration, 'the same integration as the dashboard page');
    assert.equal(routes.length, API_ROUTES.length + 1);
    assert.equal(stack.api.routeFunctions.size, API_ROUTES.length, 'no extra Lambda');
  });
});

describe('API Gateway CORS', () => {
  it('exposes the headers the dashboard reads cross-origin (API Gateway ignores the Lambdas’ CORS headers)', () => {
    const [[, api] = []] = ofType('AWS::ApiGatewayV2::Api');
    assert.ok(api);
    const cors = api.Properties.CorsConfiguration as { ExposeHeaders?: string[]; AllowOrigins?: string[] };
    assert.deepEqual(cors.AllowOrigins, ['https://dash.example.com']);
    assert.deepEqual([...(cors.ExposeHeaders ?? [])].map((h) => h.toLowerCase()).sort(), [
      'content-disposition',
      'link',
      'retry-after',
      'x-total-count',
    ]);
    template.resourceCountIs('AWS::ApiGatewayV2::Api', 1);
  });
});
