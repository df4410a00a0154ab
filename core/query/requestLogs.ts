import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { MonitorDeps } from '../deps';
import type { RequestStatus } from '../record';
import { hourBucket } from '../requestLogItem';
import type { TimeRange } from '../stats';
import { countableRange, readStats } from './statsWindow';
import {
  mergeReaders,
  partitionQuery,
  PartitionReader,
  sortKeyOfItem,
  type Direction,
} from './partitionReader';
import type { SortKeyBounds } from './partitionReader';
import { planRead, type ReadPlan, type RequestFilter } from './requestFilter';
import { toRequestSummary, type RequestSummary } from './requestSummary';
import { scopeFor } from './scopes';
import { recentWindow, WINDOW_HOURS } from './window';

/** A position in a list: the rows strictly older (or newer) than the row with this sort key. */
export interface ListCursor {
  readonly sortKey: string;
  readonly direction: Direction;
}

export interface RequestPage {
  /** Newest first. */
  readonly items: RequestSummary[];
  readonly next: ListCursor | null;
  readonly previous: ListCursor | null;
}

export interface ListOptions {
  /** Rows per page (default 20). */
  readonly limit?: number;
  readonly cursor?: ListCursor;
}

/** Groups read ahead while the current one is consumed (sparse hour buckets cost one Query each). */
const READ_AHEAD_GROUPS = 8;
/** Partitions counted at once. */
const COUNT_CONCURRENCY = 8;

const rangeBounds = (range: TimeRange): SortKeyBounds => ({
  low: range.from.toISOString(),
  // `created_at#id` sorts after the bare `to` timestamp, so BETWEEN excludes `to` itself.
  high: range.to.toISOString(),
});

/**
 * The seed's manager methods as an immutable chain:
 * `requestLogs(deps).recent({ hours: 1 }).error().byService('UserService').list()`.
 * Lists come from GSI Queries (never a Scan); counts from Stats where the counters can answer.
 */
export class RequestLogQuery {
  constructor(
    private readonly deps: MonitorDeps,
    private readonly filter: Partial<RequestFilter> = {},
  ) {}

  private with(change: Partial<RequestFilter>): RequestLogQuery {
    return new RequestLogQuery(this.deps, { ...this.filter, ...change });
  }

  /** The last `hours` hours (default 24), minute-aligned (see recentWindow). */
  recent({ hours = WINDOW_HOURS.default }: { hours?: number } = {}): RequestLogQuery {
    return this.with({ range: countableRange(this.deps, recentWindow(this.deps.now(), hours)) });
  }

  /** An explicit [from, to) range, used as given (a paging cursor freezes the range this way). */
  between(range: TimeRange): RequestLogQuery {
    return this.with({ range });
  }

  byStatus(status: RequestStatus): RequestLogQuery {
    return this.with({ status });
  }

  successful(): RequestLogQuery {
    return this.byStatus('success');
  }

  error(): RequestLogQuery {
    return this.byStatus('error');
  }

  byService(service: string): RequestLogQuery {
    return this.with({ service });
  }

  byMethod(method: string): RequestLogQuery {
    return this.with({ method });
  }

  byUser(userId: string | number): RequestLogQuery {
    return this.with({ user: String(userId) });
  }

  search(text: string): RequestLogQuery {
    return this.with({ search: text });
  }

  /** The filter as it stands; without `recent`/`between` the window is the longest allowed. */
  toFilter(): RequestFilter {
    return {
      ...this.filter,
      range: this.filter.range ?? countableRange(this.deps, recentWindow(this.deps.now(), WINDOW_HOURS.max)),
    };
  }

  /** One page, newest first, with cursors to the pages beside it (null at either end). */
  async list({ limit = 20, cursor }: ListOptions = {}): Promise<RequestPage> {
    const filter = this.toFilter();
    const direction = cursor?.direction ?? 'older';
    const rows = await this.read(filter, direction, cursor?.sortKey, limit + 1);
    const more = rows.length > limit;
    const page = rows.slice(0, limit);
    if (direction === 'newer') page.reverse();
    const items = page.map(toRequestSummary);
    const first = page[0];
    const last = page[page.length - 1];
    const older = last ? { sortKey: sortKeyOfItem(last), direction: 'older' as const } : null;
    const newer = first ? { sortKey: sortKeyOfItem(first), direction: 'newer' as const } : null;
    return direction === 'older'
      ? { items, next: more ? older : null, previous: cursor ? newer : null }
      : { items, next: older, previous: more ? newer : null };
  }

  /**
   * Exact count of the filtered rows. Final calls come from Stats (a few Queries, whatever the
   * traffic); pending calls, user and search filters, which Stats cannot answer, from the GSIs.
   */
  async count(): Promise<number> {
    const filter = this.toFilter();
    if (filter.user !== undefined || filter.search !== undefined) return this.countRows(filter);
    const pending = filter.status === undefined || filter.status === 'pending';
    const [window, pendingCount] = await Promise.all([
      filter.status === 'pending' ? undefined : readStats(this.deps, filter.range),
      pending ? this.countRows({ ...filter, status: 'pending' }) : 0,
    ]);
    if (!window) return pendingCount;
    const scope = scopeFor(window, filter.service, filter.method);
    const final =
      filter.status === undefined || filter.status === 'pending'
        ? scope.total
        : scope.byStatus[filter.status];
    return final + pendingCount;
  }

  private async read(
    filter: RequestFilter,
    direction: Direction,
    bound: string | undefined,
    limit: number,
  ): Promise<Record<string, unknown>[]> {
    const plan = planRead(filter, this.deps.config.shards);
    const base = rangeBounds(filter.range);
    const bounds: SortKeyBounds =
      bound === undefined
        ? base
        : direction === 'older'
          ? { low: base.low, high: bound < base.high ? bound : base.high, exclude: bound }
          : { low: bound > base.low ? bound : base.low, high: base.high, exclude: bound };
    const boundHour = bound === undefined ? undefined : hourBucket(bound);
    const groups = (direction === 'older' ? plan.groups : [...plan.groups].reverse()).filter(
      (g) =>
        g.hour === undefined ||
        boundHour === undefined ||
        (direction === 'older' ? g.hour <= boundHour : g.hour >= boundHour),
    );
    const pageSize = Math.min(1000, plan.filterExpression || plan.matches ? Math.max(limit, 200) : limit);
    const readers = groups.map((g) =>
      g.partitions.map(
        (p) =>
          new PartitionReader(
            this.deps.ddb,
            partitionQuery(this.deps.config.requestLogTable, p, plan, bounds, direction),
            plan,
            bounds,
            pageSize,
          ),
      ),
    );
    const rows: Record<string, unknown>[] = [];
    for (let g = 0; g < readers.length && rows.length < limit; g++) {
      // Only once a group has run dry is the next one needed; then read several ahead at once.
      if (g > 0) {
        for (const ahead of readers.slice(g, g + READ_AHEAD_GROUPS).flat()) void ahead.peek().catch(() => {});
      }
      for await (const row of mergeReaders(readers[g]!, direction)) {
        rows.push(row);
        if (rows.length >= limit) break;
      }
    }
    return rows;
  }

  /** Counts rows by reading the GSIs: `Select: COUNT` unless an in-code filter must see the rows. */
  private async countRows(filter: RequestFilter): Promise<number> {
    const plan: ReadPlan = planRead(filter, this.deps.config.shards);
    const bounds = rangeBounds(filter.range);
    const partitions = plan.groups.flatMap((g) => g.partitions);
    let total = 0;
    for (let i = 0; i < partitions.length; i += COUNT_CONCURRENCY) {
      const counts = await Promise.all(
        partitions.slice(i, i + COUNT_CONCURRENCY).map(async (partition) => {
          const input = partitionQuery(this.deps.config.requestLogTable, partition, plan, bounds, 'older');
          let n = 0;
          let startKey: Record<string, unknown> | undefined;
          do {
            const page = await this.deps.ddb.send(
              new QueryCommand({
                ...input,
                ...(plan.matches ? {} : { Select: 'COUNT' as const }),
                ExclusiveStartKey: startKey,
              }),
            );
            n += plan.matches ? (page.Items ?? []).filter(plan.matches).length : (page.Count ?? 0);
            startKey = page.LastEvaluatedKey;
          } while (startKey);
          return n;
        }),
      );
      total += counts.reduce((a, b) => a + b, 0);
    }
    return total;
  }
}

/** Entry point of the chain: `requestLogs(deps).recent({ hours: 24 }).error().list()`. */
export const requestLogs = (deps: MonitorDeps): RequestLogQuery => new RequestLogQuery(deps);
