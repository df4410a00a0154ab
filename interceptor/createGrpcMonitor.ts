import type { ServerInterceptor } from '@grpc/grpc-js';
import type { MonitorDelta } from '../core/deltas';
import type { MonitorStats } from '../core/heartbeat';
import { newRequestId } from '../core/requestId';
import { expiresAt } from '../core/requestLogItem';
import { successSampler } from '../core/sampling';
import { bucketStart } from '../core/stats/keys';
import { callItem, type CallItemOptions } from './callItem';
import { CallCells } from './callCells';
import { roundMs } from './callContext';
import { toRecord, type CallFacts } from './callFacts';
import { endLine, startLine } from './consoleLines';
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { deltaQueueKey, monitorTable } from './dynamoSender';
import { startHeartbeats, type HeartbeatLoop } from './heartbeats';
import { monitorInterceptor } from './monitorInterceptor';
import { resolveOptions, type GrpcMonitorOptions, type ResolvedOptions } from './options';
import { deltaWriterOptions, RequestLogWriter } from './writer';
import { callsOf, ThreadedWriter, type ItemWriter } from './threadedWriter';
import { deltaItem } from '../core/deltas';

export interface GrpcMonitor {
  /** Put it first in `new grpc.Server({ interceptors: [monitor.interceptor, ...] })`. */
  readonly interceptor: ServerInterceptor;
  /**
   * Ships the in-process counts as delta items, then resolves when everything recorded before
   * the call is written (or dropped and counted).
   */
  flush(): Promise<void>;
  /**
   * Ships the counts and flushes (waiting at most `timeoutMs`, default 10 s; what is left is
   * counted as dropped), writes a last heartbeat, stops the timers and releases the client the
   * monitor built. Calls that end afterwards are counted as dropped.
   */
  close(options?: { timeoutMs?: number }): Promise<void>;
  /**
   * The monitor's counters (see MonitorStats). The contract fields count RequestLog items: one
   * per logged call, two with `logPending`. At every moment:
   * - `enqueued === written + dropped + queued` (RequestLog items);
   * - `deltas.enqueued === deltas.written + deltas.dropped + deltas.queued`, and the same for
   *   the calls they carry (`deltas.calls`);
   * - `calls === deltas.calls.enqueued + unflushedCalls` (every finished call is counted in a
   *   delta item or still in the monitor: a crash loses `unflushedCalls` and the queued deltas);
   * - `calls === logged + sampledOut`.
   * `dropped` covers items evicted as the oldest of a full queue, refused by DynamoDB for good
   * (also in `failed`), or still queued when `close()` timed out; `retried` counts re-sends.
   */
  stats(): MonitorStats;
  /** True when the writer runs on its own thread (see the `writerThread` option). */
  readonly writerThread: boolean;
  /** This monitor's instance id (a UUIDv7): the first part of its delta items' sort keys. */
  readonly instanceId: string;
}

/** Records every call of a grpc-js server into the RequestLog and Deltas tables. See docs/interceptor.md. */
export function createGrpcMonitor(options: GrpcMonitorOptions = {}): GrpcMonitor {
  const settings = resolveOptions(options);
  const itemOptions: CallItemOptions = {
    shards: settings.shards,
    slowThresholdMs: settings.slowThresholdMs,
    retentionDays: settings.retentionDays,
  };
  const writer = createWriter(options.dynamoDb ?? {}, settings, itemOptions, options.writerThread);
  const log = settings.log;
  const sampler = successSampler(settings.sampleSuccess);
  const cells = new CallCells();
  const instanceId = newRequestId();
  const counts = { calls: 0, logged: 0, sampledOut: 0 };
  let seq = 0;
  let closed = false;

  /** Swaps the cells out and hands them to the writer, one delta item per minute touched. */
  const shipCells = (): void => {
    if (cells.calls === 0) return;
    const deltas = cells.take().map(({ minute, cells: minuteCells }) => {
      const delta: MonitorDelta = { minute, instance: instanceId, seq: seq++, cells: minuteCells };
      return { delta, expiresAt: expiresAt(bucketStart(minute), settings.retentionDays) };
    });
    writer.enqueueDeltas(deltas);
  };
  // Unref'd: the gRPC server keeps the process alive, the monitor's timer alone must not.
  const flushTimer = setInterval(shipCells, settings.statsFlushMs).unref();

  const slowAt = settings.slowThresholdMs;
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
            // A pending item only for a call whose final item may be sampled out by the hash
            // alone, so no `pending` item is ever left behind by sampling.
            if (settings.logPending && sampler.keeps(call.trace_id, call.request_id)) writer.enqueue(call);
          }
        : undefined,
    onEnd: (call) => {
      const slow = call.duration_ms !== null && roundMs(call.duration_ms) >= slowAt;
      const logged =
        sampler.all ||
        sampler.logs({ status: call.status, slow, traceId: call.trace_id, requestId: call.request_id });
      cells.add(call, slow, logged);
      counts.calls++;
      if (logged) {
        counts.logged++;
        writer.enqueue(call);
      } else {
        counts.sampledOut++;
      }
      if (closed) shipCells(); // the writer is closed: counted as a dropped delta
      if (log) log(endLine(toRecord(call, settings.retentionDays)));
    },
  });

  const stats = (): MonitorStats => ({
    ...writer.stats(),
    ...counts,
    unflushedCalls: cells.calls,
    deltas: writer.deltaStats(),
  });

  const heartbeats: HeartbeatLoop | undefined = settings.server
    ? startHeartbeats({
        server: settings.server,
        intervalMs: settings.heartbeatIntervalMs,
        stats,
        samplingSuccess: settings.sampleSuccess,
        put: (item) => writer.put(item),
      })
    : undefined;

  let closing: Promise<void> | undefined;
  return {
    interceptor,
    flush: () => {
      shipCells();
      return writer.flush();
    },
    close({ timeoutMs = 10_000 } = {}) {
      closing ??= (async () => {
        clearInterval(flushTimer);
        shipCells();
        // Bounded like the writer's own close: an unreachable DynamoDB must not hang shutdown.
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          writer.flush(),
          new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs))),
        ]);
        clearTimeout(timer);
        await heartbeats?.stop(); // the last heartbeat carries the final counters
        shipCells(); // calls that ended while flushing
        closed = true;
        await writer.close(timeoutMs);
      })();
      return closing;
    },
    stats,
    writerThread: writer instanceof ThreadedWriter,
    instanceId,
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
  settings: ResolvedOptions,
  itemOptions: CallItemOptions,
  wantThread: boolean | undefined,
): ItemWriter {
  if ((wantThread ?? true) && transferable(dynamoDb)) {
    try {
      return new ThreadedWriter(
        settings.tableName,
        dynamoDb,
        settings,
        itemOptions,
        settings.writerNiceness,
        settings.deltaTableName,
      );
    } catch {
      // fall through to the inline writer
    }
  }
  const table = monitorTable(dynamoDb, settings.tableName, settings.deltaTableName);
  const writer = new RequestLogWriter(table.sendBatch, settings);
  const deltaWriter = new RequestLogWriter(table.sendDeltaBatch, deltaWriterOptions(settings));
  return {
    enqueue: (call: CallFacts) => writer.enqueue(call.request_id, callItem(call, itemOptions)),
    enqueueDeltas(deltas) {
      for (const { delta, expiresAt: ttl } of deltas) {
        const item = deltaItem(delta, ttl);
        deltaWriter.enqueue(deltaQueueKey(item.pk, item.sk), item, callsOf(delta));
      }
    },
    put: (item) => table.put(item).catch(() => undefined),
    flush: async () => {
      await Promise.all([writer.flush(), deltaWriter.flush()]);
    },
    close: async (timeoutMs) => {
      await Promise.all([writer.close(timeoutMs), deltaWriter.close(timeoutMs)]);
      table.destroy();
    },
    stats: () => writer.stats(),
    deltaStats: () => ({ ...deltaWriter.stats(), calls: deltaWriter.weightStats() }),
  };
}
