import { resolve } from 'node:path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
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
