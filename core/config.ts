/**
 * Settings shared by the interceptor, the Lambdas, the stack and the local runtime.
 * In AWS the stack passes them to every Lambda as environment variables (ENV below);
 * locally `startLocal` builds the same object. One name per setting, one default per setting.
 */
export const ENV = {
  requestLogTable: 'GRPC_MONITOR_TABLE',
  statsTable: 'GRPC_MONITOR_STATS_TABLE',
  deltaTable: 'GRPC_MONITOR_DELTA_TABLE',
  shards: 'GRPC_MONITOR_SHARDS',
  slowThresholdMs: 'GRPC_MONITOR_SLOW_MS',
  retentionDays: 'GRPC_MONITOR_RETENTION_DAYS',
  minuteRetentionHours: 'GRPC_MONITOR_MINUTE_RETENTION_HOURS',
  heartbeatStaleSeconds: 'GRPC_MONITOR_HEARTBEAT_STALE_SECONDS',
  apiToken: 'GRPC_MONITOR_API_TOKEN',
  apiTokenSecret: 'GRPC_MONITOR_API_TOKEN_SECRET',
  /** The page-cursor signing secret's value (local runs), or its Secrets Manager id (AWS). */
  cursorSecret: 'GRPC_MONITOR_CURSOR_SECRET',
  cursorSecretId: 'GRPC_MONITOR_CURSOR_SECRET_ID',
  topicArn: 'GRPC_MONITOR_TOPIC_ARN',
  alertRules: 'GRPC_MONITOR_ALERT_RULES',
  dynamoDbEndpoint: 'GRPC_MONITOR_DYNAMODB_ENDPOINT',
  sampleSuccess: 'GRPC_MONITOR_SAMPLE_SUCCESS',
  statsFlushMs: 'GRPC_MONITOR_STATS_FLUSH_MS',
  closeAfterMs: 'GRPC_MONITOR_CLOSE_AFTER_MS',
} as const;

export interface MonitorConfig {
  /** RequestLog table name. */
  readonly requestLogTable: string;
  /** Stats table name (counters, checkpoints, catalog, alert state). */
  readonly statsTable: string;
  /** Deltas table name (what monitors ship every statsFlushMs; see core/deltas). */
  readonly deltaTable: string;
  /** GSI partition keys are spread over this many shards; writers and readers must agree. */
  readonly shards: number;
  /** A call at or over this duration is slow. */
  readonly slowThresholdMs: number;
  /** RequestLog items and hour buckets live this long. */
  readonly retentionDays: number;
  /** Minute buckets live this long (they only serve the partial ends of a window). */
  readonly minuteRetentionHours: number;
  /** A server whose last heartbeat is older than this is not running. */
  readonly heartbeatStaleSeconds: number;
  /**
   * The share of successful, not slow calls the monitors log to RequestLog (0 < r ≤ 1); failed,
   * timed-out, cancelled and slow calls are always logged, and every count is exact whatever r.
   */
  readonly sampleSuccess: number;
  /**
   * The aggregator closes a bucket (recomputes its Stats from the deltas, docs/aggregation.md)
   * once its end is this far in the past, so the monitors' deltas of it have landed: 60 s in
   * AWS (monitors flush every 10 s), a few seconds under `npm start`. A later delta reopens it.
   */
  readonly closeAfterMs: number;
}

export const DEFAULTS = {
  requestLogTable: 'grpc-monitor-requests',
  statsTable: 'grpc-monitor-stats',
  deltaTable: 'grpc-monitor-deltas',
  shards: 1,
  slowThresholdMs: 1000,
  retentionDays: 30,
  minuteRetentionHours: 48,
  heartbeatStaleSeconds: 30,
  sampleSuccess: 1,
  closeAfterMs: 60_000,
} as const satisfies MonitorConfig;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Readonly<Record<string, string | undefined>>;

function intFrom(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name}=${raw} is not a whole number from ${min} to ${max}`);
  }
  return value;
}

/** A sampling rate: a number with 0 < r ≤ 1. Throws ConfigError naming `what` otherwise. */
export function checkSampleRate(value: number, what: string): number {
  if (!(value > 0 && value <= 1)) throw new ConfigError(`${what}=${value} is not a rate with 0 < r ≤ 1`);
  return value;
}

function sampleRateFrom(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (Number.isNaN(value)) throw new ConfigError(`${name}=${raw} is not a rate with 0 < r ≤ 1`);
  return checkSampleRate(value, name);
}

/** The config from environment variables, with the defaults above for what is unset. */
export function configFromEnv(env: Env = process.env): MonitorConfig {
  return {
    requestLogTable: env[ENV.requestLogTable] || DEFAULTS.requestLogTable,
    statsTable: env[ENV.statsTable] || DEFAULTS.statsTable,
    deltaTable: env[ENV.deltaTable] || DEFAULTS.deltaTable,
    shards: intFrom(env, ENV.shards, DEFAULTS.shards, 1, 100),
    slowThresholdMs: intFrom(env, ENV.slowThresholdMs, DEFAULTS.slowThresholdMs, 1, 3_600_000),
    retentionDays: intFrom(env, ENV.retentionDays, DEFAULTS.retentionDays, 1, 3650),
    minuteRetentionHours: intFrom(env, ENV.minuteRetentionHours, DEFAULTS.minuteRetentionHours, 1, 24 * 30),
    heartbeatStaleSeconds: intFrom(env, ENV.heartbeatStaleSeconds, DEFAULTS.heartbeatStaleSeconds, 1, 3600),
    sampleSuccess: sampleRateFrom(env, ENV.sampleSuccess, DEFAULTS.sampleSuccess),
    closeAfterMs: intFrom(env, ENV.closeAfterMs, DEFAULTS.closeAfterMs, 0, 3_600_000),
  };
}

/** The config as environment variables (what the stack gives each Lambda). */
export function configToEnv(config: MonitorConfig): Record<string, string> {
  return {
    [ENV.requestLogTable]: config.requestLogTable,
    [ENV.statsTable]: config.statsTable,
    [ENV.deltaTable]: config.deltaTable,
    [ENV.shards]: String(config.shards),
    [ENV.slowThresholdMs]: String(config.slowThresholdMs),
    [ENV.retentionDays]: String(config.retentionDays),
    [ENV.minuteRetentionHours]: String(config.minuteRetentionHours),
    [ENV.heartbeatStaleSeconds]: String(config.heartbeatStaleSeconds),
    [ENV.sampleSuccess]: String(config.sampleSuccess),
    [ENV.closeAfterMs]: String(config.closeAfterMs),
  };
}
