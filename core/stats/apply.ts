import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { StatsDeltas } from './fold';
import { CATALOG_PK, parseScope, type RetentionSettings } from './keys';
import { mapWithConcurrency } from './mapWithConcurrency';
import { counterUpdates, extremaUpdates, type StatsUpdate } from './updates';

const isConditionFailure = (error: unknown): boolean =>
  (error as Error | undefined)?.name === 'ConditionalCheckFailedException';

/** Sends one update; a failed condition on an extrema update means "already higher". */
export async function sendStatsUpdate(ddb: DynamoDBDocumentClient, update: StatsUpdate): Promise<void> {
  try {
    await ddb.send(new UpdateCommand(update));
  } catch (error) {
    if (!(update.ConditionExpression && isConditionFailure(error))) throw error;
  }
}

/**
 * What this process knows the stored maxima to be at least (they only ever rise), so it can
 * skip conditional writes that would change nothing. Keyed by `pk|sk|attribute`.
 */
export type KnownExtrema = Map<string, number | string>;
const KNOWN_EXTREMA_LIMIT = 50_000;

/** Raises max duration and last request time of every delta (idempotent). */
export async function applyExtrema(
  ddb: DynamoDBDocumentClient,
  table: string,
  deltas: StatsDeltas,
  retention: RetentionSettings,
  options: { concurrency?: number; known?: KnownExtrema } = {},
): Promise<void> {
  const known = options.known;
  if (known && known.size > KNOWN_EXTREMA_LIMIT) known.clear();
  const updates = [...deltas.values()]
    .flatMap((d) => extremaUpdates(table, d, retention))
    .filter((u) => {
      const stored = known?.get(extremaKey(u));
      return stored === undefined || stored < (u.ExpressionAttributeValues[':v'] as number | string);
    });
  await mapWithConcurrency(updates, options.concurrency ?? 16, async (u) => {
    await sendStatsUpdate(ddb, u);
    // Written, or refused because the stored value is already as high: a lower bound either way.
    known?.set(extremaKey(u), u.ExpressionAttributeValues[':v'] as number | string);
  });
}

const extremaKey = (u: StatsUpdate): string => `${u.Key.pk}|${u.Key.sk}|${u.ExpressionAttributeNames['#v']}`;

/**
 * Applies deltas with plain UpdateItems, NOT exactly-once: for seeding benchmarks and tests.
 * The aggregator applies its deltas in transactions instead (lambdas/aggregate).
 */
export async function applyDeltas(
  ddb: DynamoDBDocumentClient,
  table: string,
  deltas: StatsDeltas,
  retention: RetentionSettings,
  concurrency = 16,
): Promise<void> {
  const updates = [...deltas.values()].flatMap((d) => counterUpdates(table, d, retention));
  await mapWithConcurrency(updates, concurrency, (u) => sendStatsUpdate(ddb, u));
  await applyExtrema(ddb, table, deltas, retention, { concurrency });
  await writeCatalog(ddb, table, new Set([...deltas.values()].map((d) => d.sk)));
}

/** The catalog items for these scope keys (service and method scopes; idempotent). */
export function catalogUpdates(table: string, scopes: Iterable<string>): StatsUpdate[] {
  const updates: StatsUpdate[] = [];
  for (const scope of scopes) {
    const name = parseScope(scope);
    if (!name || name.kind === 'all') continue;
    const method = name.kind === 'method' ? name.method : undefined;
    updates.push({
      TableName: table,
      Key: { pk: CATALOG_PK, sk: scope },
      UpdateExpression: method === undefined ? 'SET #s = :s' : 'SET #s = :s, #m = :m',
      ExpressionAttributeNames:
        method === undefined ? { '#s': 'service' } : { '#s': 'service', '#m': 'method' },
      ExpressionAttributeValues:
        method === undefined ? { ':s': name.service } : { ':s': name.service, ':m': method },
    });
  }
  return updates;
}

export async function writeCatalog(
  ddb: DynamoDBDocumentClient,
  table: string,
  scopes: Iterable<string>,
  concurrency = 8,
): Promise<void> {
  await mapWithConcurrency(catalogUpdates(table, scopes), concurrency, (u) => sendStatsUpdate(ddb, u));
}
