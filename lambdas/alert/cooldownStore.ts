import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import {
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';

/**
 * Cooldowns per (rule, service, method), in the Stats table:
 * - pk `ALERT#COOLDOWN`, sk `<rule>#<service>#<method>`: `until_ms` (the cooldown's end),
 *   `owner` (request id of the alert that opened it), `suppressed` (alerts counted since),
 *   `carried`/`carried_since` (the count the opening alert reported), `since`, `service`, `method`.
 * - pk `ALERT#SENT`, sk `error#<request id>`: written after an alert was published, so a
 *   redelivered batch never publishes it again.
 * Every decision is a conditional write, so concurrent invocations agree on who sends.
 */
export const COOLDOWN_PK = 'ALERT#COOLDOWN';
export const SENT_PK = 'ALERT#SENT';
/** Sent marks outlive any redelivery (Lambda gives up on a record after `maxRecordAgeSeconds`, 1 h). */
const SENT_MARK_TTL_SECONDS = 2 * 86_400;

/**
 * TTL epoch seconds. DynamoDB deletes by its own wall clock, so this never counts from a clock
 * behind real time (an injected test clock in the past would have the item deleted at once).
 */
const ttlFrom = (now: Date, seconds: number): number =>
  Math.floor(Math.max(now.getTime(), Date.now()) / 1000) + seconds;

export interface CooldownKey {
  readonly key: string;
  readonly service: string;
  readonly method: string;
}

export type ClaimOutcome =
  /** This alert opened a new cooldown: send it, with `carried` suppressed from the last one. */
  | { readonly kind: 'send'; readonly carried: number; readonly carriedSince: string | null }
  /** Another alert holds the cooldown: count this one. */
  | { readonly kind: 'cooling' };

export interface CooldownItem extends CooldownKey {
  readonly untilMs: number;
  readonly owner: string | null;
  readonly suppressed: number;
  readonly since: string | null;
}

const names = { '#owner': 'owner', '#since': 'since', '#method': 'method', '#service': 'service' };

export class CooldownStore {
  constructor(
    private readonly ddb: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  /** Whether the alert of this request id was already published (a redelivered record). */
  async wasSent(requestId: string): Promise<boolean> {
    const { Item } = await this.ddb.send(
      new GetCommand({
        TableName: this.table,
        Key: { pk: SENT_PK, sk: `error#${requestId}` },
        ConsistentRead: true,
      }),
    );
    return Item !== undefined;
  }

  async markSent(requestId: string, now: Date): Promise<void> {
    await this.ddb.send(
      new PutCommand({
        TableName: this.table,
        Item: {
          pk: SENT_PK,
          sk: `error#${requestId}`,
          sent_at: now.toISOString(),
          expires_at: ttlFrom(now, SENT_MARK_TTL_SECONDS),
        },
      }),
    );
  }

  /**
   * Opens a cooldown for `owner` when none is running (or resumes the one this owner opened
   * and whose alert was not published yet). `alsoSuppressed` alerts of the same batch are
   * counted in the same write.
   */
  async claim(
    key: CooldownKey,
    owner: string,
    alsoSuppressed: number,
    now: Date,
    cooldownSeconds: number,
  ): Promise<ClaimOutcome> {
    const nowIso = now.toISOString();
    try {
      const { Attributes } = await this.ddb.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: COOLDOWN_PK, sk: key.key },
          UpdateExpression:
            'SET until_ms = :until, #owner = :owner, carried = if_not_exists(suppressed, :zero), ' +
            'carried_since = if_not_exists(#since, :now), #since = :now, suppressed = :rest, ' +
            '#service = :service, #method = :method, expires_at = :expires',
          ConditionExpression: 'attribute_not_exists(pk) OR until_ms <= :nowMs',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: {
            ':until': now.getTime() + cooldownSeconds * 1000,
            ':owner': owner,
            ':zero': 0,
            ':now': nowIso,
            ':nowMs': now.getTime(),
            ':rest': alsoSuppressed,
            ':service': key.service,
            ':method': key.method,
            ':expires': ttlFrom(now, cooldownSeconds + SENT_MARK_TTL_SECONDS),
          },
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return sendOutcome(Attributes);
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      // DynamoDB returns the item that failed the condition (marshalled); read it if it did not.
      const held = error.Item ? unmarshall(error.Item) : await this.getRaw(key.key);
      // Our own claim from an earlier attempt whose publish failed: send it now.
      if (held?.owner === owner) return sendOutcome(held);
      return { kind: 'cooling' };
    }
  }

  /** Counts alerts held back by the running cooldown (reported by the next alert or a summary). */
  async addSuppressed(key: CooldownKey, count: number): Promise<void> {
    await this.ddb.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk: COOLDOWN_PK, sk: key.key },
        UpdateExpression: 'ADD suppressed :n SET #service = :service, #method = :method',
        ExpressionAttributeNames: { '#service': 'service', '#method': 'method' },
        ExpressionAttributeValues: { ':n': count, ':service': key.service, ':method': key.method },
      }),
    );
  }

  /** Cooldowns that ended with alerts still counted and unreported. */
  async expiredWithSuppressed(now: Date): Promise<CooldownItem[]> {
    const out: CooldownItem[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await this.ddb.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk',
          FilterExpression: 'until_ms <= :nowMs AND suppressed > :zero',
          ExpressionAttributeValues: { ':pk': COOLDOWN_PK, ':nowMs': now.getTime(), ':zero': 0 },
          ExclusiveStartKey,
        }),
      );
      for (const item of page.Items ?? []) out.push(toCooldownItem(item));
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return out;
  }

  /** Takes `count` out of an expired cooldown to report it in a summary; false when someone else did. */
  async takeSuppressed(item: CooldownItem, now: Date): Promise<boolean> {
    try {
      await this.ddb.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: COOLDOWN_PK, sk: item.key },
          UpdateExpression: 'SET suppressed = :zero, #since = :now',
          ConditionExpression: 'until_ms <= :nowMs AND suppressed = :count',
          ExpressionAttributeNames: { '#since': 'since' },
          ExpressionAttributeValues: {
            ':zero': 0,
            ':now': now.toISOString(),
            ':nowMs': now.getTime(),
            ':count': item.suppressed,
          },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async get(key: string): Promise<CooldownItem | undefined> {
    const item = await this.getRaw(key);
    return item && toCooldownItem(item);
  }

  private async getRaw(key: string): Promise<Record<string, unknown> | undefined> {
    const { Item } = await this.ddb.send(
      new GetCommand({ TableName: this.table, Key: { pk: COOLDOWN_PK, sk: key }, ConsistentRead: true }),
    );
    return Item;
  }
}

function sendOutcome(item: Record<string, unknown> | undefined): ClaimOutcome {
  return {
    kind: 'send',
    carried: Number(item?.carried ?? 0),
    carriedSince: typeof item?.carried_since === 'string' ? item.carried_since : null,
  };
}

function toCooldownItem(item: Record<string, unknown>): CooldownItem {
  return {
    key: String(item.sk),
    service: String(item.service ?? ''),
    method: String(item.method ?? ''),
    untilMs: Number(item.until_ms ?? 0),
    owner: typeof item.owner === 'string' ? item.owner : null,
    suppressed: Number(item.suppressed ?? 0),
    since: typeof item.since === 'string' ? item.since : null,
  };
}
