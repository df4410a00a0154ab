import type { MonitorDeps } from '../deps';
import type { RequestStatus } from '../record';
import { hourBucket } from '../requestLogItem';
import type { ScopeStats, TimeRange } from '../stats';
import { countableRange, readStats } from './statsWindow';
import {
  mergeReaders,
  partitionQuery,
  PartitionReader,
  sortKeyOfItem,
  type Direction,
} from './partitionReader';
import type { SortKeyBounds } from './partitionReader';
import { ReadBudget } from './readBudget';
import { planRead, type RequestFilter } from './requestFilter';
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
  /**
   * True when the read budget (MAX_ITEMS_READ_PER_REQUEST) ended the page before it was full:
   * the cursor in the paging direction continues where the read stopped.
   */
  readonly partial: boolean;
  /** Items the GSI Queries evaluated for this page (their ScannedCount). */
  readonly itemsRead: number;
}

/** A page and the count of every row its filters match (null when it cannot be had cheaply). */
export interface CountedPage extends RequestPage {
  readonly count: number | null;
}

export interface ListOptions {
  /** Rows per page (default 20). */
  readonly limit?: number;
  readonly cursor?: ListCursor;
  /** The request's read budget (default: a fresh one of MAX_ITEMS_READ_PER_REQUEST items). */
  readonly budget?: ReadBudget;
}

/** Groups read ahead while the current one is consumed (sparse hour buckets cost one Query each). */
const READ_AHEAD_GROUPS = 8;

const rangeBounds = (range: TimeRange): SortKeyBounds => ({
  low: range.from.toISOString(),
  // `created_at#id` sorts after the bare `to` timestamp, so BETWEEN excludes `to` itself.
  high: range.to.toISOString(),
});

/**
 * A sort key just past every row of `hour` in `direction`: the hour itself sorts before all of
 * its rows (`2025-11-01T14` < `2025-11-01T14:…`), `~` after them (and before the next hour).
 */
const pastHour = (hour: string, direction: Direction): string => (direction === 'older' ? hour : `${hour}~`);

/**
 * Calls written to RequestLog in a scope. With log sampling on, the Stats' `logged` counter;
 * with it off every call is logged, so `total` (also right for Stats written before `logged`).
 */
export function loggedCalls(stats: ScopeStats, sampleSuccess: number): number {
  return stats.logged > 0 || sampleSuccess < 1 ? stats.logged : stats.total;
}

/** What a bounded read found. */
interface ReadResult {
  /** At most `limit` rows, in the read's direction. */
  readonly rows: Record<string, unknown>[];
  /** Every row matched (beyond `limit` too, when counting). */
  readonly matched: number;
  /** Set when the budget stopped the read: every matching row before this sort key was seen. */
  readonly stoppedAt?: string;
}

/**
 * The seed's manager methods as an immutable chain:
 * `requestLogs(deps).recent({ hours: 1 }).error().byService('UserService').list()`.
 * Lists come from GSI Queries (never a Scan), each request within a ReadBudget; counts from Stats
 * where the counters can answer.
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
  async list({ limit = 20, cursor, budget = new ReadBudget() }: ListOptions = {}): Promise<RequestPage> {
    const filter = this.toFilter();
    const direction = cursor?.direction ?? 'older';
    const read = await this.read(filter, direction, cursor?.sortKey, limit + 1, budget, false);
    return this.toPage(filter.range, read, limit, direction, cursor, budget);
  }

  /**
   * One page and the filtered rows' count, within one budget. Filters the Stats can answer are
   * counted there, exactly. `user` and `search` are not: the first page's read goes on, past
   * the page, counting the rest of the window; the count is exact if that ends within the
   * budget, else null (never a second read of the window). Later pages pass `knownCount`.
   */
  async listWithCount({
    limit = 20,
    cursor,
    budget = new ReadBudget(),
    knownCount,
  }: ListOptions & { knownCount?: number | null }): Promise<CountedPage> {
    const filter = this.toFilter();
    const direction = cursor?.direction ?? 'older';
    const statsCount = knownCount === undefined && statsCanCount(filter);
    const countRows = knownCount === undefined && !statsCount && cursor === undefined;
    const [read, count] = await Promise.all([
      this.read(filter, direction, cursor?.sortKey, limit + 1, budget, countRows),
      statsCount ? this.countFromStats(filter, budget) : (knownCount ?? null),
    ]);
    const page = this.toPage(filter.range, read, limit, direction, cursor, budget);
    return { ...page, count: countRows ? (read.stoppedAt === undefined ? read.matched : null) : count };
  }

  /**
   * Count of the filtered rows (what the lists page through): exact from Stats when they can
   * answer; with a `user` or `search` filter, read from the GSIs within `budget` and null when
   * the budget runs out first.
   */
  async count(budget: ReadBudget = new ReadBudget()): Promise<number | null> {
    const filter = this.toFilter();
    if (statsCanCount(filter)) return this.countFromStats(filter, budget);
    return this.countRows(filter, budget);
  }

  private toPage(
    range: TimeRange,
    read: ReadResult,
    limit: number,
    direction: Direction,
    cursor: ListCursor | undefined,
    budget: ReadBudget,
  ): RequestPage {
    const more = read.rows.length > limit;
    const partial = !more && read.stoppedAt !== undefined;
    const page = read.rows.slice(0, limit);
    if (direction === 'newer') page.reverse();
    const items = page.map(toRequestSummary);
    const first = page[0];
    const last = page[page.length - 1];
    const older = last ? { sortKey: sortKeyOfItem(last), direction: 'older' as const } : null;
    const newer = first ? { sortKey: sortKeyOfItem(first), direction: 'newer' as const } : null;
    // Where the read ended: where the budget stopped it, else the window's far end (so an empty
    // last page still links back to the rows before it).
    const ended = read.stoppedAt ?? (direction === 'older' ? range.from : range.to).toISOString();
    const stopped = (d: Direction): ListCursor | null => (partial ? { sortKey: ended, direction: d } : null);
    const endOf = (d: Direction): ListCursor | null => (cursor ? { sortKey: ended, direction: d } : null);
    const base = { items, partial, itemsRead: budget.read };
    return direction === 'older'
      ? {
          ...base,
          next: more ? older : stopped('older'),
          previous: cursor ? (newer ?? endOf('newer')) : null,
        }
      : { ...base, next: older ?? endOf('older'), previous: more ? newer : stopped('newer') };
  }

  /** Final calls from Stats (logged ones: what the lists hold), pending ones from the GSIs. */
  private async countFromStats(filter: RequestFilter, budget: ReadBudget): Promise<number | null> {
    const pending = filter.status === undefined || filter.status === 'pending';
    const [window, pendingCount] = await Promise.all([
      filter.status === 'pending' ? undefined : readStats(this.deps, filter.range),
      pending ? this.countRows({ ...filter, status: 'pending' }, budget) : 0,
    ]);
    if (pendingCount === null) return null;
    if (!window) return pendingCount;
    const scope = scopeFor(window, filter.service, filter.method);
    const logged = loggedCalls(scope, this.deps.config.sampleSuccess);
    const { error, timeout, cancelled } = scope.byStatus;
    const final =
      filter.status === undefined || filter.status === 'pending'
        ? logged
        : filter.status === 'success'
          ? // Only successes are sampled: every other final call is logged.
            Math.max(0, logged - error - timeout - cancelled)
          : scope.byStatus[filter.status];
    return final + pendingCount;
  }

  /** Counts rows by reading them, within the budget: null when it runs out first. */
  private async countRows(filter: RequestFilter, budget: ReadBudget): Promise<number | null> {
    const read = await this.read(filter, 'older', undefined, 0, budget, true);
    return read.stoppedAt === undefined ? read.matched : null;
  }

  /**
   * Reads up to `limit` rows past `bound` in `direction` (all matching rows are counted, not
   * kept, when `countAll`), until the window ends or the budget is spent.
   */
  private async read(
    filter: RequestFilter,
    direction: Direction,
    bound: string | undefined,
    limit: number,
    budget: ReadBudget,
    countAll: boolean,
  ): Promise<ReadResult> {
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
    const filtered = plan.filterExpression !== undefined || plan.matches !== undefined;
    const perGroup = Math.max(1, ...groups.map((g) => g.partitions.length));
    // A page per partition of a group must fit the budget twice over, so the first group
    // always makes progress even with read-ahead and many shards.
    const pageSize = Math.max(
      1,
      Math.min(1000, filtered || countAll ? 1000 : limit, Math.floor(budget.limit / (2 * perGroup))),
    );
    const readers = groups.map((g) =>
      g.partitions.map(
        (p) =>
          new PartitionReader(
            this.deps.ddb,
            partitionQuery(this.deps.config.requestLogTable, p, plan, bounds, direction),
            plan,
            bounds,
            pageSize,
            budget,
            limit > 0 ? limit : pageSize,
          ),
      ),
    );
    const rows: Record<string, unknown>[] = [];
    let matched = 0;
    // Every matching row before `seen` (in `direction`) has been handed on.
    let seen: string | undefined;
    const take = (row: Record<string, unknown>): boolean => {
      matched++;
      if (rows.length < limit) {
        rows.push(row);
        seen = sortKeyOfItem(row);
      }
      return countAll || rows.length < limit;
    };
    let emptyGroup = false;
    for (let g = 0; g < readers.length; g++) {
      // Only once a group has run dry is the next one needed. After an empty group (sparse hours)
      // read several ahead at once; after a busy one, the next alone: its first pages likely fill
      // the page, and read-ahead pages would be items read for nothing.
      if (emptyGroup) {
        for (const ahead of readers.slice(g, g + READ_AHEAD_GROUPS).flat()) void ahead.peek().catch(() => {});
      }
      const before = matched;
      const end = await mergeReaders(readers[g]!, direction, take);
      emptyGroup = matched === before;
      if (end.stoppedAt !== undefined) {
        const start = bound ?? (direction === 'older' ? base.high : base.low);
        return { rows, matched, stoppedAt: end.stoppedAt ?? seen ?? start };
      }
      if (!countAll && rows.length >= limit) break;
      const hour = groups[g]!.hour;
      if (hour !== undefined) seen = pastHour(hour, direction);
    }
    return { rows, matched };
  }
}

/** Stats count final calls by service, method and status; not by user or search text. */
const statsCanCount = (filter: RequestFilter): boolean =>
  filter.user === undefined && filter.search === undefined;

/** Entry point of the chain: `requestLogs(deps).recent({ hours: 24 }).error().list()`. */
export const requestLogs = (deps: MonitorDeps): RequestLogQuery => new RequestLogQuery(deps);
