import type { ServerInterceptingCallInterface, ServerMethodDefinition } from '@grpc/grpc-js';

/** Serialized bytes and message counts of one call, both ways. */
export interface MessageCounts {
  requestBytes: number;
  responseBytes: number;
  responseMessages: number;
  /** False when the byte counts came from the fallback (see `countMessageBytes`). */
  exact: boolean;
}

type Serialize = (value: unknown) => Buffer;
type Deserialize = (bytes: Buffer) => unknown;

/** The part of grpc-js's BaseServerInterceptingCall (1.10–1.14) we rely on. */
interface BaseCallShape {
  handler: { serialize: Serialize; deserialize: Deserialize };
}

function isBaseCall(call: unknown): call is BaseCallShape {
  const handler = (call as { handler?: Partial<BaseCallShape['handler']> } | null)?.handler;
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
 * Counts the exact serialized bytes of every message of one call.
 *
 * Messages reach interceptors already decoded, and re-encoding a message decoded with
 * proto-loader's `defaults: true` writes the default fields the client never sent (a 4-byte
 * request re-encodes as 12). So this gives the call's transport object a per-call view of the
 * method's handler whose serialize/deserialize note the byte length of each buffer they produce
 * or consume: the very bytes on the wire (after decompression). Nothing is shared between calls
 * and the server's own handler object is left untouched.
 *
 * When the transport object is not found (a future grpc-js), responses are measured by
 * serializing them once more with the method's own serializer (exact, at some CPU cost) and
 * requests only when they are Buffers; `exact` is then false.
 */
export function countMessageBytes(
  call: ServerInterceptingCallInterface,
  method: ServerMethodDefinition<unknown, unknown>,
): MessageCounts & { measureResponse(message: unknown): void; measureRequest(message: unknown): void } {
  const counts = {
    requestBytes: 0,
    responseBytes: 0,
    responseMessages: 0,
    exact: true,
    measureResponse(_message: unknown): void {},
    measureRequest(_message: unknown): void {},
  };
  const base = findBaseCall(call);
  if (base) {
    const handler = base.handler;
    const view = Object.create(handler) as BaseCallShape['handler'];
    view.serialize = (value) => {
      const bytes = handler.serialize(value);
      counts.responseBytes += bytes.byteLength;
      counts.responseMessages++;
      return bytes;
    };
    view.deserialize = (bytes) => {
      counts.requestBytes += bytes.byteLength;
      return handler.deserialize(bytes);
    };
    base.handler = view;
    return counts;
  }
  counts.exact = false;
  counts.measureResponse = (message) => {
    try {
      counts.responseBytes += method.responseSerialize(message).byteLength;
    } catch {
      // The real send fails the same way and reports it in the status.
    }
    counts.responseMessages++;
  };
  counts.measureRequest = (message) => {
    if (Buffer.isBuffer(message)) counts.requestBytes += message.byteLength;
  };
  return counts;
}
