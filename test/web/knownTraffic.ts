/**
 * Known traffic for the dashboard tests: deterministic records covering every status, every
 * duration band, users and anonymous calls, errors with messages and details.
 */
import type { RequestLogRecord, RequestStatus } from '../../core/record';

const SERVICES: Array<[string, string[]]> = [
  ['UserService', ['GetUser', 'UpdateProfile']],
  ['ProductService', ['GetProduct', 'ListProducts']],
];
const STATUS_CYCLE: RequestStatus[] = [
  'success',
  'success',
  'error',
  'success',
  'timeout',
  'success',
  'cancelled',
  'success',
  'pending',
];

/** `count` deterministic records, newest first, spread over the last `hours` hours before `now`. */
export function fixtureRecords(count: number, now = new Date(), hours = 6): RequestLogRecord[] {
  const out: RequestLogRecord[] = [];
  for (let i = 0; i < count; i++) {
    const [service, methods] = SERVICES[i % SERVICES.length]!;
    const method = methods[Math.floor(i / SERVICES.length) % methods.length]!;
    const status = STATUS_CYCLE[i % STATUS_CYCLE.length]!;
    const created = new Date(now.getTime() - Math.floor(((i + 0.5) / count) * hours * 3_600_000));
    const duration = status === 'pending' ? null : [12.5, 150, 2400.25, 80, 999][i % 5]!;
    out.push({
      request_id: `0190${String(i).padStart(4, '0')}-aaaa-7bbb-8ccc-${String(1e11 + i)}`,
      service_name: service,
      method_name: method,
      full_method: `/api.${service.toLowerCase()}.${service}/${method}`,
      status,
      grpc_status_code: {
        success: 'OK',
        error: 'NOT_FOUND',
        timeout: 'DEADLINE_EXCEEDED',
        cancelled: 'CANCELLED',
        pending: null,
      }[status],
      duration_ms: duration,
      request_size: 100 * i,
      response_size: 2048 * i,
      request_messages: 1,
      response_messages: status === 'success' ? 1 : 0,
      user: i % 3 === 0 ? { id: i % 2 ? 7 : 1, username: i % 2 ? 'alice' : 'admin' } : null,
      client_ip: `10.0.0.${i % 250}`,
      user_agent: 'grpc-node-js/1.14.0',
      peer: `ipv4:10.0.0.${i % 250}:5${String(i).padStart(4, '0')}`,
      error_message: status === 'error' ? `User ${i} not found` : null,
      error_details: status === 'error' ? { code: 5, details: `User ${i} not found` } : null,
      deadline_ms: status === 'timeout' ? 1000 : null,
      trace_id: null,
      created_at: created.toISOString(),
      updated_at: created.toISOString(),
      expires_at: Math.floor(now.getTime() / 1000) + 86400,
    });
  }
  return out;
}
