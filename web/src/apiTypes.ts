/**
 * The monitor API's JSON as the dashboard reads it: the seed's shapes, with the extra fields the
 * API may add marked optional. The page tolerates missing extras (it shows `—`).
 */

export interface ApiUser {
  id: string | number;
  username: string;
}

export interface OverviewResponse {
  total_requests: number;
  successful_requests: number;
  error_requests: number;
  success_rate: number;
  avg_duration_ms: number | null;
  p95_duration_ms: number | null;
  timeout_requests?: number;
  cancelled_requests?: number;
  /** Requests per second over the window, and over the last minute. */
  requests_per_second?: number;
  requests_per_second_last_minute?: number;
  top_services?: Array<{ service_name: string; total_requests: number; success_rate: number }>;
  top_methods?: Array<{ method_name: string; total_requests: number; avg_duration_ms: number | null }>;
  recent_errors?: Array<{
    request_id: string;
    service_name: string;
    method_name: string;
    error_message: string | null;
    grpc_status_code?: string | null;
    created_at: string;
  }>;
  /** Log sampling in force: counts stay exact; the request list holds `logged_requests`. */
  sampling?: { enabled: boolean; success_rate: number; logged_requests?: number };
}

export interface RequestRow {
  request_id: string;
  /** The client's own `x-request-id`, when it sent one. */
  client_request_id?: string | null;
  service_name: string;
  method_name: string;
  full_method?: string;
  status: string;
  grpc_status_code?: string | null;
  duration_ms: number | null;
  request_size?: number | null;
  response_size?: number | null;
  user?: ApiUser | null;
  client_ip?: string | null;
  created_at: string;
}

/** `/requests/{id}/`: the full record. */
export interface RequestDetail extends RequestRow {
  request_messages?: number | null;
  response_messages?: number | null;
  user_agent?: string | null;
  peer?: string | null;
  error_message?: string | null;
  error_details?: unknown;
  deadline_ms?: number | null;
  trace_id?: string | null;
  updated_at?: string | null;
}

export interface RequestsResponse {
  /** Null when the API could not count within its read bound (`count_is_partial`). */
  count: number | null;
  count_is_partial?: boolean;
  /** The read bound or the size limit ended the page early; `next` goes on from there. */
  partial?: boolean;
  next: string | null;
  previous: string | null;
  results: RequestRow[];
}

export interface ScopeFigures {
  total_requests: number;
  successful_requests?: number;
  error_requests?: number;
  success_rate?: number;
  avg_duration_ms: number | null;
  p95_duration_ms?: number | null;
}

export interface ServiceFigures extends ScopeFigures {
  service_name: string;
  methods?: Array<ScopeFigures & { method_name: string }>;
}

export interface ServicesResponse {
  services: ServiceFigures[];
}

export interface MethodFigures extends ScopeFigures {
  method_name: string;
  service_name?: string;
}

export interface MethodsResponse {
  methods: MethodFigures[];
}

export interface TimelineHour {
  hour: string;
  total_requests: number;
  successful_requests?: number;
  error_requests: number;
  avg_duration_ms: number | null;
}

export interface TimelineResponse {
  timeline: TimelineHour[];
}

export interface ServerHealth {
  running: boolean;
  host?: string | null;
  port?: number | null;
  instance_id?: string;
  started_at?: string;
  last_seen?: string | null;
  /** The interceptor's writer counters (recorded + dropped = calls seen). */
  writer?: {
    enqueued: number;
    written: number;
    dropped: number;
    retried?: number;
    failed?: number;
    queued?: number;
  };
}

export interface HealthResponse {
  status: string;
  grpc_server?: ServerHealth | null;
  servers?: ServerHealth[];
  last_request?: string | null;
  requests_last_hour?: number;
  error_rate_last_hour?: number;
  /** Seconds the statistics trail the newest finished call. */
  ingestion_lag_seconds?: number;
  checked_at?: string;
}

export interface ApiErrorBody {
  error?: { code?: string; message?: string; field?: string | null };
  message?: string;
}
