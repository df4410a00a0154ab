import { ALL_SCOPE, type ScopeStats } from '../stats';
import { RULE_NAMES, type AlertRulesConfig, type RuleScope, type Severity } from './config';
import { ANY } from './text';

/**
 * Window rules as pure functions: metrics of each scope over each rule's window, and the
 * rules' current state, in; the transitions to make (fire / resolve), out. The Lambda adapter
 * (lambdas/alert/ruleEvaluation.ts) reads the windows and state and applies the decisions.
 */

export const WINDOW_RULES = [RULE_NAMES.errorRate, RULE_NAMES.slowCalls, RULE_NAMES.p95Latency] as const;
export type WindowRuleName = (typeof WINDOW_RULES)[number];

/** The numbers a rule looks at, for one Stats scope over one window. */
export interface ScopeMetrics {
  /** Stats scope key: `ALL`, `S#UserService`, `M#UserService#GetUser`. */
  readonly scopeKey: string;
  readonly service: string;
  readonly method: string;
  readonly total: number;
  /** `error` + `timeout` calls. */
  readonly failed: number;
  readonly slow: number;
  /** null when the window holds no durations. */
  readonly p95Ms: number | null;
}

/** Each rule's metrics over its own window (`windowMinutes` back from now). */
export type RuleWindows = Readonly<Record<WindowRuleName, readonly ScopeMetrics[]>>;

/** What is remembered of a (rule, scope) between evaluations (Stats table, pk `ALERT#RULE`). */
export interface RuleState {
  readonly rule: WindowRuleName;
  readonly scopeKey: string;
  readonly service: string;
  readonly method: string;
  readonly firing: boolean;
  /** When the current firing began (ISO), while firing. */
  readonly firingSince: string | null;
  /** The last time it fired (ISO): the cooldown counts from here. */
  readonly lastFiredAt: string | null;
}

export interface RuleDecision {
  readonly transition: 'fire' | 'resolve';
  readonly rule: WindowRuleName;
  readonly scopeKey: string;
  readonly service: string;
  readonly method: string;
  readonly severity: Severity;
  /** Error rate in %, slow calls, or p95 in ms. */
  readonly value: number;
  readonly threshold: number;
  readonly total: number;
  readonly failed: number;
  readonly minCalls: number;
  readonly windowMinutes: number;
  readonly slowThresholdMs: number;
  /** For a resolve: when the firing began. */
  readonly firingSince: string | null;
}

/** `ALL` → (*, *), `S#Svc` → (Svc, *), `M#Svc#Method` → (Svc, Method); other keys → undefined. */
export function parseScopeKey(scopeKey: string): { service: string; method: string } | undefined {
  if (scopeKey === ALL_SCOPE) return { service: ANY, method: ANY };
  if (scopeKey.startsWith('S#')) return { service: scopeKey.slice(2), method: ANY };
  if (scopeKey.startsWith('M#')) {
    const rest = scopeKey.slice(2);
    const cut = rest.indexOf('#');
    if (cut > 0) return { service: rest.slice(0, cut), method: rest.slice(cut + 1) };
  }
  return undefined;
}

export function scopeKind(scopeKey: string): RuleScope | undefined {
  if (scopeKey === ALL_SCOPE) return 'all';
  if (scopeKey.startsWith('S#')) return 'service';
  if (scopeKey.startsWith('M#')) return 'method';
  return undefined;
}

/** Metrics of every scope of a window, given the stats module's quantile function. */
export function metricsFromStats(
  window: ReadonlyMap<string, ScopeStats>,
  quantile: (histogram: ScopeStats['histogram'], q: number) => number | null,
): ScopeMetrics[] {
  const out: ScopeMetrics[] = [];
  for (const [scopeKey, stats] of window) {
    const names = parseScopeKey(scopeKey);
    if (!names) continue;
    out.push({
      scopeKey,
      ...names,
      total: stats.total,
      failed: (stats.byStatus.error ?? 0) + (stats.byStatus.timeout ?? 0),
      slow: stats.slow,
      p95Ms: stats.total > 0 ? quantile(stats.histogram, 0.95) : null,
    });
  }
  return out;
}

interface Measured {
  readonly crossed: boolean;
  readonly value: number;
  readonly threshold: number;
  readonly minCalls: number;
}

type RuleSettings = {
  readonly enabled: boolean;
  readonly windowMinutes: number;
  readonly severity: Severity;
  readonly scope: RuleScope;
  readonly measure: (m: ScopeMetrics) => Measured;
};

function ruleSettings(rules: AlertRulesConfig): Record<WindowRuleName, RuleSettings> {
  const { errorRate, slowCalls, p95Latency } = rules;
  return {
    error_rate: {
      ...errorRate,
      measure: (m) => {
        const value = m.total > 0 ? (m.failed / m.total) * 100 : 0;
        const threshold = errorRate.thresholdPercent;
        return {
          crossed: m.total >= errorRate.minCalls && value > threshold,
          value,
          threshold,
          minCalls: errorRate.minCalls,
        };
      },
    },
    slow_calls: {
      ...slowCalls,
      measure: (m) => ({
        crossed: m.slow > slowCalls.maxSlowCalls,
        value: m.slow,
        threshold: slowCalls.maxSlowCalls,
        minCalls: 0,
      }),
    },
    p95_latency: {
      ...p95Latency,
      scope: 'method',
      measure: (m) => {
        const threshold = p95Latency.methodLimitsMs[`${m.service}.${m.method}`] ?? p95Latency.limitMs;
        const value = m.p95Ms ?? 0;
        return {
          crossed: m.total >= p95Latency.minCalls && value > threshold,
          value,
          threshold,
          minCalls: p95Latency.minCalls,
        };
      },
    },
  };
}

export const stateKey = (rule: WindowRuleName, scopeKey: string): string => `${rule}#${scopeKey}`;

/**
 * The transitions to make now. A rule fires once when crossed (not again while firing, and not
 * within `cooldownSeconds` of its last firing, so a flapping rule stays quiet) and resolves once
 * when it clears (a firing scope absent from the window has cleared: no calls, no problem).
 * A disabled rule resolves whatever it left firing.
 */
export function evaluateRules(
  windows: RuleWindows,
  states: readonly RuleState[],
  rules: AlertRulesConfig,
  now: Date,
  slowThresholdMs: number,
): RuleDecision[] {
  const settings = ruleSettings(rules);
  const stateOf = new Map(states.map((s) => [stateKey(s.rule, s.scopeKey), s]));
  const decisions: RuleDecision[] = [];
  const cooldownEdge = now.getTime() - rules.cooldownSeconds * 1000;

  for (const rule of WINDOW_RULES) {
    const setting = settings[rule];
    const seen = new Set<string>();
    const decide = (m: ScopeMetrics, state: RuleState | undefined) => {
      const measured = setting.measure(m);
      const base = {
        rule,
        scopeKey: m.scopeKey,
        service: m.service,
        method: m.method,
        severity: setting.severity,
        value: measured.value,
        threshold: measured.threshold,
        total: m.total,
        failed: m.failed,
        minCalls: measured.minCalls,
        windowMinutes: setting.windowMinutes,
        slowThresholdMs,
      };
      const firing = state?.firing ?? false;
      const crossed = setting.enabled && measured.crossed;
      if (crossed && !firing) {
        const cooling = state?.lastFiredAt && Date.parse(state.lastFiredAt) > cooldownEdge;
        if (!cooling) decisions.push({ ...base, transition: 'fire', firingSince: null });
      } else if (!crossed && firing) {
        decisions.push({ ...base, transition: 'resolve', firingSince: state?.firingSince ?? null });
      }
    };
    for (const m of windows[rule]) {
      if (scopeKind(m.scopeKey) !== setting.scope) continue;
      seen.add(m.scopeKey);
      decide(m, stateOf.get(stateKey(rule, m.scopeKey)));
    }
    for (const state of states) {
      if (state.rule !== rule || !state.firing || seen.has(state.scopeKey)) continue;
      const empty: ScopeMetrics = { ...state, total: 0, failed: 0, slow: 0, p95Ms: null };
      decide(empty, state);
    }
  }
  return decisions;
}
