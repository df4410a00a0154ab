import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  stateKey,
  WINDOW_RULES,
  type RuleDecision,
  type RuleState,
  type WindowRuleName,
} from '../../core/alerts/rules';

/**
 * Window-rule state, in the Stats table: pk `ALERT#RULE`, sk `<rule>#<scope key>`, with
 * `firing`, `firing_since`, `last_fired_at`, `resolved_at`, `value`. Transitions are conditional
 * writes, so of two evaluations racing (the stream handler and the schedule) only one sends.
 */
export const RULE_STATE_PK = 'ALERT#RULE';

const isRule = (v: unknown): v is WindowRuleName => (WINDOW_RULES as readonly unknown[]).includes(v);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

export class RuleStateStore {
  constructor(
    private readonly ddb: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async readAll(): Promise<RuleState[]> {
    const out: RuleState[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await this.ddb.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': RULE_STATE_PK },
          ConsistentRead: true,
          ExclusiveStartKey,
        }),
      );
      for (const item of page.Items ?? []) {
        if (!isRule(item.rule)) continue;
        out.push({
          rule: item.rule,
          scopeKey: String(item.scope_key),
          service: String(item.service),
          method: String(item.method),
          firing: item.firing === true,
          firingSince: str(item.firing_since),
          lastFiredAt: str(item.last_fired_at),
        });
      }
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return out;
  }

  /**
   * Makes the transition if the state still allows it (fire: not firing and out of cooldown;
   * resolve: firing). Returns the state before, to undo it if the message cannot be sent,
   * or undefined when another evaluation got there first.
   */
  async apply(
    decision: RuleDecision,
    now: Date,
    cooldownSeconds: number,
  ): Promise<Record<string, unknown> | undefined> {
    const nowIso = now.toISOString();
    const fire = decision.transition === 'fire';
    try {
      const { Attributes } = await this.ddb.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: RULE_STATE_PK, sk: stateKey(decision.rule, decision.scopeKey) },
          UpdateExpression: fire
            ? 'SET #rule = :rule, scope_key = :scope, #service = :service, #method = :method, firing = :true, ' +
              'firing_since = :now, last_fired_at = :now, #value = :value'
            : 'SET firing = :false, resolved_at = :now, #value = :value',
          ConditionExpression: fire
            ? '(attribute_not_exists(firing) OR firing = :false) AND ' +
              '(attribute_not_exists(last_fired_at) OR last_fired_at <= :edge)'
            : 'firing = :true',
          ExpressionAttributeNames: fire
            ? { '#rule': 'rule', '#service': 'service', '#method': 'method', '#value': 'value' }
            : { '#value': 'value' },
          ExpressionAttributeValues: {
            ':now': nowIso,
            ':value': decision.value,
            ':true': true,
            ':false': false,
            ...(fire && {
              ':rule': decision.rule,
              ':scope': decision.scopeKey,
              ':service': decision.service,
              ':method': decision.method,
              ':edge': new Date(now.getTime() - cooldownSeconds * 1000).toISOString(),
            }),
          },
          ReturnValues: 'ALL_OLD',
        }),
      );
      return Attributes ?? {};
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }

  /** Puts back the state `apply` replaced (the message was not sent, so the next evaluation retries). */
  async undo(decision: RuleDecision, before: Record<string, unknown>): Promise<void> {
    const fire = decision.transition === 'fire';
    // Absent attributes are removed, not set to NULL: the fire condition compares last_fired_at.
    const set = ['firing = :firing'];
    const remove: string[] = [];
    const values: Record<string, unknown> = { ':firing': before.firing === true, ':applied': fire };
    for (const [name, value] of [
      ['firing_since', before.firing_since],
      ['last_fired_at', before.last_fired_at],
    ] as const) {
      if (typeof value === 'string') {
        set.push(`${name} = :${name}`);
        values[`:${name}`] = value;
      } else remove.push(name);
    }
    try {
      await this.ddb.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: RULE_STATE_PK, sk: stateKey(decision.rule, decision.scopeKey) },
          UpdateExpression: `SET ${set.join(', ')}${remove.length > 0 ? ` REMOVE ${remove.join(', ')}` : ''}`,
          ConditionExpression: 'firing = :applied',
          ExpressionAttributeValues: values,
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }
}
