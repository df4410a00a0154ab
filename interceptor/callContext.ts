import { BlockList, isIP } from 'node:net';
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

/** The peer's address, or the client's address a trusted proxy reported (forwardedClient). */
export function clientIp(
  forwardedClient: string | null | undefined,
  peer: PeerAddress | undefined,
): string | null {
  if (forwardedClient) return bounded(forwardedClient, LIMITS.clientIp);
  return peer ? bounded(unmapIpv4(peer.address), LIMITS.clientIp) : null;
}

/** Whether an address is one of the proxies whose `x-forwarded-for` is believed. */
export type TrustedProxy = (address: string) => boolean;

export class TrustedProxiesError extends Error {
  override name = 'TrustedProxiesError';
}

/**
 * A matcher for addresses and CIDR ranges (`10.0.0.7`, `10.0.0.0/8`, `fd00::/8`); undefined for an
 * empty list (nobody is trusted). An IPv4 address seen as `::ffff:a.b.c.d` matches its IPv4 form.
 */
export function trustedProxyMatcher(entries: readonly string[]): TrustedProxy | undefined {
  if (entries.length === 0) return undefined;
  const list = new BlockList();
  for (const entry of entries) {
    const [address = '', prefix, extra] = entry.trim().split('/');
    const family = isIP(address);
    const bits = prefix === undefined ? undefined : Number(prefix);
    const max = family === 4 ? 32 : 128;
    if (
      family === 0 ||
      extra !== undefined ||
      (bits !== undefined && (!/^\d{1,3}$/.test(prefix!) || bits > max))
    ) {
      throw new TrustedProxiesError(
        `trustedProxies: ${JSON.stringify(entry)} is not an IP address or CIDR range`,
      );
    }
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (bits === undefined) list.addAddress(address, type);
    else list.addSubnet(address, bits, type);
  }
  return (address) => {
    const plain = unmapIpv4(address);
    const family = isIP(plain);
    return family !== 0 && list.check(plain, family === 4 ? 'ipv4' : 'ipv6');
  };
}

/** At most this many hops of `x-forwarded-for` are walked (proxy chains are short; the header may not be). */
const MAX_HOPS = 20;

/** One hop of `x-forwarded-for` as an address: `203.0.113.7`, `[2001:db8::1]:443` → `2001:db8::1`, `203.0.113.7:5000`. */
function hopAddress(hop: string): string | undefined {
  let text = hop.trim();
  if (text.startsWith('[')) text = text.slice(1, text.indexOf(']') >>> 0);
  else if (text.indexOf(':') === text.lastIndexOf(':') && text.includes('.')) text = text.split(':')[0]!;
  const address = unmapIpv4(text);
  return isIP(address) ? address : undefined;
}

/**
 * The client's address behind trusted proxies: when the peer is a trusted proxy, the right-most
 * hop of `x-forwarded-for` that is not itself trusted (each trusted proxy appends the address it
 * saw; whatever lies left of the first untrusted hop was written by the client and proves
 * nothing). Null when the peer is not trusted, the header is absent, or the hop is no address:
 * client_ip is then the peer.
 */
export function forwardedClient(
  forwardedFor: string | null,
  peer: PeerAddress | undefined,
  trusted: TrustedProxy | undefined,
): string | null {
  if (!trusted || !forwardedFor || !peer || !trusted(peer.address)) return null;
  const hops = forwardedFor.split(',');
  let leftmost: string | null = null;
  for (let i = hops.length - 1; i >= 0 && i >= hops.length - MAX_HOPS; i--) {
    const address = hopAddress(hops[i]!);
    if (!address) return null;
    if (!trusted(address)) return address;
    leftmost = address;
  }
  return leftmost;
}

/**
 * `x-forwarded-for` as received, for the record's `forwarded_for`: at most
 * LIMITS.forwardedFor characters, keeping the right-most hops (the ones proxies appended).
 */
export function forwardedChain(header: string | null): string | null {
  if (!header) return null;
  const text = header.trim();
  if (text.length <= LIMITS.forwardedFor) return text;
  const tail = text.slice(-LIMITS.forwardedFor);
  const comma = tail.indexOf(',');
  return comma >= 0 ? tail.slice(comma + 1).trim() : tail;
}

/** The monitor's defaults: trailing metadata keys containing these are never stored. */
export const SENSITIVE_METADATA: readonly string[] = [
  'authorization',
  'cookie',
  'token',
  'secret',
  'password',
  'api-key',
  'apikey',
  'credential',
];

/** Which trailing metadata keys of a failed call go into error_details (keys arrive lowercase). */
export type KeepMetadata = (key: string) => boolean;

export interface MetadataFilter {
  /** Only these keys (exact, case-insensitive) are kept, when given. */
  readonly allow?: readonly string[];
  /** Keys containing any of these (case-insensitive) are dropped, besides SENSITIVE_METADATA. */
  readonly drop?: readonly string[];
}

/** A key filter from an allow/drop list (SENSITIVE_METADATA always dropped), or the caller's own predicate. */
export function metadataFilter(option: MetadataFilter | KeepMetadata | undefined): KeepMetadata {
  if (typeof option === 'function') return option;
  const allow = option?.allow ? new Set(option.allow.map((k) => k.toLowerCase())) : undefined;
  const drop = [...SENSITIVE_METADATA, ...(option?.drop ?? []).map((k) => k.toLowerCase())];
  return (key) => {
    const lower = key.toLowerCase();
    return (!allow || allow.has(lower)) && !drop.some((part) => lower.includes(part));
  };
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
