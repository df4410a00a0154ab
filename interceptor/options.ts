import type { DynamoDBClient, DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { status as GrpcStatus, type Metadata, type ServerInterceptingCallInterface } from '@grpc/grpc-js';
import { checkSampleRate, ConfigError, configFromEnv, ENV } from '../core/config';
import type { RequestUser } from '../core/record';
import {
  metadataFilter,
  trustedProxyMatcher,
  TrustedProxiesError,
  type KeepMetadata,
  type MetadataFilter,
  type TrustedProxy,
} from './callContext';

/** Who made a call, from its metadata (e.g. a verified JWT). Return undefined for anonymous. */
export type ResolveUser = (
  metadata: Metadata,
  call: ServerInterceptingCallInterface,
) => RequestUser | undefined | null;

/** A method path (`/pkg.Service/Method`) or a prefix ending in `*` (`/grpc.health.v1.Health/*`). */
export type MethodPattern = string;

export interface GrpcMonitorOptions {
  /** RequestLog table. @default process.env.GRPC_MONITOR_TABLE */
  tableName?: string;
  /** Deltas table (the per-minute counts the monitor ships). @default GRPC_MONITOR_DELTA_TABLE or `grpc-monitor-deltas` */
  deltaTableName?: string;
  /**
   * How often the in-process counts (every call, before sampling) are shipped as delta items.
   * A crash loses at most this interval's counts. @default GRPC_MONITOR_STATS_FLUSH_MS or 10000
   */
  statsFlushMs?: number;
  /**
   * Log sampling. `success`: the share of successful calls written to RequestLog, 0 < r ≤ 1;
   * failed, timed-out, cancelled and slow calls are always written, and every count stays exact.
   * Decided by the trace id of an incoming `traceparent` (every service keeps the same traces),
   * else by the request id. @default { success: GRPC_MONITOR_SAMPLE_SUCCESS or 1 }
   */
  sampling?: { success?: number };
  /** A DynamoDBClient, or the config to build one (`{ endpoint, region, credentials }`). @default {} (SDK defaults) */
  dynamoDb?: DynamoDBClient | DynamoDBClientConfig;
  /** Resolves the caller from metadata; a resolver that throws records `user: null`. */
  resolveUser?: ResolveUser;
  /** This server's address: enables heartbeats (with the writer's stats) for `/health/`. */
  server?: { host: string; port: number };
  /** The seed's console lines (➡️ ✅ ❌ 🚫 ⏱️): true, false, or a line sink. @default NODE_ENV === 'development' */
  console?: boolean | ((line: string) => void);
  /** Write a `pending` item when a call starts, completed when it ends (two writes per call). @default false */
  logPending?: boolean;
  /** Methods not recorded: paths, prefixes ending in `*`, or a predicate. @default ['/grpc.health.v1.Health/*'] */
  skipMethods?: readonly MethodPattern[] | ((path: string) => boolean);
  /** Codes (numbers or names) that count as `success` besides OK, e.g. `['NOT_FOUND']`. @default [] */
  successCodes?: readonly (number | string)[];
  /** GSI shard count; must match the readers. @default GRPC_MONITOR_SHARDS or 1 */
  shards?: number;
  /** A call this long or longer is flagged slow. @default GRPC_MONITOR_SLOW_MS or 1000 */
  slowThresholdMs?: number;
  /** Items expire (TTL) this many days after the call. @default GRPC_MONITOR_RETENTION_DAYS or 30 */
  retentionDays?: number;
  /** Queue bound in items; the oldest is dropped (and counted) beyond it. @default 10000 */
  maxQueueItems?: number;
  /** Queue bound in estimated item bytes. @default 16 MiB */
  maxQueueBytes?: number;
  /** A partial batch is sent at most this long after its first item arrived. @default 200 */
  flushIntervalMs?: number;
  /** BatchWriteItem requests in flight at once. @default 4 */
  maxConcurrentWrites?: number;
  /** Ceiling of the retry backoff (exponential with full jitter). @default 2000 */
  maxRetryDelayMs?: number;
  /**
   * Run the writer (and the AWS SDK) on its own worker thread, off the gRPC event loop. Needs
   * `dynamoDb` as plain config (a client instance stays on the event loop). @default true
   */
  writerThread?: boolean;
  /**
   * The writer thread's CPU priority as a nice value, 0–19 (Linux; ignored elsewhere, where a
   * thread cannot be reniced alone). Above 0 the thread yields the CPU to the gRPC event loop:
   * on a saturated machine the writer falls behind rather than slowing the service, its bounded
   * queue absorbs the backlog, and what it must drop is counted (stats, heartbeats). 0 gives it
   * the service's priority. @default 10
   */
  writerNiceness?: number;
  /** Heartbeat period with `server`. @default 5000 */
  heartbeatIntervalMs?: number;
  /**
   * A cancel this close to the deadline (or after it) is a timeout: the client's own deadline
   * fires first and its reset can reach the server before the server's timer. @default 100
   */
  deadlineMarginMs?: number;
  /**
   * Proxies whose `x-forwarded-for` is believed: IP addresses or CIDR ranges (`10.0.0.0/8`,
   * `fd00::/8`). A call from one of them records as `client_ip` the right-most hop of the header
   * that is not itself trusted; any other call records the peer's address, whatever it sends.
   * The header as received is kept in `forwarded_for` either way. @default [] (nobody)
   */
  trustedProxies?: readonly string[];
  /**
   * Which trailing metadata of a failed call `error_details.metadata` keeps: `{ allow }` keeps
   * only the keys listed, `{ drop }` drops keys containing these words too; keys containing
   * SENSITIVE_METADATA (`authorization`, `cookie`, `token`, `secret`, `password`, `api-key`,
   * `apikey`, `credential`) are dropped with either. A predicate `(key) => boolean` decides alone.
   * @default {} (every key but the sensitive ones)
   */
  errorMetadata?: MetadataFilter | KeepMetadata;
}

export interface ResolvedOptions {
  tableName: string;
  deltaTableName: string;
  statsFlushMs: number;
  sampleSuccess: number;
  resolveUser: ResolveUser | undefined;
  server: { host: string; port: number } | undefined;
  log: ((line: string) => void) | undefined;
  logPending: boolean;
  skip: (path: string) => boolean;
  successCodes: ReadonlySet<number>;
  shards: number;
  slowThresholdMs: number;
  retentionDays: number;
  maxQueueItems: number;
  maxQueueBytes: number;
  flushIntervalMs: number;
  maxConcurrentWrites: number;
  maxRetryDelayMs: number;
  writerNiceness: number;
  heartbeatIntervalMs: number;
  deadlineMarginMs: number;
  /** undefined when no proxy is trusted. */
  trustedProxy: TrustedProxy | undefined;
  keepErrorMetadata: KeepMetadata;
}

export class GrpcMonitorConfigError extends Error {
  override name = 'GrpcMonitorConfigError';
}

export const DEFAULT_SKIP_METHODS: readonly MethodPattern[] = ['/grpc.health.v1.Health/*'];

/** A predicate over method paths from patterns (exact paths, or prefixes ending in `*`). */
export function skipPredicate(skip: GrpcMonitorOptions['skipMethods']): (path: string) => boolean {
  if (typeof skip === 'function') return skip;
  const exact = new Set<string>();
  const prefixes: string[] = [];
  for (const pattern of skip ?? DEFAULT_SKIP_METHODS) {
    if (pattern.endsWith('*')) prefixes.push(pattern.slice(0, -1));
    else exact.add(pattern);
  }
  return (path) => exact.has(path) || prefixes.some((prefix) => path.startsWith(prefix));
}

function codeNumber(code: number | string): number {
  if (typeof code === 'number' && GrpcStatus[code] !== undefined) return code;
  if (typeof code === 'string') {
    const value = (GrpcStatus as unknown as Record<string, number | undefined>)[code.toUpperCase()];
    if (typeof value === 'number') return value;
  }
  throw new GrpcMonitorConfigError(`successCodes: ${String(code)} is not a gRPC status code`);
}

function positive(name: string, value: number | undefined, fallback: number): number {
  const chosen = value ?? fallback;
  if (!Number.isFinite(chosen) || chosen <= 0) {
    throw new GrpcMonitorConfigError(`${name} must be a positive number, got ${String(value)}`);
  }
  return chosen;
}

function niceness(value: number | undefined): number {
  const chosen = value ?? 10;
  if (!Number.isInteger(chosen) || chosen < 0 || chosen > 19) {
    throw new GrpcMonitorConfigError(`writerNiceness must be an integer from 0 to 19, got ${String(value)}`);
  }
  return chosen;
}

function trustedProxies(entries: GrpcMonitorOptions['trustedProxies']): TrustedProxy | undefined {
  try {
    return trustedProxyMatcher(entries ?? []);
  } catch (error) {
    if (error instanceof TrustedProxiesError) throw new GrpcMonitorConfigError(error.message);
    throw error;
  }
}

function consoleSink(option: GrpcMonitorOptions['console'], env: NodeJS.ProcessEnv): ResolvedOptions['log'] {
  if (typeof option === 'function') return option;
  const enabled = option ?? env.NODE_ENV === 'development';
  return enabled ? (line) => console.log(line) : undefined;
}

/** The stats flush interval from the option, else GRPC_MONITOR_STATS_FLUSH_MS, else 10 s. */
function statsFlushMs(value: number | undefined, env: NodeJS.ProcessEnv): number {
  const raw = env[ENV.statsFlushMs];
  const chosen = value ?? (raw === undefined || raw === '' ? 10_000 : Number(raw));
  if (!Number.isInteger(chosen) || chosen < 10 || chosen > 3_600_000) {
    const source = value === undefined ? `${ENV.statsFlushMs}=${raw}` : `statsFlushMs=${String(value)}`;
    throw new GrpcMonitorConfigError(`${source} is not a whole number of ms from 10 to 3600000`);
  }
  return chosen;
}

function sampleSuccess(value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  try {
    return checkSampleRate(value, 'sampling.success');
  } catch (error) {
    throw error instanceof ConfigError ? new GrpcMonitorConfigError(error.message) : error;
  }
}

/** Options with every default applied; throws GrpcMonitorConfigError on a bad value. */
export function resolveOptions(
  options: GrpcMonitorOptions,
  env: NodeJS.ProcessEnv = process.env,
): ResolvedOptions {
  let config: ReturnType<typeof configFromEnv>;
  try {
    config = configFromEnv(env);
  } catch (error) {
    throw error instanceof ConfigError ? new GrpcMonitorConfigError(error.message) : error;
  }
  const tableName = options.tableName ?? env[ENV.requestLogTable];
  if (!tableName) {
    throw new GrpcMonitorConfigError(`tableName is required (or set ${ENV.requestLogTable})`);
  }
  return {
    tableName,
    deltaTableName: options.deltaTableName || config.deltaTable,
    statsFlushMs: statsFlushMs(options.statsFlushMs, env),
    sampleSuccess: sampleSuccess(options.sampling?.success, config.sampleSuccess),
    resolveUser: options.resolveUser,
    server: options.server,
    log: consoleSink(options.console, env),
    logPending: options.logPending ?? false,
    skip: skipPredicate(options.skipMethods),
    successCodes: new Set([GrpcStatus.OK, ...(options.successCodes ?? []).map(codeNumber)]),
    shards: Math.floor(positive('shards', options.shards, config.shards)),
    slowThresholdMs: positive('slowThresholdMs', options.slowThresholdMs, config.slowThresholdMs),
    retentionDays: positive('retentionDays', options.retentionDays, config.retentionDays),
    maxQueueItems: Math.floor(positive('maxQueueItems', options.maxQueueItems, 10_000)),
    maxQueueBytes: positive('maxQueueBytes', options.maxQueueBytes, 16 * 1024 * 1024),
    flushIntervalMs: positive('flushIntervalMs', options.flushIntervalMs, 200),
    maxConcurrentWrites: Math.floor(positive('maxConcurrentWrites', options.maxConcurrentWrites, 4)),
    maxRetryDelayMs: positive('maxRetryDelayMs', options.maxRetryDelayMs, 2_000),
    writerNiceness: niceness(options.writerNiceness),
    heartbeatIntervalMs: positive('heartbeatIntervalMs', options.heartbeatIntervalMs, 5_000),
    deadlineMarginMs: options.deadlineMarginMs ?? 100,
    trustedProxy: trustedProxies(options.trustedProxies),
    keepErrorMetadata: metadataFilter(options.errorMetadata),
  };
}
