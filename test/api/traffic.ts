import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { MonitorConfig } from '../../core/config';
import type { RequestLogRecord, RequestStatus } from '../../core/record';
import { toRequestLogItem } from '../../core/requestLogItem';
import { truthCallOf } from '../aggregate/groundTruth';
import { aggregateCalls } from '../aggregate/seedStats';
import { putAll } from '../harness/putAll';

export const CALLS = [
  ['UserService', 'GetUser'],
  ['UserService', 'UpdateProfile'],
  ['ProductService', 'GetProduct'],
  ['ProductService', 'ListProducts'],
  ['OrderService', 'CreateOrder'],
] as const;

const CODE: Record<RequestStatus, string | null> = {
  pending: null,
  success: 'OK',
  error: 'NOT_FOUND',
  timeout: 'DEADLINE_EXCEEDED',
  cancelled: 'CANCELLED',
};

/**
 * `count` calls, deterministic, spread evenly (newest first) from `now` back over `spanHours`:
 * five methods of three services, ~10 % errors, timeouts, cancellations, a few pending calls,
 * users for two calls in three, and varied durations, client IPs and error messages.
 */
export function knownTraffic(now: Date, count: number, spanHours: number): RequestLogRecord[] {
  const step = (spanHours * 3_600_000) / count;
  return Array.from({ length: count }, (_, i) => {
    const [service, method] = CALLS[(i * 7) % CALLS.length]!;
    const status: RequestStatus =
      i % 41 === 5
        ? 'pending'
        : i % 10 === 3
          ? 'error'
          : i % 17 === 4
            ? 'timeout'
            : i % 23 === 6
              ? 'cancelled'
              : 'success';
    const created = new Date(now.getTime() - 1000 - Math.floor(i * step)).toISOString();
    const final = status !== 'pending';
    return {
      request_id: `0199${String(i).padStart(6, '0')}-${(i * 2654435761) % 100000}`,
      service_name: service,
      method_name: method,
      full_method: `/api.shop.${service}/${method}`,
      status,
      grpc_status_code: CODE[status],
      duration_ms: final ? Math.round((((i * 37) % 500) + 1 + (i % 7) * 0.25) * 100) / 100 : null,
      request_size: 10 + (i % 50),
      response_size: 100 + (i % 300),
      request_messages: 1,
      response_messages: final ? 1 : 0,
      user: i % 3 === 0 ? null : { id: i % 5, username: `user${i % 5}` },
      client_ip: `10.0.${i % 3}.${i % 20}`,
      user_agent: 'grpc-node-js/1.14',
      peer: `ipv4:10.0.0.${i % 20}:5${String(i % 1000).padStart(4, '0')}`,
      error_message: status === 'error' ? `Order ${i} not found` : null,
      error_details: status === 'error' ? { order: i } : null,
      deadline_ms: null,
      trace_id: null,
      created_at: created,
      updated_at: created,
      expires_at: Math.floor(Date.now() / 1000) + 30 * 86_400,
    };
  });
}

/**
 * Writes the calls to RequestLog (BatchWriteItem, as the interceptor does) and their deltas to
 * the Deltas table (as the monitors do), and feeds the deltas' stream records and a close pass
 * to the real aggregate handler, which fills Stats.
 */
export async function record(
  ddb: DynamoDBDocumentClient,
  config: MonitorConfig,
  calls: readonly RequestLogRecord[],
  { aggregate = true }: { aggregate?: boolean } = {},
): Promise<void> {
  await putAll(
    ddb,
    config.requestLogTable,
    calls.map((c) => toRequestLogItem(c, config)),
  );
  if (!aggregate) return;
  // Every final call into Stats as the monitors' deltas and the aggregator make them.
  const final = calls.filter((c) => c.status !== 'pending');
  await aggregateCalls(ddb, config, final.map(truthCallOf));
}
