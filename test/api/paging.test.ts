import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'csv-parse/sync';
import type { MonitorConfig } from '../../core/config';
import type { MonitorDeps } from '../../core/deps';
import { createHandler } from '../../lambdas/api/requests';
import { startTestDynamo, type TestDynamo } from '../harness/dynamo';
import { apiEvent, lambdaContext } from './events';
import { filterCalls, row } from './groundTruth';
import { knownTraffic, record } from './traffic';

const PATH = '/cfg/grpc/monitor/requests/';
const key = Buffer.alloc(32, 7);

describe('GET /requests/ paging over 1,000 calls (4 GSI shards)', () => {
  let db: TestDynamo;
  let config: MonitorConfig;
  const now = new Date();
  const calls = knownTraffic(now, 1000, 20);
  let requests: ReturnType<typeof createHandler>;

  before(async () => {
    db = await startTestDynamo();
    config = await db.createTables({ shards: 4 });
    await record(db.ddb, config, calls);
    const deps: MonitorDeps = { ddb: db.ddb, config, now: () => now };
    requests = createHandler(deps, { cursorKey: async () => key });
  });
  after(() => db.stop());

  const get = async (url: string, headers: Record<string, string> = {}) => {
    const response = await requests(apiEvent(url, { headers }), lambdaContext);
    return response;
  };
  const getJson = async (url: string) => {
    const response = await get(url);
    assert.equal(response.statusCode, 200, response.body);
    return JSON.parse(response.body!) as {
      count: number;
      next: string | null;
      previous: string | null;
      results: unknown[];
    };
  };

  it('walks every call once, newest first, via next with page_size=7, and back via previous', async () => {
    // Prepare
    const expected = filterCalls(calls, now, { hours: 24 }).map(row);
    assert.equal(expected.length, 1000);
    // Act: forward
    const pages: unknown[][] = [];
    let url: string | null = `${PATH}?page_size=7`;
    let lastUrl = url;
    let first = true;
    while (url) {
      lastUrl = url;
      const page = await getJson(url);
      assert.equal(page.count, 1000);
      if (first) assert.equal(page.previous, null);
      first = false;
      pages.push(page.results);
      url = page.next;
    }
    // Assess
    assert.equal(pages.length, Math.ceil(1000 / 7));
    assert.deepEqual(pages.flat(), expected);
    assert.ok(pages.slice(0, -1).every((p) => p.length === 7));

    // Act: backward from the last page
    const back: unknown[][] = [];
    url = lastUrl;
    while (url) {
      const page = await getJson(url);
      back.unshift(page.results);
      url = page.previous;
    }
    assert.deepEqual(back, pages);
  });

  it('pages filtered lists the same way and counts them exactly', async () => {
    const cases = [
      { query: 'status=error', filter: { status: 'error' as const } },
      { query: 'service=UserService', filter: { service: 'UserService' } },
      {
        query: 'service=ProductService&status=success',
        filter: { service: 'ProductService', status: 'success' as const },
      },
      { query: 'method=GetProduct', filter: { method: 'GetProduct' } },
      { query: 'status=pending', filter: { status: 'pending' as const } },
      { query: 'user=3', filter: { user: '3' } },
      { query: 'search=ORDER%201', filter: { search: 'ORDER 1' } },
      { query: 'search=10.0.2.1', filter: { search: '10.0.2.1' } },
      { query: 'hours=3&status=timeout', filter: { hours: 3, status: 'timeout' as const } },
    ];
    for (const c of cases) {
      const expected = filterCalls(calls, now, { hours: 24, ...c.filter }).map(row);
      assert.ok(expected.length > 0, c.query);
      const seen: unknown[] = [];
      let url: string | null = `${PATH}?${c.query}&page_size=100`;
      while (url) {
        const page = await getJson(url);
        assert.equal(page.count, expected.length, c.query);
        seen.push(...page.results);
        url = page.next;
      }
      assert.deepEqual(seen, expected, c.query);
    }
  });

  it('exports the same rows as CSV, continuing through Link rel="next"', async () => {
    const expected = filterCalls(calls, now, { hours: 24, service: 'OrderService' });
    const rows: Record<string, string>[] = [];
    let url: string | null = `${PATH}?service=OrderService&page_size=50`;
    while (url) {
      const response = await get(url, { accept: 'text/csv' });
      assert.equal(response.statusCode, 200);
      assert.match(String(response.headers!['Content-Type']), /^text\/csv/);
      assert.equal(response.headers!['X-Total-Count'], String(expected.length));
      rows.push(...(parse(response.body!, { columns: true }) as Record<string, string>[]));
      const link = /<([^>]+)>; rel="next"/.exec(String(response.headers!.Link ?? ''));
      url = link ? link[1]! : null;
    }
    assert.deepEqual(
      rows.map((r) => [r.request_id, r.status, r.username, r.error_message]),
      expected.map((c) => [c.request_id, c.status, c.user?.username ?? '', c.error_message ?? '']),
    );
    // ?format=csv answers the same as Accept: text/csv, all rows in one response under 5,000.
    const whole = await get(`${PATH}?service=OrderService&format=csv`);
    assert.equal((parse(whole.body!, { columns: true }) as unknown[]).length, expected.length);
    assert.equal(
      whole.body!.split('\n')[0],
      'request_id,created_at,service_name,method_name,full_method,status,grpc_status_code,duration_ms,request_size,response_size,user_id,username,client_ip,error_message,client_request_id',
    );
  });

  it('rejects a cursor that was altered, forged, or made for other filters', async () => {
    const page = await getJson(`${PATH}?page_size=7`);
    const next = new URL(page.next!, 'http://x');
    const cursor = next.searchParams.get('cursor')!;
    const [body, sig] = cursor.split('.') as [string, string];
    const wire = JSON.parse(Buffer.from(body, 'base64url').toString()) as Record<string, unknown>;
    const altered = Buffer.from(JSON.stringify({ ...wire, k: '9999' })).toString('base64url');
    for (const bad of [
      `${altered}.${sig}`,
      `${body}.${Buffer.alloc(32).toString('base64url')}`,
      'not-a-cursor',
      `${body}`,
    ]) {
      const response = await get(`${PATH}?page_size=7&cursor=${encodeURIComponent(bad)}`);
      assert.equal(response.statusCode, 400);
      assert.equal(JSON.parse(response.body!).error.field, 'cursor');
    }
    const otherFilter = await get(`${PATH}?page_size=7&status=error&cursor=${encodeURIComponent(cursor)}`);
    assert.equal(otherFilter.statusCode, 400);
    assert.equal(JSON.parse(otherFilter.body!).error.field, 'cursor');
  });
});
