import { Worker } from 'node:worker_threads';
import type { DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import type { WriterStats } from '../core/heartbeat';
import type { RequestLogRecord } from '../core/record';
import type { ItemOptions } from '../core/requestLogItem';
import { COUNTER, COUNTER_SLOTS, type FromWriter, type ToWriter, type WriterInit } from './writerProtocol';
import type { WriterOptions } from './writer';

/** What the monitor needs from a writer, wherever it runs. */
export interface ItemWriter {
  /** Queues the record's item (the codec runs wherever the writer runs). */
  enqueue(record: RequestLogRecord): void;
  put(item: Record<string, unknown>): Promise<void>;
  flush(): Promise<void>;
  close(timeoutMs: number): Promise<void>;
  stats(): WriterStats;
}

/**
 * Starts the writer thread. Compiled, it is `writerThread.js` beside this file. Run from
 * TypeScript sources (tsx), a worker does not inherit the parent's loader on Node 20, so a small
 * bootstrap registers tsx in the worker first and then imports `writerThread.ts`.
 */
function startWorker(workerData: WriterInit): Worker {
  if (!import.meta.url.endsWith('.ts')) {
    return new Worker(new URL('./writerThread.js', import.meta.url), { workerData });
  }
  const entry = new URL('./writerThread.ts', import.meta.url).href;
  const tsx = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(bootstrap, { eval: true, workerData });
}

/**
 * A writer on its own thread: the gRPC event loop only batches items per tick and posts them
 * (a structured clone); the SDK's work happens on the writer thread. Counters come back through
 * shared memory, so `stats()` is current and `queued` is exactly `enqueued - written - dropped`
 * (items in the outbox, in transit to the thread, waiting there, or in a request in flight).
 */
export class ThreadedWriter implements ItemWriter {
  private readonly worker: Worker;
  private readonly counters: BigInt64Array;
  private outbox: RequestLogRecord[] = [];
  private scheduled = false;
  private enqueued = 0;
  private nextId = 0;
  private readonly waiting = new Map<number, () => void>();
  private closed = false;
  private dead = false;
  private lost = 0;

  constructor(
    tableName: string,
    dynamoDb: DynamoDBClientConfig,
    options: WriterOptions,
    itemOptions: ItemOptions,
  ) {
    const shared = new SharedArrayBuffer(COUNTER_SLOTS * 8);
    this.counters = new BigInt64Array(shared);
    const writer: WriterOptions = {
      maxQueueItems: options.maxQueueItems,
      maxQueueBytes: options.maxQueueBytes,
      flushIntervalMs: options.flushIntervalMs,
      maxConcurrentWrites: options.maxConcurrentWrites,
      maxRetryDelayMs: options.maxRetryDelayMs,
    };
    const init: WriterInit = {
      tableName,
      dynamoDb,
      writer,
      itemOptions: { shards: itemOptions.shards, slowThresholdMs: itemOptions.slowThresholdMs },
      counters: shared,
    };
    this.worker = startWorker(init);
    // The gRPC server keeps the process alive; the writer thread alone must not (close() flushes).
    this.worker.unref();
    this.worker.on('message', (message: FromWriter) => {
      this.waiting.get(message.id)?.();
      this.waiting.delete(message.id);
      this.refWhileWaiting();
    });
    const fail = () => this.die();
    this.worker.on('error', fail);
    this.worker.on('exit', fail);
  }

  enqueue(record: RequestLogRecord): void {
    this.enqueued++;
    if (this.closed || this.dead) {
      this.lost++;
      return;
    }
    this.outbox.push(record);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.post());
    }
  }

  stats(): WriterStats {
    const written = Number(Atomics.load(this.counters, COUNTER.written));
    const dropped = Number(Atomics.load(this.counters, COUNTER.dropped)) + this.lost;
    return {
      enqueued: this.enqueued,
      written,
      dropped,
      retried: Number(Atomics.load(this.counters, COUNTER.retried)),
      failed: Number(Atomics.load(this.counters, COUNTER.failed)),
      queued: this.enqueued - written - dropped,
    };
  }

  put(item: Record<string, unknown>): Promise<void> {
    return this.request((id) => ({ type: 'put', id, item }));
  }

  flush(): Promise<void> {
    this.post();
    return this.request((id) => ({ type: 'flush', id }));
  }

  async close(timeoutMs: number): Promise<void> {
    if (this.closed) return;
    this.post();
    this.closed = true;
    await this.request((id) => ({ type: 'close', id, timeoutMs }));
    await this.worker.terminate().catch(() => undefined);
  }

  private post(): void {
    this.scheduled = false;
    if (this.outbox.length === 0 || this.dead) return;
    const records = this.outbox;
    this.outbox = [];
    this.send({ type: 'records', records });
  }

  private send(message: ToWriter): void {
    try {
      this.worker.postMessage(message);
    } catch {
      this.die();
    }
  }

  private request(build: (id: number) => ToWriter): Promise<void> {
    if (this.dead) return Promise.resolve();
    const id = this.nextId++;
    const done = new Promise<void>((resolve) => this.waiting.set(id, resolve));
    this.refWhileWaiting();
    this.send(build(id));
    return done;
  }

  /** Someone awaits the thread: keep the process alive until it answers. */
  private refWhileWaiting(): void {
    if (this.waiting.size > 0) this.worker.ref();
    else this.worker.unref();
  }

  /** The thread is gone: whatever it still held is lost, and counted. */
  private die(): void {
    if (this.dead) return;
    this.dead = true;
    const s = this.stats();
    this.lost += s.queued;
    this.outbox = [];
    for (const resolve of this.waiting.values()) resolve();
    this.waiting.clear();
  }
}
