import { Worker } from 'node:worker_threads';
import type { DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { configFromEnv } from '../core/config';
import type { MonitorDelta } from '../core/deltas';
import type { DeltaStats, WriterStats } from '../core/heartbeat';
import type { CallFacts } from './callFacts';
import type { CallItemOptions } from './callItem';
import { COUNTER, COUNTER_SLOTS, type FromWriter, type ToWriter, type WriterInit } from './writerProtocol';
import type { WriterOptions } from './writer';

/** What the monitor needs from a writer, wherever it runs. */
export interface ItemWriter {
  /** Queues the call's item (formatting and the codec run wherever the writer runs). */
  enqueue(call: CallFacts): void;
  /**
   * Queues delta items (their own lane: a log item never evicts a delta). `expiresAt` is each
   * item's TTL, epoch seconds.
   */
  enqueueDeltas(deltas: ReadonlyArray<{ delta: MonitorDelta; expiresAt: number }>): void;
  put(item: Record<string, unknown>): Promise<void>;
  flush(): Promise<void>;
  close(timeoutMs: number): Promise<void>;
  stats(): WriterStats;
  deltaStats(): DeltaStats;
}

/** The calls a delta item carries. */
export const callsOf = (delta: MonitorDelta): number =>
  delta.cells.reduce((sum, cell) => sum + cell.total, 0);

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
 * Records wait in the outbox at most this long, or until this many are there, before they are
 * posted to the thread. A postMessage costs tens of µs of fixed work on the event loop (the
 * message, the wake-up of the other thread), so posting per call or per tick would cost more
 * than recording the call; batching makes it a fraction of a µs per call. Well inside the
 * writer's own flush interval, so it adds little to the time an item takes to reach DynamoDB.
 */
export const POST_INTERVAL_MS = 20;
export const POST_BATCH = 256;
/** The most records one message carries (a backlog goes in several). */
const MAX_POST = 4 * POST_BATCH;

/**
 * Records handed off to the thread but not yet taken in are bounded too, so that a thread
 * starved of CPU (see writerNiceness) cannot let them pile up: one batch at a time is in transit
 * (the next waits until the thread has taken it in), and the outbox holds at most
 * maxQueueItems, beyond which its oldest record is dropped and counted. So at most twice
 * maxQueueItems are between the event loop and the thread's queue.
 */
export const handoffLimit = (maxQueueItems: number): number => 2 * maxQueueItems;

/**
 * A writer on its own thread: the gRPC event loop only batches records and posts them as JSON;
 * the SDK's work happens on the writer thread. Counters come back through
 * shared memory, so `stats()` is current and `queued` is exactly `enqueued - written - dropped`
 * (items in the outbox, in transit to the thread, waiting there, or in a request in flight).
 */
export class ThreadedWriter implements ItemWriter {
  private readonly worker: Worker;
  private readonly counters: BigInt64Array;
  private outbox: CallFacts[] = [];
  private postTimer: NodeJS.Timeout | undefined;
  private enqueued = 0;
  private posted = 0;
  private readonly outboxLimit: number;
  private nextId = 0;
  private readonly waiting = new Map<number, () => void>();
  private closed = false;
  private dead = false;
  private lost = 0;
  private readonly deltas = { enqueued: 0, calls: 0, lost: 0, lostCalls: 0 };

  constructor(
    tableName: string,
    dynamoDb: DynamoDBClientConfig,
    options: WriterOptions,
    itemOptions: CallItemOptions,
    /** The thread's nice value (GrpcMonitorOptions.writerNiceness). */
    niceness = 0,
    deltaTableName: string = configFromEnv().deltaTable,
  ) {
    this.outboxLimit = options.maxQueueItems;
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
      deltaTableName,
      dynamoDb,
      writer,
      niceness,
      itemOptions: {
        shards: itemOptions.shards,
        slowThresholdMs: itemOptions.slowThresholdMs,
        retentionDays: itemOptions.retentionDays,
      },
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

  enqueue(call: CallFacts): void {
    this.enqueued++;
    if (this.closed || this.dead) {
      this.lost++;
      return;
    }
    if (this.outbox.length >= this.outboxLimit) {
      this.outbox.shift();
      this.lost++;
    }
    this.outbox.push(call);
    if (this.outbox.length >= POST_BATCH) this.post(false);
    else this.schedulePost();
  }

  enqueueDeltas(deltas: ReadonlyArray<{ delta: MonitorDelta; expiresAt: number }>): void {
    if (deltas.length === 0) return;
    let calls = 0;
    for (const { delta } of deltas) calls += callsOf(delta);
    this.deltas.enqueued += deltas.length;
    this.deltas.calls += calls;
    if (this.closed || this.dead) {
      this.deltas.lost += deltas.length;
      this.deltas.lostCalls += calls;
      return;
    }
    // Rare (a few per flush interval) and small: posted at once, as a structured clone.
    this.send({ type: 'deltas', deltas: [...deltas] });
  }

  deltaStats(): DeltaStats {
    const load = (slot: number) => Number(Atomics.load(this.counters, slot));
    const written = load(COUNTER.deltaWritten);
    const dropped = load(COUNTER.deltaDropped) + this.deltas.lost;
    const callsWritten = load(COUNTER.deltaCallsWritten);
    const callsDropped = load(COUNTER.deltaCallsDropped) + this.deltas.lostCalls;
    return {
      enqueued: this.deltas.enqueued,
      written,
      dropped,
      queued: this.deltas.enqueued - written - dropped,
      retried: load(COUNTER.deltaRetried),
      calls: {
        enqueued: this.deltas.calls,
        written: callsWritten,
        dropped: callsDropped,
        queued: this.deltas.calls - callsWritten - callsDropped,
      },
    };
  }

  /** True while the thread has not taken in the last batch posted. */
  private threadBehind(): boolean {
    return this.posted > Number(Atomics.load(this.counters, COUNTER.received));
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
    this.post(true);
    return this.request((id) => ({ type: 'flush', id }));
  }

  async close(timeoutMs: number): Promise<void> {
    if (this.closed) return;
    this.post(true);
    this.closed = true;
    await this.request((id) => ({ type: 'close', id, timeoutMs }));
    await this.worker.terminate().catch(() => undefined);
  }

  private schedulePost(): void {
    this.postTimer ??= setTimeout(() => {
      this.postTimer = undefined;
      this.post(false);
    }, POST_INTERVAL_MS).unref();
  }

  /**
   * Posts the outbox, at most MAX_POST records a message so that a backlog (a thread that was
   * starved) never costs the loop one long JSON.stringify. Unless forced (flush, close), only
   * once the thread has taken in the last batch; what is left waits for the next turn.
   */
  private post(force: boolean): void {
    if (this.outbox.length === 0 || this.dead) return;
    if (!force && this.threadBehind()) {
      this.schedulePost();
      return;
    }
    clearTimeout(this.postTimer);
    this.postTimer = undefined;
    do {
      const records = this.outbox.splice(0, MAX_POST);
      this.posted += records.length;
      // One JSON string: V8's JSON.stringify is several times cheaper than the structured clone
      // of the same objects, and a string crosses to the thread as one copy.
      this.send({ type: 'records', json: JSON.stringify(records) });
    } while (force && this.outbox.length > 0 && !this.dead);
    if (this.outbox.length > 0) this.schedulePost();
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
    const d = this.deltaStats();
    this.deltas.lost += d.queued;
    this.deltas.lostCalls += d.calls.queued;
    this.outbox = [];
    for (const resolve of this.waiting.values()) resolve();
    this.waiting.clear();
  }
}
