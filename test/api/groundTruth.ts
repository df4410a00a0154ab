import type { RequestLogRecord, RequestStatus } from '../../core/record';
import { addToHistogram, quantile, type Histogram } from '../../core/stats';

/** Figures computed straight from raw calls, independently of the API's code. */
export interface RawFilter {
  hours: number;
  status?: RequestStatus;
  service?: string;
  method?: string;
  user?: string;
  search?: string;
}

/** The minute-aligned window the API promises: [end of this minute − hours, end of this minute). */
export function windowOf(now: Date, hours: number): { from: string; to: string } {
  const to = Math.floor(now.getTime() / 60_000) * 60_000 + 60_000;
  return { from: new Date(to - hours * 3_600_000).toISOString(), to: new Date(to).toISOString() };
}

export const inWindow = (calls: readonly RequestLogRecord[], now: Date, hours: number) => {
  const { from, to } = windowOf(now, hours);
  return calls.filter((c) => c.created_at >= from && c.created_at < to);
};

export function filterCalls(calls: readonly RequestLogRecord[], now: Date, f: RawFilter): RequestLogRecord[] {
  const q = f.search?.toLowerCase();
  return inWindow(calls, now, f.hours)
    .filter((c) => f.status === undefined || c.status === f.status)
    .filter((c) => f.service === undefined || c.service_name === f.service)
    .filter((c) => f.method === undefined || c.method_name === f.method)
    .filter((c) => f.user === undefined || (c.user !== null && String(c.user.id) === f.user))
    .filter(
      (c) =>
        q === undefined ||
        [c.request_id, c.service_name, c.method_name, c.user?.username, c.client_ip, c.error_message].some(
          (v) => typeof v === 'string' && v.toLowerCase().includes(q),
        ),
    )
    .sort((a, b) => (`${b.created_at}#${b.request_id}` > `${a.created_at}#${a.request_id}` ? 1 : -1));
}

/** A call as a /requests/ row. */
export const row = (c: RequestLogRecord) => ({
  request_id: c.request_id,
  client_request_id: (c as { client_request_id?: string | null }).client_request_id ?? null,
  service_name: c.service_name,
  method_name: c.method_name,
  full_method: c.full_method,
  status: c.status,
  grpc_status_code: c.grpc_status_code,
  duration_ms: c.duration_ms,
  request_size: c.request_size,
  response_size: c.response_size,
  user: c.user,
  client_ip: c.client_ip,
  error_message: c.error_message,
  created_at: c.created_at,
});

const r1 = (x: number) => Math.round(x * 10) / 10;

/** Exact p95 by nearest rank, for checking the sketch's error bound. */
export function exactP95(durations: number[]): number {
  const sorted = [...durations].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(0.95 * sorted.length) - 1)]!;
}

/** Counts and rates of finished calls; p95 through the same 1 % sketch Stats keep. */
export function figures(calls: readonly RequestLogRecord[]) {
  const final = calls.filter((c) => c.status !== 'pending');
  const n = (s: RequestStatus) => final.filter((c) => c.status === s).length;
  const histogram: Histogram = new Map();
  let sum = 0;
  for (const c of final) {
    addToHistogram(histogram, c.duration_ms!);
    sum += c.duration_ms!;
  }
  const total = final.length;
  return {
    total,
    successful: n('success'),
    errors: n('error'),
    timeouts: n('timeout'),
    cancelled: n('cancelled'),
    success_rate: total ? r1((n('success') / total) * 100) : 0,
    error_rate: total ? r1((n('error') / total) * 100) : 0,
    avg_duration_ms: total ? r1(sum / total) : 0,
    p95_duration_ms: total ? r1(quantile(histogram, 0.95)!) : 0,
    exact_p95: total ? exactP95(final.map((c) => c.duration_ms!)) : 0,
  };
}
