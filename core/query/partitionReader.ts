import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { REQUEST_LOG_INDEX, REQUEST_LOG_KEYS } from '../tables';
import type { Partition, ReadPlan } from './requestFilter';

type Item = Record<string, unknown>;

/** `older`: walking toward older rows (newest first); `newer`: toward newer rows (oldest first). */
export type Direction = 'older' | 'newer';

/** Sort-key bounds of a read, both inclusive, minus one key (the cursor's own row). */
export interface SortKeyBounds {
  readonly low: string;
  readonly high: string;
  readonly exclude?: string;
}

const PARTITION_KEY_OF: Record<string, string> = {
  [REQUEST_LOG_INDEX.byTime]: REQUEST_LOG_KEYS.timePk,
  [REQUEST_LOG_INDEX.byService]: REQUEST_LOG_KEYS.servicePk,
  [REQUEST_LOG_INDEX.byStatus]: REQUEST_LOG_KEYS.statusPk,
};

export const sortKeyOfItem = (item: Item): string => String(item[REQUEST_LOG_KEYS.sortKey]);

/** The Query input of one partition over bounds, in a direction, with the plan's filters. */
export function partitionQuery(
  table: string,
  partition: Partition,
  plan: ReadPlan,
  bounds: SortKeyBounds,
  direction: Direction,
) {
  return {
    TableName: table,
    IndexName: partition.indexName,
    KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :low AND :high',
    ...(plan.filterExpression && { FilterExpression: plan.filterExpression }),
    ExpressionAttributeNames: {
      ...plan.expressionNames,
      '#pk': PARTITION_KEY_OF[partition.indexName]!,
      '#sk': REQUEST_LOG_KEYS.sortKey,
    },
    ExpressionAttributeValues: {
      ...plan.expressionValues,
      ':pk': partition.pk,
      ':low': bounds.low,
      ':high': bounds.high,
    },
    ScanIndexForward: direction === 'newer',
  };
}

/**
 * Reads one GSI partition lazily, a page at a time, in sort-key order, keeping only rows that
 * pass the plan's in-code filter. `peek` waits for the next row (or undefined at the end).
 */
export class PartitionReader {
  private buffer: Item[] = [];
  private startKey: Item | undefined;
  private done: boolean;
  private inFlight: Promise<void> | undefined;

  constructor(
    private readonly ddb: DynamoDBDocumentClient,
    private readonly input: ReturnType<typeof partitionQuery>,
    private readonly plan: ReadPlan,
    private readonly bounds: SortKeyBounds,
    private readonly pageSize: number,
  ) {
    // DynamoDB rejects BETWEEN with low > high: such a range is simply empty.
    this.done = bounds.low > bounds.high;
  }

  async peek(): Promise<Item | undefined> {
    while (this.buffer.length === 0 && !this.done) await this.fetch();
    return this.buffer[0];
  }

  shift(): Item | undefined {
    return this.buffer.shift();
  }

  /** One page at a time, even when several callers peek at once (read-ahead does). */
  private fetch(): Promise<void> {
    this.inFlight ??= this.fetchPage().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async fetchPage(): Promise<void> {
    const page = await this.ddb.send(
      new QueryCommand({ ...this.input, Limit: this.pageSize, ExclusiveStartKey: this.startKey }),
    );
    this.startKey = page.LastEvaluatedKey;
    this.done = page.LastEvaluatedKey === undefined;
    for (const item of page.Items ?? []) {
      if (sortKeyOfItem(item) === this.bounds.exclude) continue;
      if (this.plan.matches && !this.plan.matches(item)) continue;
      this.buffer.push(item);
    }
  }
}

/** Merges readers of one key's shards into one stream in sort-key order (k-way merge). */
export async function* mergeReaders(readers: PartitionReader[], direction: Direction): AsyncGenerator<Item> {
  for (;;) {
    const heads = await Promise.all(readers.map((reader) => reader.peek()));
    let best = -1;
    for (let i = 0; i < heads.length; i++) {
      const head = heads[i];
      if (head === undefined) continue;
      const current = best >= 0 ? heads[best] : undefined;
      if (
        current === undefined ||
        (direction === 'older'
          ? sortKeyOfItem(head) > sortKeyOfItem(current)
          : sortKeyOfItem(head) < sortKeyOfItem(current))
      ) {
        best = i;
      }
    }
    if (best < 0) return;
    yield readers[best]!.shift()!;
  }
}
