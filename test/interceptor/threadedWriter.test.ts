import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { resolveOptions } from '../../interceptor/options';
import { ThreadedWriter } from '../../interceptor/threadedWriter';
import { callFacts } from '../fixtures/callFacts';
import { startTestDynamo, type TestDynamo } from '../harness/dynamo';

/**
 * The writer thread's hand-off: records enqueued faster than one message carries (a backlog,
 * as after the thread was starved) still reach DynamoDB, all of them, once each.
 */
const call = (i: number) => callFacts({ request_id: `backlog-${i}` });

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
      const ids = new Set((await db.scanAll(config.requestLogTable)).map((item) => String(item.request_id)));
      assert.equal(ids.size, 3_000);
    } finally {
      await writer.close(5_000);
    }
  });
});
