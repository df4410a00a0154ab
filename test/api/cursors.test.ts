import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { ENV, type MonitorConfig } from '../../core/config';
import type { MonitorDeps } from '../../core/deps';
import { filterDigest, signPageToken } from '../../core/query';
import { cursorKeyOf } from '../../lambdas/api/cursorKey';
import { createHandler } from '../../lambdas/api/requests';
import { startTestDynamo, type TestDynamo } from '../harness/dynamo';
import { apiEvent, lambdaContext } from './events';
import { knownTraffic, record } from './traffic';

const PATH = '/cfg/grpc/monitor/requests/';
const HOUR = 3_600_000;
const TOKEN = 'the-api-token-every-dashboard-user-has';
const CURSOR_SECRET = 'a-secret-only-the-server-knows';

/** The old scheme's key, which anyone holding the API token could compute. */
const oldSchemeKey = createHmac('sha256', TOKEN).update('grpc-monitor page cursor v1').digest();
const resign = (body: string, key: Buffer) =>
  `${body}.${createHmac('sha256', key).update(body).digest('base64url')}`;

describe('page cursors are signed with a server-only key and bounded after verifying', () => {
  let db: TestDynamo;
  let config: MonitorConfig;
  let deps: MonitorDeps;
  const now = new Date();
  const saved = { token: process.env[ENV.apiToken], secret: process.env[ENV.cursorSecret] };
  let handler: ReturnType<typeof createHandler>;

  before(async () => {
    db = await startTestDynamo();
    config = await db.createTables();
    deps = { ddb: db.ddb, config, now: () => now };
    await record(db.ddb, config, knownTraffic(now, 60, 2));
    // As the stack configures it: the token for the authorizer, the cursor secret apart.
    process.env[ENV.apiToken] = TOKEN;
    process.env[ENV.cursorSecret] = CURSOR_SECRET;
    handler = createHandler(deps);
  });
  after(async () => {
    for (const [name, value] of [
      [ENV.apiToken, saved.token],
      [ENV.cursorSecret, saved.secret],
    ] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await db.stop();
  });

  const get = async (query: string) => {
    const response = await handler(apiEvent(`${PATH}?${query}`), lambdaContext);
    return { status: response.statusCode, body: JSON.parse(response.body!) as Record<string, unknown> };
  };
  const cursorOf = (link: unknown) => new URL(String(link), 'http://x').searchParams.get('cursor')!;
  const wireOf = (cursor: string) =>
    JSON.parse(Buffer.from(cursor.split('.')[0]!, 'base64url').toString()) as Record<string, unknown>;
  const encode = (wire: Record<string, unknown>) => Buffer.from(JSON.stringify(wire)).toString('base64url');
  const expectRejected = async (query: string, what: string) => {
    const { status, body } = await get(query);
    assert.equal(status, 400, `${what}: ${JSON.stringify(body)}`);
    assert.equal((body.error as { field: string }).field, 'cursor', what);
  };

  it('follows its own cursors', async () => {
    const first = await get('page_size=5');
    assert.equal(first.status, 200);
    const second = await get(`page_size=5&cursor=${cursorOf(first.body.next)}`);
    assert.equal(second.status, 200);
    assert.equal((second.body.results as unknown[]).length, 5);
    // A 720 h list under a 7-day retention starts within it, so its own cursors stay valid.
    const shortRetention = createHandler({ ...deps, config: { ...config, retentionDays: 7 } });
    const long = await shortRetention(apiEvent(`${PATH}?hours=720&page_size=5`), lambdaContext);
    const next = (JSON.parse(long.body!) as { next: string }).next;
    const after = await shortRetention(apiEvent(next), lambdaContext);
    assert.equal(after.statusCode, 200, after.body);
  });

  it('rejects a cursor re-signed with the old scheme (an HMAC of the API token under the published label)', async () => {
    const first = await get('page_size=5&search=user');
    const wire = wireOf(cursorOf(first.body.next));
    for (const forged of [
      resign(encode(wire), oldSchemeKey),
      resign(encode({ ...wire, c: 123_456_789 }), oldSchemeKey),
      resign(encode({ ...wire, v: 1, c: 123_456_789 }), oldSchemeKey),
    ]) {
      await expectRejected(`page_size=5&search=user&cursor=${forged}`, 'old-scheme signature');
    }
  });

  it('rejects, even when signed with the right key, a 3,000 h window, a future end, an expired start and a count of 123456789', async () => {
    // Prepare: the server's own key (a leaked or mis-issued key must not widen a request's work).
    const key = cursorKeyOf(CURSOR_SECRET);
    const to = new Date(Math.floor(now.getTime() / 60_000) * 60_000 + 60_000);
    const sign = (
      from: Date,
      end: Date,
      filters: Record<string, string | number | undefined>,
      rowCount?: number,
    ) =>
      signPageToken(
        {
          cursor: { sortKey: end.toISOString(), direction: 'older' },
          range: { from, to: end },
          filterDigest: filterDigest({
            hours: 24,
            status: undefined,
            service: undefined,
            method: undefined,
            user: undefined,
            search: undefined,
            ...filters,
          }),
          ...(rowCount !== undefined && { rowCount }),
        },
        key,
      );
    const ok = sign(new Date(to.getTime() - 24 * HOUR), to, {});
    assert.equal((await get(`cursor=${ok}`)).status, 200);
    // Act + Assess
    await expectRejected(`cursor=${sign(new Date(to.getTime() - 3000 * HOUR), to, {})}`, '3,000 h window');
    await expectRejected(
      `cursor=${sign(new Date(to.getTime() + 23 * HOUR), new Date(to.getTime() + 47 * HOUR), {})}`,
      'window in the future',
    );
    await expectRejected(
      `cursor=${sign(new Date(to.getTime() - 40 * 24 * HOUR), new Date(to.getTime() - 39 * 24 * HOUR), {})}`,
      'window before the retention',
    );
    await expectRejected(
      `search=user&cursor=${sign(new Date(to.getTime() - 24 * HOUR), to, { search: 'user' }, 123_456_789)}`,
      'count 123456789',
    );
    await expectRejected(
      `cursor=${sign(new Date(to.getTime() - 24 * HOUR), to, {}, 123_456_789)}`,
      'count 123456789 on a Stats-counted list',
    );
  });
});
