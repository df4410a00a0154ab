import type { RequestStatus } from '../record';
import { REQUEST_LOG_INDEX, REQUEST_LOG_KEYS } from '../tables';
import { servicePartition, statusPartition, timePartition } from '../requestLogItem';
import type { TimeRange } from '../stats';
import { hoursOverlapping } from './window';

/** What a request list is narrowed by. Every field but the range is optional. */
export interface RequestFilter {
  readonly range: TimeRange;
  readonly status?: RequestStatus;
  readonly service?: string;
  readonly method?: string;
  /** The caller's id (`user.id`, stored as the string `user_id`). */
  readonly user?: string;
  /**
   * Case-insensitive substring of request id, client request id, service, method, username,
   * client IP or error message.
   */
  readonly search?: string;
}

/** One GSI partition to read. */
export interface Partition {
  readonly indexName: string;
  readonly pk: string;
}

/**
 * Which partitions hold the filtered rows. `groups` are ordered newest first and never overlap
 * in time, so a reader can finish one group before it starts the next; the partitions inside a
 * group are the shards of one key, read in parallel and merged.
 */
export interface ReadPlan {
  readonly groups: ReadonlyArray<{ readonly hour?: string; readonly partitions: readonly Partition[] }>;
  /** Conditions DynamoDB applies after the key condition (exact matches only). */
  readonly filterExpression?: string;
  readonly expressionNames: Record<string, string>;
  readonly expressionValues: Record<string, unknown>;
  /** Conditions applied in code (case-insensitive search), after DynamoDB's. */
  readonly matches?: (item: Record<string, unknown>) => boolean;
}

const shardsOf = (shards: number, key: (shard: number) => string, indexName: string): Partition[] =>
  Array.from({ length: shards }, (_, shard) => ({ indexName, pk: key(shard) }));

/**
 * The cheapest index for a filter: a service's partitions when a service is given (then status
 * is a filter), else a status's partitions, else the hour buckets of the window. Successful
 * calls have no by_status entry (the index is sparse: most calls succeed, and an entry costs a
 * write unit each), so `status=success` reads the hour buckets with a filter on status: with
 * few errors nearly every row read is a success. Method and user are exact-match filters on
 * top; search is matched in code (case-insensitive).
 */
export function planRead(filter: RequestFilter, shards: number): ReadPlan {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const conditions: string[] = [];
  const equal = (attribute: string, value: string) => {
    names[`#${attribute}`] = attribute;
    values[`:${attribute}`] = value;
    conditions.push(`#${attribute} = :${attribute}`);
  };

  let groups: ReadPlan['groups'];
  // Pending rows are few, so their status partitions beat a busy service's partitions.
  if (filter.service !== undefined && filter.status !== 'pending') {
    const service = filter.service;
    groups = [
      {
        partitions: shardsOf(shards, (s) => servicePartition(service, s), REQUEST_LOG_INDEX.byService),
      },
    ];
    if (filter.status !== undefined) equal('status', filter.status);
  } else if (filter.status !== undefined && filter.status !== 'success') {
    const status = filter.status;
    groups = [
      { partitions: shardsOf(shards, (s) => statusPartition(status, s), REQUEST_LOG_INDEX.byStatus) },
    ];
    if (filter.service !== undefined) equal('service_name', filter.service);
  } else {
    if (filter.status !== undefined) equal('status', filter.status);
    groups = hoursOverlapping(filter.range)
      .reverse()
      .map((hour) => ({
        hour,
        partitions: shardsOf(shards, (s) => timePartition(hour, s), REQUEST_LOG_INDEX.byTime),
      }));
  }
  if (filter.method !== undefined) equal('method_name', filter.method);
  if (filter.user !== undefined) equal('user_id', filter.user);

  return {
    groups,
    expressionNames: names,
    expressionValues: values,
    ...(conditions.length > 0 && { filterExpression: conditions.join(' AND ') }),
    ...(filter.search !== undefined && { matches: searchMatcher(filter.search) }),
  };
}

/** The fields `search` looks in, as the seed's admin search_fields plus the error message. */
export function searchMatcher(text: string): (item: Record<string, unknown>) => boolean {
  const needle = text.toLowerCase();
  const has = (value: unknown) => typeof value === 'string' && value.toLowerCase().includes(needle);
  return (item) => {
    const user = item.user as { username?: unknown } | null | undefined;
    return (
      has(item.request_id) ||
      has(item.client_request_id) ||
      has(item.service_name) ||
      has(item.method_name) ||
      has(user?.username) ||
      has(item.client_ip) ||
      has(item.error_message)
    );
  };
}

/** The sort-key attribute every list is ordered by (`created_at#request_id`). */
export const SORT_KEY = REQUEST_LOG_KEYS.sortKey;
