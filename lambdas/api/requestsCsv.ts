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
] as const;

/** Rows one CSV response carries (about 2 MB at most, well under Lambda's 6 MB response). */
export const CSV_ROWS_PER_RESPONSE = 5_000;

/** True when the client asked for CSV by `Accept` (an explicit `format` wins over it). */
export const acceptsCsv = (accept: string | undefined): boolean => /\btext\/csv\b/i.test(accept ?? '');

/** Rows → CSV text with a header row. Cells that a spreadsheet would run as formulas are escaped. */
export function requestsToCsv(rows: readonly RequestSummary[]): string {
  return stringify(
    rows.map((r) => ({
      ...r,
      user_id: r.user ? String(r.user.id) : '',
      username: r.user?.username ?? '',
    })),
    { header: true, columns: [...CSV_COLUMNS], escape_formulas: true, cast: { number: (n) => String(n) } },
  );
}
