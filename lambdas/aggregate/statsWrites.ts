import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** One write of the aggregator: a whole item PUT, or a DELETE by key. */
export type StatsWrite =
  | { readonly put: Record<string, unknown> & { pk: string; sk: string } }
  | { readonly delete: { pk: string; sk: string } };

const MAX_ATTEMPTS = 8;

/**
 * Sends writes with BatchWriteItem, 25 a request, retrying unprocessed items with backoff;
 * throws when some are still unprocessed after MAX_ATTEMPTS. Every write is a whole PUT or a
 * DELETE, so a write applied twice (a retried batch) changes nothing.
 */
export async function sendWrites(
  ddb: DynamoDBDocumentClient,
  table: string,
  writes: readonly StatsWrite[],
): Promise<void> {
  for (let i = 0; i < writes.length; i += 25) {
    let pending: Record<string, unknown>[] = writes
      .slice(i, i + 25)
      .map((w) => ('put' in w ? { PutRequest: { Item: w.put } } : { DeleteRequest: { Key: w.delete } }));
    for (let attempt = 1; pending.length > 0; attempt++) {
      if (attempt > MAX_ATTEMPTS) throw new Error(`${pending.length} Stats write(s) still unprocessed`);
      if (attempt > 1) await new Promise((r) => setTimeout(r, Math.min(1_000, 25 * 2 ** attempt)));
      const out = await ddb.send(new BatchWriteCommand({ RequestItems: { [table]: pending } }));
      pending = (out.UnprocessedItems?.[table] ?? []) as Record<string, unknown>[];
    }
  }
}
