/** The five statuses of the seed. `pending` while a call runs; the other four are final. */
export const REQUEST_STATUSES = ['pending', 'success', 'error', 'cancelled', 'timeout'] as const;
export type RequestStatus = (typeof REQUEST_STATUSES)[number];
export type FinalStatus = Exclude<RequestStatus, 'pending'>;
export const FINAL_STATUSES: readonly FinalStatus[] = ['success', 'error', 'cancelled', 'timeout'];

/** The caller, as a pluggable resolver reports it. */
export interface RequestUser {
  id: string | number;
  username: string;
}

/**
 * One gRPC call, as stored in the RequestLog table (snake_case, as the seed).
 * This is the contract users, the API and the dashboard rely on.
 */
export interface RequestLogRecord {
  /** The server's UUIDv7 for the call: the item's key. */
  request_id: string;
  /**
   * The client's `x-request-id` when it sent a sane one (searchable, echoed back); else null.
   * Optional: records written before it existed have none.
   */
  client_request_id?: string | null;
  service_name: string;
  method_name: string;
  full_method: string;
  status: RequestStatus;
  /** gRPC code NAME (`OK`, `NOT_FOUND`); null while pending. */
  grpc_status_code: string | null;
  /** Milliseconds, 2 decimals; null while pending. */
  duration_ms: number | null;
  /** Serialized bytes, summed over every message of the call. */
  request_size: number;
  response_size: number;
  request_messages: number;
  response_messages: number;
  user: RequestUser | null;
  client_ip: string | null;
  /** `x-forwarded-for` as received (the right-most LIMITS.forwardedFor characters); absent when the call carried none. */
  forwarded_for?: string | null;
  /** At most 500 characters. */
  user_agent: string | null;
  /** `ipv4:127.0.0.1:54321` */
  peer: string | null;
  error_message: string | null;
  /** JSON, bounded (see MAX_ERROR_DETAILS_BYTES). */
  error_details: unknown;
  /** The client's deadline budget in ms, from `grpc-timeout`; null when the client set none. */
  deadline_ms: number | null;
  /** Trace id from an incoming W3C `traceparent`. */
  trace_id: string | null;
  /** ISO 8601 UTC with ms and `Z`. `created_at` is when the call started. */
  created_at: string;
  updated_at: string;
  /** Epoch seconds; DynamoDB TTL deletes the item after it. */
  expires_at: number;
}

/** Bounds that keep one item far below DynamoDB's 400 KB. */
export const LIMITS = {
  userAgent: 500,
  errorMessage: 4_000,
  errorDetailsBytes: 16_000,
  name: 200,
  fullMethod: 400,
  peer: 200,
  clientIp: 100,
  forwardedFor: 500,
  username: 200,
  requestId: 100,
} as const;
