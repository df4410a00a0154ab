import { resolve } from 'node:path';
import { Duration, RemovalPolicy, Token, Tokenization } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** The repository root: handler entries, package-lock.json and tsconfig.json are found from here. */
export const PROJECT_ROOT = resolve(import.meta.dirname, '..');

/** Every monitor Lambda runs on this runtime (the newest Node.js Lambda offers, as cdk-nag L1 asks). */
export const MONITOR_RUNTIME = Runtime.NODEJS_24_X;

/**
 * The handlers are ESM TypeScript. esbuild bundles them as ESM (`.mjs`) with a `require` shim
 * for the CommonJS dependencies that call it, and bundles the AWS SDK so the deployed code runs
 * the SDK version the tests ran.
 */
const ESM_REQUIRE_BANNER =
  "import { createRequire as __monitorCreateRequire } from 'node:module'; const require = __monitorCreateRequire(import.meta.url);";

/** Lambda refuses a function whose environment variables (names and values) total more than 4 KB. */
export const LAMBDA_ENVIRONMENT_MAX_BYTES = 4 * 1024;

/**
 * What a value known only at deploy (a table name, a topic ARN) is counted as: table names
 * are at most 255 characters, so the check errs on the side of refusing at synth what could
 * fail at deploy.
 */
export const DEPLOY_TIME_VALUE_BYTES = 256;

/** The environment's size as Lambda counts it (UTF-8 bytes of every name and value), deploy-time values at their bound. */
export function environmentBytes(environment: Readonly<Record<string, string>>): number {
  let bytes = 0;
  for (const [name, value] of Object.entries(environment)) {
    bytes += Buffer.byteLength(name) + valueBytes(value);
  }
  return bytes;
}

function valueBytes(value: string): number {
  if (!Token.isUnresolved(value)) return Buffer.byteLength(value);
  const fragments = Tokenization.reverseString(value);
  const literals: unknown = fragments
    .mapTokens({ mapToken: () => '' })
    .join({ join: (left: unknown, right: unknown) => `${String(left)}${String(right)}` });
  return Buffer.byteLength(String(literals ?? '')) + fragments.tokens.length * DEPLOY_TIME_VALUE_BYTES;
}

export class LambdaEnvironmentTooLargeError extends Error {
  override name = 'LambdaEnvironmentTooLargeError';
}

/** Throws, at synth, what `cdk deploy` would otherwise learn from Lambda after minutes of deploying. */
export function checkEnvironmentSize(
  functionPath: string,
  environment: Readonly<Record<string, string>>,
): void {
  const total = environmentBytes(environment);
  if (total <= LAMBDA_ENVIRONMENT_MAX_BYTES) return;
  const largest = Object.entries(environment)
    .map(([name, value]) => ({ name, bytes: Buffer.byteLength(name) + valueBytes(value) }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, 3)
    .map(({ name, bytes }) => `${name} ${bytes.toLocaleString('en-US')} bytes`)
    .join(', ');
  const rules =
    'GRPC_MONITOR_ALERT_RULES' in environment
      ? ' GRPC_MONITOR_ALERT_RULES holds the alert rules (context alertRules merged over the defaults) as JSON: shorten p95Latency.methodLimitsMs and the perError services and codes lists.'
      : '';
  throw new LambdaEnvironmentTooLargeError(
    `${functionPath}: its environment variables take about ${total.toLocaleString('en-US')} bytes ` +
      `(values known only at deploy counted as ${DEPLOY_TIME_VALUE_BYTES}), over Lambda's limit of ` +
      `${LAMBDA_ENVIRONMENT_MAX_BYTES.toLocaleString('en-US')} bytes for all of them together. ` +
      `Largest: ${largest}.${rules}`,
  );
}

export interface MonitorFunctionProps {
  /** Handler module relative to the repository root (e.g. `lambdas/aggregate/index.ts`). */
  readonly entry: string;
  /** The module's export to invoke. @default 'handler' */
  readonly handler?: string;
  /** @default - none */
  readonly description?: string;
  /** @default {} */
  readonly environment?: Readonly<Record<string, string>>;
  /** @default 256 */
  readonly memorySize?: number;
  /** @default Duration.seconds(10) */
  readonly timeout?: Duration;
  /** Concurrency reserved for (and capping) the function. @default - unreserved */
  readonly reservedConcurrentExecutions?: number;
  /** How long the function's log group keeps events. @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
  /** What happens to the log group when the stack is deleted. @default RemovalPolicy.DESTROY */
  readonly logRemovalPolicy?: RemovalPolicy;
}

/**
 * A monitor Lambda: NodejsFunction bundled by the local esbuild (a dev dependency: without it
 * installed, CDK falls back to bundling in Docker, so deploy after a full `npm ci`), ARM64, its own
 * log group with a retention, and its own role that may only write to that log group until the
 * caller grants more (no AWSLambdaBasicExecutionRole, whose log permissions cover every group).
 */
export class MonitorFunction extends Construct {
  readonly function: NodejsFunction;
  readonly role: Role;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: MonitorFunctionProps) {
    super(scope, id);
    checkEnvironmentSize(this.node.path, props.environment ?? {});
    this.logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.DESTROY,
    });
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Runs ${props.entry}`,
    });
    this.logGroup.grantWrite(this.role);
    this.function = new NodejsFunction(this, 'Function', {
      entry: resolve(PROJECT_ROOT, props.entry),
      handler: props.handler ?? 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: resolve(PROJECT_ROOT, 'package-lock.json'),
      runtime: MONITOR_RUNTIME,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout ?? Duration.seconds(10),
      ...(props.reservedConcurrentExecutions !== undefined && {
        reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      }),
      role: this.role,
      logGroup: this.logGroup,
      ...(props.description !== undefined && { description: props.description }),
      environment: { ...props.environment },
      bundling: {
        forceDockerBundling: false,
        format: OutputFormat.ESM,
        target: 'node24',
        mainFields: ['module', 'main'],
        banner: ESM_REQUIRE_BANNER,
        bundleAwsSDK: true,
        minify: true,
        keepNames: true,
        tsconfig: resolve(PROJECT_ROOT, 'tsconfig.json'),
      },
    });
  }
}
