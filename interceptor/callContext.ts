import { isIP } from 'node:net';
import type { Metadata } from '@grpc/grpc-js';
import { LIMITS } from '../core/record';
import { bounded } from '../core/requestLogItem';

/**
 * Pure helpers that turn what grpc-js hands the interceptor (path, metadata, peer, deadline)
 * into record fields. No I/O; each one bounds its output so hostile metadata cannot grow an item.
 */

export interface MethodNames {
  service_name: string;
  method_name: string;
  full_method: string;
}

/** `/api.users.UserService/GetUser` → `UserService`, `GetUser` (service = last segment of the package name). */
export function methodNames(path: string): MethodNames {
  const full = bounded(path, LIMITS.fullMethod) ?? '';
  const slash = path.lastIndexOf('/');
  const qualified = slash > 0 ? path.slice(path.startsWith('/') ? 1 : 0, slash) : '';
  const method = slash >= 0 ? path.slice(slash + 1) : path;
  const service = qualified.slice(qualified.lastIndexOf('.') + 1);
  return {
    service_name: bounded(service || 'unknown', LIMITS.name) ?? 'unknown',
    method_name: bounded(method || 'unknown', LIMITS.name) ?? 'unknown',
    full_method: full,
  };
}

/** The first string value of a metadata key (binary `-bin` keys never qualify). */
export function firstString(metadata: Metadata, key: string): string | undefined {
  const values = metadata.get(key);
  const first = values[0];
  return typeof first === 'string' ? first : undefined;
}

export interface PeerAddress {
  address: string;
  port?: number;
}

/** `ipv4:127.0.0.1:54321`, `ipv6:[::1]:54321` (gRPC core's peer format). */
export function formatPeer(peer: PeerAddress | undefined): string | null {
  if (!peer) return null;
  const address = unmapIpv4(peer.address);
  const family = isIP(address);
  const port = peer.port !== undefined ? `:${peer.port}` : '';
  const text =
    family === 4 ? `ipv4:${address}${port}` : family === 6 ? `ipv6:[${address}]${port}` : `${address}${port}`;
  return bounded(text, LIMITS.peer);
}

/** `::ffff:127.0.0.1` (a dual-stack socket's view of an IPv4 client) → `127.0.0.1`. */
function unmapIpv4(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

/**
 * The peer from `getConnectionInfo()` when grpc-js gives it, else parsed from `getPeer()`
 * (`127.0.0.1:40364`, `::1:40364`, or `unknown`).
 */
export function peerAddress(
  info: { remoteAddress?: string; remotePort?: number } | undefined,
  getPeer: () => string,
): PeerAddress | undefined {
  if (info?.remoteAddress) return { address: info.remoteAddress, port: info.remotePort };
  const text = getPeer();
  if (!text || text === 'unknown') return undefined;
  const colon = text.lastIndexOf(':');
  const port = Number(text.slice(colon + 1));
  if (colon > 0 && Number.isInteger(port) && isIP(text.slice(0, colon))) {
    return { address: text.slice(0, colon), port };
  }
  return { address: text };
}

/** First `x-forwarded-for` hop when it is an IP address, else the peer's address. */
export function clientIp(forwardedFor: string | undefined, peer: PeerAddress | undefined): string | null {
  if (forwardedFor) {
    // Only the first hop matters; never scan a huge header further than needed.
    const comma = forwardedFor.indexOf(',');
    const first = (comma >= 0 ? forwardedFor.slice(0, comma) : forwardedFor.slice(0, 100)).trim();
    const candidate =
      first.startsWith('[') && first.includes(']') ? first.slice(1, first.indexOf(']')) : first;
    if (isIP(candidate)) return bounded(unmapIpv4(candidate), LIMITS.clientIp);
  }
  return peer ? bounded(unmapIpv4(peer.address), LIMITS.clientIp) : null;
}

const TRACEPARENT = /^[\da-f]{2}-([\da-f]{32})-[\da-f]{16}-[\da-f]{2}/;

/** Trace id of a W3C `traceparent` (`00-<trace id>-<parent id>-<flags>`); null when malformed or all zeros. */
export function traceIdFrom(traceparent: string | undefined): string | null {
  if (!traceparent || traceparent.length > 512) return null;
  const match = TRACEPARENT.exec(traceparent.trim().toLowerCase());
  const id = match?.[1];
  return id && !/^0+$/.test(id) ? id : null;
}

/**
 * The client's deadline budget in ms. grpc-js strips `grpc-timeout` from the metadata before
 * interceptors see it and keeps `now + timeout` as the call's deadline, so the budget is the
 * deadline minus the time the call was created (the same tick).
 */
export function deadlineBudgetMs(deadline: Date | number, createdAtMs: number): number | null {
  const at = deadline instanceof Date ? deadline.getTime() : deadline;
  if (!Number.isFinite(at)) return null;
  return Math.max(0, Math.round(at - createdAtMs));
}

/** Milliseconds to 2 decimals. */
export const roundMs = (ms: number): number => Math.round(ms * 100) / 100;

/** A bounded user agent (≤ 500 chars). */
export const userAgentFrom = (value: string | undefined): string | null => bounded(value, LIMITS.userAgent);
