import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { CallFacts } from '../../interceptor/callFacts';
import { resolveOptions } from '../../interceptor/options';
import { ThreadedWriter } from '../../interceptor/threadedWriter';
import { startTestDynamo, type TestDynamo } from '../harness/dynamo';

/**
 * The writer thread's hand-off: records enqueued faster than one message carries (a backlog,
 * as after the thread was starved) still reach DynamoDB, all of them, once each.
 */
const call = (i: number): CallFacts => ({
  request_id: `backlog-${i}`,
  service_name: 'UserService',
  method_name: 'GetUser',
  full_method: '/api.users.UserService/GetUser',
  status: 'success',
  code: 0,
  details: null,
  trailers: null,
  started_at_ms: Date.now(),
  ended_at_ms: Date.now(),
  duration_ms: 1.5,
  request_size: 10,
  response_size: 20,
  request_messages: 1,
  response_messages: 1,
  user: null,
  forwarded_for: null,
  user_agent: null,
  peer_address: '127.0.0.1',
  peer_port: 40_000,
  deadline_at_ms: null,
  trace_id: null,
});

describe('ThreadedWriter', () => {
  let db: TestDynamo;
  before(async () => {
    db = await startTestDynamo();
  });
  after(async () => {
    await db.stop();
  });

  test('a backlog of 3,000 records enqueued in one turn is written in full, once each', async () => {
    const config = await db.createTables();
    const options = resolveOptions({ tableName: config.requestLogTable, writerNiceness: 0 });
    const writer = new ThreadedWriter(config.requestLogTable, db.clientConfig, options, {
      shards: 1,
      slowThresholdMs: 1000,
      retentionDays: 1,
    });
    try {
      for (let i = 0; i < 3_000; i++) writer.enqueue(call(i));
      const mid = writer.stats();
      assert.equal(mid.enqueued, mid.written + mid.dropped + mid.queued);

      await writer.flush();

      const stats = writer.stats();
      assert.deepEqual(
        { written: stats.written, dropped: stats.dropped, queued: stats.queued },
        { written: 3_000, dropped: 0, queued: 0 },
      );
      const ids = new Set<string>();
      let start: Record<string, unknown> | undefined;
      do {
        const page = await db.ddb.send(
          new ScanCommand({ TableName: config.requestLogTable, ExclusiveStartKey: start }),
        );
        for (const item of page.Items ?? []) ids.add(String(item.request_id));
        start = page.LastEvaluatedKey;
      } while (start);
      assert.equal(ids.size, 3_000);
    } finally {
      await writer.close(5_000);
    }
  });
});
