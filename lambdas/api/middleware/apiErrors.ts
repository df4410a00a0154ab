import type { MiddlewareObj, Request } from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { toApiError } from './errors';

export interface ApiErrorsOptions {
  /** Where server-side failures (5xx) are logged; client errors are not logged. */
  readonly log?: (message: string, error: unknown) => void;
}

/**
 * onError: turns whatever was thrown into an error httpErrorHandler renders as our JSON body
 * (`{"error": {...}}`, with `expose` so 503s keep their message), the original kept as `cause`.
 */
export function apiErrors(
  options: ApiErrorsOptions = {},
): MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2> {
  const log = options.log ?? ((message, error) => console.error(message, error));
  const apiErrorsOnError = async (
    request: Request<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>,
  ) => {
    if (request.response !== undefined) return;
    const apiError = toApiError(request.error);
    if (apiError.statusCode >= 500) log(`${apiError.code}: ${request.event.rawPath ?? ''}`, request.error);
    request.error = Object.assign(new Error(JSON.stringify(apiError.toBody()), { cause: request.error }), {
      statusCode: apiError.statusCode,
      expose: true,
      headers: { ...apiError.headers, 'Cache-Control': 'no-store' },
    });
  };
  return { onError: apiErrorsOnError };
}
