import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { MonitorConfig } from '../../core/config';
import type { MonitorDeps } from '../../core/deps';
import { toHeartbeatItem } from '../../core/heartbeat';
import type { RequestLogRecord } from '../../core/record';
import { getStatistics, requestLogs } from 'grpc-monitor-interceptor/query';
import * as health from '../../lambdas/api/health';
import * as methods from '../../lambdas/api/methods';
import * as overview from '../../lambdas/api/overview';
import * as requestDetail from '../../lambdas/api/requestDetail';
import * as requests from '../../lambdas/api/requests';
import * as services from '../../lambdas/api/services';
import * as timeline from '../../lambdas/api/timeline';
import { startTestDynamo, type TestDynamo } from '../harness/dynamo';
import { apiEvent, lambdaContext } from './events';
import { figures, filterCalls, inWindow, row, windowOf } from './groundTruth';
import { assertMatchesOpenApi } from './openapi';
import { knownTraffic, record } from './traffic';

const BASE = '/cfg/grpc/monitor';
const r3 = (x: number) => Math.round(x * 1000) / 1000;

/** Groups calls by a key, keeping first-seen order. */
function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
  return groups;
}

const finalOf = (calls: readonly RequestLogRecord[]) => calls.filter((c) => c.status !== 'pending');

describe('monitor API handlers against DynamoDB Local holding known traffic', () => {
  let db: TestDynamo;
  let config: MonitorConfig;
  let deps: MonitorDeps;
  const now = new Date();
  const calls = knownTraffic(now, 400, 30);
  const beats = [
    { instance_id: 'b-stale', host: '10.0.0.9', port: 50052, ageSeconds: 600 },
    { instance_id: 'a-fresh', host: '[::]', port: 50051, ageSeconds: 4 },
  ];

  before(async () => {
    db = await startTestDynamo();
    config = await db.createTables({ shards: 2 });
    deps = { ddb: db.ddb, config, now: () => now };
    await record(db.ddb, config, calls);
    for (const b of beats) {
      const lastSeen = new Date(now.getTime() - b.ageSeconds * 1000).toISOString();
      await db.ddb.send(
        new PutCommand({
          TableName: config.requestLogTable,
          Item: toHeartbeatItem(
            {
              instance_id: b.instance_id,
              host: b.host,
              port: b.port,
              started_at: '2025-11-01T00:00:00.000Z',
              last_seen: lastSeen,
              writer: { enqueued: 10, written: 10, dropped: 0, retried: 0, failed: 0, queued: 0 },
              // A monitor that reports its log sampling (issue 17); the stale one predates it.
              ...(b.instance_id === 'a-fresh' && { sampling_success: 0.25 }),
            },
            Math.floor(Date.now() / 1000) + 3600,
          ),
        }),
      );
    }
  });
  after(() => db.stop());

  async function call(
    module: {
      createHandler: (
        deps: MonitorDeps,
      ) => (
        e: ReturnType<typeof apiEvent>,
        c: typeof lambdaContext,
      ) => Promise<{ statusCode?: number; body?: string; headers?: Record<string, unknown> }>;
    },
    url: string,
    template: string,
    pathParameters?: Record<string, string>,
  ) {
    const response = await module.createHandler(deps)(
      apiEvent(url, { routeKey: `GET ${BASE}${template}`, ...(pathParameters && { pathParameters }) }),
      lambdaContext,
    );
    const body = JSON.parse(response.body!) as Record<string, unknown>;
    assertMatchesOpenApi(`${BASE}${template}`, response.statusCode!, body);
    return { response, body };
  }

  it('overview: totals, rates, top services and methods, recent errors of 24 h', async () => {
    const win = inWindow(calls, now, 24);
    const f = figures(win);
    const minuteEnd = Math.floor(now.getTime() / 60_000) * 60_000;
    const lastMinute = finalOf(calls).filter(
      (c) => Date.parse(c.created_at) >= minuteEnd - 60_000 && Date.parse(c.created_at) < minuteEnd,
    ).length;
    const byService = [...groupBy(finalOf(win), (c) => c.service_name)]
      .map(([name, list]) => ({ name, list, f: figures(list) }))
      .sort((a, b) => b.list.length - a.list.length || a.name.localeCompare(b.name));
    const byMethod = [...groupBy(finalOf(win), (c) => `${c.service_name}/${c.method_name}`)]
      .map(([name, list]) => ({ name, list, f: figures(list) }))
      .sort((a, b) => b.list.length - a.list.length || a.name.localeCompare(b.name));

    const { response, body } = await call(overview, `${BASE}/overview/`, '/overview/');

    assert.equal(response.statusCode, 200);
    assert.equal(response.headers!['Access-Control-Allow-Origin'], '*');
    assert.deepEqual(body, {
      total_requests: f.total,
      successful_requests: f.successful,
      error_requests: f.errors,
      timeout_requests: f.timeouts,
      cancelled_requests: f.cancelled,
      success_rate: f.success_rate,
      avg_duration_ms: f.avg_duration_ms,
      p95_duration_ms: f.p95_duration_ms,
      requests_per_second: r3(f.total / (24 * 3600)),
      requests_per_second_last_minute: r3(lastMinute / 60),
      top_services: byService.slice(0, 10).map((s) => ({
        service_name: s.name,
        total_requests: s.f.total,
        success_rate: s.f.success_rate,
        error_requests: s.f.errors,
      })),
      top_methods: byMethod.slice(0, 10).map((m) => ({
        method_name: m.list[0]!.method_name,
        service_name: m.list[0]!.service_name,
        total_requests: m.f.total,
        avg_duration_ms: m.f.avg_duration_ms,
      })),
      recent_errors: filterCalls(calls, now, { hours: 24, status: 'error' })
        .slice(0, 10)
        .map((c) => ({
          request_id: c.request_id,
          service_name: c.service_name,
          method_name: c.method_name,
          error_message: c.error_message,
          grpc_status_code: c.grpc_status_code,
          created_at: c.created_at,
        })),
      // Sampling is off (the default rate 1): every call is logged.
      sampling: { enabled: false, success_rate: 1, logged_requests: f.total },
      period_hours: 24,
      window: windowOf(now, 24),
    });
    // The sketch's p95 is within its 1 % relative error of the exact p95.
    assert.ok(Math.abs(f.p95_duration_ms - f.exact_p95) <= f.exact_p95 * 0.01 + 0.05);
    // Timeouts and cancellations are not errors; every final call is in exactly one bucket.
    assert.equal(f.successful + f.errors + f.timeouts + f.cancelled, f.total);
  });

  it('services: per service, busiest first, methods nested; hours=6 narrows the window', async () => {
    for (const hours of [24, 6]) {
      const win = finalOf(inWindow(calls, now, hours));
      const expected = [...groupBy(win, (c) => c.service_name)]
        .sort(([a, x], [b, y]) => y.length - x.length || a.localeCompare(b))
        .map(([name, list]) => {
          const f = figures(list);
          return {
            service_name: name,
            total_requests: f.total,
            successful_requests: f.successful,
            error_requests: f.errors,
            timeout_requests: f.timeouts,
            cancelled_requests: f.cancelled,
            success_rate: f.success_rate,
            avg_duration_ms: f.avg_duration_ms,
            p95_duration_ms: f.p95_duration_ms,
            methods: [...groupBy(list, (c) => c.method_name)]
              .sort(([a, x], [b, y]) => y.length - x.length || a.localeCompare(b))
              .map(([method, mlist]) => {
                const mf = figures(mlist);
                return {
                  method_name: method,
                  total_requests: mf.total,
                  avg_duration_ms: mf.avg_duration_ms,
                  success_rate: mf.success_rate,
                  p95_duration_ms: mf.p95_duration_ms,
                };
              }),
          };
        });
      const { body } = await call(services, `${BASE}/services/?hours=${hours}`, '/services/');
      assert.deepEqual(body, { services: expected, truncated: false });
    }
  });

  it('methods: per method total, success rate, avg and p95; ?service= narrows', async () => {
    const win = finalOf(inWindow(calls, now, 24));
    const expected = (list: RequestLogRecord[]) =>
      [...groupBy(list, (c) => `${c.service_name}/${c.method_name}`)]
        .sort(([a, x], [b, y]) => y.length - x.length || a.localeCompare(b))
        .map(([, mlist]) => {
          const f = figures(mlist);
          return {
            service_name: mlist[0]!.service_name,
            method_name: mlist[0]!.method_name,
            total_requests: f.total,
            successful_requests: f.successful,
            error_requests: f.errors,
            timeout_requests: f.timeouts,
            cancelled_requests: f.cancelled,
            success_rate: f.success_rate,
            avg_duration_ms: f.avg_duration_ms,
            p95_duration_ms: f.p95_duration_ms,
          };
        });
    assert.deepEqual((await call(methods, `${BASE}/methods/`, '/methods/')).body, {
      methods: expected(win),
      truncated: false,
    });
    assert.deepEqual((await call(methods, `${BASE}/methods/?service=ProductService`, '/methods/')).body, {
      methods: expected(win.filter((c) => c.service_name === 'ProductService')),
      truncated: false,
    });
  });

  it('timeline: every hour of the window, oldest first, empty hours as zeros', async () => {
    const hourMs = 3_600_000;
    const current = Math.floor(now.getTime() / hourMs) * hourMs;
    for (const hours of [24, 48]) {
      const expected = Array.from({ length: hours }, (_, i) => {
        const start = current - (hours - 1 - i) * hourMs;
        const f = figures(
          finalOf(calls).filter(
            (c) => Date.parse(c.created_at) >= start && Date.parse(c.created_at) < start + hourMs,
          ),
        );
        return {
          hour: new Date(start).toISOString().replace('.000Z', 'Z'),
          total_requests: f.total,
          successful_requests: f.successful,
          error_requests: f.errors,
          timeout_requests: f.timeouts,
          cancelled_requests: f.cancelled,
          avg_duration_ms: f.avg_duration_ms,
          p95_duration_ms: f.p95_duration_ms,
        };
      });
      const { body } = await call(timeline, `${BASE}/timeline/?hours=${hours}`, '/timeline/');
      assert.deepEqual(body, { timeline: expected });
      // 30 h of traffic: a 48 h timeline has empty hours, shown as zeros.
      if (hours === 48) assert.ok(expected.some((h) => h.total_requests === 0));
    }
  });

  it('health: heartbeats, last request, last hour and ingestion lag', async () => {
    const hour = figures(inWindow(calls, now, 1));
    const { body } = await call(health, `${BASE}/health/`, '/health/');
    assert.deepEqual(body, {
      status: hour.error_rate >= 10 ? 'degraded' : 'healthy',
      grpc_server: { running: true, host: '[::]', port: 50051, instance_id: 'a-fresh' },
      servers: beats
        .slice()
        .reverse()
        .map((b) => ({
          instance_id: b.instance_id,
          host: b.host,
          port: b.port,
          running: b.ageSeconds < config.heartbeatStaleSeconds,
          started_at: '2025-11-01T00:00:00.000Z',
          last_seen: new Date(now.getTime() - b.ageSeconds * 1000).toISOString(),
          writer: { enqueued: 10, written: 10, dropped: 0, retried: 0, failed: 0, queued: 0 },
          ...(b.instance_id === 'a-fresh' && { sampling_success: 0.25 }),
        })),
      last_request: filterCalls(calls, now, { hours: 24 })[0]!.created_at,
      requests_last_hour: hour.total,
      error_rate_last_hour: hour.error_rate,
      ingestion_lag_seconds: 0,
      sampling: { enabled: false, success_rate: 1 },
      checked_at: now.toISOString(),
    });
  });

  it('requests: the first page of 20, exact count, next link; a record by id', async () => {
    const expected = filterCalls(calls, now, { hours: 24 });
    const { body } = await call(requests, `${BASE}/requests/`, '/requests/');
    assert.match(String(body.next), /^\/cfg\/grpc\/monitor\/requests\/\?cursor=[\w-]+\.[\w-]+$/);
    assert.deepEqual(
      { ...body, next: 'cursor' },
      {
        count: expected.length,
        count_is_partial: false,
        next: 'cursor',
        previous: null,
        partial: false,
        results: expected.slice(0, 20).map(row),
      },
    );

    const failed = calls.find((c) => c.status === 'error')!;
    const detail = await call(
      requestDetail,
      `${BASE}/requests/${failed.request_id}/`,
      '/requests/{request_id}/',
      {
        request_id: failed.request_id,
      },
    );
    assert.deepEqual(detail.body, { ...failed, client_request_id: null });
    const missing = await call(requestDetail, `${BASE}/requests/nope/`, '/requests/{request_id}/', {
      request_id: 'nope',
    });
    assert.equal(missing.response.statusCode, 404);
    assert.deepEqual(missing.body, { error: { code: 'not_found', message: 'No request nope', field: null } });
  });

  it('query library: getStatistics and the chained filters equal the raw figures', async () => {
    for (const hours of [1, 24]) {
      const f = figures(inWindow(calls, now, hours));
      assert.deepEqual(await getStatistics(deps, { hours }), {
        total: f.total,
        successful: f.successful,
        errors: f.errors,
        success_rate: f.success_rate,
        avg_duration_ms: f.avg_duration_ms,
        p95_duration_ms: f.p95_duration_ms,
      });
    }
    const chain = requestLogs(deps).recent({ hours: 24 }).error().byService('UserService');
    const expected = filterCalls(calls, now, { hours: 24, status: 'error', service: 'UserService' });
    assert.equal(await chain.count(), expected.length);
    assert.deepEqual((await chain.list({ limit: 100 })).items, expected.map(row));
    const byMethodUser = requestLogs(deps).recent({ hours: 12 }).successful().byMethod('GetUser').byUser(1);
    const expected2 = filterCalls(calls, now, { hours: 12, status: 'success', method: 'GetUser', user: '1' });
    assert.equal(await byMethodUser.count(), expected2.length);
    assert.deepEqual((await byMethodUser.list({ limit: 100 })).items, expected2.map(row));
  });
});
