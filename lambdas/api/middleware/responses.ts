import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { NotFoundError } from './errors';

/** A JSON response (monitoring data is live: never cached). */
export function json(
  body: unknown,
  statusCode = 200,
  headers: Record<string, string> = {},
): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode,
    headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...headers },
    body: JSON.stringify(body),
  };
}

/** The 404 for a path no route matches (the local HTTP server answers unknown routes with it). */
export function notFound(path = ''): APIGatewayProxyStructuredResultV2 {
  const error = new NotFoundError(path ? `No route for ${path}` : 'Not found');
  return json(error.toBody(), 404);
}
