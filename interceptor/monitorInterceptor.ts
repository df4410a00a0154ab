import {
  Metadata,
  ServerInterceptingCall,
  status as GrpcStatus,
  type Responder,
  type ServerInterceptingCallInterface,
  type ServerInterceptor,
  type ServerListener,
  type ServerMethodDefinition,
} from '@grpc/grpc-js';
import { LIMITS, type RequestLogRecord, type RequestUser } from '../core/record';
import { requestIdFrom } from '../core/requestId';
import { bounded, boundedDetails, expiresAt } from '../core/requestLogItem';
import { codeName, statusFromCode } from '../core/status';
import {
  clientIp,
  deadlineBudgetMs,
  firstString,
  formatPeer,
  methodNames,
  peerAddress,
  roundMs,
  traceIdFrom,
  userAgentFrom,
  type MethodNames,
} from './callContext';
import { countMessageBytes } from './messageSizes';
import type { ResolveUser } from './options';

type PartialStatusObject = Parameters<ServerInterceptingCallInterface['sendStatus']>[0];

export const REQUEST_ID_HEADER = 'x-request-id';

export interface InterceptorSettings {
  skip: (path: string) => boolean;
  successCodes: ReadonlySet<number>;
  resolveUser: ResolveUser | undefined;
  retentionDays: number;
  deadlineMarginMs: number;
  /** Called once per call when its metadata arrived (for `logPending` and the ➡️ line). */
  onStart: ((record: RequestLogRecord) => void) | undefined;
  /** Called exactly once per recorded call, with the final record. */
  onEnd: (record: RequestLogRecord) => void;
}

/** What the metadata told us; filled in `onReceiveMetadata`. */
interface Caller {
  requestId: string;
  user: RequestUser | null;
  clientIp: string | null;
  userAgent: string | null;
  traceId: string | null;
}

function boundedUser(user: RequestUser | null | undefined): RequestUser | null {
  if (!user || typeof user !== 'object') return null;
  const id = typeof user.id === 'number' ? user.id : (bounded(String(user.id), LIMITS.username) ?? '');
  return { id, username: bounded(String(user.username ?? ''), LIMITS.username) ?? '' };
}

const MAX_DETAIL_KEYS = 20;
const MAX_DETAIL_VALUE = 2_000;

/** Trailing metadata of a failed call as JSON: strings cut short, binary values as base64. */
function trailersJson(metadata: Metadata | null | undefined): Record<string, string[]> | undefined {
  if (!metadata) return undefined;
  const out: Record<string, string[]> = {};
  let keys = 0;
  for (const [key, values] of Object.entries(metadata.getMap())) {
    if (keys++ >= MAX_DETAIL_KEYS) break;
    const all = metadata.get(key).slice(0, 5);
    out[key] = (all.length > 0 ? all : [values]).map((v) =>
      typeof v === 'string'
        ? v.slice(0, MAX_DETAIL_VALUE)
        : v.subarray(0, MAX_DETAIL_VALUE).toString('base64'),
    );
  }
  return keys > 0 ? out : undefined;
}

/** One call's recording: state plus the listener and responder that feed it. */
class CallRecording {
  private readonly startedAtMs = Date.now();
  private readonly startedAt = performance.now();
  private readonly names: MethodNames;
  private readonly counts: ReturnType<typeof countMessageBytes>;
  private caller: Caller | undefined;
  private requestMessages = 0;
  private headersSent = false;
  private finished = false;

  constructor(
    private readonly settings: InterceptorSettings,
    private readonly method: ServerMethodDefinition<unknown, unknown>,
    private readonly call: ServerInterceptingCallInterface,
  ) {
    this.names = methodNames(method.path);
    this.counts = countMessageBytes(call, method);
  }

  readonly listener: ServerListener = {
    onReceiveMetadata: (metadata, next) => {
      try {
        this.readCaller(metadata);
        if (this.settings.onStart) this.settings.onStart(this.record('pending', null, undefined));
      } catch {
        // Recording must never break the call.
      }
      next(metadata);
    },
    onReceiveMessage: (message, next) => {
      this.requestMessages++;
      this.counts.measureRequest(message);
      next(message);
    },
    onReceiveHalfClose: (next) => next(),
    onCancel: () => {
      if (this.finished) return; // grpc-js also cancels after a normal status
      const deadline = this.call.getDeadline();
      const at = deadline instanceof Date ? deadline.getTime() : deadline;
      // A deadline that passes reaches interceptors as a cancel; the client's reset can arrive
      // a little before the server's own timer, hence the margin.
      const timedOut = Number.isFinite(at) && Date.now() >= at - this.settings.deadlineMarginMs;
      this.finish(
        timedOut
          ? { code: GrpcStatus.DEADLINE_EXCEEDED, details: 'Deadline exceeded' }
          : { code: GrpcStatus.CANCELLED, details: 'Cancelled by the client' },
      );
    },
  };

  readonly responder: Responder = {
    start: (next) => next(this.listener),
    sendMetadata: (metadata, next) => {
      this.headersSent = true;
      try {
        metadata.set(REQUEST_ID_HEADER, this.requestId());
      } catch {
        // never break the call
      }
      next(metadata);
    },
    sendMessage: (message, next) => {
      this.counts.measureResponse(message);
      next(message);
    },
    sendStatus: (status, next) => {
      let sent: PartialStatusObject = status;
      if (!this.finished) {
        try {
          if (!this.headersSent) {
            // Trailers-only response: the request id travels in the trailers.
            const metadata = status.metadata ? status.metadata.clone() : new Metadata();
            metadata.set(REQUEST_ID_HEADER, this.requestId());
            sent = { ...status, metadata };
          }
          this.finish(status);
        } catch {
          // never break the call
        }
      }
      next(sent);
    },
  };

  private requestId(): string {
    return (this.caller ??= this.anonymousCaller()).requestId;
  }

  private anonymousCaller(): Caller {
    const peer = peerAddress(this.connectionInfo(), () => this.call.getPeer());
    return {
      requestId: requestIdFrom(undefined),
      user: null,
      clientIp: clientIp(undefined, peer),
      userAgent: null,
      traceId: null,
    };
  }

  private connectionInfo(): { remoteAddress?: string; remotePort?: number } | undefined {
    try {
      return this.call.getConnectionInfo();
    } catch {
      return undefined;
    }
  }

  private readCaller(metadata: Metadata): void {
    const peer = peerAddress(this.connectionInfo(), () => this.call.getPeer());
    let user: RequestUser | null = null;
    if (this.settings.resolveUser) {
      try {
        user = boundedUser(this.settings.resolveUser(metadata, this.call));
      } catch {
        user = null;
      }
    }
    this.caller = {
      requestId: requestIdFrom(firstString(metadata, REQUEST_ID_HEADER)),
      user,
      clientIp: clientIp(firstString(metadata, 'x-forwarded-for'), peer),
      userAgent: userAgentFrom(firstString(metadata, 'user-agent')),
      traceId: traceIdFrom(firstString(metadata, 'traceparent')),
    };
  }

  private finish(status: PartialStatusObject): void {
    if (this.finished) return;
    this.finished = true;
    try {
      this.settings.onEnd(
        this.record(statusFromCode(status.code, this.settings.successCodes), status, performance.now()),
      );
    } catch {
      // never break the call
    }
  }

  private record(
    finalStatus: RequestLogRecord['status'],
    status: PartialStatusObject | null,
    endedAt: number | undefined,
  ): RequestLogRecord {
    const caller = (this.caller ??= this.anonymousCaller());
    const created = new Date(this.startedAtMs);
    const createdAt = created.toISOString();
    const failed = status !== null && status.code !== GrpcStatus.OK;
    return {
      request_id: caller.requestId,
      ...this.names,
      status: finalStatus,
      grpc_status_code: status ? codeName(status.code) : null,
      duration_ms: endedAt === undefined ? null : roundMs(endedAt - this.startedAt),
      request_size: this.counts.requestBytes,
      response_size: this.counts.responseBytes,
      request_messages: this.requestMessages,
      response_messages: this.counts.responseMessages,
      user: caller.user,
      client_ip: caller.clientIp,
      user_agent: caller.userAgent,
      peer: formatPeer(peerAddress(this.connectionInfo(), () => this.call.getPeer())),
      error_message: failed ? bounded(status.details || codeName(status.code), LIMITS.errorMessage) : null,
      error_details: failed
        ? boundedDetails({
            code: codeName(status.code),
            details: bounded(status.details, LIMITS.errorMessage),
            metadata: trailersJson(status.metadata),
          })
        : null,
      deadline_ms: deadlineBudgetMs(this.call.getDeadline(), this.startedAtMs),
      trace_id: caller.traceId,
      created_at: createdAt,
      updated_at: endedAt === undefined ? createdAt : new Date().toISOString(),
      expires_at: expiresAt(created, this.settings.retentionDays),
    };
  }
}

/**
 * The server interceptor: records every call that is not skipped. Put it FIRST in the server's
 * `interceptors` list, so it also sees calls that a later (e.g. auth) interceptor rejects.
 */
export function monitorInterceptor(settings: InterceptorSettings): ServerInterceptor {
  return (method, call) => {
    if (settings.skip(method.path)) return new ServerInterceptingCall(call);
    let recording: CallRecording;
    try {
      recording = new CallRecording(settings, method as ServerMethodDefinition<unknown, unknown>, call);
    } catch {
      return new ServerInterceptingCall(call);
    }
    return new ServerInterceptingCall(call, recording.responder);
  };
}
