/**
 * The interceptor's own work on the event loop, without the noise of a network and a shared
 * machine's other processes: the real monitor interceptor (writer thread and all) around a
 * stand-in for grpc-js's transport call, driven through a unary call's events in-process, against
 * the same stand-in without the monitor, in alternating rounds. What it leaves out, the real
 * server bench includes: the HTTP/2 work of sending the x-request-id header.
 */
import { setImmediate as tick } from 'node:timers/promises';
import { Metadata, type ServerInterceptingCallInterface, type ServerInterceptor } from '@grpc/grpc-js';
import type { DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { createGrpcMonitor } from 'grpc-monitor-interceptor';
import { mainThreadCpuMicros, median } from './measure';

const CALLS = 20_000;
const ROUNDS = 5;

// One handler per method, as grpc-js keeps them.
const handler = {
  path: '/bench.Echo/Unary',
  type: 'unary',
  serialize: (_message: unknown): Buffer => Buffer.from('0123456789'),
  deserialize: (_bytes: Buffer): unknown => ({ text: 'bench' }),
};
const method = { path: handler.path } as Parameters<ServerInterceptor>[0];
const noop = () => undefined;
type Listener = Parameters<ServerInterceptingCallInterface['start']>[0];
const listener: Listener = {
  onReceiveMetadata: noop,
  onReceiveMessage: noop,
  onReceiveHalfClose: noop,
  onCancel: noop,
};
const connection = { remoteAddress: '127.0.0.1', remotePort: 40_000 };

/** What grpc-js's BaseServerInterceptingCall offers an interceptor, doing nothing. */
function transportCall() {
  return {
    handler,
    listener,
    start(l: Listener) {
      this.listener = l;
    },
    sendMetadata: noop,
    sendMessage(message: unknown, done: () => void) {
      this.handler.serialize(message);
      done();
    },
    sendStatus: noop,
    startRead: noop,
    getPeer: () => '127.0.0.1:40000',
    getDeadline: () => Infinity,
    getHost: () => 'localhost',
    getAuthContext: () => ({}),
    getConnectionInfo: () => connection,
    getMetricsRecorder: () => ({}),
  };
}

function unaryCall(interceptor: ServerInterceptor | undefined): void {
  const transport = transportCall();
  const top = interceptor
    ? interceptor(method, transport as unknown as ServerInterceptingCallInterface)
    : (transport as unknown as ServerInterceptingCallInterface);
  top.start(listener);
  const metadata = new Metadata();
  metadata.set('user-agent', 'grpc-node-js/1.14.7');
  transport.listener.onReceiveMetadata(metadata);
  transport.listener.onReceiveMessage(transport.handler.deserialize(Buffer.from('bench')));
  transport.listener.onReceiveHalfClose();
  top.sendMetadata(new Metadata());
  top.sendMessage({ text: 'bench' }, noop);
  top.sendStatus({ code: 0, details: 'OK', metadata: null });
}

async function round(interceptor: ServerInterceptor | undefined): Promise<number> {
  const before = mainThreadCpuMicros();
  for (let i = 0; i < CALLS; i++) {
    unaryCall(interceptor);
    if (i % 500 === 499) await tick(); // let the writer's timers and messages run, as a server would
  }
  return (mainThreadCpuMicros() - before) / CALLS;
}

/** Event-loop CPU per call with and without the monitor (µs), medians of alternating rounds. */
export async function interceptorLoopCost(
  tableName: string,
  dynamoDb: DynamoDBClientConfig,
  deltaTableName?: string,
): Promise<{ bare: number; monitored: number; calls: number }> {
  // The writer drops what DynamoDB Local cannot take in time: the loop's work is the same.
  const monitor = createGrpcMonitor({ tableName, deltaTableName, dynamoDb, console: false });
  try {
    await round(undefined);
    await round(monitor.interceptor); // warm-up (JIT, the writer thread's start)
    const bare: number[] = [];
    const monitored: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      bare.push(await round(undefined));
      monitored.push(await round(monitor.interceptor));
    }
    return { bare: median(bare), monitored: median(monitored), calls: CALLS };
  } finally {
    await monitor.close({ timeoutMs: 1_000 });
  }
}
