import { LIMITS, type RequestLogRecord } from '../core/record';
import { bounded, boundedDetails, expiresAt } from '../core/requestLogItem';
import { codeName } from '../core/status';
import { clientIp, deadlineBudgetMs, formatPeer, roundMs, type MethodNames } from './callContext';

/**
 * What the gRPC event loop keeps of a call: raw numbers and strings, already bounded, that
 * `toRecord` formats into a RequestLogRecord. Formatting (ISO times, code names, the peer, the
 * error's JSON) costs µs per call, so it happens where the writer runs (its own thread by
 * default), not on the loop. Plain data: it crosses to the writer thread as JSON.
 */
export interface CallFacts
  extends
    MethodNames,
    Pick<
      RequestLogRecord,
      | 'request_id'
      | 'client_request_id'
      | 'status'
      | 'request_size'
      | 'response_size'
      | 'request_messages'
      | 'response_messages'
      | 'user'
      | 'user_agent'
      | 'trace_id'
    > {
  /** gRPC status code; null while pending. */
  code: number | null;
  /** The status details of a failed call (bounded). */
  details: string | null;
  /** The trailing metadata of a failed call (bounded), for error_details. */
  trailers: Record<string, string[]> | null;
  /** Epoch ms of the call's start and end (end null while pending). */
  started_at_ms: number;
  ended_at_ms: number | null;
  /** From the monotonic clock; null while pending. */
  duration_ms: number | null;
  /** `x-forwarded-for` as received, bounded (forwardedChain). */
  forwarded_for: string | null;
  /** The client's address from `x-forwarded-for`, set only when the peer is a trusted proxy (forwardedClient). */
  forwarded_client?: string | null;
  peer_address: string | null;
  peer_port: number | null;
  /** The call's deadline, epoch ms; null when the client set none. */
  deadline_at_ms: number | null;
}

/** The stored record of a call (pure; runs on the writer thread). */
export function toRecord(facts: CallFacts, retentionDays: number): RequestLogRecord {
  const created = new Date(facts.started_at_ms);
  const createdAt = created.toISOString();
  const failed = facts.code !== null && facts.code !== 0;
  const code = facts.code === null ? null : codeName(facts.code);
  const peer =
    facts.peer_address === null
      ? undefined
      : { address: facts.peer_address, port: facts.peer_port ?? undefined };
  return {
    request_id: facts.request_id,
    client_request_id: facts.client_request_id ?? null,
    service_name: facts.service_name,
    method_name: facts.method_name,
    full_method: facts.full_method,
    status: facts.status,
    grpc_status_code: code,
    duration_ms: facts.duration_ms === null ? null : roundMs(facts.duration_ms),
    request_size: facts.request_size,
    response_size: facts.response_size,
    request_messages: facts.request_messages,
    response_messages: facts.response_messages,
    user: facts.user,
    client_ip: clientIp(facts.forwarded_client, peer),
    forwarded_for: facts.forwarded_for,
    user_agent: facts.user_agent,
    peer: formatPeer(peer),
    error_message: failed ? bounded(facts.details || code, LIMITS.errorMessage) : null,
    error_details: failed
      ? boundedDetails({ code, details: facts.details, metadata: facts.trailers ?? undefined })
      : null,
    deadline_ms:
      facts.deadline_at_ms === null ? null : deadlineBudgetMs(facts.deadline_at_ms, facts.started_at_ms),
    trace_id: facts.trace_id,
    created_at: createdAt,
    updated_at: facts.ended_at_ms === null ? createdAt : new Date(facts.ended_at_ms).toISOString(),
    expires_at: expiresAt(created, retentionDays),
  };
}
