import type { APIGatewayProxyEventV2, APIGatewayRequestAuthorizerEventV2, Context } from 'aws-lambda';

/** A GET as API Gateway HTTP API (payload 2.0) hands it to a Lambda. */
export function apiEvent(
  path: string,
  options: {
    query?: string;
    headers?: Record<string, string>;
    pathParameters?: Record<string, string>;
    routeKey?: string;
  } = {},
): APIGatewayProxyEventV2 {
  const [rawPath, inlineQuery] = path.split('?') as [string, string | undefined];
  const rawQueryString = options.query ?? inlineQuery ?? '';
  const params: Record<string, string> = {};
  for (const [name, value] of new URLSearchParams(rawQueryString)) {
    params[name] = name in params ? `${params[name]},${value}` : value;
  }
  const now = new Date();
  return {
    version: '2.0',
    routeKey: options.routeKey ?? `GET ${rawPath}`,
    rawPath,
    rawQueryString,
    headers: { host: 'api.example.com', 'user-agent': 'test', ...options.headers },
    ...(rawQueryString && { queryStringParameters: params }),
    ...(options.pathParameters && { pathParameters: options.pathParameters }),
    requestContext: {
      accountId: '123456789012',
      apiId: 'api',
      domainName: 'api.example.com',
      domainPrefix: 'api',
      http: {
        method: 'GET',
        path: rawPath,
        protocol: 'HTTP/1.1',
        sourceIp: '203.0.113.9',
        userAgent: 'test',
      },
      requestId: 'req',
      routeKey: options.routeKey ?? `GET ${rawPath}`,
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    isBase64Encoded: false,
  };
}

/** The authorizer's event (payload 2.0) for a request with these headers. */
export function authorizerEvent(headers: Record<string, string>): APIGatewayRequestAuthorizerEventV2 {
  const base = apiEvent('/cfg/grpc/monitor/overview/', { headers });
  return {
    version: '2.0',
    type: 'REQUEST',
    routeArn: 'arn:aws:execute-api:eu-west-1:123456789012:api/$default/GET/cfg/grpc/monitor/overview/',
    identitySource: headers.authorization ? [headers.authorization] : [],
    routeKey: base.routeKey,
    rawPath: base.rawPath,
    rawQueryString: base.rawQueryString,
    headers: base.headers as Record<string, string>,
    requestContext: base.requestContext,
  } as APIGatewayRequestAuthorizerEventV2;
}

export const lambdaContext = { getRemainingTimeInMillis: () => 30_000 } as unknown as Context;
