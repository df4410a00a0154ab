import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  filterDigest,
  loggedCalls,
  planRead,
  recentWindow,
  searchMatcher,
  signPageToken,
  timelineHours,
  verifyPageToken,
} from '../../core/query';
import { emptyScopeStats } from '../../core/stats';
import { QueryParams } from '../../lambdas/api/middleware/queryParams';
import { requestsToCsv } from '../../lambdas/api/requestsCsv';

const range = { from: new Date('2025-11-01T13:31:00.000Z'), to: new Date('2025-11-01T15:31:00.000Z') };

describe('query pieces', () => {
  it('aligns windows to whole minutes and lists timeline hours', () => {
    assert.deepEqual(recentWindow(new Date('2025-11-01T15:30:12.345Z'), 2), range);
    assert.deepEqual(
      timelineHours(new Date('2025-11-01T15:30:12.345Z'), 3).map((d) => d.toISOString()),
      ['2025-11-01T13:00:00.000Z', '2025-11-01T14:00:00.000Z', '2025-11-01T15:00:00.000Z'],
    );
  });

  it('reads the cheapest index: service, else status, else hour buckets over every shard', () => {
    const byTime = planRead({ range }, 2);
    assert.deepEqual(
      byTime.groups.map((g) => g.partitions.map((p) => `${p.indexName}:${p.pk}`)),
      [
        ['by_time:2025-11-01T15#0', 'by_time:2025-11-01T15#1'],
        ['by_time:2025-11-01T14#0', 'by_time:2025-11-01T14#1'],
        ['by_time:2025-11-01T13#0', 'by_time:2025-11-01T13#1'],
      ],
    );
    const service = planRead({ range, service: 'UserService', status: 'error', method: 'GetUser' }, 1);
    assert.deepEqual(service.groups[0]!.partitions, [{ indexName: 'by_service', pk: 'UserService#0' }]);
    assert.equal(service.filterExpression, '#status = :status AND #method_name = :method_name');
    const pending = planRead({ range, service: 'UserService', status: 'pending' }, 1);
    assert.deepEqual(pending.groups[0]!.partitions, [{ indexName: 'by_status', pk: 'pending#0' }]);
    assert.equal(pending.filterExpression, '#service_name = :service_name');
    // Successes have no by_status entry (issue 17): the hour buckets, filtered on status.
    const success = planRead({ range, status: 'success' }, 1);
    assert.deepEqual(success.groups[0]!.partitions, [{ indexName: 'by_time', pk: '2025-11-01T15#0' }]);
    assert.equal(success.filterExpression, '#status = :status');
    assert.deepEqual(success.expressionValues, { ':status': 'success' });
  });

  it('searches seven fields, case-insensitively', () => {
    const match = searchMatcher('NOT FOUND');
    assert.equal(searchMatcher('abc-1')({ client_request_id: 'ABC-123' }), true);
    assert.equal(match({ error_message: 'user not found' }), true);
    assert.equal(searchMatcher('adm')({ user: { id: 1, username: 'Admin' } }), true);
    assert.equal(searchMatcher('10.0.0')({ client_ip: '10.0.0.7' }), true);
    assert.equal(match({ service_name: 'UserService', user: null }), false);
  });

  it("counts logged calls: the Stats' counter with sampling on, every call with it off", () => {
    const stats = { ...emptyScopeStats(), total: 1000, logged: 140 };
    assert.equal(loggedCalls(stats, 0.1), 140);
    assert.equal(loggedCalls({ ...stats, logged: 0 }, 0.1), 0);
    // Stats written before the `logged` counter, sampling off: every call was logged.
    assert.equal(loggedCalls({ ...stats, logged: 0 }, 1), 1000);
    assert.equal(loggedCalls(stats, 1), 140);
  });

  it('signs page tokens and rejects any change', () => {
    const key = Buffer.alloc(32, 1);
    const state = {
      cursor: { sortKey: '2025-11-01T14:00:00.000Z#abc', direction: 'older' as const },
      range,
      filterDigest: filterDigest({ hours: 2, status: 'error', service: undefined }),
      rowCount: 42,
    };
    const token = signPageToken(state, key);
    assert.deepEqual(verifyPageToken(token, key), state);
    assert.throws(() => verifyPageToken(token, Buffer.alloc(32, 2)), /not issued/);
    assert.throws(() => verifyPageToken(`${token}x`, key), /not issued/);
    assert.throws(() => verifyPageToken(token.replace(/^./, 'A'), key));
    assert.throws(() => verifyPageToken('x'.repeat(2000), key), /too long/);
    assert.notEqual(filterDigest({ hours: 2, status: 'error' }), filterDigest({ hours: 3, status: 'error' }));
  });

  it('sees repeated parameters in the raw query even where API Gateway joined them', () => {
    const params = new QueryParams({
      rawQueryString: 'hours=1&hours=2',
      queryStringParameters: { hours: '1,2' },
    });
    assert.throws(() => params.hours(), { field: 'hours', code: 'repeated_parameter' });
    assert.equal(new QueryParams({ rawQueryString: '', queryStringParameters: { hours: '5' } }).hours(), 5);
    assert.equal(new QueryParams({ rawQueryString: 'service=a%20b' }).text('service'), 'a b');
  });

  it('writes CSV with a header row, users split, formulas escaped', () => {
    const csv = requestsToCsv([
      {
        request_id: 'r1',
        client_request_id: 'c-1',
        service_name: 'S',
        method_name: 'M',
        full_method: '/p.S/M',
        status: 'error',
        grpc_status_code: 'INTERNAL',
        duration_ms: 1.5,
        request_size: 1,
        response_size: 2,
        user: { id: 7, username: 'ann' },
        client_ip: '10.0.0.1',
        error_message: '=HYPERLINK("x"), "quoted"',
        created_at: '2025-11-01T14:00:00.000Z',
      },
    ]);
    const [header, line] = csv.trimEnd().split('\n');
    assert.equal(header!.split(',')[0], 'request_id');
    assert.equal(
      line,
      `r1,2025-11-01T14:00:00.000Z,S,M,/p.S/M,error,INTERNAL,1.5,1,2,7,ann,10.0.0.1,"'=HYPERLINK(""x""), ""quoted""",c-1`,
    );
  });
});
