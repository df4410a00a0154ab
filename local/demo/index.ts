import * as grpc from '@grpc/grpc-js';
import type { DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { createGrpcMonitor, type GrpcMonitor } from 'grpc-monitor-interceptor';
import { PortInUseError } from '../apiServer';
import { addDemoServices } from './services';
import { startDemoTraffic, type DemoTraffic } from './traffic';

/**
 * The demo gRPC server `npm start` runs: the demo services behind the monitor's interceptor
 * (first in the list, as users should put it), with heartbeats for /health/ and the seed's
 * console lines, plus the traffic that keeps it busy.
 */
export interface DemoOptions {
  /** 0 picks a free port. */
  readonly port: number;
  readonly host?: string;
  readonly tableName: string;
  /** The Deltas table. @default GRPC_MONITOR_DELTA_TABLE or `grpc-monitor-deltas` (what `npm start` creates) */
  readonly deltaTableName?: string;
  /** The monitor's `sampling.success`. @default GRPC_MONITOR_SAMPLE_SUCCESS or 1 */
  readonly sampleSuccess?: number;
  readonly dynamoDb: DynamoDBClientConfig;
  readonly slowThresholdMs: number;
  readonly callsPerSecond?: number;
  /** The interceptor's console lines: a sink, or false for none. */
  readonly consoleLines: ((line: string) => void) | false;
  /** Run the traffic generator. @default true */
  readonly traffic?: boolean;
}

export interface RunningDemo {
  readonly address: string;
  readonly monitor: GrpcMonitor;
  readonly traffic: DemoTraffic | undefined;
  stop(): Promise<void>;
}

function bind(server: grpc.Server, address: string): Promise<number> {
  return new Promise((resolve, reject) =>
    server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (error, port) =>
      error ? reject(error) : resolve(port),
    ),
  );
}

export async function startDemo(options: DemoOptions): Promise<RunningDemo> {
  const host = options.host ?? '127.0.0.1';
  // The heartbeat needs the port before the server exists (interceptors go in its constructor),
  // so a placeholder server learns a free port first when 0 is asked for.
  let port = options.port;
  if (port === 0) {
    const probe = new grpc.Server();
    port = await bind(probe, `${host}:0`);
    probe.forceShutdown();
  }
  const monitor = createGrpcMonitor({
    tableName: options.tableName,
    deltaTableName: options.deltaTableName,
    // Counts reach /overview/ about one flush after a call: 1 s on a laptop (10 s is the default).
    statsFlushMs: 1000,
    ...(options.sampleSuccess !== undefined && { sampling: { success: options.sampleSuccess } }),
    dynamoDb: options.dynamoDb,
    server: { host, port },
    console: options.consoleLines,
    slowThresholdMs: options.slowThresholdMs,
  });
  const server = new grpc.Server({ interceptors: [monitor.interceptor] });
  addDemoServices(server);
  try {
    await bind(server, `${host}:${port}`);
  } catch (error) {
    await monitor.close();
    throw /EADDRINUSE|address already in use|No address added/i.test(String(error))
      ? new PortInUseError(port, 'demo gRPC server (--grpc-port)')
      : error;
  }
  const address = `${host}:${port}`;
  const traffic =
    options.traffic === false
      ? undefined
      : startDemoTraffic({
          address,
          callsPerSecond: options.callsPerSecond,
          slowThresholdMs: options.slowThresholdMs,
        });
  return {
    address,
    monitor,
    traffic,
    async stop() {
      await traffic?.stop();
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => server.forceShutdown(), 2_000);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
      // Bounded here too: close() first awaits an unbounded flush(), which never ends once
      // DynamoDB Local is gone (it died), and Ctrl-C must still stop everything.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        monitor.close({ timeoutMs: 5_000 }),
        new Promise((resolve) => (timer = setTimeout(resolve, 6_000))),
      ]);
      clearTimeout(timer);
    },
  };
}
