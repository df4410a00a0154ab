/**
 * The writer's sustained rate into DynamoDB Local against the ceiling of raw parallel
 * BatchWriteItem calls with the same parallelism and items, in the same run; and the memory a
 * full queue holds while DynamoDB is unreachable.
 */
import { performance } from 'node:perf_hooks';
import { BatchWriteItemCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DEFAULTS } from '../core/config';
import { toAttributeMap } from '../interceptor/attributeValues';
import type { CallFacts } from '../interceptor/callFacts';
import { callItem } from '../interceptor/callItem';
import { callFacts } from '../test/fixtures/callFacts';
import { batchWriteHttp } from '../interceptor/batchWriteHttp';
import { monitorTable, WRITE_TIMEOUTS } from '../interceptor/dynamoSender';
import { resolveOptions } from '../interceptor/options';
import { ThreadedWriter } from '../interceptor/threadedWriter';
import { BATCH_SIZE, RequestLogWriter } from '../interceptor/writer';
import { startDynamoDbLocal } from '../local/dynamoDbLocal';
import { ensureTables } from '../local/tables';

const ITEMS = 3_000;
const PARALLEL = 4; // the writer's default maxConcurrentWrites
const ITEM_OPTIONS = { shards: 1, slowThresholdMs: 1000, retentionDays: 1 };

/** A call as the interceptor hands it to the writer; `errorBytes` of trailing metadata make it a large error. */
function call(id: string, errorBytes = 0): CallFacts {
  const trailers: Record<string, string[]> = {};
  for (let i = 0; i * 2_000 < errorBytes; i++) trailers[`debug-${i}`] = ['d'.repeat(2_000)];
  return callFacts({
    request_id: id,
    user: { id: 7, username: 'alice' },
    deadline_at_ms: Date.now() + 4_988,
    trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
    ...(errorBytes ? { status: 'error', code: 13, details: 'e'.repeat(4_000), trailers } : {}),
  });
}

const items = (prefix: string, n: number, errorBytes = 0) =>
  Array.from({ length: n }, (_, i) => callItem(call(`${prefix}-${i}`, errorBytes), ITEM_OPTIONS));

/**
 * PARALLEL loops of BatchWriteItem requests over `all`, 25 at a time, unprocessed ones sent again:
 * the ceiling, without a queue. `send` writes one batch and returns what was left unprocessed.
 */
async function rawRate<T>(all: T[], send: (batch: T[]) => Promise<readonly T[]>): Promise<number> {
  const started = performance.now();
  let next = 0;
  const loop = async () => {
    while (next < all.length) {
      let batch = all.slice(next, next + BATCH_SIZE);
      next += BATCH_SIZE;
      while (batch.length > 0) batch = [...(await send(batch))];
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, loop));
  return all.length / ((performance.now() - started) / 1000);
}

/** Through the SDK's command pipeline, the items marshalled before the clock starts. */
function rawSdk(client: DynamoDBClient, table: string, items: Record<string, unknown>[]): Promise<number> {
  return rawRate(items.map(toAttributeMap), async (batch) => {
    const out = await client.send(
      new BatchWriteItemCommand({
        RequestItems: { [table]: batch.map((Item) => ({ PutRequest: { Item } })) },
      }),
    );
    return (out.UnprocessedItems?.[table] ?? []).map((r) => r.PutRequest!.Item!);
  });
}

/** As the writer sends them (batchWriteHttp: marshalled, signed and posted per request). */
async function rawHttp(
  client: DynamoDBClient,
  table: string,
  items: Record<string, unknown>[],
): Promise<number> {
  const sender = batchWriteHttp(client, table, WRITE_TIMEOUTS);
  try {
    return await rawRate(
      items.map((item) => ({ key: String(item.request_id), item })),
      sender.send,
    );
  } finally {
    sender.destroy();
  }
}

async function writerRate<T>(
  enqueue: (entry: T) => void,
  flush: () => Promise<void>,
  all: T[],
): Promise<number> {
  const started = performance.now();
  for (const entry of all) enqueue(entry);
  await flush();
  return all.length / ((performance.now() - started) / 1000);
}

const calls = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => call(`${prefix}-${i}`));

/** Heap growth while a writer whose DynamoDB never answers takes `n` items. */
function fullQueueMemory(n: number, errorBytes: number): { heapMB: number; queued: number; dropped: number } {
  const options = resolveOptions({ tableName: 'unused' });
  const writer = new RequestLogWriter(() => new Promise(() => undefined), options);
  const before = process.memoryUsage().heapUsed;
  let peak = before;
  for (let i = 0; i < n; i++) {
    writer.enqueue(`m-${i}`, callItem(call(`m-${i}`, errorBytes), ITEM_OPTIONS));
    if (i % 1000 === 0) peak = Math.max(peak, process.memoryUsage().heapUsed);
  }
  peak = Math.max(peak, process.memoryUsage().heapUsed);
  const stats = writer.stats();
  return { heapMB: (peak - before) / 1024 / 1024, queued: stats.queued, dropped: stats.dropped };
}

const fmt = (n: number, digits = 0) => n.toFixed(digits);

export default async function writerBench(): Promise<string> {
  const dynamo = await startDynamoDbLocal();
  try {
    const config = { ...DEFAULTS, requestLogTable: 'bench-writer', statsTable: 'bench-writer-stats' };
    const client = new DynamoDBClient({ ...dynamo.clientConfig, maxAttempts: 1 });
    await ensureTables(client, config);
    const table = config.requestLogTable;
    const writerOptions = { ...resolveOptions({ tableName: table }), maxQueueItems: ITEMS * 2 };

    // JIT and DynamoDB Local warm-up
    await rawSdk(client, table, items('warm', 1_000));
    await rawHttp(client, table, items('warm-http', 1_000));
    const rounds: { sdk: number; http: number; inline: number; thread: number }[] = [];
    for (let r = 0; r < 2; r++) {
      const sdk = await rawSdk(client, table, items(`sdk${r}`, ITEMS));
      const http = await rawHttp(client, table, items(`http${r}`, ITEMS));
      const sender = monitorTable(dynamo.clientConfig, table);
      const inlineWriter = new RequestLogWriter(sender.sendBatch, writerOptions);
      const inline = await writerRate(
        (item: Record<string, unknown>) => inlineWriter.enqueue(String(item.request_id), item),
        () => inlineWriter.flush(),
        items(`inline${r}`, ITEMS),
      );
      sender.destroy();
      const threaded = new ThreadedWriter(
        table,
        dynamo.clientConfig,
        writerOptions,
        ITEM_OPTIONS,
        writerOptions.writerNiceness,
      );
      // The thread loads its modules (and tsx) when it starts: warm it up outside the timing.
      for (const entry of calls(`thread-warm${r}`, 50)) threaded.enqueue(entry);
      await threaded.flush();
      const thread = await writerRate(
        (entry: CallFacts) => threaded.enqueue(entry),
        () => threaded.flush(),
        calls(`thread${r}`, ITEMS),
      );
      await threaded.close(5_000);
      rounds.push({ sdk, http, inline, thread });
    }
    client.destroy();
    const best = (key: keyof (typeof rounds)[number]) => Math.max(...rounds.map((r) => r[key]));
    // The ceiling is the faster of the two ways to send the same requests with no queue.
    const raw = Math.max(best('sdk'), best('http'));
    const typical = fullQueueMemory(50_000, 0);
    const largest = fullQueueMemory(5_000, 16_000);
    const defaults = resolveOptions({ tableName: 'unused' });
    return `
${ITEMS} RequestLog items (about 1 KB each) per measurement, ${PARALLEL} requests in flight on every side, best of 2 rounds
(raw first, then the writer inline, then on its thread, started and warmed up before its timing; on a loaded shared
machine the order matters, so read the ratio loosely). The ceiling is the faster of the two raw rows.

| | items/s | ratio to the ceiling |
|---|---:|---:|
| raw parallel BatchWriteItem through the SDK (\`client.send\`), items marshalled beforehand | ${fmt(best('sdk'))} | ${fmt(best('sdk') / raw, 2)} |
| raw parallel BatchWriteItem as the writer sends them (\`batchWriteHttp\`) | ${fmt(best('http'))} | ${fmt(best('http') / raw, 2)} |
| writer, inline (enqueue all, then flush) | ${fmt(best('inline'))} | ${fmt(best('inline') / raw, 2)} |
| writer on its thread (as the monitor runs it) | ${fmt(best('thread'))} | ${fmt(best('thread') / raw, 2)} |

Goal ≥ 0.9 of the ceiling: ${best('thread') / raw >= 0.9 ? 'met' : 'NOT met'} (thread), ${best('inline') / raw >= 0.9 ? 'met' : 'NOT met'} (inline).

Full queue (DynamoDB never answers, default bounds ${defaults.maxQueueItems} items / ${fmt(defaults.maxQueueBytes / 1024 / 1024)} MiB):

| items offered | item size | peak heap growth (incl. garbage not yet collected) | queued | dropped |
|---|---|---:|---:|---:|
| 50,000 | ~1 KB | ${fmt(typical.heapMB, 1)} MB | ${typical.queued} | ${typical.dropped} |
| 5,000 | ~21 KB (largest error) | ${fmt(largest.heapMB, 1)} MB | ${largest.queued} | ${largest.dropped} |
`;
  } finally {
    await dynamo.stop();
  }
}
