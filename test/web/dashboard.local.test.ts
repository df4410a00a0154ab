/**
 * The page in Chromium against the real local runtime (`startLocal`: DynamoDB Local, the stream
 * pollers feeding the real aggregate handler, the real API handlers and authorizer behind the
 * local HTTP server, the page served by lambdas/api/ui.ts under tsx). Known traffic is written
 * with the core item codec, as the interceptor writes it, with its deltas as monitors ship them,
 * counted by the real aggregator.
 */
import { BatchWriteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { toHeartbeatItem } from '../../core/heartbeat';
import { toRequestLogItem } from '../../core/requestLogItem';
import { startLocal } from '../../local';
import { truthCallOf } from '../aggregate/groundTruth';
import { shipCalls } from '../aggregate/seedStats';
import { SHARED_ENDPOINT_ENV } from '../harness/dynamo';
import { apiJson } from './browser';
import { describeDashboard } from './dashboardChecks';
import { fixtureRecords } from './knownTraffic';

const TOKEN = 'secret';

describeDashboard(
  'local',
  async () => {
    const env = await startLocal({
      apiPort: 0,
      demo: false,
      apiToken: TOKEN,
      printAlerts: false,
      log: () => {},
      ...(process.env[SHARED_ENDPOINT_ENV] ? { dynamoEndpoint: process.env[SHARED_ENDPOINT_ENV] } : {}),
    });
    // A gRPC server's heartbeat, kept fresh as the interceptor keeps it, for the health figures.
    const startedAt = new Date().toISOString();
    const beat = () =>
      env.deps.ddb.send(
        new PutCommand({
          TableName: env.tableName,
          Item: toHeartbeatItem(
            {
              instance_id: 'dashboard-test',
              host: '127.0.0.1',
              port: 50051,
              started_at: startedAt,
              last_seen: new Date().toISOString(),
              writer: { enqueued: 45, written: 45, dropped: 0, retried: 0, failed: 0, queued: 0 },
            },
            Math.floor(Date.now() / 1000) + 3600,
          ),
        }),
      );
    const heartbeats = setInterval(() => void beat().catch(() => {}), 5_000);
    const stop = async () => {
      clearInterval(heartbeats);
      await env.stop();
    };
    try {
      await beat();
      const records = fixtureRecords(45);
      const items = records.map((r) => toRequestLogItem(r, env.config));
      for (let i = 0; i < items.length; i += 25) {
        const chunk = items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
        await env.deps.ddb.send(new BatchWriteCommand({ RequestItems: { [env.tableName]: chunk } }));
      }
      // What the monitors ship for these calls: their deltas, which the API reads at once and
      // the aggregator closes into Stats. Wait until every final call is counted.
      const final = records.filter((r) => r.status !== 'pending');
      await shipCalls(env.deps.ddb, env.config, final.map(truthCallOf));
      const finals = final.length;
      for (let attempt = 0; ; attempt++) {
        const overview = await apiJson<{ total_requests: number }>(env.apiUrl, TOKEN, 'overview', {
          hours: '24',
        });
        if (overview.total_requests === finals) break;
        if (attempt >= 120) throw new Error(`aggregation stuck at ${overview.total_requests} of ${finals}`);
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    } catch (error) {
      await stop();
      throw error;
    }
    return { baseUrl: env.apiUrl, token: TOKEN, stop };
  },
  { pageOnlyChecksElsewhere: 'page behaviour alone: dashboard.bundle.test.ts runs it on the same page code' },
);
