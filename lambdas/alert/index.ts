import type { DynamoDBBatchResponse, DynamoDBStreamEvent, ScheduledEvent } from 'aws-lambda';
import { alertRulesFromEnv, DEFAULT_ALERT_RULES } from '../../core/alerts/config';
import type { AlertMessage } from '../../core/alerts/message';
import {
  errorCooldownKey,
  errorSeverity,
  groupByCooldownKey,
  wantsErrorAlert,
} from '../../core/alerts/perError';
import { errorAlertMessage } from '../../core/alerts/text';
import { depsFromEnv, lazyHandler } from '../shared/fromEnv';
import { CooldownStore } from './cooldownStore';
import type { AlertDeps } from './deps';
import { evaluateWindowRules, flushSuppressed } from './ruleEvaluation';
import { SnsPublisher } from './snsPublisher';
import { streamedCalls, type StreamedCall } from './streamRecords';

export type { AlertDeps } from './deps';
export { SnsPublisher } from './snsPublisher';

const logToConsole = (message: string, error: unknown) => console.error(message, error);

/**
 * The alert stream handler (fed through `alertFilter`: final error/timeout items and slow
 * items). Per-error alerts: one per (service, method) per cooldown, the rest counted; a
 * redelivered record never sends twice. Then, at most every few seconds, the window rules.
 */
export function createAlertHandler(deps: AlertDeps) {
  const rules = deps.rules ?? DEFAULT_ALERT_RULES;
  const cooldowns = new CooldownStore(deps.ddb, deps.config.statsTable);
  const logError = deps.logError ?? logToConsole;
  const interval = deps.ruleEvaluationIntervalMs ?? 5_000;
  let lastEvaluation = Number.NEGATIVE_INFINITY;

  /** The first call of a group may alert; the others of the batch are counted with it. */
  async function alertGroup(group: StreamedCall[]): Promise<void> {
    const [first] = group;
    const { record } = first!;
    if (await cooldowns.wasSent(record.request_id)) return; // redelivered: already sent and counted
    const key = {
      key: errorCooldownKey(record),
      service: record.service_name,
      method: record.method_name,
    };
    const now = deps.now();
    const claim = await cooldowns.claim(key, record.request_id, group.length - 1, now, rules.cooldownSeconds);
    if (claim.kind === 'cooling') {
      await cooldowns.addSuppressed(key, group.length);
      return;
    }
    const message = errorAlertMessage(
      record,
      errorSeverity(record, rules.perError),
      { count: claim.carried, since: claim.carriedSince },
      rules.cooldownSeconds,
    );
    await deps.publisher.publish(message);
    await cooldowns.markSent(record.request_id, now);
  }

  return async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
    const calls = streamedCalls(event);
    const alerting = calls.filter((c) => wantsErrorAlert(c.record, rules.perError));
    const failed: string[] = [];
    await Promise.all(
      // With no cooldown every error is its own alert; otherwise one per method per batch at most.
      (rules.cooldownSeconds === 0 ? alerting.map((c) => [c]) : groupByCooldownKey(alerting)).map(
        async (group) => {
          try {
            await alertGroup(group);
          } catch (error) {
            logError(`alert for ${errorCooldownKey(group[0]!.record)} failed`, error);
            failed.push(group[0]!.sequenceNumber);
          }
        },
      ),
    );
    const now = deps.now().getTime();
    if (calls.length > 0 && now - lastEvaluation >= interval) {
      lastEvaluation = now;
      // The schedule is the safety net: a failed evaluation must not hold the shard back.
      await evaluateWindowRules(deps).catch((error) => logError('window rule evaluation failed', error));
    }
    return { batchItemFailures: failed.map((itemIdentifier) => ({ itemIdentifier })) };
  };
}

export interface RuleEvaluationResult {
  readonly sent: number;
  readonly messages: readonly AlertMessage[];
}

/**
 * The scheduled entry (EventBridge, every minute): evaluates the window rules even when no
 * new error arrives, so a rule that cleared sends its "resolved", and reports the suppressed
 * count of storms that stopped.
 */
export function createRuleEvaluationHandler(deps: AlertDeps) {
  return async (_event?: ScheduledEvent): Promise<RuleEvaluationResult> => {
    const results = await Promise.allSettled([evaluateWindowRules(deps), flushSuppressed(deps)]);
    const messages = results.flatMap((r) => (r.status === 'fulfilled' ? r.value : []));
    const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
    if (failures.length > 0) throw new AggregateError(failures, 'rule evaluation failed');
    return { sent: messages.length, messages };
  };
}

function alertDepsFromEnv(): AlertDeps {
  return { ...depsFromEnv(), publisher: SnsPublisher.fromEnv(), rules: alertRulesFromEnv() };
}

export const handler = lazyHandler(() => createAlertHandler(alertDepsFromEnv()));
export const evaluationHandler = lazyHandler(() => createRuleEvaluationHandler(alertDepsFromEnv()));
