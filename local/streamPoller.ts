import type { Context, DynamoDBRecord } from 'aws-lambda';
import type { StreamConsumerSettings } from '../core/streamConsumers';
import { matchesFilter } from '../core/streamFilter';
import { lambdaContext } from './apiGatewayEvent';
import { deliverBatch, type StreamHandler } from './streamDelivery';

/**
 * One Lambda event source mapping, locally: it follows every shard of a table's stream (a child
 * shard starts once its parent is read to the end, as Lambda does), keeps the records the
 * consumer's filter lets through, batches them by size and batching window, and delivers each
 * batch with deliverBatch (partial responses, bisect, bounded retries and age).
 */
export interface ShardInfo {
  readonly shardId: string;
  readonly parentShardId?: string;
}

export interface ShardPage {
  readonly records: readonly DynamoDBRecord[];
  /** Absent when the shard is closed and read to its end. */
  readonly nextIterator: string | undefined;
}

/** Reading a stream; dynamoStreamSource.ts implements it over DynamoDB Local. */
export interface StreamSource {
  listShards(): Promise<readonly ShardInfo[]>;
  /** TRIM_HORIZON, or just after `afterSequenceNumber`. */
  shardIterator(shardId: string, afterSequenceNumber?: string): Promise<string | undefined>;
  read(iterator: string): Promise<ShardPage>;
}

export interface StreamPollerOptions {
  /** For logs and Lambda context (`aggregate`, `alert`). */
  readonly name: string;
  readonly source: StreamSource;
  readonly settings: StreamConsumerSettings;
  readonly handler: StreamHandler;
  /** Pause between reads of a shard that returned nothing; default 250 ms (Lambda polls a shard 4 times a second). */
  readonly pollIntervalMs?: number;
  /** How often the shard list is refreshed to find new shards; default 5 s (a shard that closes triggers a refresh at once). */
  readonly shardRefreshMs?: number;
  readonly log?: (line: string) => void;
}

export interface StreamPoller {
  /** Records handed to the handler that it has finished with, and records given up on. */
  readonly counts: { delivered: number; discarded: number; invocations: number };
  stop(): Promise<void>;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done);
  });
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : '';
}

export function startStreamPoller(options: StreamPollerOptions): StreamPoller {
  const { settings, source, name } = options;
  const log = options.log ?? ((line: string) => console.error(line));
  const pollIntervalMs = options.pollIntervalMs ?? 250;
  const abort = new AbortController();
  const counts = { delivered: 0, discarded: 0, invocations: 0 };
  const started = new Set<string>();
  const finished = new Set<string>();
  const running = new Set<Promise<void>>();
  let invocation = 0;

  const handler: StreamHandler = async (event, context) => {
    counts.invocations += 1;
    const response = await options.handler(event, context);
    return response;
  };
  const deliveryOptions = {
    settings,
    handler,
    context: (): Context => lambdaContext(`${name}-stream`, `${name}-${++invocation}`, 60_000),
    onDiscard: (records: readonly DynamoDBRecord[], reason: string) => {
      counts.discarded += records.length;
      log(`[${name}] gave up on ${records.length} stream record(s): ${reason}`);
    },
    onFailure: (error: unknown, records: readonly DynamoDBRecord[]) => {
      log(
        `[${name}] batch of ${records.length} failed, retrying: ${String((error as Error)?.message ?? error)}`,
      );
    },
    stopped: () => abort.signal.aborted,
  };

  async function deliver(batch: DynamoDBRecord[]): Promise<void> {
    await deliverBatch(batch, deliveryOptions);
    counts.delivered += batch.length;
  }

  async function readShard(shardId: string): Promise<void> {
    let iterator: string | undefined;
    let lastRead: string | undefined;
    let buffer: DynamoDBRecord[] = [];
    let bufferSince = 0;
    const windowMs = settings.maxBatchingWindowSeconds * 1000;
    while (!abort.signal.aborted) {
      let page: ShardPage;
      try {
        iterator ??= await source.shardIterator(shardId, lastRead);
        if (iterator === undefined) break;
        page = await source.read(iterator);
      } catch (error) {
        if (abort.signal.aborted) break;
        iterator = undefined; // expired or trimmed: ask for a new one after the last record read
        if (errorName(error) === 'TrimmedDataAccessException') lastRead = undefined;
        else if (errorName(error) !== 'ExpiredIteratorException') {
          log(`[${name}] reading shard ${shardId} failed, retrying: ${(error as Error).message}`);
          await sleep(1_000, abort.signal);
        }
        continue;
      }
      for (const record of page.records) {
        lastRead = record.dynamodb?.SequenceNumber ?? lastRead;
        if (!matchesFilter(settings.filter, record)) continue;
        if (buffer.length === 0) bufferSince = Date.now();
        buffer.push(record);
      }
      while (buffer.length >= settings.batchSize) await deliver(buffer.splice(0, settings.batchSize));
      const closed = page.nextIterator === undefined;
      if (buffer.length > 0 && (closed || Date.now() - bufferSince >= windowMs)) {
        const batch = buffer;
        buffer = [];
        await deliver(batch);
      }
      if (closed) {
        finished.add(shardId);
        wakeDiscovery(); // its children may start now
        return;
      }
      iterator = page.nextIterator;
      if (page.records.length === 0 || buffer.length > 0) {
        const untilWindow =
          buffer.length > 0 ? Math.max(0, bufferSince + windowMs - Date.now()) : pollIntervalMs;
        await sleep(Math.min(pollIntervalMs, untilWindow), abort.signal);
      }
    }
  }

  function startShard(shardId: string): void {
    started.add(shardId);
    const run = readShard(shardId)
      .catch((error: unknown) => log(`[${name}] shard ${shardId} stopped: ${String(error)}`))
      .finally(() => running.delete(run));
    running.add(run);
  }

  let wakeDiscovery = () => {};
  async function discover(): Promise<void> {
    while (!abort.signal.aborted) {
      try {
        const shards = await source.listShards();
        const known = new Set(shards.map((s) => s.shardId));
        for (const shard of shards) {
          if (started.has(shard.shardId)) continue;
          const parent = shard.parentShardId;
          // A child waits for its parent to be read to the end, so each item stays in order.
          if (parent && known.has(parent) && !finished.has(parent)) continue;
          startShard(shard.shardId);
        }
      } catch (error) {
        if (!abort.signal.aborted) log(`[${name}] listing stream shards failed: ${(error as Error).message}`);
      }
      const wake = new AbortController();
      const stopWaking = () => wake.abort();
      abort.signal.addEventListener('abort', stopWaking);
      wakeDiscovery = stopWaking;
      await sleep(options.shardRefreshMs ?? 5_000, wake.signal);
      abort.signal.removeEventListener('abort', stopWaking);
    }
  }

  const discovering = discover();
  return {
    counts,
    async stop() {
      abort.abort();
      await discovering;
      await Promise.all([...running]);
    },
  };
}
