import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'csv-parse/sync';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { MonitorConfig } from '../../core/config';
import type { MonitorDeps } from '../../core/deps';
import { toHeartbeatItem } from '../../core/heartbeat';
import { LIMITS, type RequestLogRecord } from '../../core/record';
import * as health from '../../lambdas/api/health';
import * as methods from '../../lambdas/api/methods';
import * as overview from '../../lambdas/api/overview';
import * as requestDetail from '../../lambdas/api/requestDetail';
import * as requests from '../../lambdas/api/requests';
import * as services from '../../lambdas/api/services';
import * as timeline from '../../lambdas/api/timeline';
import { startTestDynamo, type TestDynamo } from '../harness/dynamo';
import { apiEvent, lambdaContext } from './events';
import { record } from './traffic';

const BASE = '/cfg/grpc/monitor';
/** Lambda's limit on a synchronous response payload (the JSON it returns to API Gateway). */
const LAMBDA_RESPONSE_LIMIT = 6 * 1024 * 1024;
const CALLS = 550;

const long = (ch: string, n: number) => ch.repeat(Math.ceil(n / ch.length)).slice(0, n);

/**
 * The worst a gRPC client can make the monitor store: 4,000-character error messages of 3-byte
 * characters, of control characters (6 bytes each once escaped in JSON) and of emoji; every
 * name, the user, IP, agent and peer at their length limits.
 */
function worstCalls(now: Date): RequestLogRecord[] {
  const messages = [
    long('€', LIMITS.errorMessage),
    long('\u0001', LIMITS.errorMessage),
    long('😀', LIMITS.errorMessage),
  ];
  return Array.from({ length: CALLS }, (_, i) => {
    const created = new Date(now.getTime() - 1000 - i * 1000).toISOString();
    const service = `${long('S', LIMITS.name - 4)}${String(i % 3).padStart(4, '0')}`;
    const method = `${long('m', LIMITS.name - 4)}${String(i % 4).padStart(4, '0')}`;
    return {
      request_id: `${long('r', LIMITS.requestId - 6)}${String(i).padStart(6, '0')}`,
      service_name: service,
      method_name: method,
      full_method: `/${service}/${method}`.slice(0, LIMITS.fullMethod),
      status: 'error',
      grpc_status_code: 'INTERNAL',
      duration_ms: 12.5,
      request_size: 1,
      response_size: 1,
      request_messages: 1,
      response_messages: 1,
      user: { id: long('9', LIMITS.name), username: long('"', LIMITS.username) },
      client_ip: long('\u0002', LIMITS.clientIp),
      user_agent: long('a', LIMITS.userAgent),
      peer: long('p', LIMITS.peer),
      error_message: messages[i % messages.length]!,
      error_details: { preview: long('\\', LIMITS.errorDetailsBytes / 2 - 20) },
      deadline_ms: null,
      trace_id: null,
      created_at: created,
      updated_at: created,
      expires_at: Math.floor(Date.now() / 1000) + 86_400,
    };
  });
}

type Response = { statusCode?: number; body?: string; headers?: Record<string, unknown> };
/** Bytes of the payload Lambda returns to API Gateway: the whole response, as JSON. */
const payloadBytes = (response: Response): number => Buffer.byteLength(JSON.stringify(response));

describe('response sizes: every endpoint stays under Lambda’s 6 MB with worst-case data', () => {
  let db: TestDynamo;
  let config: MonitorConfig;
  let deps: MonitorDeps;
  const now = new Date();
  const calls = worstCalls(now);

  before(async () => {
    db = await startTestDynamo();
    config = await db.createTables({ shards: 2 });
    deps = { ddb: db.ddb, config, now: () => now };
    await record(db.ddb, config, calls);
    await db.ddb.send(
      new PutCommand({
        TableName: config.requestLogTable,
        Item: toHeartbeatItem(
          {
            instance_id: long('i', 100),
            host: long('h', 200),
            port: 50051,
            started_at: now.toISOString(),
            last_seen: now.toISOString(),
            writer: { enqueued: 1, written: 1, dropped: 0, retried: 0, failed: 0, queued: 0 },
          },
          Math.floor(Date.now() / 1000) + 3600,
        ),
      }),
    );
  });
  after(() => db.stop());

  it('CSV export: each part under the limit, the Link walks every row once', async () => {
    // Act
    const handler = requests.createHandler(deps, { cursorKey: async () => Buffer.alloc(32, 3) });
    const rows: Array<Record<string, string>> = [];
    const sizes: number[] = [];
    let url: string | null = `${BASE}/requests/?format=csv`;
    while (url) {
      const response = await handler(apiEvent(url), lambdaContext);
      assert.equal(response.statusCode, 200);
      sizes.push(payloadBytes(response));
      rows.push(...(parse(response.body!, { columns: true }) as Array<Record<string, string>>));
      const link = /<([^>]+)>; rel="next"/.exec(String(response.headers!.Link ?? ''));
      url = link ? link[1]! : null;
    }
    // Assess: the whole export is far over 6 MB, so it came in several parts, each under it.
    const total = sizes.reduce((a, b) => a + b, 0);
    assert.ok(total > LAMBDA_RESPONSE_LIMIT, `the export is ${total} bytes`);
    assert.ok(sizes.length >= 2);
    for (const size of sizes) assert.ok(size <= LAMBDA_RESPONSE_LIMIT, `a part of ${size} bytes`);
    assert.deepEqual(
      rows.map((r) => r.request_id),
      calls.map((c) => c.request_id),
    );
    assert.equal(rows[1]!.error_message, calls[1]!.error_message);
  });

  it('JSON pages of 100 rows, a record, and every other endpoint stay under the limit', async () => {
    const cursorKey = async () => Buffer.alloc(32, 3);
    const failed = calls[1]!;
    const responses: Array<[string, Response]> = [
      [
        'requests',
        await requests.createHandler(deps, { cursorKey })(
          apiEvent(`${BASE}/requests/?page_size=100`),
          lambdaContext,
        ),
      ],
      [
        'requestDetail',
        await requestDetail.createHandler(deps)(
          apiEvent(`${BASE}/requests/${failed.request_id}/`, {
            pathParameters: { request_id: failed.request_id },
          }),
          lambdaContext,
        ),
      ],
      [
        'overview',
        await overview.createHandler(deps)(apiEvent(`${BASE}/overview/?hours=720`), lambdaContext),
      ],
      [
        'services',
        await services.createHandler(deps)(apiEvent(`${BASE}/services/?hours=720`), lambdaContext),
      ],
      ['methods', await methods.createHandler(deps)(apiEvent(`${BASE}/methods/?hours=720`), lambdaContext)],
      [
        'timeline',
        await timeline.createHandler(deps)(apiEvent(`${BASE}/timeline/?hours=720`), lambdaContext),
      ],
      ['health', await health.createHandler(deps)(apiEvent(`${BASE}/health/`), lambdaContext)],
    ];
    for (const [name, response] of responses) {
      assert.equal(response.statusCode, 200, `${name}: ${response.body?.slice(0, 200)}`);
      assert.ok(payloadBytes(response) <= LAMBDA_RESPONSE_LIMIT, `${name}: ${payloadBytes(response)} bytes`);
    }
    const page = JSON.parse(responses[0]![1].body!) as { results: unknown[] };
    assert.equal(page.results.length, 100);
  });

  it('a byte limit cuts a JSON page, services and methods, and paging goes on from the cut', async () => {
    // Prepare: a limit a few rows fit in (the mechanism the 5 MB default relies on).
    const maxResponseBytes = 400_000;
    const handler = requests.createHandler(deps, {
      cursorKey: async () => Buffer.alloc(32, 3),
      maxResponseBytes,
    });
    // Act
    const seen: string[] = [];
    let url: string | null = `${BASE}/requests/?page_size=100&hours=1`;
    let pages = 0;
    while (url) {
      const response = await handler(apiEvent(url), lambdaContext);
      const page = JSON.parse(response.body!) as {
        next: string | null;
        partial: boolean;
        results: Array<{ request_id: string }>;
      };
      assert.ok(page.results.length >= 1 && page.results.length < 100);
      assert.ok(payloadBytes(response) <= maxResponseBytes + 8_192, `${payloadBytes(response)} bytes`);
      seen.push(...page.results.map((r) => r.request_id));
      if (page.next) assert.equal(page.partial, true);
      url = page.next;
      pages++;
    }
    // Assess
    assert.ok(pages > 1);
    // The calls span 550 s: all of them are in the last hour.
    assert.deepEqual(
      seen,
      calls.map((c) => c.request_id),
    );
    const small = { maxResponseBytes: 3_000 };
    const cutServices = JSON.parse(
      (await services.createHandler(deps, small)(apiEvent(`${BASE}/services/`), lambdaContext)).body!,
    ) as { services: unknown[]; truncated: boolean };
    assert.equal(cutServices.truncated, true);
    assert.ok(cutServices.services.length < 3);
    const cutMethods = JSON.parse(
      (await methods.createHandler(deps, small)(apiEvent(`${BASE}/methods/`), lambdaContext)).body!,
    ) as { methods: unknown[]; truncated: boolean };
    assert.equal(cutMethods.truncated, true);
    assert.ok(cutMethods.methods.length < 12);
  });
});
