import {
  Metadata,
  status as GrpcStatus,
  type Deadline,
  type ServerInterceptingCallInterface,
  type ServerInterceptor,
  type ServerMethodDefinition,
} from '@grpc/grpc-js';
import { LIMITS, type RequestStatus, type RequestUser } from '../core/record';
import { clientRequestIdFrom, newRequestId } from '../core/requestId';
import { bounded } from '../core/requestLogItem';
import { statusFromCode } from '../core/status';
import {
  firstString,
  forwardedChain,
  forwardedClient,
  methodNames,
  peerAddress,
  traceIdFrom,
  userAgentFrom,
  type KeepMetadata,
  type MethodNames,
  type TrustedProxy,
} from './callContext';
import type { CallFacts } from './callFacts';
import { countMessageBytes, measureRequest, measureResponse, type MessageCounts } from './messageSizes';
import type { ResolveUser } from './options';

type CallInterface = ServerInterceptingCallInterface;
type InterceptingServerListener = Parameters<CallInterface['start']>[0];
type AuthContext = ReturnType<CallInterface['getAuthContext']>;
type ConnectionInfo = ReturnType<CallInterface['getConnectionInfo']>;
type MetricsRecorder = ReturnType<CallInterface['getMetricsRecorder']>;
type PartialStatusObject = Parameters<CallInterface['sendStatus']>[0];
/**
 * grpc-js types an interceptor's result as its ServerInterceptingCall class, while the server
 * only ever uses the ServerInterceptingCallInterface (grpc-js 1.10–1.14 has no instanceof check).
 */
type InterceptorResult = ReturnType<ServerInterceptor>;

export const REQUEST_ID_HEADER = 'x-request-id';

export interface InterceptorSettings {
  skip: (path: string) => boolean;
  successCodes: ReadonlySet<number>;
  resolveUser: ResolveUser | undefined;
  deadlineMarginMs: number;
  /** Proxies whose `x-forwarded-for` is believed; undefined: nobody (client_ip is the peer). */
  trustedProxy?: TrustedProxy;
  /** Trailing metadata keys of a failed call kept in error_details; default: every key. */
  keepErrorMetadata?: KeepMetadata;
  /** Called once per call when its metadata arrived (for `logPending` and the ➡️ line). */
  onStart: ((call: CallFacts) => void) | undefined;
  /** Called exactly once per recorded call, when it ended. */
  onEnd: (call: CallFacts) => void;
}

function boundedUser(user: RequestUser | null | undefined): RequestUser | null {
  if (!user || typeof user !== 'object') return null;
  const id = typeof user.id === 'number' ? user.id : (bounded(String(user.id), LIMITS.username) ?? '');
  return { id, username: bounded(String(user.username ?? ''), LIMITS.username) ?? '' };
}

const MAX_DETAIL_KEYS = 20;
const MAX_DETAIL_VALUE = 2_000;

/** Trailing metadata of a failed call: the keys `keep` allows, strings cut short, binary values as base64. */
function trailersOf(
  metadata: Metadata | null | undefined,
  keep: KeepMetadata | undefined,
): Record<string, string[]> | null {
  if (!metadata) return null;
  const out: Record<string, string[]> = {};
  let keys = 0;
  for (const [key, values] of Object.entries(metadata.getMap())) {
    if (keep && !keep(key)) continue;
    if (keys++ >= MAX_DETAIL_KEYS) break;
    const all = metadata.get(key).slice(0, 5);
    out[key] = (all.length > 0 ? all : [values]).map((v) =>
      typeof v === 'string'
        ? v.slice(0, MAX_DETAIL_VALUE)
        : v.subarray(0, MAX_DETAIL_VALUE).toString('base64'),
    );
  }
  return keys > 0 ? out : null;
}

/** Every `x-forwarded-for` value, joined as one header (repeated headers are one list). */
function forwardedFor(metadata: Metadata): string | null {
  const values = metadata.get('x-forwarded-for');
  if (values.length === 0) return null; // the usual case: no allocation beyond get()
  if (values.length === 1) return typeof values[0] === 'string' ? values[0] : null;
  const strings = values.filter((v): v is string => typeof v === 'string');
  return strings.length === 0 ? null : strings.join(', ');
}

/** Method names per path, so a call does not parse its path again (bounded: paths come from clients). */
const namesByPath = new Map<string, MethodNames>();
function namesOf(path: string): MethodNames {
  let names = namesByPath.get(path);
  if (!names) {
    names = methodNames(path);
    if (namesByPath.size < 10_000) namesByPath.set(path, names);
  }
  return names;
}

/**
 * One recorded call. It sits between the transport's call and whatever is above it (the next
 * interceptor or the handler), passing every event straight through: it is the call for the
 * layer above and the listener for the call below. grpc-js's generic ServerInterceptingCall
 * would do the same with a responder and a listener of hooks, at the price of a dozen closures
 * and objects per call; every hook here is synchronous, so a direct pass-through is equivalent.
 * When the call ends it hands the settings' `onEnd` raw CallFacts, formatted off the event loop.
 */
class RecordingCall implements ServerInterceptingCallInterface, InterceptingServerListener {
  private readonly startedAtMs = Date.now();
  private readonly startedAt = performance.now();
  private readonly names: MethodNames;
  private readonly counts: MessageCounts;
  private listener: InterceptingServerListener | undefined;
  /** The server's key for the call, always new. */
  private readonly requestId: string = newRequestId();
  private clientRequestId: string | null = null;
  private user: RequestUser | null = null;
  private forwardedFor: string | null = null;
  private userAgent: string | null = null;
  private traceId: string | null = null;
  private headersSent = false;
  private finished = false;

  constructor(
    private readonly settings: InterceptorSettings,
    private readonly method: ServerMethodDefinition<unknown, unknown>,
    private readonly nextCall: ServerInterceptingCallInterface,
  ) {
    this.names = namesOf(method.path);
    this.counts = countMessageBytes(nextCall);
  }

  // The call, as the layer above sees it.

  start(listener: InterceptingServerListener): void {
    this.listener = listener;
    this.nextCall.start(this);
  }

  sendMetadata(metadata: Metadata): void {
    this.headersSent = true;
    try {
      metadata.set(REQUEST_ID_HEADER, this.echoedId());
    } catch {
      // never break the call
    }
    this.nextCall.sendMetadata(metadata);
  }

  sendMessage(message: unknown, callback: () => void): void {
    // The transport would send bare headers itself; send ours, with the request id.
    if (!this.headersSent) this.sendMetadata(new Metadata());
    if (!this.counts.exact) measureResponse(this.counts, message, this.method);
    this.nextCall.sendMessage(message, callback);
  }

  sendStatus(status: PartialStatusObject): void {
    let sent = status;
    if (!this.finished) {
      try {
        if (!this.headersSent) {
          // Trailers-only response: the request id travels in the trailers.
          const metadata = status.metadata ? status.metadata.clone() : new Metadata();
          metadata.set(REQUEST_ID_HEADER, this.echoedId());
          sent = { ...status, metadata };
        }
        this.finish(status);
      } catch {
        // never break the call
      }
    }
    this.nextCall.sendStatus(sent);
  }

  startRead(): void {
    this.nextCall.startRead();
  }
  getPeer(): string {
    return this.nextCall.getPeer();
  }
  getDeadline(): Deadline {
    return this.nextCall.getDeadline();
  }
  getHost(): string {
    return this.nextCall.getHost();
  }
  getAuthContext(): AuthContext {
    return this.nextCall.getAuthContext();
  }
  getConnectionInfo(): ConnectionInfo {
    return this.nextCall.getConnectionInfo();
  }
  getMetricsRecorder(): MetricsRecorder {
    return this.nextCall.getMetricsRecorder();
  }

  // The listener, as the call below sees it.

  onReceiveMetadata(metadata: Metadata): void {
    try {
      this.readCaller(metadata);
      if (this.settings.onStart) this.settings.onStart(this.facts('pending', null, null));
    } catch {
      // Recording must never break the call.
    }
    this.listener!.onReceiveMetadata(metadata);
  }

  onReceiveMessage(message: unknown): void {
    if (!this.counts.exact) measureRequest(this.counts, message);
    this.listener!.onReceiveMessage(message);
  }

  onReceiveHalfClose(): void {
    this.listener!.onReceiveHalfClose();
  }

  onCancel(): void {
    if (!this.finished) {
      // grpc-js also cancels after a normal status: only a cancel before it ends the call here.
      const at = this.deadlineAt();
      // A deadline that passes reaches interceptors as a cancel; the client's reset can arrive
      // a little before the server's own timer, hence the margin.
      const timedOut = at !== null && Date.now() >= at - this.settings.deadlineMarginMs;
      this.finish(
        timedOut
          ? { code: GrpcStatus.DEADLINE_EXCEEDED, details: 'Deadline exceeded' }
          : { code: GrpcStatus.CANCELLED, details: 'Cancelled by the client' },
      );
    }
    this.listener!.onCancel();
  }

  // The recording.

  /** The `x-request-id` the response carries: the client's own when it sent a sane one, else ours. */
  private echoedId(): string {
    return this.clientRequestId ?? this.requestId;
  }

  private readCaller(metadata: Metadata): void {
    if (this.settings.resolveUser) {
      try {
        this.user = boundedUser(this.settings.resolveUser(metadata, this));
      } catch {
        this.user = null;
      }
    }
    this.clientRequestId = clientRequestIdFrom(firstString(metadata, REQUEST_ID_HEADER));
    // Kept as received (metadata holds it anyway); bounded when the call's facts are taken.
    this.forwardedFor = forwardedFor(metadata);
    this.userAgent = userAgentFrom(firstString(metadata, 'user-agent'));
    this.traceId = traceIdFrom(firstString(metadata, 'traceparent'));
  }

  private deadlineAt(): number | null {
    const deadline = this.nextCall.getDeadline();
    const at = deadline instanceof Date ? deadline.getTime() : deadline;
    return Number.isFinite(at) ? at : null;
  }

  private finish(status: PartialStatusObject): void {
    if (this.finished) return;
    this.finished = true;
    try {
      this.settings.onEnd(
        this.facts(statusFromCode(status.code, this.settings.successCodes), status, performance.now()),
      );
    } catch {
      // never break the call
    }
  }

  private facts(
    finalStatus: RequestStatus,
    status: PartialStatusObject | null,
    endedAt: number | null,
  ): CallFacts {
    const peer = peerAddress(this.connectionInfo(), () => this.nextCall.getPeer());
    const failed = status !== null && status.code !== GrpcStatus.OK;
    const counts = this.counts;
    return {
      request_id: this.requestId,
      client_request_id: this.clientRequestId,
      service_name: this.names.service_name,
      method_name: this.names.method_name,
      full_method: this.names.full_method,
      status: finalStatus,
      code: status ? status.code : null,
      details: failed ? bounded(status.details, LIMITS.errorMessage) : null,
      trailers: failed ? trailersOf(status.metadata, this.settings.keepErrorMetadata) : null,
      started_at_ms: this.startedAtMs,
      ended_at_ms: endedAt === null ? null : Date.now(),
      duration_ms: endedAt === null ? null : endedAt - this.startedAt,
      request_size: counts.requestBytes,
      response_size: counts.responseBytes,
      request_messages: counts.requestMessages,
      response_messages: counts.responseMessages,
      user: this.user,
      forwarded_for: forwardedChain(this.forwardedFor),
      forwarded_client: forwardedClient(this.forwardedFor, peer, this.settings.trustedProxy),
      user_agent: this.userAgent,
      peer_address: peer ? peer.address : null,
      peer_port: peer?.port ?? null,
      deadline_at_ms: this.deadlineAt(),
      trace_id: this.traceId,
    };
  }

  private connectionInfo(): { remoteAddress?: string; remotePort?: number } | undefined {
    try {
      return this.nextCall.getConnectionInfo();
    } catch {
      return undefined;
    }
  }
}

/**
 * The server interceptor: records every call that is not skipped. Put it FIRST in the server's
 * `interceptors` list, so it also sees calls that a later (e.g. auth) interceptor rejects.
 */
export function monitorInterceptor(settings: InterceptorSettings): ServerInterceptor {
  return (method, call) => {
    let result: CallInterface = call;
    if (!settings.skip(method.path)) {
      try {
        result = new RecordingCall(settings, method as ServerMethodDefinition<unknown, unknown>, call);
      } catch {
        // never break the call: it goes on unrecorded
      }
    }
    return result as InterceptorResult;
  };
}
