import type { RequestStatus, RequestUser } from '../record';
import { fromRequestLogItem } from '../requestLogItem';

/**
 * One row of a request list: the seed's /requests/ result fields, plus the error message and
 * the client's own `x-request-id` (`client_request_id`, null when it sent none).
 */
export interface RequestSummary {
  request_id: string;
  client_request_id: string | null;
  service_name: string;
  method_name: string;
  full_method: string;
  status: RequestStatus;
  grpc_status_code: string | null;
  duration_ms: number | null;
  request_size: number;
  response_size: number;
  user: RequestUser | null;
  client_ip: string | null;
  error_message: string | null;
  created_at: string;
}

/** The client's `x-request-id` as stored (issue 17: the key is always the server's own id). */
export const clientRequestId = (item: Record<string, unknown>): string | null =>
  typeof item.client_request_id === 'string' ? item.client_request_id : null;

/** A GSI row (the list projection) → a list row. */
export function toRequestSummary(item: Record<string, unknown>): RequestSummary {
  const r = fromRequestLogItem(item);
  return {
    request_id: r.request_id,
    client_request_id: clientRequestId(item),
    service_name: r.service_name,
    method_name: r.method_name,
    full_method: r.full_method,
    status: r.status,
    grpc_status_code: r.grpc_status_code,
    duration_ms: r.duration_ms,
    request_size: r.request_size,
    response_size: r.response_size,
    user: r.user,
    client_ip: r.client_ip,
    error_message: r.error_message,
    created_at: r.created_at,
  };
}
