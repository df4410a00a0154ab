import type { NativeAttributeValue } from '@aws-sdk/lib-dynamodb';
import type { StatsDelta } from './fold';
import { histogramAttribute } from './histogram';
import { bucketExpiresAt, histogramKey, type RetentionSettings } from './keys';

/**
 * Stats item attributes (counter items; histogram items hold `h<i>`/`hz` and `expires_at`).
 * Every counter is a top-level number so `ADD` can create and bump it
 * in one step (DynamoDB refuses `ADD` into a nested map that does not exist yet), and names
 * are short because an UpdateItem costs the item's size.
 */
export const STATS_ATTRIBUTE = {
  total: 'n',
  status: (status: string) => `s_${status}`,
  code: (code: string) => `c_${code}`,
  durationSumCentis: 'dsum_c',
  durationMax: 'dmax',
  durationMin: 'dmin',
  /** Calls written to RequestLog (fewer than `n` when log sampling is on). */
  logged: 'lg',
  bytesIn: 'bin',
  bytesOut: 'bout',
  slow: 'slow',
  lastRequestAt: 'last',
  expiresAt: 'expires_at',
} as const;

/**
 * At most this many `ADD` terms per UpdateItem: DynamoDB allows 300 operators and 4 KB per
 * expression; a term (`#a12 :a12`) is about 11 characters, so 150 stays well inside both.
 */
export const MAX_ADD_TERMS = 150;

/** The update shape shared by UpdateItem and a TransactWriteItems `Update` action. */
export interface StatsUpdate {
  TableName: string;
  Key: { pk: string; sk: string };
  UpdateExpression: string;
  ExpressionAttributeNames: Record<string, string>;
  ExpressionAttributeValues: Record<string, NativeAttributeValue>;
  ConditionExpression?: string;
}

/** The counters a delta adds to its counter item, as (attribute, amount) pairs; zeros left out. */
export function counterTerms(delta: StatsDelta): Array<[string, number]> {
  const terms: Array<[string, number]> = [[STATS_ATTRIBUTE.total, delta.total]];
  for (const [status, count] of Object.entries(delta.byStatus)) {
    if (count) terms.push([STATS_ATTRIBUTE.status(status), count]);
  }
  for (const [code, count] of Object.entries(delta.byCode)) {
    if (count) terms.push([STATS_ATTRIBUTE.code(code), count]);
  }
  if (delta.durationSumCentis) terms.push([STATS_ATTRIBUTE.durationSumCentis, delta.durationSumCentis]);
  if (delta.bytesIn) terms.push([STATS_ATTRIBUTE.bytesIn, delta.bytesIn]);
  if (delta.bytesOut) terms.push([STATS_ATTRIBUTE.bytesOut, delta.bytesOut]);
  if (delta.slow) terms.push([STATS_ATTRIBUTE.slow, delta.slow]);
  return terms;
}

/** The bucket counts a delta adds to its histogram item (`~H#<scope>`); zeros left out. */
export function histogramTerms(delta: StatsDelta): Array<[string, number]> {
  const terms: Array<[string, number]> = [];
  for (const [index, count] of delta.histogram) {
    if (count) terms.push([histogramAttribute(index), count]);
  }
  return terms;
}

function addUpdate(
  table: string,
  key: { pk: string; sk: string },
  terms: ReadonlyArray<[string, number]>,
  expiresAt: number,
): StatsUpdate {
  const names: Record<string, string> = { '#ttl': STATS_ATTRIBUTE.expiresAt };
  const values: Record<string, NativeAttributeValue> = { ':ttl': expiresAt };
  const adds = terms.map(([attribute, amount], i) => {
    names[`#a${i}`] = attribute;
    values[`:a${i}`] = amount;
    return `#a${i} :a${i}`;
  });
  return {
    TableName: table,
    Key: { pk: key.pk, sk: key.sk },
    // The TTL comes from the bucket's start, so every write sets the same value.
    UpdateExpression: `SET #ttl = :ttl ADD ${adds.join(', ')}`,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
}

const histogramKeyOf = (delta: StatsDelta) => ({ pk: delta.pk, sk: histogramKey(delta.sk) });

function checkTerms(delta: StatsDelta, what: string, terms: readonly unknown[]): void {
  if (terms.length > MAX_ADD_TERMS) {
    throw new Error(`delta ${delta.pk} ${delta.sk} has ${terms.length} ${what} terms, over ${MAX_ADD_TERMS}`);
  }
}

/**
 * The histogram update of a delta as one UpdateItem on its own item (`~H#<scope>`), for a
 * transaction; undefined when the delta has no histogram counts. Throws when it has more than
 * MAX_ADD_TERMS buckets: the aggregator's chunking keeps each delta below that.
 */
export function histogramUpdate(
  table: string,
  delta: StatsDelta,
  retention: RetentionSettings,
): StatsUpdate | undefined {
  const terms = histogramTerms(delta);
  checkTerms(delta, 'histogram', terms);
  if (terms.length === 0) return undefined;
  return addUpdate(table, histogramKeyOf(delta), terms, bucketExpiresAt(delta.pk, retention));
}

/** Which maxima a transactional counter update also raises. */
export interface RaiseExtrema {
  readonly durationMax: boolean;
  readonly lastRequestAt: boolean;
}

/**
 * The counter update of a delta as one UpdateItem, for a transaction (which may touch an item
 * once); its histogram goes to its own item (histogramUpdate). Throws when the delta has more
 * than MAX_ADD_TERMS counter terms: the aggregator's chunking keeps each delta below that.
 *
 * `raise` also SETs max duration / last request time, under the condition that each is absent
 * or lower than the delta's (maxima cannot be `ADD`ed). When the condition fails the whole
 * transaction is cancelled and, with ReturnValuesOnConditionCheckFailure, DynamoDB returns the
 * stored item, so the caller learns the stored maxima and retries without raising them.
 */
export function counterUpdate(
  table: string,
  delta: StatsDelta,
  retention: RetentionSettings,
  raise: RaiseExtrema = { durationMax: false, lastRequestAt: false },
): StatsUpdate & { ReturnValuesOnConditionCheckFailure?: 'ALL_OLD' } {
  const terms = counterTerms(delta);
  checkTerms(delta, 'counter', terms);
  const update = addUpdate(table, delta, terms, bucketExpiresAt(delta.pk, retention));
  const sets: string[] = [];
  const conditions: string[] = [];
  const raiseOne = (attribute: string, value: number | string, name: string) => {
    update.ExpressionAttributeNames[`#${name}`] = attribute;
    update.ExpressionAttributeValues[`:${name}`] = value;
    sets.push(`#${name} = :${name}`);
    conditions.push(`(attribute_not_exists(#${name}) OR #${name} < :${name})`);
  };
  if (raise.durationMax && delta.total > 0)
    raiseOne(STATS_ATTRIBUTE.durationMax, delta.durationMaxMs, 'xmax');
  if (raise.lastRequestAt && delta.lastRequestAt)
    raiseOne(STATS_ATTRIBUTE.lastRequestAt, delta.lastRequestAt, 'xlast');
  if (sets.length === 0) return update;
  return {
    ...update,
    UpdateExpression: update.UpdateExpression.replace(
      'SET #ttl = :ttl',
      `SET #ttl = :ttl, ${sets.join(', ')}`,
    ),
    ConditionExpression: conditions.join(' AND '),
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
  };
}

/**
 * The counter and histogram updates of a delta of any size, split into UpdateItems of
 * ≤ MAX_ADD_TERMS terms each.
 */
export function counterUpdates(
  table: string,
  delta: StatsDelta,
  retention: RetentionSettings,
): StatsUpdate[] {
  const expiresAt = bucketExpiresAt(delta.pk, retention);
  const updates: StatsUpdate[] = [];
  for (const [key, terms] of [
    [delta, counterTerms(delta)],
    [histogramKeyOf(delta), histogramTerms(delta)],
  ] as const) {
    for (let i = 0; i < terms.length; i += MAX_ADD_TERMS) {
      updates.push(addUpdate(table, key, terms.slice(i, i + MAX_ADD_TERMS), expiresAt));
    }
  }
  return updates;
}

/**
 * Max duration and last request time are maxima, not sums: they cannot be `ADD`ed, but they
 * are idempotent, so each is a conditional SET that only ever raises the value (a failed
 * condition means the stored value is already at least as high). Applying them twice is
 * harmless, which is why they can live outside the exactly-once transaction.
 */
export function extremaUpdates(
  table: string,
  delta: StatsDelta,
  retention: RetentionSettings,
): StatsUpdate[] {
  const raise = (attribute: string, value: string | number): StatsUpdate => ({
    TableName: table,
    Key: { pk: delta.pk, sk: delta.sk },
    UpdateExpression: 'SET #v = :v, #ttl = :ttl',
    ConditionExpression: 'attribute_not_exists(#v) OR #v < :v',
    ExpressionAttributeNames: { '#v': attribute, '#ttl': STATS_ATTRIBUTE.expiresAt },
    ExpressionAttributeValues: { ':v': value, ':ttl': bucketExpiresAt(delta.pk, retention) },
  });
  const updates: StatsUpdate[] = [];
  if (delta.total > 0) updates.push(raise(STATS_ATTRIBUTE.durationMax, delta.durationMaxMs));
  if (delta.lastRequestAt) updates.push(raise(STATS_ATTRIBUTE.lastRequestAt, delta.lastRequestAt));
  return updates;
}

/**
 * A delta as whole Stats items, for writing into an empty table in bulk (seeding benchmarks):
 * its counter item and (when it has counts) its histogram item, with the same attributes the
 * updates above maintain.
 */
export function deltaItems(
  delta: StatsDelta,
  retention: RetentionSettings,
): Array<Record<string, NativeAttributeValue>> {
  const expiresAt = bucketExpiresAt(delta.pk, retention);
  const counters: Record<string, NativeAttributeValue> = {
    pk: delta.pk,
    sk: delta.sk,
    [STATS_ATTRIBUTE.expiresAt]: expiresAt,
    [STATS_ATTRIBUTE.durationMax]: delta.durationMaxMs,
  };
  if (delta.lastRequestAt) counters[STATS_ATTRIBUTE.lastRequestAt] = delta.lastRequestAt;
  for (const [attribute, amount] of counterTerms(delta)) counters[attribute] = amount;
  const buckets = histogramTerms(delta);
  if (buckets.length === 0) return [counters];
  const histogram: Record<string, NativeAttributeValue> = {
    ...histogramKeyOf(delta),
    [STATS_ATTRIBUTE.expiresAt]: expiresAt,
  };
  for (const [attribute, amount] of buckets) histogram[attribute] = amount;
  return [counters, histogram];
}
