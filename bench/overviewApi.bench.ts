/**
 * GET /overview/?hours=24 through the real handler (middy, validation, Stats window, recent
 * errors from the RequestLog GSI) after 1,000 and after 1,000,000 aggregated requests, in the
 * same run against the same DynamoDB Local. The answer must cost the same whatever the traffic
 * (goal: ratio ≤ 1.5). Stats come from bench/seedStats.ts; both RequestLog tables hold the same
 * 200 recent calls, since the overview lists only the newest 10 errors either way.
 */
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { toRequestLogItem } from '../core/requestLogItem';
import type { RequestLogRecord } from '../core/record';
import { createHandler } from '../lambdas/api/overview';
import { median } from './measure';
import { interleavedRounds, seedPair, withDynamoDbLocal } from './seedStats';

const ROUNDS = Number(process.env.OVERVIEW_BENCH_ROUNDS ?? 15);
const WARMUP = 3;
const PATH = '/cfg/grpc/monitor/overview/';

/** 200 calls over the last hour, one in five an error (the recent_errors the overview lists). */
function recentCalls(now: Date): RequestLogRecord[] {
  return Array.from({ length: 200 }, (_, i) => {
    const created = new Date(now.getTime() - 5_000 - i * 15_000).toISOString();
    const error = i % 5 === 0;
    return {
      request_id: `bench-${i}`,
      service_name: 'UserService',
      method_name: 'Get',
      full_method: '/bench.UserService/Get',
      status: error ? 'error' : 'success',
      grpc_status_code: error ? 'NOT_FOUND' : 'OK',
      duration_ms: 20 + (i % 40),
      request_size: 60,
      response_size: 400,
      request_messages: 1,
      response_messages: 1,
      user: null,
      client_ip: '10.0.0.1',
      user_agent: null,
      peer: 'ipv4:10.0.0.1:5000',
      error_message: error ? `User ${i} not found` : null,
      error_details: null,
      deadline_ms: null,
      trace_id: null,
      created_at: created,
      updated_at: created,
      expires_at: Math.floor(Date.now() / 1000) + 86_400,
    };
  });
}

function apiEvent() {
  const now = Date.now();
  return {
    version: '2.0',
    routeKey: `GET ${PATH}`,
    rawPath: PATH,
    rawQueryString: 'hours=24',
    queryStringParameters: { hours: '24' },
    headers: { host: 'bench', authorization: 'Bearer bench' },
    requestContext: {
      accountId: '0',
      apiId: 'bench',
      domainName: 'bench',
      domainPrefix: 'bench',
      http: { method: 'GET', path: PATH, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'bench' },
      requestId: 'bench',
      routeKey: `GET ${PATH}`,
      stage: '$default',
      time: new Date(now).toUTCString(),
      timeEpoch: now,
    },
    isBase64Encoded: false,
  };
}

export default function overviewApiBench(): Promise<string> {
  return withDynamoDbLocal(async (client, ddb) => {
    // Mid-hour: the 24 h window has partial hours at both ends.
    const { small, large, now, seeded } = await seedPair(client, ddb, 'overview', async (config, at) => {
      const items = recentCalls(at).map((c) => toRequestLogItem(c, config));
      for (let i = 0; i < items.length; i += 25) {
        const batch = items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
        await ddb.send(new BatchWriteCommand({ RequestItems: { [config.requestLogTable]: batch } }));
      }
    });
    const handlers = {
      small: createHandler({ ddb, config: small, now: () => now }),
      large: createHandler({ ddb, config: large, now: () => now }),
    };
    const context = {} as Context;
    const { overview: times } = await interleavedRounds(ROUNDS, WARMUP, ['overview'], (_, which) =>
      handlers[which](apiEvent(), context),
    );
    const [a, b] = [times.last.small, times.last.large].map((response) => {
      if (response.statusCode !== 200)
        throw new Error(`overview answered ${response.statusCode}: ${response.body}`);
      return JSON.parse(response.body!) as { total_requests: number; p95_duration_ms: number };
    }) as [
      { total_requests: number; p95_duration_ms: number },
      { total_requests: number; p95_duration_ms: number },
    ];
    const check = `total_requests ${a.total_requests} vs ${b.total_requests}, p95 ${a.p95_duration_ms} vs ${b.p95_duration_ms} ms`;
    const ratio = median(times.large) / median(times.small);
    return [
      `GET /overview/?hours=24 through the real handler (two Stats windows: 24 h and the last minute; the newest 10 errors from the by_status GSI), median of ${ROUNDS} interleaved rounds after ${WARMUP} warm-up rounds.`,
      '',
      '| aggregated requests | median overview (ms) |',
      '|---|---|',
      `| 1,000 | ${median(times.small).toFixed(1)} |`,
      `| 1,000,000 | ${median(times.large).toFixed(1)} |`,
      '',
      `**Ratio 1M / 1k: ${ratio.toFixed(2)}** (goal ≤ 1.5).`,
      '',
      `Seeding: ${seeded}. Sanity: ${check}.`,
    ].join('\n');
  });
}
