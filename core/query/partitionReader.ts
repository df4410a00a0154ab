import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { REQUEST_LOG_INDEX, REQUEST_LOG_KEYS } from '../tables';
import type { ReadBudget } from './readBudget';
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

/** What `peek` answers when the request's read budget is spent before this reader's next row. */
export const BLOCKED = Symbol('read budget spent');

/**
 * Reads one GSI partition lazily, a page at a time, in sort-key order, keeping only rows that
 * pass the plan's in-code filter. `peek` waits for the next row (undefined at the end, BLOCKED
 * when the budget allows no further page). Every page's Limit is reserved from the request's
 * budget first, so the readers of one request together never read more than it allows.
 */
export class PartitionReader {
  private buffer: Item[] = [];
  private startKey: Item | undefined;
  private done: boolean;
  private inFlight: Promise<void> | undefined;
  private blocked = false;
  /**
   * Limit of the next Query: the first is what the page needs, then it doubles up to pageSize,
   * so an unselective filter (status=success with few errors) reads about the page, and a
   * selective one (search) soon reads in large pages.
   */
  private nextPageSize: number;
  /** Sort key of the last item a Query evaluated here: every row up to it has been seen. */
  position: string | undefined;

  constructor(
    private readonly ddb: DynamoDBDocumentClient,
    private readonly input: ReturnType<typeof partitionQuery>,
    private readonly plan: ReadPlan,
    private readonly bounds: SortKeyBounds,
    private readonly pageSize: number,
    private readonly budget: ReadBudget,
    firstPageSize: number = pageSize,
  ) {
    this.nextPageSize = Math.max(1, Math.min(firstPageSize, pageSize));
    // DynamoDB rejects BETWEEN with low > high: such a range is simply empty.
    this.done = bounds.low > bounds.high;
  }

  async peek(): Promise<Item | undefined | typeof BLOCKED> {
    while (this.buffer.length === 0 && !this.done) {
      await this.fetch();
      if (this.blocked && this.buffer.length === 0) return BLOCKED;
    }
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
    // Reserved before the first await: readers asked first are served first.
    const reserved = this.budget.reserve(this.nextPageSize);
    this.nextPageSize = Math.min(this.pageSize, this.nextPageSize * 2);
    this.blocked = reserved === 0;
    if (this.blocked) return;
    let page;
    try {
      page = await this.ddb.send(
        new QueryCommand({ ...this.input, Limit: reserved, ExclusiveStartKey: this.startKey }),
      );
    } catch (error) {
      this.budget.settle(reserved, 0);
      throw error;
    }
    // A Query that evaluates nothing (an empty hour) still costs a round trip: it counts as one.
    this.budget.settle(reserved, Math.max(1, page.ScannedCount ?? page.Items?.length ?? 0));
    this.startKey = page.LastEvaluatedKey;
    this.done = page.LastEvaluatedKey === undefined;
    if (page.LastEvaluatedKey) this.position = sortKeyOfItem(page.LastEvaluatedKey);
    for (const item of page.Items ?? []) {
      if (sortKeyOfItem(item) === this.bounds.exclude) continue;
      if (this.plan.matches && !this.plan.matches(item)) continue;
      this.buffer.push(item);
    }
  }
}

/** How a merge ended: every reader ran dry, or the budget stopped it (see `stoppedAt`). */
export interface MergeEnd {
  /**
   * Set when the budget stopped the merge: every row of the key's partitions strictly before
   * this sort key (in the merge's direction) was delivered; `null` when no row could be
   * delivered safely (a reader had not read its first page).
   */
  readonly stoppedAt?: string | null;
}

/** `a` comes before `b` in `direction`. */
const before = (a: string, b: string, direction: Direction): boolean =>
  direction === 'older' ? a > b : a < b;

/**
 * Merges readers of one key's shards in sort-key order (k-way merge), handing each row to
 * `take` until it answers false. A reader stopped by the budget holds back every row past its
 * position: only rows before the nearest such position are handed on, so a merge stopped
 * early can be resumed from `stoppedAt` with no gap and no duplicate.
 */
export async function mergeReaders(
  readers: PartitionReader[],
  direction: Direction,
  take: (item: Item) => boolean,
): Promise<MergeEnd> {
  for (;;) {
    const heads = await Promise.all(readers.map((reader) => reader.peek()));
    let best = -1;
    let frontier: string | null | undefined;
    for (let i = 0; i < heads.length; i++) {
      const head = heads[i];
      if (head === BLOCKED) {
        const position = readers[i]!.position;
        if (position === undefined || frontier === null) frontier = null;
        else if (frontier === undefined || before(position, frontier, direction)) frontier = position;
        continue;
      }
      if (head === undefined) continue;
      const current = best >= 0 ? (heads[best] as Item) : undefined;
      if (current === undefined || before(sortKeyOfItem(head), sortKeyOfItem(current), direction)) best = i;
    }
    const next = best >= 0 ? (heads[best] as Item) : undefined;
    if (
      frontier !== undefined &&
      (next === undefined || frontier === null || !before(sortKeyOfItem(next), frontier, direction))
    ) {
      return { stoppedAt: frontier };
    }
    if (next === undefined) return {};
    readers[best]!.shift();
    if (!take(next)) return {};
  }
}
