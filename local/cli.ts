/**
 * `npm start`: the whole system on this machine (see docs/local.md). Starts startLocal() with
 * the flags below, prints where everything is, and stops everything on Ctrl-C.
 */
import { parseArgs } from 'node:util';
import { AlertRulesError } from '../core/alerts';
import { API_BASE_PATH } from '../core/apiRoutes';
import { ConfigError, ENV } from '../core/config';
import { PortInUseError } from './apiServer';
import { DynamoDbLocalError } from './dynamoDbLocal';
import { startLocal, type LocalEnvironment } from './index';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const USAGE = `Usage: npm start -- [options]

Runs gRPC Monitor on this machine: DynamoDB Local, the stream pollers, the monitor API and
dashboard, and a demo gRPC server with traffic.

Options:
  --api-port <port>     API and dashboard port (default 8000; 0 picks a free one)
  --grpc-port <port>    demo gRPC server port (default 50051)
  --dynamo-port <port>  DynamoDB Local port (default: a free one)
  --data-dir <dir>      keep DynamoDB Local's data in <dir> across runs (default: in memory)
  --token <token>       API bearer token (default: $${ENV.apiToken}, else a generated one)
  --no-demo             no demo gRPC server and traffic: point your own server at the tables
  --verbose             also print the demo's "call started" lines
  --quiet               print no per-call lines (alerts still print)
  -h, --help            this help`;

class UsageError extends Error {
  override name = 'UsageError';
}

function portFrom(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65_535)
    throw new UsageError(`${flag} must be a port number (0-65535), not "${value}"`);
  return port;
}

function parse() {
  try {
    const { values } = parseArgs({
      options: {
        'api-port': { type: 'string' },
        'grpc-port': { type: 'string' },
        'dynamo-port': { type: 'string' },
        'data-dir': { type: 'string' },
        token: { type: 'string' },
        'no-demo': { type: 'boolean', default: false },
        verbose: { type: 'boolean', default: false },
        quiet: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    });
    return values;
  } catch (error) {
    throw new UsageError(`${(error as Error).message} (see --help)`);
  }
}

/** The interceptor's lines, minus "call started" unless --verbose: one line per call reads better. */
function callLines(verbose: boolean, quiet: boolean): boolean | ((line: string) => void) {
  if (quiet) return false;
  if (verbose) return true;
  return (line) => {
    if (!line.includes('➡️')) console.log(line);
  };
}

/** DynamoDB Local takes any signature: on every interface, anyone who reaches it owns the data. */
function exposedWarning(env: LocalEnvironment): string[] {
  if (env.dynamoDbExposed === undefined) return [];
  const port = new URL(env.dynamoDb.endpoint).port;
  return [
    '',
    '  !!! WARNING: DynamoDB Local listens on EVERY network interface, without authentication:',
    `  !!! anyone who can reach port ${port} of this machine can read and change all monitor data.`,
    `  !!! (its loopback launcher could not run: ${env.dynamoDbExposed})`,
    `  !!! Fix: a Java with the jdk.compiler module (any JDK 17+, or Debian's openjdk-17-jre-headless),`,
    `  !!! or block the port: sudo iptables -I INPUT -p tcp --dport ${port} ! -i lo -j DROP (docs/local.md)`,
  ];
}

function banner(env: LocalEnvironment, dataDir: string | undefined): string {
  const api = `${env.apiUrl}${API_BASE_PATH}/`;
  const tokenNote = env.apiTokenGenerated ? `  (generated; fix it with --token or ${ENV.apiToken})` : '';
  const lines = [
    '',
    'gRPC Monitor is running on this machine',
    `  API        ${api}   (overview/ requests/ services/ methods/ timeline/ health/)`,
    `  Dashboard  ${env.dashboardUrl}`,
    `  Token      ${env.apiToken}${tokenNote}`,
    env.grpcAddress
      ? `  gRPC       ${env.grpcAddress}   (demo UserService and ProductService, with traffic)`
      : `  gRPC       no demo (--no-demo): point createGrpcMonitor at the tables below`,
    `  DynamoDB   ${env.dynamoDb.endpoint}   tables ${env.tableName}, ${env.statsTableName}, ${env.deltaTableName}${dataDir ? `, data in ${dataDir}` : ' (in memory)'}`,
    ...exposedWarning(env),
    '',
    'Try:',
    `  curl -H 'Authorization: Bearer ${env.apiToken}' ${api}overview/`,
    '',
    'Ctrl-C stops everything.',
    '',
  ];
  return lines.join('\n');
}

/** Errors a user can act on print as one line; anything else is a bug and keeps its stack. */
function explain(error: unknown): string {
  const known = [UsageError, PortInUseError, DynamoDbLocalError, ConfigError, AlertRulesError];
  if (known.some((kind) => error instanceof kind)) return `error: ${(error as Error).message}`;
  return `error: gRPC Monitor failed to start: ${(error as Error)?.stack ?? String(error)}`;
}

async function main(): Promise<void> {
  const values = parse();
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const options = {
    apiPort: portFrom(values['api-port'], '--api-port') ?? 8000,
    grpcPort: portFrom(values['grpc-port'], '--grpc-port') ?? 50051,
    dynamoPort: portFrom(values['dynamo-port'], '--dynamo-port'),
    dataDir: values['data-dir'],
    apiToken: values.token,
    demo: !values['no-demo'],
    demoConsole: callLines(values.verbose, values.quiet),
  };

  // Ctrl-C while starting: exiting is enough, DynamoDB Local's watchdog ends Java with us.
  const running: { env?: LocalEnvironment } = {};
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    const { env } = running;
    if (!env || stopping) {
      if (stopping) console.log('\nforced exit');
      process.exit(signal === 'SIGINT' ? 130 : 143);
    }
    stopping = true;
    console.log('\nstopping…');
    env.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(`error while stopping: ${String(error)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  console.log('starting DynamoDB Local, the stream pollers and the API…');
  const onFatal = (error: Error) => {
    console.error(explain(error));
    stopping = true;
    void (running.env?.stop() ?? Promise.resolve()).finally(() => process.exit(1));
  };
  running.env = await startLocal({ ...options, onFatal });
  console.log(banner(running.env, options.dataDir));
}

main().catch((error: unknown) => {
  console.error(explain(error));
  process.exit(1);
});
