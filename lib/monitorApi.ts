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
import { API_BASE_PATH, type ApiRoute } from '../core/apiRoutes';
import { ENV } from '../core/config';
import { MonitorFunction } from './monitorFunction';
import { grantTableRead } from './tableAccess';

export interface MonitorApiProps {
  /** One route and one Lambda (`lambdas/api/<name>.ts`) per entry. */
  readonly routes: readonly ApiRoute[];
  /** Tables the route handlers read (Query, GetItem, BatchGetItem), with their GSIs or not. */
  readonly readTables: readonly { readonly table: ITable; readonly withIndexes: boolean }[];
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
 * HTTP API Gateway rejects route keys that end in `/`, so the contract's trailing-slash paths are
 * deployed without it: `/x` is the form the dashboard, the `next` links and the docs call. Reports
 * conflict on whether API Gateway also sends `/x/` to the `/x` route, so CONTRACT_SLASH_ROUTE
 * catches `/x/` when it does not.
 */
export function httpApiPath(path: string): string {
  return path.length > 1 ? path.replace(/\/+$/, '') : path;
}

/** Routes whose handler reads no table (the dashboard page): their Lambda gets no table grant. */
export const ROUTES_READING_NO_TABLE: ReadonlySet<string> = new Set(['ui']);

/**
 * A public greedy route to the dashboard page's Lambda (lambdas/api/ui.ts), which answers a
 * contract path with its trailing slash by a 308 to the deployed form (the token follows a
 * same-origin redirect), and 404 to anything else. Exact routes win over it, so it costs nothing
 * when API Gateway matches `/x/` to `/x` itself.
 */
export const CONTRACT_SLASH_ROUTE = `${API_BASE_PATH}/{proxy+}`;

/**
 * Response headers a cross-origin dashboard reads. With `corsAllowOrigins` API Gateway answers CORS
 * itself and ignores the Lambdas' CORS headers, so without these the CSV export stops after its
 * first part (`link`) and the file loses its name (`content-disposition`).
 */
export const CORS_EXPOSE_HEADERS: readonly string[] = [
  'link',
  'x-total-count',
  'retry-after',
  'content-disposition',
];

/**
 * Routes that sign paging cursors: `requests` signs them with a key from the cursor secret (a
 * value only the server knows, never the API token: a token holder could otherwise forge
 * cursors; lambdas/api/cursorKey.ts), so every container derives the same key and a `next` link
 * works on any of them.
 */
export const ROUTES_SIGNING_CURSORS: ReadonlySet<string> = new Set(['requests']);

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
  /** The key material of page cursors, generated at deploy, read by ROUTES_SIGNING_CURSORS only. */
  readonly cursorSecret: Secret;
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
    this.cursorSecret = new Secret(this, 'CursorKey', {
      description: 'gRPC Monitor API: key material of page cursors (server only)',
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
    });
    Validations.of(this.cursorSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Signs page cursors that live minutes; rotating it only makes open cursors start again at page 1, so a rotation schedule buys nothing.',
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
      // Decisions are cached per Authorization value. After a rotation the new token works at once
      // (the authorizer re-reads the secret before denying); the old one may keep working for up to
      // ~10 min: this cache plus the authorizer's TOKEN_CACHE_MS (README.md, "Deploy").
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
          exposeHeaders: [...CORS_EXPOSE_HEADERS],
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
      const signsCursors = ROUTES_SIGNING_CURSORS.has(route.name);
      const fn = new MonitorFunction(this, `Route-${route.name}`, {
        entry: `lambdas/api/${route.name}.ts`,
        description: `gRPC Monitor API: GET ${route.path}`,
        memorySize: 512,
        timeout: Duration.seconds(15),
        logRetention,
        environment: {
          ...props.environment,
          ...(signsCursors && { [ENV.cursorSecretId]: this.cursorSecret.secretArn }),
        },
      });
      if (!ROUTES_READING_NO_TABLE.has(route.name)) {
        for (const { table, withIndexes } of props.readTables) grantTableRead(fn.role, table, withIndexes);
      }
      if (signsCursors) this.cursorSecret.grantRead(fn.role);
      const integration = new HttpLambdaIntegration(`${route.name}Integration`, fn.function);
      const [httpRoute] = this.api.addRoutes({
        path: httpApiPath(route.path),
        methods: [HttpMethod.GET],
        integration,
        ...(!route.public && { authorizer }),
      });
      if (route.public && httpRoute) {
        Validations.of(httpRoute).acknowledge({
          id: 'AwsSolutions-APIG4',
          reason: `${route.path} is public by design: health checks and the dashboard page (which asks for the token) need no token; they reveal no call data.`,
        });
      }
      routeFunctions.set(route.name, fn);
      if (route.name === 'ui') {
        const [slashRoute] = this.api.addRoutes({
          path: CONTRACT_SLASH_ROUTE,
          methods: [HttpMethod.GET],
          integration,
        });
        if (slashRoute) {
          Validations.of(slashRoute).acknowledge({
            id: 'AwsSolutions-APIG4',
            reason: `${CONTRACT_SLASH_ROUTE} is public by design: it only redirects a contract path with a trailing slash to its route (which checks the token), and answers 404 to anything else.`,
          });
        }
      }
    }
    this.routeFunctions = routeFunctions;
  }
}
