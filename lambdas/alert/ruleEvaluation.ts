import { DEFAULT_ALERT_RULES, type AlertRulesConfig } from '../../core/alerts/config';
import type { AlertMessage } from '../../core/alerts/message';
import {
  evaluateRules,
  metricsFromStats,
  WINDOW_RULES,
  type RuleWindows,
  type ScopeMetrics,
  type WindowRuleName,
} from '../../core/alerts/rules';
import { ruleAlertMessage, suppressedSummaryMessage } from '../../core/alerts/text';
import { quantile as statsQuantile, readWindow as statsReadWindow } from '../../core/stats';
import { CooldownStore } from './cooldownStore';
import type { AlertDeps } from './deps';
import { RuleStateStore } from './ruleStateStore';

const windowMinutesOf = (rules: AlertRulesConfig): Record<WindowRuleName, number> => ({
  error_rate: rules.errorRate.windowMinutes,
  slow_calls: rules.slowCalls.windowMinutes,
  p95_latency: rules.p95Latency.windowMinutes,
});

/**
 * Each rule's window read from Stats and the Deltas of its open minutes (readWindow; one read
 * per distinct window length).
 */
export async function readRuleWindows(
  deps: AlertDeps,
  rules: AlertRulesConfig,
  now: Date,
): Promise<RuleWindows> {
  const read = deps.readWindow ?? statsReadWindow;
  const q = deps.quantile ?? statsQuantile;
  const minutes = windowMinutesOf(rules);
  const byLength = new Map<number, Promise<ScopeMetrics[]>>();
  for (const length of new Set(Object.values(minutes))) {
    const range = { from: new Date(now.getTime() - length * 60_000), to: now };
    byLength.set(
      length,
      read(deps.ddb, deps.config, range, { now }).then((w) => metricsFromStats(w, q)),
    );
  }
  const entries = await Promise.all(
    WINDOW_RULES.map(async (rule) => [rule, await byLength.get(minutes[rule])!] as const),
  );
  return Object.fromEntries(entries) as unknown as RuleWindows;
}

/**
 * One evaluation of the window rules: read windows and state, decide, and for each transition
 * that wins its conditional write, publish. A publish that fails undoes its transition (the
 * next evaluation tries again) and is rethrown after the others were tried.
 */
export async function evaluateWindowRules(deps: AlertDeps): Promise<AlertMessage[]> {
  const rules = deps.rules ?? DEFAULT_ALERT_RULES;
  const now = deps.now();
  const store = new RuleStateStore(deps.ddb, deps.config.statsTable);
  const [windows, states] = await Promise.all([readRuleWindows(deps, rules, now), store.readAll()]);
  const decisions = evaluateRules(windows, states, rules, now, deps.config.slowThresholdMs);
  const sent: AlertMessage[] = [];
  const errors: unknown[] = [];
  for (const decision of decisions) {
    const before = await store.apply(decision, now, rules.cooldownSeconds);
    if (!before) continue;
    const message = ruleAlertMessage(decision, now.toISOString());
    try {
      await deps.publisher.publish(message);
      sent.push(message);
    } catch (error) {
      await store.undo(decision, before);
      errors.push(error);
    }
  }
  if (errors.length > 0)
    throw new AggregateError(errors, `${errors.length} rule alert(s) could not be published`);
  return sent;
}

/**
 * Cooldowns that ended with errors counted but no later error to report them get a summary
 * ("N more errors suppressed"), so the size of a storm is known even when it stopped.
 */
export async function flushSuppressed(deps: AlertDeps): Promise<AlertMessage[]> {
  const rules = deps.rules ?? DEFAULT_ALERT_RULES;
  const now = deps.now();
  const store = new CooldownStore(deps.ddb, deps.config.statsTable);
  const sent: AlertMessage[] = [];
  for (const item of await store.expiredWithSuppressed(now)) {
    if (!(await store.takeSuppressed(item, now))) continue;
    const message = suppressedSummaryMessage(
      item,
      rules.perError.severity,
      { count: item.suppressed, since: item.since },
      rules.cooldownSeconds,
      now.toISOString(),
    );
    try {
      await deps.publisher.publish(message);
      sent.push(message);
    } catch (error) {
      // Put the count back so the next run (or the next alert) reports it.
      await store.addSuppressed(item, item.suppressed);
      throw error;
    }
  }
  return sent;
}
