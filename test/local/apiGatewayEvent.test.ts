import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { API_ROUTES } from '../../core/apiRoutes';
import {
  compileRoute,
  findRoute,
  fromProxyResult,
  queryParameters,
  toAuthorizerEvent,
  toProxyEvent,
} from '../../local/apiGatewayEvent';
import { createGateway, type RouteHandler } from '../../local/apiServer';

const matchers = API_ROUTES.map(compileRoute);
const request = (url: string, headers: Record<string, string | string[]> = {}) => ({
  method: 'GET',
  url,
  headers: { host: '127.0.0.1:8000', 'user-agent': 'curl/8', ...headers },
  sourceIp: '127.0.0.1',
});

describe('API Gateway v2 event from an HTTP request', () => {
  it('matches literal routes before templated ones and decodes path parameters', () => {
    // Act
    const list = findRoute(matchers, '/cfg/grpc/monitor/requests/');
    const detail = findRoute(matchers, '/cfg/grpc/monitor/requests/abc%2D1/');
    // Assess
    assert.equal(list?.matcher.route.name, 'requests');
    assert.equal(detail?.matcher.route.name, 'requestDetail');
    assert.deepEqual(detail?.pathParameters, { request_id: 'abc-1' });
    assert.equal(findRoute(matchers, '/cfg/grpc/monitor/requests/a/b/'), undefined);
    // Both forms of a path (test/local/pathForms.test.ts), nothing more.
    assert.equal(findRoute(matchers, '/cfg/grpc/monitor/overview')?.matcher.route.name, 'overview');
    assert.equal(findRoute(matchers, '/cfg/grpc/monitor/overviews'), undefined);
  });

  it('joins repeated query parameters with commas, as API Gateway does', () => {
    assert.deepEqual(queryParameters('status=error&status=timeout&q=a%20b'), {
      status: 'error,timeout',
      q: 'a b',
    });
    assert.equal(queryParameters(''), undefined);
  });

  it('builds the proxy event: raw path and query, lowercased headers, cookies, request context', () => {
    // Prepare
    const found = findRoute(matchers, '/cfg/grpc/monitor/requests/r-1/')!;
    // Act
    const event = toProxyEvent(
      request('/cfg/grpc/monitor/requests/r-1/?format=csv&x=1&x=2', {
        cookie: 'a=1; b=2',
        authorization: 'Bearer t',
      }),
      found.matcher.routeKey,
      found.pathParameters,
      new Date('2026-01-02T03:04:05.000Z'),
    );
    // Assess
    assert.equal(event.version, '2.0');
    assert.equal(event.routeKey, 'GET /cfg/grpc/monitor/requests/{request_id}'); // as deployed
    assert.equal(event.rawPath, '/cfg/grpc/monitor/requests/r-1/');
    assert.equal(event.rawQueryString, 'format=csv&x=1&x=2');
    assert.deepEqual(event.queryStringParameters, { format: 'csv', x: '1,2' });
    assert.deepEqual(event.pathParameters, { request_id: 'r-1' });
    assert.deepEqual(event.cookies, ['a=1', 'b=2']);
    assert.equal(event.headers.authorization, 'Bearer t');
    assert.equal(event.headers.cookie, undefined);
    assert.equal(event.isBase64Encoded, false);
    assert.equal(event.requestContext.http.method, 'GET');
    assert.equal(event.requestContext.http.path, '/cfg/grpc/monitor/requests/r-1/');
    assert.equal(event.requestContext.http.sourceIp, '127.0.0.1');
    assert.equal(event.requestContext.http.userAgent, 'curl/8');
    assert.equal(event.requestContext.routeKey, event.routeKey);
    assert.equal(event.requestContext.timeEpoch, Date.parse('2026-01-02T03:04:05.000Z'));
    // Only what API Gateway sends: no query object without a query, no path parameters without a template.
    const plain = toProxyEvent(request('/cfg/grpc/monitor/overview/'), 'GET /cfg/grpc/monitor/overview/', {});
    assert.equal('queryStringParameters' in plain, false);
    assert.equal('pathParameters' in plain, false);
  });

  it('builds the REQUEST authorizer event with the Authorization header as identity source', () => {
    const event = toProxyEvent(
      request('/cfg/grpc/monitor/overview/', { authorization: 'Bearer t' }),
      'GET /x',
      {},
    );
    const auth = toAuthorizerEvent(event);
    assert.equal(auth.type, 'REQUEST');
    assert.deepEqual(auth.identitySource, ['Bearer t']);
    assert.equal(
      auth.routeArn,
      'arn:aws:execute-api:local:000000000000:local/$default/GET/cfg/grpc/monitor/overview/',
    );
  });

  it('turns handler results into HTTP responses like API Gateway', () => {
    assert.deepEqual(fromProxyResult('{"a":1}'), {
      statusCode: 200,
      headers: { 'content-type': 'application/json' },
      body: Buffer.from('{"a":1}'),
    });
    const csv = fromProxyResult({ statusCode: 200, headers: { 'Content-Type': 'text/csv' }, body: 'a,b\n' });
    assert.equal(csv.headers['content-type'], 'text/csv');
    const binary = fromProxyResult({
      statusCode: 201,
      body: Buffer.from([1, 2]).toString('base64'),
      isBase64Encoded: true,
    });
    assert.deepEqual([...binary.body], [1, 2]);
    assert.equal(binary.statusCode, 201);
  });
});

describe('local gateway dispatch', () => {
  const seen: APIGatewayProxyEventV2[] = [];
  const echo: RouteHandler = async (event) => {
    seen.push(event);
    return { statusCode: 200, body: JSON.stringify({ route: event.routeKey }) };
  };
  const handlers = new Map(API_ROUTES.map((route) => [route.name, echo]));
  const gateway = createGateway({
    handlers,
    authorizer: async (event) => ({ isAuthorized: event.headers?.authorization === 'Bearer good' }),
    onError: () => {},
  });
  const json = (body: Buffer) => JSON.parse(body.toString());

  it('answers 401 without the token or with a wrong one, without calling the handler', async () => {
    seen.length = 0;
    const missing = await gateway(request('/cfg/grpc/monitor/overview/'));
    const wrong = await gateway(request('/cfg/grpc/monitor/overview/', { authorization: 'Bearer bad' }));
    assert.equal(missing.statusCode, 401);
    assert.equal(wrong.statusCode, 401);
    assert.deepEqual(json(wrong.body), { message: 'Unauthorized' });
    assert.equal(seen.length, 0);
  });

  it('calls the route handler when authorized, and public routes without a token', async () => {
    const ok = await gateway(
      request('/cfg/grpc/monitor/overview/?hours=2', { authorization: 'Bearer good' }),
    );
    const health = await gateway(request('/cfg/grpc/monitor/health/'));
    assert.equal(ok.statusCode, 200);
    assert.deepEqual(json(ok.body), { route: 'GET /cfg/grpc/monitor/overview' });
    assert.equal(health.statusCode, 200);
  });

  it('answers 404 for unknown routes and other methods, 500 when a handler throws', async () => {
    assert.equal((await gateway(request('/cfg/grpc/monitor/nope/'))).statusCode, 404);
    assert.equal(
      (await gateway({ ...request('/cfg/grpc/monitor/health/'), method: 'POST' })).statusCode,
      404,
    );
    const failing = createGateway({
      handlers: new Map([['health', (async () => Promise.reject(new Error('x'))) as RouteHandler]]),
      authorizer: async () => ({ isAuthorized: true }),
      onError: () => {},
    });
    const crashed = await failing(request('/cfg/grpc/monitor/health/'));
    assert.equal(crashed.statusCode, 500);
    assert.deepEqual(json(crashed.body), { message: 'Internal Server Error' });
  });

  it('sends the bare host to the dashboard', async () => {
    const root = await gateway(request('/'));
    assert.equal(root.statusCode, 302);
    assert.equal(root.headers.location, '/cfg/grpc/monitor/ui/');
  });
});
