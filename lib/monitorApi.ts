import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  CorsHttpMethod,
  HttpApi,
  HttpMethod,
  HttpStage,
  LogGroupLogDestination,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaAuthorizer, HttpLambdaResponseType } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { ApiRoute } from '../core/apiRoutes';
import { ENV } from '../core/config';
import { MonitorFunction } from './monitorFunction';
import { grantPackedHistogramWrite, grantTableRead } from './tableAccess';

export interface MonitorApiProps {
  /** One route and one Lambda (`lambdas/api/<name>.ts`) per entry. */
  readonly routes: readonly ApiRoute[];
  /** Tables the route handlers read (Query, GetItem, BatchGetItem), with their GSIs or not. */
  readonly readTables: readonly { readonly table: ITable; readonly withIndexes: boolean }[];
  /**
   * The Stats table, for the routes in ROUTES_PACKING_HISTOGRAMS: they may PutItem there
   * (packed histogram copies, nothing else).
   */
  readonly statsTable: ITable;
  /** Environment of every route handler (the monitor config). */
  readonly environment: Readonly<Record<string, string>>;
  /** Secrets Manager name of the bearer token, generated at deploy. @default 'grpc-monitor/api-token' */
  readonly tokenSecretName?: string;
  /** Browser origins allowed by CORS; empty answers no preflight. @default [] */
  readonly corsAllowOrigins?: readonly string[];
  /** Steady-state requests per second for the whole stage. @default 50 */
  readonly throttleRate?: number;
  /** Burst for the whole stage. @default 100 */
  readonly throttleBurst?: number;
  /** Lambda and access log retention. @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
}

/**
 * HTTP API Gateway rejects route keys that end in `/` and routes `/x/` to the `/x` route, so the
 * contract's trailing-slash paths are deployed without it and still answer at `/x/`.
 */
export function httpApiPath(path: string): string {
  return path.length > 1 ? path.replace(/\/+$/, '') : path;
}

/** Routes whose handler reads no table (the dashboard page): their Lambda gets no table grant. */
export const ROUTES_READING_NO_TABLE: ReadonlySet<string> = new Set(['ui']);

/**
 * Routes whose handler reads the API token besides the authorizer: `requests` signs its paging
 * cursors with a key derived from the token (lambdas/api/auth/apiToken.ts `cursorKeyFrom`), so
 * every container must derive the same key, or a `next` link fails on another container.
 */
export const ROUTES_READING_TOKEN: ReadonlySet<string> = new Set(['requests']);

/**
 * Routes whose reads write packed copies of closed buckets' ALL histograms to Stats (core/query
 * `readCountersWithOverallHistogram`), so a 24 h overview costs the same whatever the traffic.
 */
export const ROUTES_PACKING_HISTOGRAMS: ReadonlySet<string> = new Set(['overview']);

/** Access log line: JSON with the request id (API Gateway requires it) and what triage needs. */
const ACCESS_LOG_FORMAT = JSON.stringify({
  requestId: '$context.requestId',
  ip: '$context.identity.sourceIp',
  requestTime: '$context.requestTime',
  routeKey: '$context.routeKey',
  status: '$context.status',
  responseLength: '$context.responseLength',
  integrationLatency: '$context.integrationLatency',
  integrationError: '$context.integrationErrorMessage',
  authorizerError: '$context.authorizer.error',
});

/**
 * The monitor REST API: an HTTP API with one GET route per endpoint, each its own Lambda; all
 * but public routes go through a Lambda authorizer (simple responses) that compares the bearer
 * token with the one kept in Secrets Manager. Stage-wide throttling and JSON access logs.
 */
export class MonitorApi extends Construct {
  readonly api: HttpApi;
  readonly stage: HttpStage;
  readonly tokenSecret: Secret;
  readonly authorizerFunction: MonitorFunction;
  /** Route handlers by route name. */
  readonly routeFunctions: ReadonlyMap<string, MonitorFunction>;
  readonly accessLogs: LogGroup;
  /** Base URL of the API (no trailing slash). */
  readonly url: string;

  constructor(scope: Construct, id: string, props: MonitorApiProps) {
    super(scope, id);
    const logRetention = props.logRetention ?? RetentionDays.ONE_MONTH;
    const origins = props.corsAllowOrigins ?? [];

    this.tokenSecret = new Secret(this, 'Token', {
      secretName: props.tokenSecretName ?? 'grpc-monitor/api-token',
      description: 'Bearer token of the gRPC Monitor API',
      generateSecretString: { passwordLength: 48, excludePunctuation: true },
    });
    this.authorizerFunction = new MonitorFunction(this, 'Authorizer', {
      entry: 'lambdas/api/authorizer.ts',
      description: 'gRPC Monitor API: checks the bearer token',
      memorySize: 256,
      timeout: Duration.seconds(5),
      logRetention,
      environment: { [ENV.apiTokenSecret]: this.tokenSecret.secretArn },
    });
    this.tokenSecret.grantRead(this.authorizerFunction.role);
    Validations.of(this.tokenSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'A static bearer token shared with dashboard users and scripts: rotation means handing them the new value, so it is rotated by hand (README.md, "Deploy"), not on a schedule.',
    });
    const authorizer = new HttpLambdaAuthorizer('BearerToken', this.authorizerFunction.function, {
      responseTypes: [HttpLambdaResponseType.SIMPLE],
      identitySource: ['$request.header.Authorization'],
      // Decisions are cached per Authorization value: a rotated token works everywhere within 5 min.
      resultsCacheTtl: Duration.minutes(5),
    });

    this.api = new HttpApi(this, 'Api', {
      apiName: `${Stack.of(this).stackName}-api`,
      description: 'gRPC Monitor API',
      createDefaultStage: false,
      ...(origins.length > 0 && {
        corsPreflight: {
          allowOrigins: [...origins],
          allowMethods: [CorsHttpMethod.GET, CorsHttpMethod.OPTIONS],
          allowHeaders: ['authorization', 'content-type', 'x-request-id'],
          maxAge: Duration.hours(1),
        },
      }),
    });
    this.accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stage = new HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: props.throttleRate ?? 50, burstLimit: props.throttleBurst ?? 100 },
      accessLogSettings: {
        destination: new LogGroupLogDestination(this.accessLogs),
        format: AccessLogFormat.custom(ACCESS_LOG_FORMAT),
      },
    });
    this.url = this.api.apiEndpoint;

    const routeFunctions = new Map<string, MonitorFunction>();
    for (const route of props.routes) {
      const readsToken = ROUTES_READING_TOKEN.has(route.name);
      const fn = new MonitorFunction(this, `Route-${route.name}`, {
        entry: `lambdas/api/${route.name}.ts`,
        description: `gRPC Monitor API: GET ${route.path}`,
        memorySize: 512,
        timeout: Duration.seconds(15),
        logRetention,
        environment: {
          ...props.environment,
          ...(readsToken && { [ENV.apiTokenSecret]: this.tokenSecret.secretArn }),
        },
      });
      if (!ROUTES_READING_NO_TABLE.has(route.name)) {
        for (const { table, withIndexes } of props.readTables) grantTableRead(fn.role, table, withIndexes);
      }
      if (ROUTES_PACKING_HISTOGRAMS.has(route.name)) grantPackedHistogramWrite(fn.role, props.statsTable);
      if (readsToken) this.tokenSecret.grantRead(fn.role);
      const [httpRoute] = this.api.addRoutes({
        path: httpApiPath(route.path),
        methods: [HttpMethod.GET],
        integration: new HttpLambdaIntegration(`${route.name}Integration`, fn.function),
        ...(!route.public && { authorizer }),
      });
      if (route.public && httpRoute) {
        Validations.of(httpRoute).acknowledge({
          id: 'AwsSolutions-APIG4',
          reason: `${route.path} is public by design: health checks and the dashboard page (which asks for the token) need no token; they reveal no call data.`,
        });
      }
      routeFunctions.set(route.name, fn);
    }
    this.routeFunctions = routeFunctions;
  }
}
