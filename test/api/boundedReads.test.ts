import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { MonitorConfig } from '../../core/config';
import type { MonitorDeps } from '../../core/deps';
import { MAX_ITEMS_READ_PER_REQUEST } from '../../core/query';
import type { RequestLogRecord, RequestStatus } from '../../core/record';
import { toRequestLogItem } from '../../core/requestLogItem';
import { createHandler } from '../../lambdas/api/requests';
import { startTestDynamo, type TestDynamo } from '../harness/dynamo';
import { apiEvent, lambdaContext } from './events';
import { windowOf } from './groundTruth';
import { putAll } from '../harness/putAll';

const PATH = '/cfg/grpc/monitor/requests/';
const ROWS = 50_000;
const SPAN_HOURS = 40;
/** Rows the `search` needle is in (every 2,500th), and the user that made every 1,000th call. */
const NEEDLE_EVERY = 2_500;
const USER_EVERY = 1_000;

/** 50,000 calls over 40 h: half of them errors, so a success list must skip as much as it keeps. */
function manyCalls(now: Date): RequestLogRecord[] {
  const step = (SPAN_HOURS * 3_600_000) / ROWS;
  return Array.from({ length: ROWS }, (_, i) => {
    const created = new Date(now.getTime() - 1000 - Math.floor(i * step)).toISOString();
    const status: RequestStatus = i % 2 === 0 ? 'error' : 'success';
    return {
      request_id: `r${String(i).padStart(6, '0')}`,
      service_name: 'BulkService',
      method_name: 'Call',
      full_method: '/bulk.BulkService/Call',
      status,
      grpc_status_code: status === 'error' ? 'INTERNAL' : 'OK',
      duration_ms: 1,
      request_size: 1,
      response_size: 1,
      request_messages: 1,
      response_messages: 1,
      user:
        i % USER_EVERY === 7 ? { id: 'u-rare', username: 'rare' } : { id: 'u-common', username: 'common' },
      client_ip: '10.1.2.3',
      user_agent: null,
      peer: null,
      error_message: i % NEEDLE_EVERY === 11 ? `needle ${i}` : status === 'error' ? 'boom' : null,
      error_details: null,
      deadline_ms: null,
      trace_id: null,
      created_at: created,
      updated_at: created,
      expires_at: Math.floor(Date.now() / 1000) + 86_400,
    };
  });
}

/**
 * A DocumentClient that counts what its Queries evaluate (ScannedCount), with a way to wait
 * until no request is in flight: read-ahead may still be reading when a handler has answered.
 */
function countingClient(db: TestDynamo) {
  const client = new DynamoDBClient({ ...db.clientConfig, maxAttempts: 3 });
  const ddb = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  const counter = { scanned: 0, queries: 0, inFlight: 0 };
  ddb.middlewareStack.add(
    (next) => async (args) => {
      counter.inFlight++;
      try {
        const out = await next(args);
        const output = out.output as { ScannedCount?: number };
        if (typeof output.ScannedCount === 'number') {
          counter.scanned += output.ScannedCount;
          counter.queries++;
        }
        return out;
      } finally {
        counter.inFlight--;
      }
    },
    { step: 'initialize', name: 'countScanned' },
  );
  const settled = async () => {
    while (counter.inFlight > 0) await new Promise((resolve) => setTimeout(resolve, 5));
  };
  return { ddb, counter, settled, destroy: () => client.destroy() };
}

interface Page {
  count: number | null;
  count_is_partial: boolean;
  partial: boolean;
  next: string | null;
  results: Array<{ request_id: string; status: string; error_message: string | null }>;
}

describe(`bounded reads: every /requests/ request over ${ROWS.toLocaleString('en')} rows reads at most ${MAX_ITEMS_READ_PER_REQUEST.toLocaleString('en')} items`, () => {
  let db: TestDynamo;
  let config: MonitorConfig;
  const now = new Date();
  const calls = manyCalls(now);

  before(async () => {
    // Its own DynamoDB Local: 50,000 writes and reads would slow every file beside it.
    db = await startTestDynamo({ own: true });
    config = await db.createTables({ shards: 2 });
    await putAll(
      db.ddb,
      config.requestLogTable,
      calls.map((c) => toRequestLogItem(c, config)),
      8,
    );
  });
  after(() => db.stop());

  /** GETs `url` on a fresh handler whose DynamoDB client counts the items read by this request alone. */
  async function get(url: string): Promise<{ page: Page; scanned: number; queries: number }> {
    const counting = countingClient(db);
    const deps: MonitorDeps = { ddb: counting.ddb, config, now: () => now };
    const handler = createHandler(deps, { cursorKey: async () => Buffer.alloc(32, 9) });
    const response = await handler(apiEvent(url), lambdaContext);
    await counting.settled();
    counting.destroy();
    assert.equal(response.statusCode, 200, response.body);
    return {
      page: JSON.parse(response.body!) as Page,
      scanned: counting.counter.scanned,
      queries: counting.counter.queries,
    };
  }

  /** Follows `next` from `url` to the end; every request stays within the bound. */
  async function walk(url: string) {
    const seen: Page['results'] = [];
    const requests: Array<{ scanned: number; partial: boolean; count: number | null }> = [];
    let next: string | null = url;
    let last = url;
    while (next) {
      last = next;
      const { page, scanned } = await get(next);
      assert.ok(
        scanned <= MAX_ITEMS_READ_PER_REQUEST,
        `${next.slice(0, 80)}… read ${scanned} items, over ${MAX_ITEMS_READ_PER_REQUEST}`,
      );
      assert.ok(requests.length < 100, 'the walk makes progress');
      requests.push({ scanned, partial: page.partial, count: page.count });
      seen.push(...page.results);
      next = page.next;
    }
    return { seen, requests, last };
  }

  /** Follows `previous` from `url` back to the first page, within the bound; rows newest first. */
  async function walkBack(url: string) {
    const pages: Page['results'][] = [];
    let previous: string | null = url;
    while (previous) {
      const { page, scanned } = await get(previous);
      assert.ok(scanned <= MAX_ITEMS_READ_PER_REQUEST, `read ${scanned} items`);
      assert.ok(pages.length < 100, 'the walk makes progress');
      pages.unshift(page.results);
      previous = (page as Page & { previous: string | null }).previous;
    }
    return pages.flat();
  }

  const newestFirst = (rows: RequestLogRecord[]) => rows.map((c) => c.request_id);

  it('search over 720 h: partial pages with a continue cursor, count null, every match found once', async () => {
    // Act
    const { seen, requests, last } = await walk(`${PATH}?hours=720&search=NEEDLE&page_size=100`);
    // Assess: the 20 matches, newest first, no gap and no duplicate, across many bounded requests.
    const expected = calls.filter((c) => c.error_message?.startsWith('needle'));
    assert.equal(expected.length, ROWS / NEEDLE_EVERY);
    assert.deepEqual(
      seen.map((r) => r.request_id),
      newestFirst(expected),
    );
    assert.ok(requests.length >= ROWS / MAX_ITEMS_READ_PER_REQUEST, `${requests.length} requests`);
    assert.ok(requests.slice(0, -1).every((r) => r.partial));
    // And back through `previous`, partial pages included: the same rows, no gap, no duplicate.
    assert.deepEqual(
      (await walkBack(last)).map((r) => r.request_id),
      newestFirst(expected),
    );
    // The count could not be had within the bound: it says so, and no request read the window twice.
    assert.equal(requests[0]!.count, null);
    const first = await get(`${PATH}?hours=720&search=NEEDLE&page_size=100`);
    assert.equal(first.page.count_is_partial, true);
  });

  it('user filter: bounded the same way, and a small window is counted exactly in one read', async () => {
    const { seen, requests } = await walk(`${PATH}?hours=720&user=u-rare&page_size=100`);
    const expected = calls.filter((c) => c.user?.id === 'u-rare');
    assert.deepEqual(
      seen.map((r) => r.request_id),
      newestFirst(expected),
    );
    assert.ok(requests.length > 1);
    // One hour holds 1,250 rows: the first page's read covers it, so the count is exact.
    const hour = await get(`${PATH}?hours=1&user=u-rare&page_size=1`);
    const { from, to } = windowOf(now, 1);
    const inHour = expected.filter((c) => c.created_at >= from && c.created_at < to);
    assert.ok(inHour.length > 1);
    assert.equal(hour.page.count, inHour.length);
    assert.equal(hour.page.count_is_partial, false);
    assert.ok(hour.scanned <= MAX_ITEMS_READ_PER_REQUEST);
  });

  it('status=success reads the hour buckets with a filter, within the bound, in order', async () => {
    const { page, scanned } = await get(`${PATH}?hours=720&status=success&page_size=100`);
    assert.ok(scanned <= MAX_ITEMS_READ_PER_REQUEST);
    assert.equal(page.results.length, 100);
    assert.ok(page.results.every((r) => r.status === 'success'));
    assert.deepEqual(
      page.results.map((r) => r.request_id),
      newestFirst(calls.filter((c) => c.status === 'success').slice(0, 100)),
    );
    // Half the rows are errors: about two items read per success listed, in pages of 200 per
    // shard, over at most two hour buckets (the current hour may hold fewer than 100).
    assert.ok(scanned <= 3 * 2 * 200, `${scanned} items read for 100 successes`);
  });

  it('no filter, page_size 100: one page reads about a page, whatever the table holds', async () => {
    const { page, scanned } = await get(`${PATH}?hours=720&page_size=100`);
    assert.equal(page.results.length, 100);
    assert.equal(page.partial, false);
    // A page of 101 per shard, from at most two hour buckets (the current one may hold few rows).
    assert.ok(scanned <= 2 * 2 * 101, `${scanned} items read`);
  });
});
