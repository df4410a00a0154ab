import type { ServerInterceptingCallInterface, ServerMethodDefinition } from '@grpc/grpc-js';

/** Serialized bytes and message counts of one call, both ways. */
export interface MessageCounts {
  requestBytes: number;
  responseBytes: number;
  requestMessages: number;
  responseMessages: number;
  /** False when the counts come from the fallback (see `countMessageBytes`): then the listener and responder must call `measureRequest` / `measureResponse`. */
  readonly exact: boolean;
}

type Serialize = (value: unknown) => Buffer;
type Deserialize = (bytes: Buffer) => unknown;

/** The part of grpc-js's BaseServerInterceptingCall (1.10–1.14) we rely on. */
interface Handler {
  serialize: Serialize;
  deserialize: Deserialize;
}
interface BaseCallShape {
  handler: Handler;
}

/** A per-call view of the method's handler that counts what passes through it. */
interface CountingHandler extends Handler, MessageCounts {
  base: Handler;
}

// Shared by every view (grpc-js calls them as methods of the view): no closures per call.
function countingSerialize(this: CountingHandler, value: unknown): Buffer {
  const bytes = this.base.serialize(value);
  this.responseBytes += bytes.byteLength;
  this.responseMessages++;
  return bytes;
}
function countingDeserialize(this: CountingHandler, bytes: Buffer): unknown {
  this.requestBytes += bytes.byteLength;
  this.requestMessages++;
  return this.base.deserialize(bytes);
}

function isBaseCall(call: unknown): call is BaseCallShape {
  const handler = (call as { handler?: Partial<Handler> } | null)?.handler;
  return typeof handler?.serialize === 'function' && typeof handler.deserialize === 'function';
}

/** The transport-side call under any interceptors between it and us. */
function findBaseCall(call: ServerInterceptingCallInterface): BaseCallShape | undefined {
  let current: unknown = call;
  for (let depth = 0; depth < 16 && current; depth++) {
    if (isBaseCall(current)) return current;
    current = (current as { nextCall?: unknown }).nextCall;
  }
  return undefined;
}

/**
 * Counts the exact serialized bytes and the messages of one call.
 *
 * Messages reach interceptors already decoded, and re-encoding a message decoded with
 * proto-loader's `defaults: true` writes the default fields the client never sent (a 4-byte
 * request re-encodes as 12). So this gives the call's transport object a per-call view of the
 * method's handler whose serialize/deserialize note the byte length of each buffer they produce
 * or consume: the very bytes on the wire (after decompression). Nothing is shared between calls
 * and the server's own handler object is left untouched.
 *
 * When the transport object is not found (a future grpc-js), `exact` is false and the caller
 * measures each message with `measureRequest` / `measureResponse`: responses by serializing them
 * once more with the method's own serializer (exact, at some CPU cost), requests only when they
 * are Buffers.
 */
export function countMessageBytes(call: ServerInterceptingCallInterface): MessageCounts {
  const base = findBaseCall(call);
  if (!base)
    return { requestBytes: 0, responseBytes: 0, requestMessages: 0, responseMessages: 0, exact: false };
  const view = Object.create(base.handler) as CountingHandler;
  view.base = base.handler;
  view.requestBytes = 0;
  view.responseBytes = 0;
  view.requestMessages = 0;
  view.responseMessages = 0;
  (view as { exact: boolean }).exact = true;
  view.serialize = countingSerialize;
  view.deserialize = countingDeserialize;
  base.handler = view;
  return view;
}

/** Fallback: one request message (see countMessageBytes). */
export function measureRequest(counts: MessageCounts, message: unknown): void {
  counts.requestMessages++;
  if (Buffer.isBuffer(message)) counts.requestBytes += message.byteLength;
}

/** Fallback: one response message (see countMessageBytes). */
export function measureResponse(
  counts: MessageCounts,
  message: unknown,
  method: ServerMethodDefinition<unknown, unknown>,
): void {
  counts.responseMessages++;
  try {
    counts.responseBytes += method.responseSerialize(message).byteLength;
  } catch {
    // The real send fails the same way and reports it in the status.
  }
}
