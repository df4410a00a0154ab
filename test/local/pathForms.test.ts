/**
 * The local stand-in for API Gateway answers both forms of every path: `/x`, the route the stack
 * deploys (route keys cannot end in `/`), and `/x/`, the contract's form (DESIGN.md "Monitor
 * API"), handing the handler the route key AWS would send.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { API_ROUTES } from '../../core/apiRoutes';
import { createGateway, type RouteHandler } from '../../local/apiServer';

const seen: APIGatewayProxyEventV2[] = [];
const echo: RouteHandler = async (event) => {
  seen.push(event);
  return { statusCode: 200, body: '{}' };
};
const gateway = createGateway({
  handlers: new Map(API_ROUTES.map((route) => [route.name, echo])),
  authorizer: async (event) => ({ isAuthorized: event.headers?.authorization === 'Bearer good' }),
  onError: () => {},
});
const get = (url: string) =>
  gateway({ method: 'GET', url, headers: { authorization: 'Bearer good' }, sourceIp: '127.0.0.1' });

describe('local API path forms', () => {
  for (const route of API_ROUTES) {
    const deployed = route.path.replace(/\/$/, '').replace('{request_id}', 'r-1');
    it(`${route.name}: answers at ${deployed} and ${deployed}/ with the deployed route key`, async () => {
      for (const path of [deployed, `${deployed}/`]) {
        // Act
        seen.length = 0;
        const response = await get(`${path}?hours=1`);
        // Assess
        assert.equal(response.statusCode, 200, path);
        assert.equal(seen.length, 1, path);
        const event = seen[0]!;
        assert.equal(event.routeKey, `GET ${route.path.replace(/\/$/, '')}`, path);
        assert.equal(event.rawPath, path);
        assert.equal(event.queryStringParameters?.hours, '1');
        if (route.path.includes('{request_id}'))
          assert.deepEqual(event.pathParameters, { request_id: 'r-1' });
      }
    });
  }

  it('still answers 404 to a path that is neither form of a route', async () => {
    for (const path of [
      '/cfg/grpc/monitor/nope',
      '/cfg/grpc/monitor/overview//',
      '/cfg/grpc/monitor/requests/a/b',
      '/cfg/grpc/monitor/overviewx',
    ]) {
      assert.equal((await get(path)).statusCode, 404, path);
    }
  });
});
