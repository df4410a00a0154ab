import { alertRulesFromEnv, DEFAULT_ALERT_RULES, type AlertRulesConfig } from '../core/alerts/config';
import { checkSampleRate, ConfigError, DEFAULTS, ENV } from '../core/config';

/**
 * What a deployment can change, read from CDK context (`cdk.json` "context", or `-c key=value`).
 * Values from `-c` arrive as strings, values from cdk.json as JSON: both are accepted, and
 * anything out of range stops the synth with a message naming the key.
 */
export interface MonitorSettings {
  /** RequestLog items and hour buckets live this long. @default 30 */
  readonly retentionDays: number;
  /** Minute buckets live this long. @default 48 */
  readonly minuteRetentionHours: number;
  /** GSI partition keys are spread over this many shards (≈1,000 writes/s each). @default 1 */
  readonly shards: number;
  /** A call at or over this duration is slow. @default 1000 */
  readonly slowThresholdMs: number;
  /**
   * The share of successful, not slow calls the gRPC services log to RequestLog (0 < r ≤ 1), for
   * `GrpcServiceEnvironment` and the readers (which say when sampling is on). Counts stay exact
   * whatever the rate: they come from the monitors' deltas, folded before sampling. @default 1
   */
  readonly sampleSuccess: number;
  /**
   * How often each monitor ships its delta items (ms), for `GrpcServiceEnvironment`; a crash
   * loses at most this interval of counts. @default 10000
   */
  readonly statsFlushMs: number;
  /**
   * Alert rules: context `alertRules` (an object in cdk.json, or JSON with `-c`) merged over
   * DEFAULT_ALERT_RULES and validated by `core/alerts/config.ts`.
   * @default DEFAULT_ALERT_RULES
   */
  readonly alertRules: AlertRulesConfig;
  /** Subscribe this address to the alert topic. @default - no subscription */
  readonly alertEmail?: string;
  /** Secrets Manager name of the API bearer token. @default 'grpc-monitor/api-token' */
  readonly tokenSecretName: string;
  /** Deletion protection and RETAIN on the tables; turn off for throwaway stacks. @default true */
  readonly deletionProtection: boolean;
  /** Encrypt the alert topic with a customer-managed KMS key. @default false */
  readonly alertTopicKms: boolean;
  /** Origins allowed to call the API from a browser (dashboards hosted elsewhere). @default [] */
  readonly corsAllowOrigins: readonly string[];
  /** Steady-state API requests per second. @default 50 */
  readonly apiThrottleRate: number;
  /** API burst capacity. @default 100 */
  readonly apiThrottleBurst: number;
  /** Days that Lambda and API access logs are kept (a CloudWatch Logs retention value). @default 30 */
  readonly logRetentionDays: number;
}

export const SETTINGS_DEFAULTS = {
  retentionDays: DEFAULTS.retentionDays,
  minuteRetentionHours: DEFAULTS.minuteRetentionHours,
  shards: DEFAULTS.shards,
  slowThresholdMs: DEFAULTS.slowThresholdMs,
  sampleSuccess: DEFAULTS.sampleSuccess,
  statsFlushMs: 10_000,
  alertRules: DEFAULT_ALERT_RULES,
  tokenSecretName: 'grpc-monitor/api-token',
  deletionProtection: true,
  alertTopicKms: false,
  corsAllowOrigins: [],
  apiThrottleRate: 50,
  apiThrottleBurst: 100,
  logRetentionDays: 30,
} as const satisfies Omit<MonitorSettings, 'alertEmail'>;

/** The context keys, for documentation and for `cdk.json`. */
export const CONTEXT_KEYS = [
  'retentionDays',
  'minuteRetentionHours',
  'shards',
  'slowThresholdMs',
  'sampleSuccess',
  'statsFlushMs',
  'alertRules',
  'alertEmail',
  'tokenSecretName',
  'deletionProtection',
  'alertTopicKms',
  'corsAllowOrigins',
  'apiThrottleRate',
  'apiThrottleBurst',
  'logRetentionDays',
] as const;

export type ContextKey = (typeof CONTEXT_KEYS)[number];

/** CloudWatch Logs accepts only these retention periods. */
const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

export class ContextError extends Error {
  override name = 'ContextError';
}

type Lookup = (key: ContextKey) => unknown;

function wholeNumber(lookup: Lookup, key: ContextKey, fallback: number, min: number, max: number): number {
  const raw = lookup(key);
  if (raw === undefined || raw === '') return fallback;
  const value = typeof raw === 'string' ? Number(raw.trim()) : raw;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ContextError(
      `context ${key}=${JSON.stringify(raw)} must be a whole number from ${min} to ${max}`,
    );
  }
  return value;
}

/** A rate 0 < r ≤ 1, checked by the same rule the interceptor applies to its option and env. */
function rate(lookup: Lookup, key: ContextKey, fallback: number): number {
  const raw = lookup(key);
  if (raw === undefined || raw === '') return fallback;
  const value = typeof raw === 'string' ? Number(raw.trim()) : raw;
  try {
    if (typeof value !== 'number') throw new ConfigError(`${key} is not a number`);
    return checkSampleRate(value, key);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    throw new ContextError(`context ${key}=${JSON.stringify(raw)} must be a rate with 0 < r ≤ 1`);
  }
}

function flag(lookup: Lookup, key: ContextKey, fallback: boolean): boolean {
  const raw = lookup(key);
  if (raw === undefined || raw === '') return fallback;
  if (raw === true || raw === 'true') return true;
  if (raw === false || raw === 'false') return false;
  throw new ContextError(`context ${key}=${JSON.stringify(raw)} must be true or false`);
}

function optionalText(lookup: Lookup, key: ContextKey): string | undefined {
  const raw = lookup(key);
  if (raw === undefined || raw === '') return undefined;
  if (typeof raw !== 'string') throw new ContextError(`context ${key} must be a string`);
  return raw.trim();
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
/** Secrets Manager names: letters, digits and /_+=.@- up to 512 characters. */
const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
const ORIGIN = /^(\*|https?:\/\/[^\s/]+)$/;

function origins(lookup: Lookup): readonly string[] {
  const raw = lookup('corsAllowOrigins');
  if (raw === undefined || raw === '') return SETTINGS_DEFAULTS.corsAllowOrigins;
  const list = typeof raw === 'string' ? raw.split(',').map((o) => o.trim()) : raw;
  if (!Array.isArray(list) || list.some((o) => typeof o !== 'string' || !ORIGIN.test(o))) {
    throw new ContextError(
      `context corsAllowOrigins=${JSON.stringify(raw)} must be origins like https://dash.example.com (a list, or comma-separated)`,
    );
  }
  return list as string[];
}

function alertRules(lookup: Lookup): AlertRulesConfig {
  const raw = lookup('alertRules');
  if (raw === undefined || raw === '') return SETTINGS_DEFAULTS.alertRules;
  try {
    // The same parser the alert Lambda applies to its env, so a bad rule fails the synth.
    return alertRulesFromEnv({ [ENV.alertRules]: typeof raw === 'string' ? raw : JSON.stringify(raw) });
  } catch (error) {
    throw new ContextError(`context alertRules: ${(error as Error).message}`);
  }
}

/** Reads and validates every setting; `lookup` is usually `key => app.node.tryGetContext(key)`. */
export function settingsFromContext(lookup: Lookup): MonitorSettings {
  const alertEmail = optionalText(lookup, 'alertEmail');
  if (alertEmail !== undefined && !EMAIL.test(alertEmail)) {
    throw new ContextError(`context alertEmail=${JSON.stringify(alertEmail)} is not an email address`);
  }
  const tokenSecretName = optionalText(lookup, 'tokenSecretName') ?? SETTINGS_DEFAULTS.tokenSecretName;
  if (!SECRET_NAME.test(tokenSecretName)) {
    throw new ContextError(
      `context tokenSecretName=${JSON.stringify(tokenSecretName)} is not a valid secret name`,
    );
  }
  const logRetentionDays = wholeNumber(
    lookup,
    'logRetentionDays',
    SETTINGS_DEFAULTS.logRetentionDays,
    1,
    3653,
  );
  if (!LOG_RETENTION_DAYS.includes(logRetentionDays)) {
    throw new ContextError(
      `context logRetentionDays=${logRetentionDays} must be one of ${LOG_RETENTION_DAYS.join(', ')}`,
    );
  }
  const apiThrottleRate = wholeNumber(
    lookup,
    'apiThrottleRate',
    SETTINGS_DEFAULTS.apiThrottleRate,
    1,
    10_000,
  );
  const apiThrottleBurst = wholeNumber(
    lookup,
    'apiThrottleBurst',
    SETTINGS_DEFAULTS.apiThrottleBurst,
    1,
    5_000,
  );
  return {
    retentionDays: wholeNumber(lookup, 'retentionDays', SETTINGS_DEFAULTS.retentionDays, 1, 3650),
    minuteRetentionHours: wholeNumber(
      lookup,
      'minuteRetentionHours',
      SETTINGS_DEFAULTS.minuteRetentionHours,
      1,
      24 * 30,
    ),
    shards: wholeNumber(lookup, 'shards', SETTINGS_DEFAULTS.shards, 1, 100),
    slowThresholdMs: wholeNumber(lookup, 'slowThresholdMs', SETTINGS_DEFAULTS.slowThresholdMs, 1, 3_600_000),
    sampleSuccess: rate(lookup, 'sampleSuccess', SETTINGS_DEFAULTS.sampleSuccess),
    // At most a minute: the aggregator closes a minute about a minute after it ends (closeAfterMs),
    // and a delta that arrives later costs a second recomputation of its minute.
    statsFlushMs: wholeNumber(lookup, 'statsFlushMs', SETTINGS_DEFAULTS.statsFlushMs, 1_000, 60_000),
    alertRules: alertRules(lookup),
    ...(alertEmail !== undefined && { alertEmail }),
    tokenSecretName,
    deletionProtection: flag(lookup, 'deletionProtection', SETTINGS_DEFAULTS.deletionProtection),
    alertTopicKms: flag(lookup, 'alertTopicKms', SETTINGS_DEFAULTS.alertTopicKms),
    corsAllowOrigins: origins(lookup),
    apiThrottleRate,
    apiThrottleBurst,
    logRetentionDays,
  };
}
