import { randomUUID } from 'node:crypto';
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyResultV2,
  APIGatewayRequestAuthorizerEventV2,
  Context,
} from 'aws-lambda';
import type { ApiRoute } from '../core/apiRoutes';

/**
 * What API Gateway HTTP API (payload format 2.0) would hand a Lambda, built from a plain HTTP
 * request, so the local server can call the very handlers the stack deploys. Pure functions:
 * the node:http adapter is in apiServer.ts.
 */
export interface IncomingHttpRequest {
  readonly method: string;
  /** Path and query as received (`/cfg/grpc/monitor/requests/?page=2`). */
  readonly url: string;
  /** Node's `req.headers`: names already lowercased, repeats already joined. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body?: Buffer;
  readonly sourceIp: string;
}

/** A route of core/apiRoutes.ts with its path template compiled to a matcher. */
export interface RouteMatcher {
  readonly route: ApiRoute;
  readonly routeKey: string;
  match(path: string): Record<string, string> | undefined;
}

export const API_METHOD = 'GET';

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * `{request_id}` matches one path segment, as in API Gateway route syntax. Both forms of a path
 * answer: `/x`, the route the stack deploys (route keys cannot end in `/`, lib/monitorApi.ts
 * `httpApiPath`), and `/x/`, the contract's form; the handler gets the deployed route key.
 */
export function compileRoute(route: ApiRoute): RouteMatcher {
  const names: string[] = [];
  const deployedPath = route.path.length > 1 ? route.path.replace(/\/+$/, '') : route.path;
  const source = deployedPath
    .split(/(\{[A-Za-z0-9_]+\})/)
    .map((part) => {
      const param = /^\{([A-Za-z0-9_]+)\}$/.exec(part);
      if (!param) return escapeRegExp(part);
      names.push(param[1]!);
      return '([^/]+)';
    })
    .join('');
  const pattern = new RegExp(`^${source}/?$`);
  return {
    route,
    routeKey: `${API_METHOD} ${deployedPath}`,
    match(path) {
      const found = pattern.exec(path);
      if (!found) return undefined;
      return Object.fromEntries(names.map((name, i) => [name, safeDecode(found[i + 1]!)]));
    },
  };
}

/** The first route whose template matches; literal routes win over templated ones, as in API Gateway. */
export function findRoute(
  matchers: readonly RouteMatcher[],
  path: string,
): { matcher: RouteMatcher; pathParameters: Record<string, string> } | undefined {
  const ordered = [...matchers].sort(
    (a, b) => Number(a.route.path.includes('{')) - Number(b.route.path.includes('{')),
  );
  for (const matcher of ordered) {
    const pathParameters = matcher.match(path);
    if (pathParameters) return { matcher, pathParameters };
  }
  return undefined;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function splitUrl(url: string): { rawPath: string; rawQueryString: string } {
  const at = url.indexOf('?');
  return at < 0
    ? { rawPath: url, rawQueryString: '' }
    : { rawPath: url.slice(0, at), rawQueryString: url.slice(at + 1) };
}

/** API Gateway v2 joins repeated parameters with commas (`?a=1&a=2` → `{ a: '1,2' }`). */
export function queryParameters(rawQueryString: string): Record<string, string> | undefined {
  if (!rawQueryString) return undefined;
  const out: Record<string, string> = {};
  for (const [name, value] of new URLSearchParams(rawQueryString)) {
    out[name] = name in out ? `${out[name]},${value}` : value;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** Lowercased names, repeated values joined with commas; cookies travel in their own array. */
function eventHeaders(headers: IncomingHttpRequest['headers']): {
  headers: Record<string, string>;
  cookies: string[] | undefined;
} {
  const out: Record<string, string> = {};
  let cookies: string[] | undefined;
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const joined = Array.isArray(value) ? value.join(',') : value;
    if (name.toLowerCase() === 'cookie') {
      cookies = joined.split(/;\s*/).filter(Boolean);
      continue;
    }
    out[name.toLowerCase()] = joined;
  }
  return { headers: out, cookies };
}

const TEXT_TYPES = /^(text\/|application\/(json|x-www-form-urlencoded|xml|javascript))/i;

function eventBody(request: IncomingHttpRequest): { body?: string; isBase64Encoded: boolean } {
  if (!request.body || request.body.length === 0) return { isBase64Encoded: false };
  const type = String(request.headers['content-type'] ?? '');
  return TEXT_TYPES.test(type)
    ? { body: request.body.toString('utf8'), isBase64Encoded: false }
    : { body: request.body.toString('base64'), isBase64Encoded: true };
}

function requestContext(request: IncomingHttpRequest, routeKey: string, rawPath: string, now: Date) {
  const host = String(request.headers.host ?? 'localhost');
  return {
    accountId: '000000000000',
    apiId: 'local',
    domainName: host,
    domainPrefix: host.split('.')[0] ?? host,
    http: {
      method: request.method.toUpperCase(),
      path: rawPath,
      protocol: 'HTTP/1.1',
      sourceIp: request.sourceIp,
      userAgent: String(request.headers['user-agent'] ?? ''),
    },
    requestId: randomUUID(),
    routeKey,
    stage: '$default',
    time: now.toISOString(),
    timeEpoch: now.getTime(),
  };
}

/** The HTTP API (2.0) proxy event for a request that matched `routeKey`. */
export function toProxyEvent(
  request: IncomingHttpRequest,
  routeKey: string,
  pathParameters: Record<string, string>,
  now = new Date(),
): APIGatewayProxyEventV2 {
  const { rawPath, rawQueryString } = splitUrl(request.url);
  const { headers, cookies } = eventHeaders(request.headers);
  const queryStringParameters = queryParameters(rawQueryString);
  return {
    version: '2.0',
    routeKey,
    rawPath,
    rawQueryString,
    ...(cookies ? { cookies } : {}),
    headers,
    ...(queryStringParameters ? { queryStringParameters } : {}),
    ...(Object.keys(pathParameters).length > 0 ? { pathParameters } : {}),
    requestContext: requestContext(request, routeKey, rawPath, now),
    ...eventBody(request),
  };
}

/** The REQUEST authorizer event (2.0) with `$request.header.Authorization` as identity source. */
export function toAuthorizerEvent(proxyEvent: APIGatewayProxyEventV2): APIGatewayRequestAuthorizerEventV2 {
  const { requestContext: context } = proxyEvent;
  return {
    version: '2.0',
    type: 'REQUEST',
    routeArn: `arn:aws:execute-api:local:${context.accountId}:${context.apiId}/${context.stage}/${context.http.method}${proxyEvent.rawPath}`,
    identitySource: proxyEvent.headers.authorization ? [proxyEvent.headers.authorization] : [],
    routeKey: proxyEvent.routeKey,
    rawPath: proxyEvent.rawPath,
    rawQueryString: proxyEvent.rawQueryString,
    cookies: proxyEvent.cookies ?? [],
    headers: proxyEvent.headers,
    ...(proxyEvent.queryStringParameters ? { queryStringParameters: proxyEvent.queryStringParameters } : {}),
    ...(proxyEvent.pathParameters ? { pathParameters: proxyEvent.pathParameters } : {}),
    requestContext: context,
  };
}

/** What the HTTP server writes back. */
export interface HttpResponse {
  readonly statusCode: number;
  readonly headers: Record<string, string | string[]>;
  readonly body: Buffer;
}

/**
 * The HTTP response API Gateway makes of a handler's result: a string result is a 200 JSON
 * body, a structured one keeps its status, headers, cookies and (base64) body.
 */
export function fromProxyResult(result: APIGatewayProxyResultV2): HttpResponse {
  if (typeof result === 'string' || result === null || result === undefined) {
    return {
      statusCode: 200,
      headers: { 'content-type': 'application/json' },
      body: Buffer.from(typeof result === 'string' ? result : ''),
    };
  }
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(result.headers ?? {}))
    headers[name.toLowerCase()] = String(value);
  if (result.cookies?.length) headers['set-cookie'] = result.cookies;
  const raw = result.body ?? '';
  const body = result.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
  if (!headers['content-type'] && body.length > 0) headers['content-type'] = 'application/json';
  return { statusCode: result.statusCode ?? 200, headers, body };
}

/** API Gateway's own answers, in its own shapes. */
export function gatewayError(statusCode: 401 | 404 | 500 | 503, message: string): HttpResponse {
  return {
    statusCode,
    headers: { 'content-type': 'application/json' },
    body: Buffer.from(JSON.stringify({ message })),
  };
}

/** A Lambda context for one invocation with API Gateway's 30 s integration timeout. */
export function lambdaContext(functionName: string, requestId: string, timeoutMs = 30_000): Context {
  const deadline = Date.now() + timeoutMs;
  const fail = () => {
    throw new Error('the callback form of Lambda handlers is not supported locally');
  };
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: fail,
    fail,
    succeed: fail,
  };
}
