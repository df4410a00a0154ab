import { ENV } from '../config';

/**
 * What the alert Lambda watches and how loudly it speaks. Every field has a default
 * (DEFAULT_ALERT_RULES); the stack passes overrides as JSON in env GRPC_MONITOR_ALERT_RULES
 * (ENV.alertRules), e.g. `{"errorRate":{"thresholdPercent":10},"cooldownSeconds":600}`.
 * Objects are merged over the defaults field by field; arrays and scalars replace them.
 */

/** How loud a message is; sent as the SNS attribute `severity` for filter policies. */
export const SEVERITIES = ['critical', 'error', 'warning', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Which Stats scope a window rule is evaluated over: every call, each service, or each method. */
export const RULE_SCOPES = ['all', 'service', 'method'] as const;
export type RuleScope = (typeof RULE_SCOPES)[number];

/** One alert per failed call, as the seed's Django signal does. */
export interface PerErrorRule {
  /** @default true */
  readonly enabled: boolean;
  /** Final statuses that send an alert. @default ['error', 'timeout'] */
  readonly statuses: readonly ('error' | 'timeout')[];
  /** gRPC code NAMEs (`INTERNAL`, `UNAVAILABLE`) that send an alert; empty = every code. @default [] */
  readonly codes: readonly string[];
  /** Services (`UserService`) that send an alert; empty = every service. @default [] */
  readonly services: readonly string[];
  /** @default 'error' (a timeout is sent as 'warning') */
  readonly severity: Severity;
}

/** Error rate over `thresholdPercent` % with at least `minCalls` calls in the last `windowMinutes`. */
export interface ErrorRateRule {
  /** @default true */
  readonly enabled: boolean;
  /** Fires when (error + timeout) ÷ total × 100 is over this. @default 5 */
  readonly thresholdPercent: number;
  /** Fewer calls than this in the window never fire (one failure of two calls is not an incident). @default 20 */
  readonly minCalls: number;
  /** @default 5 */
  readonly windowMinutes: number;
  /** @default 'method' */
  readonly scope: RuleScope;
  /** @default 'critical' */
  readonly severity: Severity;
}

/** More than `maxSlowCalls` calls at or over the slow threshold (GRPC_MONITOR_SLOW_MS) in the window: the seed's "Too many slow gRPC requests!". */
export interface SlowCallsRule {
  /** @default true */
  readonly enabled: boolean;
  /** Fires when the slow count is over this. @default 10 */
  readonly maxSlowCalls: number;
  /** @default 60 */
  readonly windowMinutes: number;
  /** @default 'all' (the seed counts every call) */
  readonly scope: RuleScope;
  /** @default 'warning' */
  readonly severity: Severity;
}

/** p95 latency of a method over a limit. */
export interface P95LatencyRule {
  /** @default true */
  readonly enabled: boolean;
  /** Fires when p95 is over this many ms. @default 1000 */
  readonly limitMs: number;
  /** Per-method limits, keyed `Service.Method` (`UserService.GetUser`), over `limitMs`. @default {} */
  readonly methodLimitsMs: Readonly<Record<string, number>>;
  /** Fewer calls than this in the window never fire (a p95 of three calls means little). @default 20 */
  readonly minCalls: number;
  /** @default 15 */
  readonly windowMinutes: number;
  /** @default 'warning' */
  readonly severity: Severity;
}

export interface AlertRulesConfig {
  readonly perError: PerErrorRule;
  readonly errorRate: ErrorRateRule;
  readonly slowCalls: SlowCallsRule;
  readonly p95Latency: P95LatencyRule;
  /**
   * Quiet time per (rule, service, method) after an alert: further alerts of that key are
   * counted, not sent, and the next alert after the cooldown says how many were suppressed.
   * A window rule that resolved does not fire again for this long either. @default 300
   */
  readonly cooldownSeconds: number;
}

/** The names rules go by in messages, SNS attributes and state keys. */
export const RULE_NAMES = {
  perError: 'error',
  errorRate: 'error_rate',
  slowCalls: 'slow_calls',
  p95Latency: 'p95_latency',
} as const;
export type RuleName = (typeof RULE_NAMES)[keyof typeof RULE_NAMES];

export const DEFAULT_ALERT_RULES: AlertRulesConfig = {
  perError: { enabled: true, statuses: ['error', 'timeout'], codes: [], services: [], severity: 'error' },
  errorRate: {
    enabled: true,
    thresholdPercent: 5,
    minCalls: 20,
    windowMinutes: 5,
    scope: 'method',
    severity: 'critical',
  },
  slowCalls: { enabled: true, maxSlowCalls: 10, windowMinutes: 60, scope: 'all', severity: 'warning' },
  p95Latency: {
    enabled: true,
    limitMs: 1000,
    methodLimitsMs: {},
    minCalls: 20,
    windowMinutes: 15,
    severity: 'warning',
  },
  cooldownSeconds: 300,
};

export class AlertRulesError extends Error {
  override name = 'AlertRulesError';
}

type Json = unknown;
type Check = (value: Json, path: string) => void;

function fail(path: string, expected: string, value: Json): never {
  throw new AlertRulesError(`${ENV.alertRules}: ${path} must be ${expected}, got ${JSON.stringify(value)}`);
}

const bool: Check = (v, p) => void (typeof v === 'boolean' || fail(p, 'true or false', v));
const number =
  (min: number, max: number, integer = false): Check =>
  (v, p) =>
    void (
      (typeof v === 'number' &&
        Number.isFinite(v) &&
        v >= min &&
        v <= max &&
        (!integer || Number.isInteger(v))) ||
      fail(p, `${integer ? 'a whole number' : 'a number'} from ${min} to ${max}`, v)
    );
const oneOf =
  (values: readonly string[]): Check =>
  (v, p) =>
    void ((typeof v === 'string' && values.includes(v)) || fail(p, `one of ${values.join(', ')}`, v));
const stringList =
  (
    item: Check = (v, p) =>
      void ((typeof v === 'string' && v.length > 0 && v.length <= 200) || fail(p, 'a name', v)),
  ): Check =>
  (v, p) => {
    if (!Array.isArray(v)) fail(p, 'a list', v);
    (v as Json[]).forEach((x, i) => item(x, `${p}[${i}]`));
  };
const limitMap: Check = (v, p) => {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    fail(p, 'an object of "Service.Method": ms', v);
  for (const [key, ms] of Object.entries(v as Record<string, Json>)) {
    if (!/^[^.\s]+\.[^.\s]+$/.test(key)) fail(`${p} key`, '"Service.Method"', key);
    number(1, 3_600_000)(ms, `${p}.${key}`);
  }
};

const MINUTES = number(1, 24 * 60, true);
const SCHEMA: Record<keyof AlertRulesConfig, Check | Record<string, Check>> = {
  perError: {
    enabled: bool,
    statuses: stringList(oneOf(['error', 'timeout'])),
    codes: stringList(),
    services: stringList(),
    severity: oneOf(SEVERITIES),
  },
  errorRate: {
    enabled: bool,
    thresholdPercent: number(0, 100),
    minCalls: number(1, 1e9, true),
    windowMinutes: MINUTES,
    scope: oneOf(RULE_SCOPES),
    severity: oneOf(SEVERITIES),
  },
  slowCalls: {
    enabled: bool,
    maxSlowCalls: number(0, 1e9, true),
    windowMinutes: MINUTES,
    scope: oneOf(RULE_SCOPES),
    severity: oneOf(SEVERITIES),
  },
  p95Latency: {
    enabled: bool,
    limitMs: number(1, 3_600_000),
    methodLimitsMs: limitMap,
    minCalls: number(1, 1e9, true),
    windowMinutes: MINUTES,
    severity: oneOf(SEVERITIES),
  },
  cooldownSeconds: number(0, 7 * 86_400, true),
};

const isObject = (v: Json): v is Record<string, Json> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Overrides (already parsed JSON) merged over the defaults and validated. Unknown keys are
 * refused, so a typo (`tresholdPercent`) fails loudly instead of silently keeping a default.
 */
export function parseAlertRules(
  overrides: Json,
  defaults: AlertRulesConfig = DEFAULT_ALERT_RULES,
): AlertRulesConfig {
  if (!isObject(overrides)) return fail('the value', 'a JSON object', overrides);
  const out: Record<string, Json> = { ...defaults };
  for (const [key, value] of Object.entries(overrides)) {
    const check = SCHEMA[key as keyof AlertRulesConfig];
    if (!check) fail(key, `one of ${Object.keys(SCHEMA).join(', ')}`, key);
    if (typeof check === 'function') {
      check(value, key);
      out[key] = value;
      continue;
    }
    if (!isObject(value)) fail(key, 'an object', value);
    const merged: Record<string, Json> = { ...(defaults[key as keyof AlertRulesConfig] as object) };
    for (const [field, fieldValue] of Object.entries(value as Record<string, Json>)) {
      const fieldCheck = check[field];
      if (!fieldCheck) fail(`${key}.${field}`, `one of ${Object.keys(check).join(', ')}`, field);
      fieldCheck(fieldValue, `${key}.${field}`);
      merged[field] = fieldValue;
    }
    out[key] = merged;
  }
  return out as unknown as AlertRulesConfig;
}

/** The rules from env GRPC_MONITOR_ALERT_RULES (JSON); the defaults when it is unset or empty. */
export function alertRulesFromEnv(
  env: Readonly<Record<string, string | undefined>> = process.env,
): AlertRulesConfig {
  const raw = env[ENV.alertRules];
  if (raw === undefined || raw.trim() === '') return DEFAULT_ALERT_RULES;
  let parsed: Json;
  try {
    parsed = JSON.parse(raw);
  } catch (error) {
    throw new AlertRulesError(`${ENV.alertRules} is not valid JSON: ${(error as Error).message}`);
  }
  return parseAlertRules(parsed);
}

/** The rules as the env variable the stack gives the alert Lambdas. */
export function alertRulesToEnv(rules: AlertRulesConfig): Record<string, string> {
  return { [ENV.alertRules]: JSON.stringify(rules) };
}
