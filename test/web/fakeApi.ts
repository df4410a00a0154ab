/**
 * A tiny stand-in for the monitor API, for developing and testing the page in a browser while the
 * real API and local runtime are elsewhere (and for the bundled-Lambda check). It answers the
 * seed's JSON shapes from an in-memory list of records, with bearer auth, filters, a cursor,
 * CSV, and serves the page from a `ui` handler it is given.
 *
 * It is as strict as API Gateway can be, where the local server is lenient: API routes answer
 * only at their deployed form (`/x`, no trailing slash: the stack's route keys), and a wrong token
 * gets API Gateway's 403 `{"message":"Forbidden"}` (a Lambda authorizer's deny), a missing one 401.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { RequestLogRecord } from '../../core/record';
export { fixtureRecords } from './knownTraffic';

export type UiHandler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

export interface FakeApi {
  readonly url: string;
  readonly records: readonly RequestLogRecord[];
  stop(): Promise<void>;
}

const BASE = '/cfg/grpc/monitor/';
const CSV_ROWS_PER_RESPONSE = 3;
const round = (n: number, digits: number) => Math.round(n * 10 ** digits) / 10 ** digits;

function figures(rows: readonly RequestLogRecord[]) {
  const total = rows.length;
  const ok = rows.filter((r) => r.status === 'success').length;
  const durations = rows
    .map((r) => r.duration_ms)
    .filter((d): d is number => d !== null)
    .sort((a, b) => a - b);
  const avg = durations.length ? round(durations.reduce((a, b) => a + b, 0) / durations.length, 1) : null;
  const p95 = durations.length ? durations[Math.max(0, Math.ceil(0.95 * durations.length) - 1)]! : null;
  return {
    total_requests: total,
    successful_requests: ok,
    error_requests: rows.filter((r) => r.status === 'error').length,
    timeout_requests: rows.filter((r) => r.status === 'timeout').length,
    cancelled_requests: rows.filter((r) => r.status === 'cancelled').length,
    success_rate: total ? round((ok / total) * 100, 1) : 0,
    avg_duration_ms: avg,
    p95_duration_ms: p95,
  };
}

function listRow(r: RequestLogRecord) {
  const { request_id, service_name, method_name, full_method, status, grpc_status_code, duration_ms } = r;
  return {
    request_id,
    service_name,
    method_name,
    full_method,
    status,
    grpc_status_code,
    duration_ms,
    request_size: r.request_size,
    response_size: r.response_size,
    user: r.user,
    client_ip: r.client_ip,
    created_at: r.created_at,
  };
}

function csvCell(value: unknown): string {
  const text = value === null || value === undefined ? '' : String(value);
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export async function startFakeApi(options: {
  ui: UiHandler;
  records: RequestLogRecord[];
  token?: string;
  now?: Date;
}): Promise<FakeApi> {
  const token = options.token ?? 'secret';
  const now = options.now ?? new Date();
  const records = options.records;
  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://local');
      const send = (status: number, body: unknown, type = 'application/json') => {
        res.writeHead(status, { 'content-type': type });
        res.end(typeof body === 'string' ? body : JSON.stringify(body));
      };
      const route = url.pathname.startsWith(BASE) ? url.pathname.slice(BASE.length) : '';
      // The page answers at both forms: it is the address users type.
      if (route === 'ui' || route === 'ui/') {
        const result = await options.ui({
          rawPath: url.pathname,
          rawQueryString: url.search.slice(1),
        } as APIGatewayProxyEventV2);
        res.writeHead(result.statusCode ?? 200, result.headers as Record<string, string>);
        res.end(result.body);
        return;
      }
      if (route !== 'health' && !req.headers.authorization) return send(401, { message: 'Unauthorized' });
      if (route !== 'health' && req.headers.authorization !== `Bearer ${token}`)
        return send(403, { message: 'Forbidden' });
      const q = url.searchParams;
      const hours = Number(q.get('hours') ?? 24);
      const since = now.getTime() - hours * 3_600_000;
      const inWindow = records.filter((r) => Date.parse(r.created_at) >= since);
      const last = (h: number) =>
        records.filter((r) => Date.parse(r.created_at) >= now.getTime() - h * 3_600_000);
      if (route === 'overview')
        return send(200, {
          ...figures(inWindow),
          requests_per_second: round(inWindow.length / (hours * 3600), 3),
          top_services: [],
          top_methods: [],
          recent_errors: inWindow
            .filter((r) => r.status === 'error')
            .slice(0, 10)
            .map(
              ({ request_id, service_name, method_name, error_message, grpc_status_code, created_at }) => ({
                request_id,
                service_name,
                method_name,
                error_message,
                grpc_status_code,
                created_at,
              }),
            ),
        });
      if (route === 'health') {
        const hour = figures(last(1));
        return send(200, {
          status: 'healthy',
          grpc_server: { running: true, host: '[::]', port: 50051 },
          servers: [
            { running: true, host: '[::]', port: 50051 },
            { running: false, host: 'worker-2', port: 50052 },
          ],
          last_request: records[0]?.created_at ?? null,
          requests_last_hour: hour.total_requests,
          error_rate_last_hour: hour.total_requests
            ? round((hour.error_requests / hour.total_requests) * 100, 1)
            : 0,
        });
      }
      if (route === 'services' || route === 'methods') {
        const groups = new Map<string, RequestLogRecord[]>();
        for (const r of inWindow) {
          const key = route === 'services' ? r.service_name : `${r.service_name}.${r.method_name}`;
          groups.set(key, [...(groups.get(key) ?? []), r]);
        }
        const rows = [...groups.entries()].map(([key, rs]) => {
          const [service_name, method_name] = key.split('.');
          return route === 'services'
            ? { service_name, ...figures(rs) }
            : { service_name, method_name, ...figures(rs) };
        });
        return send(200, route === 'services' ? { services: rows } : { methods: rows });
      }
      if (route === 'timeline') {
        const timeline = [];
        const firstHour = Math.floor(since / 3_600_000) * 3_600_000;
        for (let t = firstHour; t <= now.getTime(); t += 3_600_000) {
          const rs = inWindow.filter(
            (r) => Math.floor(Date.parse(r.created_at) / 3_600_000) * 3_600_000 === t,
          );
          const f = figures(rs);
          timeline.push({
            hour: new Date(t).toISOString().replace('.000Z', 'Z'),
            total_requests: f.total_requests,
            successful_requests: f.successful_requests,
            error_requests: f.error_requests,
            avg_duration_ms: f.avg_duration_ms,
          });
        }
        return send(200, { timeline });
      }
      const detail = /^requests\/([^/]+)$/.exec(route);
      if (detail) {
        const found = records.find((r) => r.request_id === decodeURIComponent(detail[1]!));
        return found
          ? send(200, found)
          : send(404, { error: { code: 'not_found', message: 'no such request', field: null } });
      }
      if (route === 'requests') {
        const search = (q.get('search') ?? '').toLowerCase();
        const user = q.get('user') ?? '';
        const rows = inWindow.filter(
          (r) =>
            (!q.get('status') || r.status === q.get('status')) &&
            (!q.get('service') || r.service_name === q.get('service')) &&
            (!q.get('method') || r.method_name === q.get('method')) &&
            (!user || String(r.user?.id) === user) &&
            (!search ||
              [
                r.request_id,
                r.service_name,
                r.method_name,
                r.user?.username,
                r.client_ip,
                r.error_message,
              ].some((v) => v?.toLowerCase().includes(search))),
        );
        if (q.get('format') === 'csv') {
          const columns = [
            'request_id',
            'service_name',
            'method_name',
            'status',
            'grpc_status_code',
            'duration_ms',
            'created_at',
          ] as const;
          // Few rows per response, so the page's following of `Link: rel="next"` is exercised.
          const offset = Number(q.get('cursor') ?? 0);
          const chunk = rows.slice(offset, offset + CSV_ROWS_PER_RESPONSE);
          const lines = [columns.join(','), ...chunk.map((r) => columns.map((c) => csvCell(r[c])).join(','))];
          const nextQuery = new URLSearchParams(q);
          nextQuery.set('cursor', String(offset + CSV_ROWS_PER_RESPONSE));
          res.writeHead(200, {
            'content-type': 'text/csv',
            'content-disposition': 'attachment; filename="grpc-requests.csv"',
            ...(offset + CSV_ROWS_PER_RESPONSE < rows.length && {
              link: `<${BASE}requests?${nextQuery}>; rel="next"`,
            }),
          });
          return res.end(`${lines.join('\r\n')}\r\n`);
        }
        const size = Number(q.get('page_size') ?? 20);
        const offset = Number(q.get('cursor') ?? 0);
        const link = (o: number) => {
          const next = new URLSearchParams(q);
          next.set('cursor', String(o));
          return `${BASE}requests?${next}`;
        };
        return send(200, {
          count: rows.length,
          next: offset + size < rows.length ? link(offset + size) : null,
          previous: offset > 0 ? link(Math.max(0, offset - size)) : null,
          results: rows.slice(offset, offset + size).map(listRow),
        });
      }
      send(404, { message: 'Not Found' });
    })().catch((error: unknown) => {
      res.writeHead(500);
      res.end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    records,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
