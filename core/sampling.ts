/**
 * Log sampling: which finished calls are written to RequestLog. Pure; the interceptor asks it
 * once per call. Counts never depend on it (every call is folded into the delta cells first).
 *
 * - Failed, timed-out, cancelled and slow calls are always logged.
 * - A success is logged with probability `rate`, decided by its trace id when an incoming W3C
 *   `traceparent` gave one (so every service that samples by trace id keeps or drops the same
 *   trace), else by its request id.
 *
 * Trace ids follow OpenTelemetry's consistent probability sampling (W3C Trace Context level 2
 * makes the rightmost 7 bytes of a trace id random): with R those 56 bits and the rejection
 * threshold T = 2^56 − round(rate · 2^56), the trace is kept iff R ≥ T. An OpenTelemetry sampler
 * at the same rate keeps the same traces, and a trace kept at one rate is kept at every higher one.
 * Request ids (UUIDv7, made by the server) are hashed: FNV-1a 32-bit with a final avalanche,
 * kept iff hash / 2^32 < rate.
 */

/** What the decision needs of a finished call. */
export interface SampledCall {
  readonly status: 'success' | 'error' | 'cancelled' | 'timeout' | 'pending';
  readonly slow: boolean;
  /** 32 lowercase hex digits, from a valid `traceparent`; null when none came in. */
  readonly traceId: string | null;
  readonly requestId: string;
}

/** Decides whether a success is logged, for one rate. */
export interface SuccessSampler {
  readonly rate: number;
  /** True when every call is logged (rate 1): the caller can skip the work. */
  readonly all: boolean;
  /** The hash decision alone (also what decides a `pending` item under logPending). */
  keeps(traceId: string | null, requestId: string): boolean;
  /** The whole rule: failures and slow calls always, successes by `keeps`. */
  logs(call: SampledCall): boolean;
}

const TWO_56 = 2 ** 56;

/** The 56 random bits of a trace id as two 28-bit halves [high, low] (exact: no float rounding). */
export function traceRandomness(traceId: string): [number, number] {
  return [parseInt(traceId.slice(18, 25), 16), parseInt(traceId.slice(25, 32), 16)];
}

/**
 * OpenTelemetry's rejection threshold T = 2^56 − round(rate · 2^56), as [high, low] 28-bit
 * halves. (rate · 2^56 is exact in floating point; (1 − rate) · 2^56 would not be.)
 */
export function rejectionThreshold(rate: number): [number, number] {
  const t = 2n ** 56n - BigInt(Math.round(rate * TWO_56));
  return [Number(t >> 28n), Number(t & 0xfffffffn)];
}

/** True when the trace id's randomness R ≥ T (kept at that rate). */
export function traceKept(traceId: string, threshold: readonly [number, number]): boolean {
  const [high, low] = traceRandomness(traceId);
  return high > threshold[0] || (high === threshold[0] && low >= threshold[1]);
}

/** A stable 32-bit hash of a string (FNV-1a, then murmur3's fmix32 so every bit depends on every char). */
export function hash32(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}

/** A request id's point in [0, 1). */
export const requestIdUnit = (requestId: string): number => hash32(requestId) / 2 ** 32;

/** The sampler for `rate` (0 < rate ≤ 1; validate it with checkSampleRate first). */
export function successSampler(rate: number): SuccessSampler {
  const all = rate >= 1;
  const threshold = rejectionThreshold(rate);
  const keeps = (traceId: string | null, requestId: string): boolean =>
    all || (traceId !== null ? traceKept(traceId, threshold) : requestIdUnit(requestId) < rate);
  return {
    rate,
    all,
    keeps,
    logs: (call) => all || call.status !== 'success' || call.slow || keeps(call.traceId, call.requestId),
  };
}
