import { stringify } from 'csv-stringify/sync';
import type { RequestSummary } from '../../core/query';

/** CSV columns of the requests export: the JSON row, with the user split in two columns. */
export const CSV_COLUMNS = [
  'request_id',
  'created_at',
  'service_name',
  'method_name',
  'full_method',
  'status',
  'grpc_status_code',
  'duration_ms',
  'request_size',
  'response_size',
  'user_id',
  'username',
  'client_ip',
  'error_message',
  // Added with issue 17, at the end so the seed's columns keep their positions.
  'client_request_id',
] as const;

/**
 * Rows one CSV response carries at most. A row can take 25 KB and more (a 4,000-character
 * error message of 3-byte characters, or of control characters that the Lambda response
 * escapes to 6 bytes each), so rows alone do not bound a response: the handler also stops
 * at a byte limit (MAX_RESPONSE_BYTES), and the `Link` header continues from the last row sent.
 */
export const CSV_ROWS_PER_RESPONSE = 5_000;

/** True when the client asked for CSV by `Accept` (an explicit `format` wins over it). */
export const acceptsCsv = (accept: string | undefined): boolean => /\btext\/csv\b/i.test(accept ?? '');

const OPTIONS = {
  columns: [...CSV_COLUMNS],
  escape_formulas: true,
  cast: { number: (n: number) => String(n) },
};

/** The header row (what a response holds besides its rows). */
export const CSV_HEADER = stringify([CSV_COLUMNS.slice()]);

/** One row as a CSV line. */
export const csvLine = (r: RequestSummary): string =>
  stringify([{ ...r, user_id: r.user ? String(r.user.id) : '', username: r.user?.username ?? '' }], OPTIONS);

/** Rows → CSV text with a header row. Cells that a spreadsheet would run as formulas are escaped. */
export function requestsToCsv(rows: readonly RequestSummary[]): string {
  return CSV_HEADER + rows.map(csvLine).join('');
}
