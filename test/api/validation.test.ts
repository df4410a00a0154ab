import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { API_ROUTES } from '../../core/apiRoutes';
import type { MonitorConfig } from '../../core/config';
import type { MonitorDeps } from '../../core/deps';
import * as health from '../../lambdas/api/health';
import * as methods from '../../lambdas/api/methods';
import { notFound } from '../../lambdas/api/middleware/responses';
import * as overview from '../../lambdas/api/overview';
import * as requestDetail from '../../lambdas/api/requestDetail';
import * as requests from '../../lambdas/api/requests';
import * as services from '../../lambdas/api/services';
import * as timeline from '../../lambdas/api/timeline';
import { startTestDynamo, type TestDynamo } from '../harness/dynamo';
import { apiEvent, lambdaContext } from './events';
import { assertMatchesOpenApi } from './openapi';

const BASE = '/cfg/grpc/monitor';
const LONG = 'x'.repeat(10 * 1024);
const DIGITS = '1'.repeat(10 * 1024);

type Module = { createHandler: (deps: MonitorDeps) => ReturnType<typeof overview.createHandler> };
const ENDPOINTS: Array<{ name: string; module: Module; path: string; params: string[] }> = [
  { name: 'overview', module: overview, path: '/overview/', params: ['hours'] },
  { name: 'services', module: services, path: '/services/', params: ['hours'] },
  { name: 'methods', module: methods, path: '/methods/', params: ['hours', 'service'] },
  { name: 'timeline', module: timeline, path: '/timeline/', params: ['hours', 'service'] },
  {
    name: 'requests',
    module: requests,
    path: '/requests/',
    params: ['hours', 'status', 'service', 'method', 'user', 'search', 'page_size', 'cursor', 'format'],
  },
];

/** Bad values per parameter: out of range, wrong type, repeated, 10 KB, and the parameter's own traps. */
const BAD: Record<string, string[]> = {
  hours: [
    'hours=0',
    'hours=721',
    'hours=-1',
    'hours=1.5',
    'hours=abc',
    'hours=',
    'hours=1&hours=2',
    `hours=${DIGITS}`,
    'hours=1e2',
  ],
  page_size: [
    'page_size=0',
    'page_size=101',
    'page_size=ten',
    'page_size=5&page_size=6',
    `page_size=${DIGITS}`,
  ],
  status: ['status=failed', 'status=SUCCESS', 'status=error&status=success', `status=${LONG}`],
  service: [`service=${'s'.repeat(201)}`, 'service=a&service=b', `service=${LONG}`, 'service=a%00b'],
  method: [`method=${'m'.repeat(201)}`, 'method=a&method=b', `method=${LONG}`],
  user: [`user=${'u'.repeat(201)}`, 'user=1&user=2', `user=${LONG}`],
  search: [`search=${'q'.repeat(201)}`, 'search=a&search=b', `search=${LONG}`],
  cursor: ['cursor=forged', 'cursor=eyJ2IjoxfQ.AAAA', 'cursor=a&cursor=b', `cursor=${LONG}`],
  format: ['format=xml', 'format=csv&format=json'],
};

describe('validation, errors and auth', () => {
  let db: TestDynamo;
  let config: MonitorConfig;
  let deps: MonitorDeps;

  before(async () => {
    db = await startTestDynamo();
    config = await db.createTables();
    deps = { ddb: db.ddb, config, now: () => new Date() };
  });
  after(() => db.stop());

  it('answers every bad parameter with 400 naming the field, never 500', async () => {
    let checked = 0;
    for (const endpoint of ENDPOINTS) {
      const handler = endpoint.module.createHandler(deps);
      for (const param of endpoint.params) {
        for (const query of BAD[param]!) {
          const response = await handler(apiEvent(`${BASE}${endpoint.path}`, { query }), lambdaContext);
          const label = `${endpoint.name}?${query.slice(0, 60)}`;
          assert.equal(response.statusCode, 400, label);
          const body = JSON.parse(response.body!);
          assert.equal(body.error.field, param, label);
          assert.equal(typeof body.error.code, 'string', label);
          assert.equal(response.headers!['Access-Control-Allow-Origin'], '*', label);
          assertMatchesOpenApi(`${BASE}${endpoint.path}`, 400, body);
          checked++;
        }
      }
    }
    assert.ok(checked > 60);
  });

  it('names the exact problem', async () => {
    const handler = requests.createHandler(deps);
    const error = async (query: string) =>
      JSON.parse((await handler(apiEvent(`${BASE}/requests/`, { query }), lambdaContext)).body!).error;
    assert.deepEqual(await error('hours=721'), {
      code: 'out_of_range',
      message: 'hours must be from 1 to 720',
      field: 'hours',
    });
    assert.deepEqual(await error('page_size=x'), {
      code: 'invalid_type',
      message: 'page_size must be a whole number',
      field: 'page_size',
    });
    assert.deepEqual(await error('status=a&status=b'), {
      code: 'repeated_parameter',
      message: 'status is given more than once',
      field: 'status',
    });
    assert.equal((await error('cursor=abc.def')).code, 'invalid_cursor');
  });

  it('accepts the edges and ignores unknown parameters', async () => {
    for (const endpoint of ENDPOINTS) {
      // hours=720 on an empty table costs one Query per hour bucket: checked on two endpoints only.
      const longest = ['overview', 'requests'].includes(endpoint.name) ? ['hours=720'] : [];
      for (const query of [
        'hours=1',
        ...longest,
        'page_size=1&page_size_x=3',
        'page_size=100&_=123',
        'service=',
      ]) {
        const response = await endpoint.module.createHandler(deps)(
          apiEvent(`${BASE}${endpoint.path}`, { query }),
          lambdaContext,
        );
        assert.equal(response.statusCode, 200, `${endpoint.name}?${query}`);
      }
    }
  });

  it('rejects a malformed request id with 400 and an unknown one with 404', async () => {
    const handler = requestDetail.createHandler(deps);
    for (const id of [LONG, 'a/b', 'a b', '']) {
      const response = await handler(
        apiEvent(`${BASE}/requests/x/`, { pathParameters: { request_id: id } }),
        lambdaContext,
      );
      assert.equal(response.statusCode, 400);
      assert.equal(JSON.parse(response.body!).error.field, 'request_id');
    }
    const missing = await handler(
      apiEvent(`${BASE}/requests/abc/`, { pathParameters: { request_id: 'abc' } }),
      lambdaContext,
    );
    assert.equal(missing.statusCode, 404);
  });

  it('answers an unknown route 404 with the error body', () => {
    const response = notFound('/cfg/grpc/monitor/nope/');
    assert.equal(response.statusCode, 404);
    assert.deepEqual(JSON.parse(response.body!), {
      error: { code: 'not_found', message: 'No route for /cfg/grpc/monitor/nope/', field: null },
    });
  });

  it('answers 503 with a retry hint and no internals when DynamoDB fails', async () => {
    const logged: unknown[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => logged.push(args);
    try {
      const unreachable: MonitorDeps = {
        ddb: DynamoDBDocumentClient.from(
          new DynamoDBClient({
            endpoint: 'http://127.0.0.1:9',
            region: 'local',
            maxAttempts: 1,
            credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
          }),
        ),
        config,
        now: () => new Date(),
      };
      const missingTables: MonitorDeps = {
        ...deps,
        config: { ...config, requestLogTable: 'no-such-table', statsTable: 'no-such-stats' },
      };
      for (const broken of [unreachable, missingTables]) {
        for (const endpoint of [
          ...ENDPOINTS,
          { name: 'health', module: health as Module, path: '/health/' },
        ]) {
          const response = await endpoint.module.createHandler(broken)(
            apiEvent(`${BASE}${endpoint.path}`),
            lambdaContext,
          );
          assert.equal(response.statusCode, 503, endpoint.name);
          assert.equal(response.headers!['Retry-After'], '5');
          assert.equal(response.headers!['Access-Control-Allow-Origin'], '*');
          const body = JSON.parse(response.body!);
          assert.deepEqual(body, {
            error: {
              code: 'store_unavailable',
              message: 'The monitoring store is unavailable; retry in 5 seconds.',
              field: null,
            },
          });
          assertMatchesOpenApi(`${BASE}${endpoint.path}`, 503, body);
          assert.doesNotMatch(response.body!, /at |ECONN|no-such|ResourceNotFound/);
        }
      }
    } finally {
      console.error = original;
    }
    assert.ok(logged.length > 0, 'the cause is logged server-side');
  });

  it('protects every route but health and the dashboard page', () => {
    assert.deepEqual(
      API_ROUTES.filter((r) => r.public).map((r) => r.name),
      ['health', 'ui'],
    );
  });
});
