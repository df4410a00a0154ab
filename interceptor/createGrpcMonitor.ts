import type { ServerInterceptor } from '@grpc/grpc-js';
import type { WriterStats } from '../core/heartbeat';
import type { RequestLogRecord } from '../core/record';
import { toRequestLogItem } from '../core/requestLogItem';
import { endLine, startLine } from './consoleLines';
import { monitorTable } from './dynamoSender';
import { startHeartbeats, type HeartbeatLoop } from './heartbeats';
import { monitorInterceptor } from './monitorInterceptor';
import { resolveOptions, type GrpcMonitorOptions } from './options';
import { RequestLogWriter } from './writer';

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
}

/** Records every call of a grpc-js server into the RequestLog table. See docs/interceptor.md. */
export function createGrpcMonitor(options: GrpcMonitorOptions = {}): GrpcMonitor {
  const settings = resolveOptions(options);
  const table = monitorTable(options.dynamoDb ?? {}, settings.tableName);
  const writer = new RequestLogWriter(table.sendBatch, settings);
  const itemOptions = { shards: settings.shards, slowThresholdMs: settings.slowThresholdMs };
  const log = settings.log;

  const enqueue = (record: RequestLogRecord): void => {
    writer.enqueue(record.request_id, toRequestLogItem(record, itemOptions));
  };
  const interceptor = monitorInterceptor({
    skip: settings.skip,
    successCodes: settings.successCodes,
    resolveUser: settings.resolveUser,
    retentionDays: settings.retentionDays,
    deadlineMarginMs: settings.deadlineMarginMs,
    onStart:
      settings.logPending || log
        ? (record) => {
            if (log) log(startLine(record));
            if (settings.logPending) enqueue(record);
          }
        : undefined,
    onEnd: (record) => {
      enqueue(record);
      if (log) log(endLine(record));
    },
  });

  const heartbeats: HeartbeatLoop | undefined = settings.server
    ? startHeartbeats({
        server: settings.server,
        intervalMs: settings.heartbeatIntervalMs,
        stats: () => writer.stats(),
        put: table.put,
      })
    : undefined;

  let closing: Promise<void> | undefined;
  return {
    interceptor,
    flush: () => writer.flush(),
    close({ timeoutMs = 10_000 } = {}) {
      closing ??= (async () => {
        await writer.close(timeoutMs);
        await heartbeats?.stop();
        table.destroy();
      })();
      return closing;
    },
    stats: () => writer.stats(),
  };
}
