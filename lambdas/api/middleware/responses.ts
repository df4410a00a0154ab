import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { NotFoundError } from './errors';

/**
 * Bytes a response body may take. Lambda rejects a response payload over 6 MB (6,291,456
 * bytes), measured on the JSON it returns to API Gateway, where the body is a JSON string: so
 * quotes, backslashes and control characters count as their escapes (see envelopeBytes). The
 * margin leaves room for the status, headers and the envelope.
 */
export const MAX_RESPONSE_BYTES = 5_000_000;

/** Bytes `text` takes as the `body` string of Lambda's response JSON (UTF-8, escaped). */
export const envelopeBytes = (text: string): number => Buffer.byteLength(JSON.stringify(text)) - 2;

/**
 * The leading `items` whose JSON fits in `maxBytes` of a response body (as envelopeBytes
 * counts), and whether some were left out: lists whose length the data decides (services,
 * methods) stay under Lambda's response limit, busiest first.
 */
export function leadingThatFit<T>(
  items: readonly T[],
  maxBytes: number = MAX_RESPONSE_BYTES,
): { items: T[]; truncated: boolean } {
  let bytes = 1024;
  for (let i = 0; i < items.length; i++) {
    bytes += envelopeBytes(JSON.stringify(items[i])) + 1;
    if (bytes > maxBytes) return { items: items.slice(0, i), truncated: true };
  }
  return { items: [...items], truncated: false };
}

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
