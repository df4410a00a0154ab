import { LIMITS, type RequestLogRecord, type RequestUser } from './record';
import { REQUEST_LOG_KEYS } from './tables';

/** A RequestLog item as the DynamoDB DocumentClient reads and writes it. */
export type RequestLogItem = Record<string, unknown> & {
  request_id: string;
  item_type: 'request';
};

export interface ItemOptions {
  /** GSI shard count (MonitorConfig.shards). */
  readonly shards: number;
  /** Sets the `slow` flag the alert filter matches on. */
  readonly slowThresholdMs: number;
}

/** Hour bucket of an ISO time: `2025-11-01T14`. */
export const hourBucket = (iso: string): string => iso.slice(0, 13);

/** Stable shard of a request id (FNV-1a), so a retried write lands on the same keys. */
export function shardOf(requestId: string, shards: number): number {
  if (shards <= 1) return 0;
  let hash = 0x811c9dc5;
  for (let i = 0; i < requestId.length; i++) {
    hash ^= requestId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % shards;
}

/** The GSI sort key: newest-first order within a partition, unique per request. */
export const sortKeyOf = (createdAt: string, requestId: string): string => `${createdAt}#${requestId}`;

export const timePartition = (hour: string, shard: number): string => `${hour}#${shard}`;
export const servicePartition = (service: string, shard: number): string => `${service}#${shard}`;
export const statusPartition = (status: string, shard: number): string => `${status}#${shard}`;

type KeyName = (typeof REQUEST_LOG_KEYS)[keyof typeof REQUEST_LOG_KEYS];

/**
 * Record → item: the record's fields, the GSI keys, and the flags stream filters match on.
 * `gsi_status_pk` is undefined for a success (no by_status entry): writers leave undefined out.
 * Every field is written out by name: an object spread followed by computed keys sends V8 down
 * a slow path that made this the writer thread's most expensive step (tens of µs per item).
 * The `satisfies` checks that no field of the record and no key of REQUEST_LOG_KEYS is missing.
 */
export function toRequestLogItem(record: RequestLogRecord, options: ItemOptions): RequestLogItem {
  const shard = shardOf(record.request_id, options.shards);
  const final = record.status !== 'pending';
  return {
    request_id: record.request_id,
    client_request_id: record.client_request_id,
    service_name: record.service_name,
    method_name: record.method_name,
    full_method: record.full_method,
    status: record.status,
    grpc_status_code: record.grpc_status_code,
    duration_ms: record.duration_ms,
    request_size: record.request_size,
    response_size: record.response_size,
    request_messages: record.request_messages,
    response_messages: record.response_messages,
    user: record.user,
    client_ip: record.client_ip,
    forwarded_for: record.forwarded_for ?? undefined, // absent without the header
    user_agent: record.user_agent,
    peer: record.peer,
    error_message: record.error_message,
    error_details:
      record.error_details === null || record.error_details === undefined
        ? null
        : JSON.stringify(record.error_details),
    deadline_ms: record.deadline_ms,
    trace_id: record.trace_id,
    created_at: record.created_at,
    updated_at: record.updated_at,
    expires_at: record.expires_at,
    item_type: 'request',
    user_id: record.user ? String(record.user.id) : null,
    slow: final && record.duration_ms !== null && record.duration_ms >= options.slowThresholdMs,
    gsi_time_pk: timePartition(hourBucket(record.created_at), shard),
    gsi_service_pk: servicePartition(record.service_name, shard),
    // Sparse: a success needs no by_status entry (status=success lists filter by_time instead),
    // which saves one of its write units. Left out of the item when undefined.
    gsi_status_pk: record.status === 'success' ? undefined : statusPartition(record.status, shard),
    gsi_sk: sortKeyOf(record.created_at, record.request_id),
  } satisfies RequestLogItem & Record<keyof RequestLogRecord | KeyName, unknown>;
}

function parseDetails(value: unknown): unknown {
  if (typeof value !== 'string') return value ?? null;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' ? v : null);

/**
 * Item → record. Works on full items and on GSI projections (absent fields become null/0),
 * and on the DocumentClient's output or `unmarshall`ed stream images alike.
 */
export function fromRequestLogItem(item: Record<string, unknown>): RequestLogRecord {
  const user = item.user as RequestUser | null | undefined;
  return {
    request_id: String(item.request_id),
    // Only where the item has the attribute: items written before it existed have no such field.
    ...(item.client_request_id !== undefined && { client_request_id: str(item.client_request_id) }),
    service_name: String(item.service_name ?? ''),
    method_name: String(item.method_name ?? ''),
    full_method: String(item.full_method ?? ''),
    status: (item.status as RequestLogRecord['status']) ?? 'pending',
    grpc_status_code: str(item.grpc_status_code),
    duration_ms: num(item.duration_ms),
    request_size: num(item.request_size) ?? 0,
    response_size: num(item.response_size) ?? 0,
    request_messages: num(item.request_messages) ?? 0,
    response_messages: num(item.response_messages) ?? 0,
    user: user && typeof user === 'object' ? { id: user.id, username: user.username } : null,
    client_ip: str(item.client_ip),
    user_agent: str(item.user_agent),
    peer: str(item.peer),
    error_message: str(item.error_message),
    error_details: parseDetails(item.error_details),
    deadline_ms: num(item.deadline_ms),
    trace_id: str(item.trace_id),
    created_at: String(item.created_at ?? ''),
    updated_at: String(item.updated_at ?? item.created_at ?? ''),
    expires_at: num(item.expires_at) ?? 0,
    ...(typeof item.forwarded_for === 'string' && { forwarded_for: item.forwarded_for }),
  };
}

/** Truncates to `max` characters (no item field may grow without bound). */
export function bounded(value: string | null | undefined, max: number): string | null {
  if (value === null || value === undefined) return null;
  return value.length > max ? value.slice(0, max) : value;
}

/** JSON-safe details, cut to at most LIMITS.errorDetailsBytes of serialized JSON. */
export function boundedDetails(details: unknown): unknown {
  if (details === null || details === undefined) return null;
  let json: string | undefined;
  try {
    json = JSON.stringify(details);
  } catch {
    json = undefined;
  }
  if (json === undefined) return { unserializable: String(details).slice(0, 200) };
  if (Buffer.byteLength(json) <= LIMITS.errorDetailsBytes) return JSON.parse(json);
  return {
    truncated: true,
    original_bytes: Buffer.byteLength(json),
    preview: json.slice(0, LIMITS.errorDetailsBytes / 2),
  };
}

/** Epoch seconds `days` after `from`. */
export const expiresAt = (from: Date, days: number): number =>
  Math.floor(from.getTime() / 1000) + days * 86_400;

/** ISO 8601 UTC with ms and `Z`. */
export const isoTime = (date: Date): string => date.toISOString();
