import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isRetryableWriteError, retryDelayMs } from '../../interceptor/retryPolicy';
import { BATCH_SIZE, RequestLogWriter, type QueuedItem, type WriterOptions } from '../../interceptor/writer';

/**
 * The writer against a scripted sender (the DynamoDB side is covered by the integration and
 * fault tests): batching, retries of unprocessed and throttled items, drop-oldest, and the
 * accounting identity at every step.
 */

const OPTIONS: WriterOptions = {
  maxQueueItems: 1_000,
  maxQueueBytes: 10_000_000,
  flushIntervalMs: 5,
  maxConcurrentWrites: 2,
  maxRetryDelayMs: 5,
};

const item = (key: string, extra: Record<string, unknown> = {}) => ({ request_id: key, ...extra });

function checkIdentity(writer: RequestLogWriter): void {
  const s = writer.stats();
  assert.equal(s.enqueued, s.written + s.dropped + s.queued, JSON.stringify(s));
}

/** A sender that records batches and answers with `script` (default: all written). */
function recordingSender(
  script: (batch: readonly QueuedItem[], call: number) => readonly QueuedItem[] | Error = () => [],
) {
  const batches: string[][] = [];
  const written: string[] = [];
  let writer: RequestLogWriter | undefined;
  const send = async (batch: readonly QueuedItem[]) => {
    await new Promise((r) => setImmediate(r));
    if (writer) checkIdentity(writer);
    batches.push(batch.map((b) => b.key));
    const answer = script(batch, batches.length);
    if (answer instanceof Error) throw answer;
    const left = new Set(answer.map((a) => a.key));
    written.push(...batch.filter((b) => !left.has(b.key)).map((b) => b.key));
    return answer;
  };
  return { send, batches, written, attach: (w: RequestLogWriter) => (writer = w) };
}

const throttled = () =>
  Object.assign(new Error('slow down'), { name: 'ProvisionedThroughputExceededException', $fault: 'client' });
const invalid = () =>
  Object.assign(new Error('bad item'), {
    name: 'ValidationException',
    $fault: 'client',
    $metadata: { httpStatusCode: 400 },
  });

describe('RequestLogWriter', () => {
  test('sends batches of at most 25 and writes everything on flush', async () => {
    const sender = recordingSender();
    const writer = new RequestLogWriter(sender.send, OPTIONS);
    sender.attach(writer);
    for (let i = 0; i < 60; i++) writer.enqueue(`k${i}`, item(`k${i}`));
    checkIdentity(writer);
    await writer.flush();
    assert.deepEqual(writer.stats(), {
      enqueued: 60,
      written: 60,
      dropped: 0,
      retried: 0,
      failed: 0,
      queued: 0,
    });
    assert.ok(sender.batches.every((b) => b.length <= BATCH_SIZE));
    assert.deepEqual([...sender.written].sort(), Array.from({ length: 60 }, (_, i) => `k${i}`).sort());
  });

  test('a partial batch leaves on the timer without a flush()', async () => {
    const sender = recordingSender();
    const writer = new RequestLogWriter(sender.send, OPTIONS);
    writer.enqueue('one', item('one'));
    for (let i = 0; i < 100 && writer.stats().written === 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(writer.stats().written, 1);
  });

  test('unprocessed items and throttled requests are retried until written', async () => {
    const sender = recordingSender((batch, call) => {
      if (call === 1) return batch.slice(0, 10); // DynamoDB processed only 15
      if (call === 2) return throttled();
      return [];
    });
    const writer = new RequestLogWriter(sender.send, { ...OPTIONS, maxConcurrentWrites: 1 });
    sender.attach(writer);
    for (let i = 0; i < 25; i++) writer.enqueue(`k${i}`, item(`k${i}`));
    await writer.flush();
    const stats = writer.stats();
    assert.equal(stats.written, 25);
    assert.equal(stats.retried, 20); // 10 unprocessed, then those 10 again after the throttle
    assert.equal(stats.dropped, 0);
    assert.deepEqual(sender.batches[1], sender.batches[0]!.slice(0, 10));
  });

  test('a full queue drops the oldest and counts it; the identity holds throughout', async () => {
    let release!: () => void;
    const blocked = new Promise<void>((r) => (release = r));
    const writer = new RequestLogWriter(
      async () => {
        await blocked;
        return [];
      },
      { ...OPTIONS, maxQueueItems: 100, maxConcurrentWrites: 1 },
    );
    for (let i = 0; i < 500; i++) {
      writer.enqueue(`k${i}`, item(`k${i}`));
      checkIdentity(writer);
      assert.ok(writer.stats().queued <= 100 + BATCH_SIZE);
    }
    const stats = writer.stats();
    assert.equal(stats.enqueued, 500);
    assert.ok(stats.dropped >= 500 - 100 - BATCH_SIZE, JSON.stringify(stats));
    release();
    await writer.flush();
    checkIdentity(writer);
    assert.equal(writer.stats().queued, 0);
    assert.equal(writer.stats().written + writer.stats().dropped, 500);
  });

  test('the byte bound drops the oldest too', () => {
    const writer = new RequestLogWriter(() => new Promise(() => undefined), {
      ...OPTIONS,
      maxQueueBytes: 10_000,
      maxConcurrentWrites: 1,
    });
    for (let i = 0; i < 50; i++) writer.enqueue(`k${i}`, item(`k${i}`, { blob: 'x'.repeat(1_000) }));
    const stats = writer.stats();
    assert.ok(stats.dropped >= 35, JSON.stringify(stats)); // about 9 fit; one flight may hold more
    checkIdentity(writer);
  });

  test('one item DynamoDB refuses does not sink its batch: halves are retried, the bad one dropped and failed', async () => {
    const sender = recordingSender((batch) => (batch.some((b) => b.key === 'bad') ? invalid() : []));
    const writer = new RequestLogWriter(sender.send, OPTIONS);
    for (let i = 0; i < 24; i++) writer.enqueue(`k${i}`, item(`k${i}`));
    writer.enqueue('bad', item('bad'));
    await writer.flush();
    assert.deepEqual(writer.stats(), {
      enqueued: 25,
      written: 24,
      dropped: 1,
      retried: 0,
      failed: 1,
      queued: 0,
    });
  });

  test('two writes of one key never share a batch or overlap, and keep their order', async () => {
    const order: string[] = [];
    const inFlight = new Set<string>();
    const writer = new RequestLogWriter(
      async (batch) => {
        const keys = batch.map((b) => b.key);
        assert.equal(new Set(keys).size, keys.length, 'duplicate key in one batch');
        for (const k of keys) {
          assert.ok(!inFlight.has(k), `${k} written twice at once`);
          inFlight.add(k);
        }
        await new Promise((r) => setTimeout(r, 2));
        for (const b of batch) {
          order.push(`${b.key}:${String((b.item as Record<string, unknown>).status)}`);
          inFlight.delete(b.key);
        }
        return [];
      },
      { ...OPTIONS, maxConcurrentWrites: 4 },
    );
    for (let i = 0; i < 40; i++) writer.enqueue(`k${i}`, item(`k${i}`, { status: 'pending' }));
    for (let i = 0; i < 40; i++) writer.enqueue(`k${i}`, item(`k${i}`, { status: 'success' }));
    await writer.flush();
    for (let i = 0; i < 40; i++) assert.ok(order.indexOf(`k${i}:pending`) < order.indexOf(`k${i}:success`));
    assert.equal(writer.stats().written, 80);
  });

  test('close() gives up after its timeout and counts what is left as dropped', async () => {
    const writer = new RequestLogWriter(() => Promise.reject(new Error('ECONNREFUSED')), OPTIONS);
    for (let i = 0; i < 30; i++) writer.enqueue(`k${i}`, item(`k${i}`));
    await writer.close(50);
    assert.deepEqual(
      { ...writer.stats(), retried: 0 },
      { enqueued: 30, written: 0, dropped: 30, retried: 0, failed: 0, queued: 0 },
    );
    writer.enqueue('late', item('late'));
    assert.equal(writer.stats().dropped, 31);
  });
});

describe('retry policy', () => {
  test('throttling, server faults and network errors retry; client faults do not', () => {
    assert.equal(isRetryableWriteError(throttled()), true);
    assert.equal(
      isRetryableWriteError(
        Object.assign(new Error('x'), { $fault: 'server', $metadata: { httpStatusCode: 500 } }),
      ),
      true,
    );
    assert.equal(
      isRetryableWriteError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })),
      true,
    );
    assert.equal(isRetryableWriteError(invalid()), false);
    assert.equal(
      isRetryableWriteError(
        Object.assign(new Error('x'), { name: 'ResourceNotFoundException', $fault: 'client' }),
      ),
      false,
    );
  });

  test('backoff grows exponentially up to the cap, with full jitter', () => {
    assert.equal(
      retryDelayMs(0, 1_000, () => 1),
      50,
    );
    assert.equal(
      retryDelayMs(3, 1_000, () => 1),
      400,
    );
    assert.equal(
      retryDelayMs(30, 1_000, () => 1),
      1_000,
    );
    assert.equal(
      retryDelayMs(5, 1_000, () => 0),
      10,
    );
    assert.equal(
      retryDelayMs(5, 1_000, () => 0.5),
      500,
    );
  });
});
