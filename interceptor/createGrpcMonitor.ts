import type { ServerInterceptor } from '@grpc/grpc-js';
import type { WriterStats } from '../core/heartbeat';
import { callItem, type CallItemOptions } from './callItem';
import { toRecord } from './callFacts';
import { endLine, startLine } from './consoleLines';
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { monitorTable } from './dynamoSender';
import { startHeartbeats, type HeartbeatLoop } from './heartbeats';
import { monitorInterceptor } from './monitorInterceptor';
import { resolveOptions, type GrpcMonitorOptions } from './options';
import { RequestLogWriter, type WriterOptions } from './writer';
import { ThreadedWriter, type ItemWriter } from './threadedWriter';

export interface GrpcMonitor {
  /** Put it first in `new grpc.Server({ interceptors: [monitor.interceptor, ...] })`. */
  readonly interceptor: ServerInterceptor;
  /** Resolves when everything recorded before the call is written (or dropped and counted). */
  flush(): Promise<void>;
  /**
   * Flushes (waiting at most `timeoutMs`, default 10 s; what is left is counted as dropped),
   * writes a last heartbeat, stops the timers and releases the client the monitor built.
   * Calls that end afterwards are counted as dropped.
   */
  close(options?: { timeoutMs?: number }): Promise<void>;
  /**
   * The writer's counters. Items, not calls: one per call, two with `logPending`.
   * At every moment `enqueued === written + dropped + queued`:
   * - `enqueued`: items handed to the writer;
   * - `written`: items DynamoDB confirmed;
   * - `dropped`: items given up: evicted as the oldest of a full queue, refused by DynamoDB
   *   for good (also counted in `failed`), or still queued when `close()` timed out;
   * - `queued`: items waiting or in a BatchWriteItem in flight;
   * - `retried`: item re-sends (unprocessed, throttled or failed requests), a running total;
   * - `failed`: items DynamoDB refused with a non-retryable error (a subset of `dropped`).
   */
  stats(): WriterStats;
  /** True when the writer runs on its own thread (see the `writerThread` option). */
  readonly writerThread: boolean;
}

/** Records every call of a grpc-js server into the RequestLog table. See docs/interceptor.md. */
export function createGrpcMonitor(options: GrpcMonitorOptions = {}): GrpcMonitor {
  const settings = resolveOptions(options);
  const itemOptions: CallItemOptions = {
    shards: settings.shards,
    slowThresholdMs: settings.slowThresholdMs,
    retentionDays: settings.retentionDays,
  };
  const writer = createWriter(
    options.dynamoDb ?? {},
    settings.tableName,
    settings,
    itemOptions,
    options.writerThread,
    settings.writerNiceness,
  );
  const log = settings.log;

  const interceptor = monitorInterceptor({
    skip: settings.skip,
    successCodes: settings.successCodes,
    resolveUser: settings.resolveUser,
    deadlineMarginMs: settings.deadlineMarginMs,
    trustedProxy: settings.trustedProxy,
    keepErrorMetadata: settings.keepErrorMetadata,
    onStart:
      settings.logPending || log
        ? (call) => {
            if (log) log(startLine(toRecord(call, settings.retentionDays)));
            if (settings.logPending) writer.enqueue(call);
          }
        : undefined,
    onEnd: (call) => {
      writer.enqueue(call);
      if (log) log(endLine(toRecord(call, settings.retentionDays)));
    },
  });

  const heartbeats: HeartbeatLoop | undefined = settings.server
    ? startHeartbeats({
        server: settings.server,
        intervalMs: settings.heartbeatIntervalMs,
        stats: () => writer.stats(),
        put: (item) => writer.put(item),
      })
    : undefined;

  let closing: Promise<void> | undefined;
  return {
    interceptor,
    flush: () => writer.flush(),
    close({ timeoutMs = 10_000 } = {}) {
      closing ??= (async () => {
        // Bounded like the writer's own close: an unreachable DynamoDB must not hang shutdown.
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          writer.flush(),
          new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs))),
        ]);
        clearTimeout(timer);
        await heartbeats?.stop(); // the last heartbeat carries the final counters
        await writer.close(timeoutMs);
      })();
      return closing;
    },
    stats: () => writer.stats(),
    writerThread: writer instanceof ThreadedWriter,
  };
}

/** A config the writer thread can receive (a client instance or credential functions cannot cross). */
function transferable(dynamoDb: DynamoDBClient | DynamoDBClientConfig): dynamoDb is DynamoDBClientConfig {
  if (dynamoDb instanceof DynamoDBClient) return false;
  try {
    structuredClone(dynamoDb);
    return true;
  } catch {
    return false;
  }
}

/**
 * The writer runs on its own thread when it can (the SDK's per-item work then stays off the
 * gRPC event loop), else inline on the event loop (a DynamoDBClient instance was given, or
 * `writerThread: false`, or the thread could not start).
 */
function createWriter(
  dynamoDb: DynamoDBClient | DynamoDBClientConfig,
  tableName: string,
  options: WriterOptions,
  itemOptions: CallItemOptions,
  wantThread: boolean | undefined,
  niceness: number,
): ItemWriter {
  if ((wantThread ?? true) && transferable(dynamoDb)) {
    try {
      return new ThreadedWriter(tableName, dynamoDb, options, itemOptions, niceness);
    } catch {
      // fall through to the inline writer
    }
  }
  const table = monitorTable(dynamoDb, tableName);
  const writer = new RequestLogWriter(table.sendBatch, options);
  return {
    enqueue: (call) => writer.enqueue(call.request_id, callItem(call, itemOptions)),
    put: (item) => table.put(item).catch(() => undefined),
    flush: () => writer.flush(),
    close: async (timeoutMs) => {
      await writer.close(timeoutMs);
      table.destroy();
    },
    stats: () => writer.stats(),
  };
}
