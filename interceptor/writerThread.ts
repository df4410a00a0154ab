/**
 * The writer thread's entry: the writers (RequestLog items, delta items) and the DynamoDB
 * client live here, so the SDK's marshalling, signing and HTTP work never runs on the gRPC
 * event loop.
 */
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { deltaItem } from '../core/deltas';
import type { CallFacts } from './callFacts';
import { callItem } from './callItem';
import { deltaQueueKey, monitorTable } from './dynamoSender';
import { COUNTER, type FromWriter, type ToWriter, type WriterInit } from './writerProtocol';
import { deltaWriterOptions, RequestLogWriter } from './writer';

const init = workerData as WriterInit;
// setpriority on Linux renices the calling thread alone (elsewhere it would be the whole process).
if (init.niceness > 0 && process.platform === 'linux') {
  try {
    setPriority(init.niceness);
  } catch {
    // not allowed here: the writer keeps the service's priority
  }
}
const port = parentPort!;
const table = monitorTable(init.dynamoDb, init.tableName, init.deltaTableName);
const writer = new RequestLogWriter(table.sendBatch, init.writer);
const deltaWriter = new RequestLogWriter(table.sendDeltaBatch, deltaWriterOptions(init.writer));
const counters = new BigInt64Array(init.counters);

/** Publishes the counters; the monitor derives `queued` from them and its own `enqueued`. */
function publish(): void {
  const s = writer.stats();
  Atomics.store(counters, COUNTER.written, BigInt(s.written));
  Atomics.store(counters, COUNTER.dropped, BigInt(s.dropped));
  Atomics.store(counters, COUNTER.retried, BigInt(s.retried));
  Atomics.store(counters, COUNTER.failed, BigInt(s.failed));
}
function publishDeltas(): void {
  const s = deltaWriter.stats();
  const calls = deltaWriter.weightStats();
  Atomics.store(counters, COUNTER.deltaWritten, BigInt(s.written));
  Atomics.store(counters, COUNTER.deltaDropped, BigInt(s.dropped));
  Atomics.store(counters, COUNTER.deltaRetried, BigInt(s.retried));
  Atomics.store(counters, COUNTER.deltaCallsWritten, BigInt(calls.written));
  Atomics.store(counters, COUNTER.deltaCallsDropped, BigInt(calls.dropped));
}
writer.onChange = publish;
deltaWriter.onChange = publishDeltas;

const reply = (message: FromWriter) => port.postMessage(message);

port.on('message', (message: ToWriter) => {
  switch (message.type) {
    case 'records': {
      const calls = JSON.parse(message.json) as CallFacts[];
      for (const call of calls)
        writer.enqueue(call.request_id, table.encode(callItem(call, init.itemOptions)));
      Atomics.add(counters, COUNTER.received, BigInt(calls.length));
      publish();
      break;
    }
    case 'deltas':
      for (const { delta, expiresAt } of message.deltas) {
        const item = deltaItem(delta, expiresAt);
        deltaWriter.enqueue(deltaQueueKey(item.pk, item.sk), item, item.n);
      }
      publishDeltas();
      break;
    case 'put':
      void table
        .put(message.item)
        .catch(() => undefined)
        .then(() => reply({ type: 'done', id: message.id }));
      break;
    case 'flush':
      void Promise.all([writer.flush(), deltaWriter.flush()]).then(() =>
        reply({ type: 'done', id: message.id }),
      );
      break;
    case 'close':
      void Promise.all([writer.close(message.timeoutMs), deltaWriter.close(message.timeoutMs)]).then(() => {
        publish();
        publishDeltas();
        table.destroy();
        reply({ type: 'done', id: message.id });
        port.close();
      });
      break;
  }
});
