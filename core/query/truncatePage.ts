import { sortKeyOf } from '../requestLogItem';
import type { Direction } from './partitionReader';
import type { RequestPage } from './requestLogs';

/**
 * The page cut to `keep` rows (a response that must stay under a byte limit), with the cursor
 * in the paging direction moved so the rows cut off come on the next request: walking older
 * (the first page, `next`), the newest `keep` rows stay; walking newer (`previous`), the
 * oldest, the rows beside the cursor.
 */
export function truncatePage<P extends RequestPage>(page: P, keep: number, direction: Direction): P {
  if (keep >= page.items.length) return page;
  if (direction === 'older') {
    const items = page.items.slice(0, keep);
    const last = items[items.length - 1];
    return {
      ...page,
      items,
      next: last ? { sortKey: sortKeyOf(last.created_at, last.request_id), direction } : page.next,
    };
  }
  const items = page.items.slice(page.items.length - keep);
  const first = items[0];
  return {
    ...page,
    items,
    previous: first ? { sortKey: sortKeyOf(first.created_at, first.request_id), direction } : page.previous,
  };
}
