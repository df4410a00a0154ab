import type { ItemCounts, WriterStats } from '../core/heartbeat';
import type { EncodedItem } from './attributeValues';
import { retryDelayMs, isRetryableWriteError } from './retryPolicy';

export type { WriterStats };

/** One item to write, keyed (`request_id`) so two writes of one key never race or share a batch. */
export interface QueuedItem {
  readonly key: string;
  /** The item, or already encoded for the sender that will send it (see MonitorTable.encode). */
  readonly item: Record<string, unknown> | EncodedItem;
}

/**
 * Sends up to 25 items in one BatchWriteItem and returns the ones DynamoDB left unprocessed.
 * Throws on a failed request (the writer classifies the error with isRetryableWriteError).
 */
export type BatchSender = (items: readonly QueuedItem[]) => Promise<readonly QueuedItem[]>;

export interface WriterOptions {
  /** Queue bound in items (waiting + in flight never exceeds this plus one flight per slot). */
  maxQueueItems: number;
  /** Queue bound in estimated bytes of the waiting items. */
  maxQueueBytes: number;
  /** A partial batch leaves at most this long after it started waiting. */
  flushIntervalMs: number;
  /** BatchWriteItem requests in flight at once. */
  maxConcurrentWrites: number;
  /** Ceiling of the backoff between retries. */
  maxRetryDelayMs: number;
}

/**
 * The delta lane's bounds: its own queue, so a flood of log items never evicts a delta (one
 * delta carries a whole flush interval's counts). 1,000 items hold hours of a monitor's deltas
 * while DynamoDB is unreachable; one request at a time is plenty for a few items per flush.
 */
export function deltaWriterOptions(options: WriterOptions): WriterOptions {
  return {
    maxQueueItems: 1_000,
    maxQueueBytes: 8 * 1024 * 1024,
    flushIntervalMs: options.flushIntervalMs,
    maxConcurrentWrites: 1,
    maxRetryDelayMs: options.maxRetryDelayMs,
  };
}

/** DynamoDB's BatchWriteItem limit. */
export const BATCH_SIZE = 25;

interface Entry extends QueuedItem {
  readonly seq: number;
  readonly bytes: number;
  /** What the item carries, counted in weightStats (a delta item: its calls; a log item: 1). */
  readonly weight: number;
}

interface Flight {
  minSeq: number;
}

/**
 * A bounded FIFO of items that a few concurrent BatchWriteItem loops drain.
 * Accounting, true at every moment: `enqueued = written + dropped + queued`, where
 * `queued` counts items waiting AND in flight (see WriterStats in the monitor's types).
 */
export class RequestLogWriter {
  private readonly buffer: (Entry | undefined)[] = [];
  private head = 0;
  private bufferedBytes = 0;
  private seq = 0;
  private readonly flights = new Set<Flight>();
  private readonly inFlightKeys = new Map<string, number>();
  private inFlightItems = 0;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private waiters: { target: number; resolve: () => void }[] = [];
  private abandoned = false;
  private readonly counters = { enqueued: 0, written: 0, dropped: 0, retried: 0, failed: 0 };
  private readonly weights = { enqueued: 0, written: 0, dropped: 0 };
  /** Called after items were written, dropped or retried (the writer thread publishes its counters). */
  onChange: (() => void) | undefined;

  constructor(
    private readonly send: BatchSender,
    private readonly options: WriterOptions,
  ) {}

  /**
   * Never throws, never waits: the item is queued, possibly evicting (and counting) the oldest.
   * `weight` is what the item carries (a delta item's calls), accounted for in weightStats.
   */
  enqueue(key: string, item: QueuedItem['item'], weight = 1): void {
    this.weights.enqueued += weight;
    if (this.abandoned) {
      this.counters.enqueued++;
      this.counters.dropped++;
      this.weights.dropped += weight;
      return;
    }
    const bytes = estimateItemBytes(item);
    while (
      this.bufferLength() > 0 &&
      (this.bufferLength() + this.inFlightItems >= this.options.maxQueueItems ||
        this.bufferedBytes + bytes > this.options.maxQueueBytes)
    ) {
      this.weights.dropped += this.shift()!.weight;
      this.counters.dropped++;
    }
    this.buffer.push({ key, item, seq: ++this.seq, bytes, weight });
    this.bufferedBytes += bytes;
    this.counters.enqueued++;
    if (this.bufferLength() >= BATCH_SIZE) this.scheduleImmediate();
    else this.scheduleTimer();
    this.settleWaiters();
  }

  stats(): WriterStats {
    return { ...this.counters, queued: this.bufferLength() + this.inFlightItems };
  }

  /** The items' weights: `enqueued = written + dropped + queued` holds for them too. */
  weightStats(): ItemCounts {
    const { enqueued, written, dropped } = this.weights;
    return { enqueued, written, dropped, queued: enqueued - written - dropped };
  }

  /** Resolves when every item enqueued before the call is written or dropped. */
  flush(): Promise<void> {
    const target = this.seq;
    if (this.minOutstandingSeq() > target) return Promise.resolve();
    const done = new Promise<void>((resolve) => this.waiters.push({ target, resolve }));
    this.pump(true);
    return done;
  }

  /**
   * Flushes, waiting at most `timeoutMs`; what is still queued then is counted as dropped,
   * and later enqueues are dropped at once.
   */
  async close(timeoutMs = 10_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    });
    await Promise.race([this.flush(), timedOut]);
    clearTimeout(timer);
    this.abandon();
  }

  private abandon(): void {
    this.abandoned = true;
    clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.counters.dropped += this.bufferLength() + this.inFlightItems;
    this.weights.dropped = this.weights.enqueued - this.weights.written;
    this.onChange?.();
    this.buffer.length = 0;
    this.head = 0;
    this.bufferedBytes = 0;
    this.inFlightItems = 0;
    this.flights.clear();
    this.inFlightKeys.clear();
    this.settleWaiters();
  }

  private bufferLength(): number {
    return this.buffer.length - this.head;
  }

  private shift(): Entry | undefined {
    const entry = this.buffer[this.head];
    if (!entry) return undefined;
    this.buffer[this.head++] = undefined;
    this.bufferedBytes -= entry.bytes;
    // Compact now and then so the array does not grow with the history of the queue.
    if (this.head > 1024 && this.head * 2 > this.buffer.length) {
      this.buffer.splice(0, this.head);
      this.head = 0;
    }
    return entry;
  }

  private scheduleImmediate(): void {
    this.immediate ??= setImmediate(() => {
      this.immediate = undefined;
      this.pump(false);
    });
  }

  private scheduleTimer(): void {
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.pump(true);
    }, this.options.flushIntervalMs);
  }

  /** Starts flights while slots are free: full batches always, a partial one when `partial`. */
  private pump(partial: boolean): void {
    while (!this.abandoned && this.flights.size < this.options.maxConcurrentWrites) {
      const length = this.bufferLength();
      if (length === 0 || (length < BATCH_SIZE && !partial)) break;
      const batch = this.takeBatch();
      if (batch.length === 0) break; // the head waits for a write of its key in flight
      void this.fly(batch);
    }
    if (this.bufferLength() > 0 && !this.abandoned) this.scheduleTimer();
  }

  /** A FIFO prefix of up to 25 items with distinct keys none of which is in flight (keeps order per key). */
  private takeBatch(): Entry[] {
    const batch: Entry[] = [];
    const keys = new Set<string>();
    while (batch.length < BATCH_SIZE) {
      const next = this.buffer[this.head];
      if (!next || keys.has(next.key) || this.inFlightKeys.has(next.key)) break;
      keys.add(next.key);
      batch.push(this.shift()!);
    }
    return batch;
  }

  private async fly(batch: Entry[]): Promise<void> {
    const flight: Flight = { minSeq: batch[0]!.seq };
    this.flights.add(flight);
    this.inFlightItems += batch.length;
    for (const entry of batch) this.inFlightKeys.set(entry.key, (this.inFlightKeys.get(entry.key) ?? 0) + 1);
    try {
      await this.writeAll(batch, flight);
    } finally {
      if (this.flights.delete(flight)) {
        for (const entry of batch) {
          const count = (this.inFlightKeys.get(entry.key) ?? 1) - 1;
          if (count === 0) this.inFlightKeys.delete(entry.key);
          else this.inFlightKeys.set(entry.key, count);
        }
      }
      this.settleWaiters();
      this.pump(this.waiters.length > 0);
    }
  }

  /** Writes `entries` until each is written or given up; retries with backoff and jitter. */
  private async writeAll(entries: readonly Entry[], flight: Flight): Promise<void> {
    let pending: readonly Entry[] = entries;
    let attempt = 0;
    while (pending.length > 0 && this.flights.has(flight)) {
      let error: unknown;
      let unprocessed: readonly QueuedItem[] = [];
      try {
        unprocessed = await this.send(pending);
      } catch (caught) {
        error = caught;
      }
      if (!this.flights.has(flight)) return; // abandoned by close(): already counted as dropped
      if (error === undefined) {
        const left = new Set(unprocessed.map((u) => u.key));
        const done = pending.filter((e) => !left.has(e.key));
        this.settle(done, 'written');
        pending = pending.filter((e) => left.has(e.key));
        flight.minSeq = pending[0]?.seq ?? Infinity;
        if (pending.length === 0) return;
      } else if (!isRetryableWriteError(error)) {
        if (pending.length > 1) {
          // One bad item must not sink its 24 neighbours: write the halves separately.
          const middle = Math.ceil(pending.length / 2);
          await this.writeAll(pending.slice(0, middle), flight);
          await this.writeAll(pending.slice(middle), flight);
        } else {
          this.counters.failed += pending.length;
          this.settle(pending, 'dropped');
        }
        return;
      }
      this.counters.retried += pending.length;
      this.onChange?.();
      await sleep(retryDelayMs(attempt++, this.options.maxRetryDelayMs));
    }
  }

  private settle(entries: readonly Entry[], outcome: 'written' | 'dropped'): void {
    this.counters[outcome] += entries.length;
    for (const entry of entries) this.weights[outcome] += entry.weight;
    this.inFlightItems -= entries.length;
    this.onChange?.();
  }

  private minOutstandingSeq(): number {
    let min = this.buffer[this.head]?.seq ?? Infinity;
    for (const flight of this.flights) min = Math.min(min, flight.minSeq);
    return min;
  }

  private settleWaiters(): void {
    if (this.waiters.length === 0) return;
    const min = this.minOutstandingSeq();
    const still: typeof this.waiters = [];
    for (const waiter of this.waiters) {
      if (min > waiter.target) waiter.resolve();
      else still.push(waiter);
    }
    this.waiters = still;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A cheap estimate of an item's stored size (names + values), for the byte bound of the queue.
 * Not exact, and need not be: it only has to grow with the item.
 */
export function estimateItemBytes(value: unknown, depth = 0): number {
  switch (typeof value) {
    case 'string':
      return value.length;
    case 'number':
      return 8;
    case 'boolean':
      return 1;
    case 'object': {
      if (value === null) return 1;
      if (value instanceof Uint8Array) return value.byteLength;
      if (depth > 4) return 64;
      let total = 3;
      if (Array.isArray(value)) {
        for (const element of value) total += 1 + estimateItemBytes(element, depth + 1);
        return total;
      }
      for (const key in value) {
        total += key.length + estimateItemBytes((value as Record<string, unknown>)[key], depth + 1);
      }
      return total;
    }
    default:
      return 0;
  }
}
