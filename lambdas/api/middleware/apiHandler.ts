import middy from '@middy/core';
import httpCors from '@middy/http-cors';
import httpErrorHandler from '@middy/http-error-handler';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { apiErrors, type ApiErrorsOptions } from './apiErrors';

export type ApiEvent = APIGatewayProxyEventV2;
export type ApiResult = APIGatewayProxyStructuredResultV2;
export type ApiLambda = (event: ApiEvent, context: Context) => Promise<ApiResult>;

/**
 * Wraps an endpoint in the middleware every endpoint shares: lower-case headers, CORS on every
 * answer (errors included: httpCors is used before httpErrorHandler so its `after`/`onError`
 * runs last), and errors rendered as `{"error": {...}}` with the right status.
 */
export function apiHandler(
  endpoint: (event: ApiEvent) => Promise<ApiResult>,
  options: ApiErrorsOptions = {},
): ApiLambda {
  const wrapped = middy<ApiEvent, ApiResult>({ timeoutEarlyInMillis: 0 })
    .use(httpHeaderNormalizer())
    .use(
      httpCors({
        origin: '*',
        headers: 'Authorization,Content-Type',
        methods: 'GET,OPTIONS',
        exposeHeaders: 'Link,X-Total-Count,Retry-After',
      }),
    )
    .use(httpErrorHandler({ logger: false }))
    .use(apiErrors(options))
    .handler((event) => endpoint(event));
  return (event, context) => wrapped(event, context);
}
