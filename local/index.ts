import { randomBytes, randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { alertRulesFromEnv, MemoryPublisher, type AlertMessage, type AlertRulesConfig } from '../core/alerts';
import { API_BASE_PATH, API_ROUTES } from '../core/apiRoutes';
import { DEFAULTS, ENV, type MonitorConfig } from '../core/config';
import { documentClient, type MonitorDeps } from '../core/deps';
import { aggregateConsumer, alertConsumer } from '../core/streamConsumers';
import { createAggregateHandler } from '../lambdas/aggregate';
import { createAlertHandler, createRuleEvaluationHandler, type AlertDeps } from '../lambdas/alert';
import { lambdaContext } from './apiGatewayEvent';
import {
  loadAuthorizer,
  loadRouteHandlers,
  PortInUseError,
  startApiServer,
  type RunningApiServer,
} from './apiServer';
import { startDemo, type RunningDemo } from './demo';
import { DynamoDbLocalError, isPortFree, startDynamoDbLocal, type DynamoDbLocal } from './dynamoDbLocal';
import { dynamoStreamSource } from './dynamoStreamSource';
import type { StreamHandler } from './streamDelivery';
import { startStreamPoller, type StreamPoller } from './streamPoller';
import { scheduledEvent } from './scheduledEvent';
import { serialized } from './serialized';
import { latestStreamArn, streamsClient } from './streamRecords';
import { ensureTables } from './tables';

/** Locally a bucket closes this long after its end (the monitors flush every second here). */
export const LOCAL_CLOSE_AFTER_MS = 3_000;

/**
 * The whole system on one machine (`npm start`, and every integration test): DynamoDB Local with
 * the tables from core/, stream pollers feeding the real aggregate handler (the Deltas stream,
 * plus a close-pass tick as the stack's schedule) and alert handler (the RequestLog stream), an HTTP
 * server that plays API Gateway for the real API handlers and authorizer, and optionally a demo
 * gRPC server behind the monitor's interceptor with demo traffic.
 */
export interface LocalOptions {
  /** API port; 0 picks a free one. @default 8000 */
  readonly apiPort?: number;
  /** Interface the API listens on. @default '127.0.0.1' */
  readonly apiHost?: string;
  /** The demo gRPC server's port; 0 picks a free one. @default 50051 */
  readonly grpcPort?: number;
  /** DynamoDB Local's port when this starts it; absent picks a free one. */
  readonly dynamoPort?: number;
  /** Use a DynamoDB (Local) that is already running at this endpoint instead of starting one. */
  readonly dynamoEndpoint?: string;
  /** Keep DynamoDB Local's data in this folder across runs. @default in memory */
  readonly dataDir?: string;
  /** Run the demo gRPC server and its traffic. @default true */
  readonly demo?: boolean;
  /** The bearer token of the API. @default env GRPC_MONITOR_API_TOKEN, else generated */
  readonly apiToken?: string;
  /** Table names and other settings. @default DEFAULTS, unique table names with `dynamoEndpoint` */
  readonly config?: Partial<MonitorConfig>;
  /** Alert rules. @default env GRPC_MONITOR_ALERT_RULES, else the documented defaults */
  readonly alertRules?: AlertRulesConfig;
  /** Print alerts as they are published. @default true */
  readonly printAlerts?: boolean;
  /** The demo server's console lines (➡️ ✅ ❌): true (to `log`), false, or a sink. @default true */
  readonly demoConsole?: boolean | ((line: string) => void);
  /** Called when DynamoDB Local dies while running (not by stop()); the CLI stops and exits. */
  readonly onFatal?: (error: Error) => void;
  /** Where the runtime's own lines go. @default console.log */
  readonly log?: (line: string) => void;
  /** How often the scheduled window-rule evaluation runs (the stack's schedule). @default 60000 */
  readonly ruleEvaluationIntervalMs?: number;
  /**
   * How often the aggregator's close pass runs (the stack's schedule, every minute in AWS).
   * @default 2000
   */
  readonly closePassIntervalMs?: number;
  /** Average demo calls per second. @default 4 */
  readonly demoCallsPerSecond?: number;
}

export interface LocalEnvironment {
  /** `http://127.0.0.1:8000`: the API is under `${apiUrl}/cfg/grpc/monitor/`. */
  readonly apiUrl: string;
  readonly dashboardUrl: string;
  /** The demo gRPC server's `host:port`, when the demo runs. */
  readonly grpcAddress: string | undefined;
  /** DynamoDB client config for `createGrpcMonitor({ dynamoDb })` or `new DynamoDBClient(...)`. */
  readonly dynamoDb: {
    endpoint: string;
    region: string;
    credentials: { accessKeyId: string; secretAccessKey: string };
  };
  readonly tableName: string;
  readonly statsTableName: string;
  /** The Deltas table: pass it to `createGrpcMonitor` with the RequestLog table's name. */
  readonly deltaTableName: string;
  readonly apiToken: string;
  /** True when the token was generated here (print it: nobody else knows it). */
  readonly apiTokenGenerated: boolean;
  /** Every alert published, in order. */
  readonly alerts: AlertMessage[];
  readonly config: MonitorConfig;
  readonly deps: MonitorDeps;
  /** The DynamoDB Local process this started (undefined when it reused `dynamoEndpoint`). */
  readonly dynamoDbLocalPid: number | undefined;
  /**
   * Why the DynamoDB Local this started listens on every interface, not 127.0.0.1 only (its
   * loopback launcher could not run); undefined when it is loopback-only or was not started here.
   */
  readonly dynamoDbExposed: string | undefined;
  /** aggregate: the Deltas stream; alert: the RequestLog stream. */
  readonly pollers: { readonly aggregate: StreamPoller; readonly alert: StreamPoller };
  /** Close passes run by the tick (failed ones included). */
  readonly closePasses: { count: number; failed: number };
  stop(): Promise<void>;
}

const REGION = 'local';
const CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

function resolveToken(option: string | undefined): { token: string; generated: boolean } {
  const given = option ?? process.env[ENV.apiToken];
  if (given) return { token: given, generated: false };
  return { token: randomBytes(18).toString('base64url'), generated: true };
}

function resolveConfig(options: LocalOptions): MonitorConfig {
  // A shared DynamoDB (tests) gets tables of its own, so runs never see each other's data.
  const id = options.dynamoEndpoint ? `-${randomUUID().slice(0, 8)}` : '';
  return {
    ...DEFAULTS,
    closeAfterMs: LOCAL_CLOSE_AFTER_MS,
    requestLogTable: `${DEFAULTS.requestLogTable}${id}`,
    statsTable: `${DEFAULTS.statsTable}${id}`,
    deltaTable: `${DEFAULTS.deltaTable}${id}`,
    ...options.config,
  };
}

/** Fails fast, before DynamoDB Local's seconds of start-up, when a port asked for is taken. */
async function checkPorts(options: LocalOptions): Promise<void> {
  const wanted: Array<[number | undefined, string]> = [
    [options.apiPort ?? 8000, 'API server (--api-port)'],
    [(options.demo ?? true) ? (options.grpcPort ?? 50051) : undefined, 'demo gRPC server (--grpc-port)'],
    [options.dynamoEndpoint ? undefined : options.dynamoPort, 'DynamoDB Local (--dynamo-port)'],
  ];
  for (const [port, what] of wanted) {
    if (port && !(await isPortFree(port))) throw new PortInUseError(port, what);
  }
}

export async function startLocal(options: LocalOptions = {}): Promise<LocalEnvironment> {
  // The SDK's "Node 22 soon" notice says nothing about a local run; tests set the same.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  await checkPorts(options);
  const log = options.log ?? ((line: string) => console.log(line));
  const { token, generated } = resolveToken(options.apiToken);
  const config = resolveConfig(options);
  const rules = options.alertRules ?? alertRulesFromEnv();
  const cleanups: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) {
      await cleanup().catch((error: unknown) => log(`[local] stopping: ${String(error)}`));
    }
  };

  let stopping: Promise<void> | undefined;
  try {
    let dynamo: DynamoDbLocal | undefined;
    if (!options.dynamoEndpoint) {
      dynamo = await startDynamoDbLocal({ port: options.dynamoPort, dataDir: options.dataDir });
      cleanups.push(() => dynamo!.stop());
      void dynamo.exited.then(({ stderr }) => {
        if (stopping) return;
        const error = new DynamoDbLocalError(
          `DynamoDB Local stopped unexpectedly${stderr ? `: ${stderr}` : ''}`,
        );
        if (options.onFatal) options.onFatal(error);
        else log(`error: ${error.message}`);
      });
    }
    const endpoint = options.dynamoEndpoint ?? dynamo!.endpoint;
    const dynamoDb = { endpoint, region: REGION, credentials: CREDENTIALS };

    const client = new DynamoDBClient(dynamoDb);
    cleanups.push(async () => client.destroy());
    await ensureTables(client, config);
    const deps: MonitorDeps = { ddb: documentClient(client), config, now: () => new Date() };

    const publisher = new MemoryPublisher({ print: options.printAlerts ?? true, log });
    const alertDeps: AlertDeps = {
      ...deps,
      publisher,
      rules,
      logError: (m, e) => log(`[alert] ${m}: ${String(e)}`),
    };
    const streams = streamsClient(dynamoDb);
    cleanups.push(async () => streams.destroy());
    const sourceOf = async (table: string) =>
      dynamoStreamSource({ streams, streamArn: await latestStreamArn(client, table), region: REGION });
    const pollerLog = (line: string) => log(line);
    // The single writer of Stats: the Deltas poller and the close-pass tick take turns, as
    // reserved concurrency 1 makes stream batches and the schedule take turns in AWS.
    const aggregateHandler = createAggregateHandler(deps, {
      logError: (message, details) => log(`[aggregate] ${message}: ${JSON.stringify(details)}`),
    });
    const runAggregate = serialized(aggregateHandler);
    const aggregate = startStreamPoller({
      name: 'aggregate',
      source: await sourceOf(config.deltaTable),
      settings: aggregateConsumer,
      handler: runAggregate as StreamHandler,
      log: pollerLog,
    });
    cleanups.push(() => aggregate.stop());
    const closePasses = { count: 0, failed: 0 };
    let closing: Promise<unknown> = Promise.resolve();
    let passing = false;
    const closeTick = setInterval(() => {
      if (passing) return; // a slow pass is not queued up behind: the next tick covers it
      passing = true;
      const context = lambdaContext('aggregate', `close-${closePasses.count + 1}`, 60_000);
      closing = runAggregate(scheduledEvent('aggregate-close-pass'), context)
        .catch((error: unknown) => {
          closePasses.failed += 1;
          log(`[aggregate] close pass failed: ${String(error)}`);
        })
        .finally(() => {
          closePasses.count += 1;
          passing = false;
        });
    }, options.closePassIntervalMs ?? 2_000);
    cleanups.push(async () => {
      clearInterval(closeTick);
      await closing;
    });
    const alert = startStreamPoller({
      name: 'alert',
      source: await sourceOf(config.requestLogTable),
      settings: alertConsumer,
      handler: createAlertHandler(alertDeps) as StreamHandler,
      log: pollerLog,
    });
    cleanups.push(() => alert.stop());
    // The stack's EventBridge schedule: window rules also resolve and report when no error arrives.
    const evaluateRules = createRuleEvaluationHandler(alertDeps);
    let evaluating: Promise<unknown> = Promise.resolve();
    const evaluation = setInterval(() => {
      evaluating = evaluateRules().catch((error: unknown) =>
        log(`[alert] scheduled rule evaluation failed: ${String(error)}`),
      );
    }, options.ruleEvaluationIntervalMs ?? 60_000);
    cleanups.push(async () => {
      clearInterval(evaluation);
      await evaluating;
    });

    const api: RunningApiServer = await startApiServer({
      port: options.apiPort ?? 8000,
      host: options.apiHost,
      handlers: await loadRouteHandlers(deps),
      authorizer: await loadAuthorizer(token),
    });
    cleanups.push(() => api.close());

    let demo: RunningDemo | undefined;
    if (options.demo ?? true) {
      demo = await startDemo({
        port: options.grpcPort ?? 50051,
        tableName: config.requestLogTable,
        deltaTableName: config.deltaTable,
        sampleSuccess: config.sampleSuccess,
        dynamoDb,
        slowThresholdMs: config.slowThresholdMs,
        callsPerSecond: options.demoCallsPerSecond,
        consoleLines:
          typeof options.demoConsole === 'function'
            ? options.demoConsole
            : options.demoConsole === false
              ? false
              : log,
      });
      cleanups.push(() => demo!.stop());
    }

    const uiPath = API_ROUTES.find((route) => route.name === 'ui')?.path ?? `${API_BASE_PATH}/ui/`;
    return {
      apiUrl: api.url,
      dashboardUrl: `${api.url}${uiPath}`,
      grpcAddress: demo?.address,
      dynamoDb,
      tableName: config.requestLogTable,
      statsTableName: config.statsTable,
      deltaTableName: config.deltaTable,
      apiToken: token,
      apiTokenGenerated: generated,
      alerts: publisher.messages,
      config,
      deps,
      dynamoDbLocalPid: dynamo?.pid,
      dynamoDbExposed: dynamo && !dynamo.loopbackOnly ? (dynamo.loopbackFallback ?? 'unknown') : undefined,
      pollers: { aggregate, alert },
      closePasses,
      stop: () => (stopping ??= stopAll()),
    };
  } catch (error) {
    await (stopping ??= stopAll());
    throw error;
  }
}

export { DynamoDbLocalError } from './dynamoDbLocal';
export { PortInUseError } from './apiServer';
