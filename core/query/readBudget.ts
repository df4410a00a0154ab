/**
 * Items one API request may read from the RequestLog GSIs (DynamoDB's `ScannedCount`: every
 * item a Query evaluates, before its FilterExpression and our in-code search). At a few hundred
 * bytes a row this is a few MB and well under a second of Queries: a `search` over 720 hours
 * of a busy table answers a partial page with a continue cursor instead of timing out.
 */
export const MAX_ITEMS_READ_PER_REQUEST = 5_000;

/**
 * The items one request may still read, shared by every partition reader of the request.
 * A reader reserves its page's `Limit` before it sends the Query (so concurrent readers can
 * never overshoot) and gives back what the page did not evaluate.
 */
export class ReadBudget {
  private left: number;
  private readCount = 0;

  constructor(readonly limit: number = MAX_ITEMS_READ_PER_REQUEST) {
    this.left = limit;
  }

  /** Reserves up to `wanted` items; 0 when the budget is spent. */
  reserve(wanted: number): number {
    const granted = Math.max(0, Math.min(wanted, this.left));
    this.left -= granted;
    return granted;
  }

  /** Settles a reservation of `reserved` items of which a page evaluated `used`. */
  settle(reserved: number, used: number): void {
    this.left += reserved - used;
    this.readCount += used;
  }

  /** Items read so far (the sum of the pages' ScannedCount). */
  get read(): number {
    return this.readCount;
  }

  get spent(): boolean {
    return this.left <= 0;
  }
}
