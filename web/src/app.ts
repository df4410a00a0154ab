import type {
  ApiErrorBody,
  HealthResponse,
  MethodFigures,
  MethodsResponse,
  OverviewResponse,
  RequestDetail,
  RequestRow,
  RequestsResponse,
  ServerHealth,
  ServiceFigures,
  ServicesResponse,
  TimelineHour,
  TimelineResponse,
} from './apiTypes';
import type { Badge, Formatters } from './format';

/** Settings the server bakes into the page. */
export interface DashboardSettings {
  /** Auto-refresh period when the URL does not say (`refresh=0` pauses). */
  readonly refreshSeconds: number;
}

/**
 * The whole dashboard, run in the browser. page.ts inlines it with `toString()`, so it is
 * SELF-CONTAINED: it uses only its parameters, its own locals and browser globals (the `import
 * type`s above are erased). The markup it fills is in page.ts; it reads only the monitor API.
 */
export function dashboardApp(fmt: Formatters, settings: DashboardSettings): void {
  const TOKEN_KEY = 'grpc-monitor-token';
  const FILTER_DEFAULTS = {
    hours: '24',
    service: '',
    method: '',
    status: '',
    user: '',
    search: '',
    page_size: '20',
  };
  type Filters = typeof FILTER_DEFAULTS;
  type FilterName = keyof Filters;
  const FILTER_NAMES = Object.keys(FILTER_DEFAULTS) as FilterName[];

  /**
   * `/cfg/grpc/monitor/` (with any stage prefix), from the page's own `…/ui` or `…/ui/` path. API
   * paths are joined to it in the form the stack deploys (`overview`, not `overview/`: HTTP API
   * route keys cannot end in `/`), so the page never depends on how API Gateway treats the slash.
   */
  const apiBase = location.pathname.replace(/ui\/?$/, '').replace(/\/?$/, '/');

  interface State {
    filters: Filters;
    /** The API's own paging parameters (an opaque cursor), taken from its next/previous URLs. */
    paging: Record<string, string>;
    pageNo: number;
    refreshSeconds: number;
    /** The request whose record is open. */
    open: string;
  }

  class AuthError extends Error {}

  const el = <T extends HTMLElement = HTMLElement>(id: string): T => {
    const found = document.getElementById(id);
    if (!found) throw new Error(`#${id} is missing from the page`);
    return found as T;
  };

  type Child = Node | string | null | undefined | false;
  const h = (tag: string, attrs: Record<string, string | boolean | undefined> = {}, ...children: Child[]) => {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs)) {
      if (value === undefined || value === false) continue;
      if (name === 'class') node.className = String(value);
      else node.setAttribute(name, value === true ? '' : value);
    }
    for (const child of children) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child);
    }
    return node;
  };

  const badge = (b: Badge, extraClass = ''): HTMLElement =>
    h(
      'span',
      { class: `badge tone-${b.tone} ${extraClass}`.trim(), 'data-tone': b.tone },
      b.symbol ? h('span', { 'aria-hidden': 'true', class: 'badge-symbol' }, b.symbol) : null,
      b.label,
    );

  // ---- state in the URL -------------------------------------------------------------------

  const readState = (): State => {
    const params = new URLSearchParams(location.search);
    const filters = { ...FILTER_DEFAULTS };
    for (const name of FILTER_NAMES) filters[name] = params.get(name) ?? FILTER_DEFAULTS[name];
    const paging: Record<string, string> = {};
    for (const [name, value] of params) if (name.startsWith('api_')) paging[name.slice(4)] = value;
    const refresh = Number(params.get('refresh') ?? settings.refreshSeconds);
    return {
      filters,
      paging,
      pageNo: Math.max(1, Number(params.get('p') ?? 1) || 1),
      refreshSeconds: Number.isFinite(refresh) && refresh >= 0 ? refresh : settings.refreshSeconds,
      open: params.get('open') ?? '',
    };
  };

  const writeState = (push: boolean): void => {
    const params = new URLSearchParams();
    for (const name of FILTER_NAMES)
      if (state.filters[name] !== FILTER_DEFAULTS[name]) params.set(name, state.filters[name]);
    for (const [name, value] of Object.entries(state.paging)) params.set(`api_${name}`, value);
    if (state.pageNo > 1) params.set('p', String(state.pageNo));
    if (state.refreshSeconds !== settings.refreshSeconds) params.set('refresh', String(state.refreshSeconds));
    if (state.open) params.set('open', state.open);
    const query = params.toString();
    const url = `${location.pathname}${query ? `?${query}` : ''}`;
    if (url === `${location.pathname}${location.search}`) return;
    if (push) history.pushState(null, '', url);
    else history.replaceState(null, '', url);
  };

  let state = readState();

  // ---- API access -------------------------------------------------------------------------

  const token = (): string => sessionStorage.getItem(TOKEN_KEY) ?? '';

  const apiUrl = (path: string, params: Record<string, string>): string => {
    const query = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== '')).toString();
    return `${apiBase}${path}${query ? `?${query}` : ''}`;
  };

  const apiFetch = async (path: string, params: Record<string, string>, accept: string): Promise<Response> =>
    fetchApiUrl(apiUrl(path, params), path, accept);

  const fetchApiUrl = async (url: string, path: string, accept: string): Promise<Response> => {
    const response = await fetch(url, {
      headers: { Authorization: `Bearer ${token()}`, Accept: accept },
      cache: 'no-store',
    });
    // 401: no token (API Gateway, the local server) or a wrong one (locally); 403: a wrong or
    // rotated token in AWS, where the Lambda authorizer's deny is API Gateway's 403 Forbidden.
    if (response.status === 401 || response.status === 403) throw new AuthError('The API refused the token.');
    if (!response.ok) {
      let message = `${response.status} ${response.statusText}`;
      try {
        const body = (await response.json()) as ApiErrorBody;
        message = body.error?.message ?? body.message ?? message;
        if (body.error?.field) message += ` (${body.error.field})`;
      } catch {
        // not JSON: keep the status line
      }
      throw new Error(`${path}: ${message}`);
    }
    return response;
  };

  const api = async <T>(path: string, params: Record<string, string> = {}): Promise<T> =>
    (await (await apiFetch(path, params, 'application/json')).json()) as T;

  /** Filters the request list sends (everything but the time window is list-only). */
  const listParams = (): Record<string, string> => {
    const f = state.filters;
    return {
      hours: f.hours,
      service: f.service,
      method: f.method,
      status: f.status,
      user: f.user,
      search: f.search,
    };
  };

  // ---- rendering --------------------------------------------------------------------------

  const setStat = (id: string, value: number | null | undefined, text: string): void => {
    const node = el(id);
    node.textContent = text;
    node.dataset.value = value === null || value === undefined ? '' : String(value);
  };

  /** Every server that sent heartbeats; the seed's single `grpc_server` when that is all there is. */
  const serversOf = (health: HealthResponse): ServerHealth[] =>
    health.servers ?? (health.grpc_server && health.grpc_server.host ? [health.grpc_server] : []);

  const renderStats = (overview: OverviewResponse | undefined, health: HealthResponse | undefined): void => {
    const hours = Number(state.filters.hours);
    el('window-label').textContent =
      hours % 24 === 0 && hours > 24 ? `last ${hours / 24} days` : `last ${hours} h`;
    if (overview) {
      setStat('stat-total', overview.total_requests, fmt.formatCount(overview.total_requests));
      setStat('stat-success-rate', overview.success_rate, fmt.formatPercent(overview.success_rate));
      setStat('stat-avg', overview.avg_duration_ms, fmt.formatDuration(overview.avg_duration_ms));
      setStat('stat-p95', overview.p95_duration_ms, fmt.formatDuration(overview.p95_duration_ms));
      setStat('stat-rate', overview.requests_per_second, fmt.formatRate(overview.requests_per_second));
      el('stat-rate-note').textContent =
        overview.requests_per_second_last_minute === undefined
          ? ''
          : `last minute ${fmt.formatRate(overview.requests_per_second_last_minute)}`;
      const breakdown = [
        `${fmt.formatCount(overview.successful_requests)} ok`,
        `${fmt.formatCount(overview.error_requests)} errors`,
        overview.timeout_requests !== undefined
          ? `${fmt.formatCount(overview.timeout_requests)} timeouts`
          : '',
        overview.cancelled_requests !== undefined
          ? `${fmt.formatCount(overview.cancelled_requests)} cancelled`
          : '',
      ].filter(Boolean);
      el('stat-total-note').textContent = breakdown.join(' · ');
      const sampling = fmt.samplingNotice(overview.sampling);
      el('sampling-notice').textContent = sampling;
      el('sampling-notice').hidden = sampling === '';
    }
    if (health) {
      setStat('stat-hour-requests', health.requests_last_hour, fmt.formatCount(health.requests_last_hour));
      setStat(
        'stat-hour-error-rate',
        health.error_rate_last_hour,
        fmt.formatPercent(health.error_rate_last_hour),
      );
      const servers = serversOf(health);
      const running = servers.filter((s) => s.running).length;
      setStat(
        'stat-servers',
        running,
        servers.length ? `${running} / ${servers.length} running` : 'none seen',
      );
      const list = el('stat-servers-list');
      list.replaceChildren(
        ...servers.map((s) =>
          h(
            'li',
            {},
            badge(
              s.running
                ? { label: 'Running', tone: 'green', symbol: '●' }
                : { label: 'Down', tone: 'red', symbol: '■' },
              'badge-small',
            ),
            ` ${s.host ?? '?'}:${s.port ?? '?'}`,
            s.last_seen ? ` · seen ${fmt.formatTimestamp(s.last_seen).slice(11)}` : '',
            s.writer && s.writer.dropped > 0 ? ` · ${fmt.formatCount(s.writer.dropped)} dropped` : '',
          ),
        ),
      );
      const status = fmt.healthBadge(health.status);
      const target = el('health-badge');
      target.replaceChildren(...Array.from(badge(status).childNodes));
      target.className = `badge tone-${status.tone}`;
      target.dataset.tone = status.tone;
      target.dataset.status = health.status;
      el('stat-last-request').textContent = [
        health.last_request
          ? `last request ${fmt.formatTimestamp(health.last_request)} UTC`
          : 'no request yet',
        health.ingestion_lag_seconds ? `statistics ${health.ingestion_lag_seconds} s behind` : '',
      ]
        .filter(Boolean)
        .join(' · ');
    }
  };

  const SVG = 'http://www.w3.org/2000/svg';
  const svg = (tag: string, attrs: Record<string, string | number>, text?: string): SVGElement => {
    const node = document.createElementNS(SVG, tag);
    for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
    if (text !== undefined) node.textContent = text;
    return node;
  };

  let lastTimeline: TimelineHour[] = [];

  const renderTimeline = (hours: TimelineHour[]): void => {
    lastTimeline = hours;
    // Drawn at the container's width so the axis text keeps its size on a phone.
    const width = Math.max(300, Math.min(1400, el('timeline-chart').clientWidth || 720));
    const height = 180;
    const pad = { left: 40, right: 8, top: 10, bottom: 24 };
    const max = Math.max(1, ...hours.map((p) => p.total_requests));
    const step = Math.pow(10, Math.floor(Math.log10(max)));
    const top = Math.ceil(max / step) * step;
    const plotW = width - pad.left - pad.right;
    const plotH = height - pad.top - pad.bottom;
    const slot = plotW / Math.max(1, hours.length);
    const barW = Math.max(1, slot * 0.8);
    const y = (v: number) => pad.top + plotH - (v / top) * plotH;
    const totalErrors = hours.reduce((sum, p) => sum + p.error_requests, 0);
    const totalRequests = hours.reduce((sum, p) => sum + p.total_requests, 0);
    const chart = svg('svg', {
      viewBox: `0 0 ${width} ${height}`,
      role: 'img',
      'aria-labelledby': 'timeline-title',
      class: 'chart',
    });
    chart.append(
      svg(
        'title',
        { id: 'timeline-title' },
        `${fmt.formatCount(totalRequests)} requests and ${fmt.formatCount(totalErrors)} errors over ${hours.length} hours`,
      ),
    );
    for (const tick of [0, top / 2, top]) {
      chart.append(
        svg('line', { x1: pad.left, x2: width - pad.right, y1: y(tick), y2: y(tick), class: 'grid' }),
      );
      chart.append(
        svg(
          'text',
          { x: pad.left - 6, y: y(tick) + 4, class: 'axis', 'text-anchor': 'end' },
          fmt.formatCount(tick),
        ),
      );
    }
    const labelEvery = Math.max(1, Math.ceil(hours.length / Math.max(3, Math.floor(plotW / 70))));
    hours.forEach((point, i) => {
      const x = pad.left + i * slot + (slot - barW) / 2;
      const group = svg('g', { class: 'bar', 'data-hour': point.hour });
      group.append(
        svg(
          'title',
          {},
          `${fmt.formatTimestamp(point.hour).slice(0, 16)} UTC: ${fmt.formatCount(point.total_requests)} requests, ${fmt.formatCount(point.error_requests)} errors`,
        ),
      );
      group.append(
        svg('rect', {
          x,
          y: y(point.total_requests),
          width: barW,
          height: plotH + pad.top - y(point.total_requests),
          class: 'bar-total',
        }),
      );
      if (point.error_requests > 0) {
        group.append(
          svg('rect', {
            x,
            y: y(point.error_requests),
            width: barW,
            height: plotH + pad.top - y(point.error_requests),
            class: 'bar-errors',
          }),
        );
      }
      chart.append(group);
      if (i % labelEvery === 0) {
        chart.append(
          svg(
            'text',
            { x: x + barW / 2, y: height - 6, class: 'axis', 'text-anchor': 'middle' },
            fmt.formatTimestamp(point.hour).slice(11, 16),
          ),
        );
      }
    });
    el('timeline-chart').replaceChildren(chart);
    el('timeline-rows').replaceChildren(
      ...hours.map((p) =>
        h(
          'tr',
          {},
          h('td', {}, h('time', { datetime: p.hour }, `${fmt.formatTimestamp(p.hour).slice(0, 16)}`)),
          h('td', { class: 'num' }, fmt.formatCount(p.total_requests)),
          h('td', { class: 'num' }, fmt.formatCount(p.error_requests)),
          h('td', { class: 'num' }, fmt.formatDuration(p.avg_duration_ms)),
        ),
      ),
    );
  };

  const figureCells = (f: {
    total_requests: number;
    success_rate?: number;
    avg_duration_ms: number | null;
    p95_duration_ms?: number | null;
  }) => [
    h('td', { class: 'num', 'data-label': 'Requests' }, fmt.formatCount(f.total_requests)),
    h('td', { class: 'num', 'data-label': 'Success' }, fmt.formatPercent(f.success_rate)),
    h('td', { class: 'num', 'data-label': 'Avg' }, fmt.formatDuration(f.avg_duration_ms)),
    h('td', { class: 'num', 'data-label': 'p95' }, fmt.formatDuration(f.p95_duration_ms)),
  ];

  const emptyRow = (columns: number, text: string) =>
    h('tr', {}, h('td', { colspan: String(columns), class: 'empty' }, text));

  /** A link to this view with some filters changed (it works in a new tab too). */
  const filterLink = (text: string, changes: Partial<Filters>, title?: string): HTMLElement => {
    const params = new URLSearchParams(location.search);
    params.delete('p');
    for (const key of Array.from(params.keys())) if (key.startsWith('api_')) params.delete(key);
    for (const [name, value] of Object.entries(changes)) {
      if (value) params.set(name, value);
      else params.delete(name);
    }
    const link = h('a', { href: `?${params}`, title }, text);
    link.addEventListener('click', (event) => {
      event.preventDefault();
      applyFilters(changes, true);
    });
    return link;
  };

  const renderRecentErrors = (errors: NonNullable<OverviewResponse['recent_errors']>): void => {
    el('recent-errors').replaceChildren(
      ...(errors.length
        ? errors.map((e) => {
            const open = h(
              'button',
              { type: 'button', class: 'link', 'aria-label': `Open request ${e.request_id}` },
              `${e.service_name}.${e.method_name}`,
            );
            open.addEventListener('click', () => void openDetail(e.request_id));
            return h(
              'li',
              { 'data-request-id': e.request_id },
              open,
              e.grpc_status_code ? h('span', { class: 'mono' }, e.grpc_status_code) : null,
              h('span', { class: 'message' }, e.error_message ?? '—'),
              h(
                'time',
                { datetime: e.created_at, class: 'muted' },
                `${fmt.formatTimestamp(e.created_at)} UTC`,
              ),
            );
          })
        : [h('li', { class: 'muted' }, 'No errors in this window.')]),
    );
  };

  const renderServices = (services: ServiceFigures[]): void => {
    el('services-rows').replaceChildren(
      ...(services.length
        ? services.map((s) =>
            h(
              'tr',
              { 'data-service': s.service_name },
              h('th', { scope: 'row' }, filterLink(s.service_name, { service: s.service_name, method: '' })),
              ...figureCells(s),
            ),
          )
        : [emptyRow(5, 'No calls in this window.')]),
    );
  };

  const renderMethods = (methods: MethodFigures[]): void => {
    el('methods-rows').replaceChildren(
      ...(methods.length
        ? methods.map((m) =>
            h(
              'tr',
              { 'data-method': `${m.service_name ?? ''}.${m.method_name}` },
              h(
                'th',
                { scope: 'row' },
                m.service_name
                  ? filterLink(`${m.service_name}.${m.method_name}`, {
                      service: m.service_name,
                      method: m.method_name,
                    })
                  : m.method_name,
              ),
              ...figureCells(m),
            ),
          )
        : [emptyRow(5, 'No calls in this window.')]),
    );
  };

  /** Fills a select with options, keeping the current value even when it is not offered. */
  const fillSelect = (
    select: HTMLSelectElement,
    values: string[],
    anyLabel: string,
    current: string,
  ): void => {
    const unique = [...new Set(values.filter(Boolean))].sort();
    if (current && !unique.includes(current)) unique.unshift(current);
    select.replaceChildren(
      h('option', { value: '' }, anyLabel),
      ...unique.map((v) => h('option', { value: v }, v)),
    );
    select.value = current;
  };

  let catalog: { services: ServiceFigures[]; methods: MethodFigures[] } = { services: [], methods: [] };

  const renderFilterOptions = (): void => {
    const f = state.filters;
    fillSelect(
      el<HTMLSelectElement>('f-service'),
      catalog.services.map((s) => s.service_name),
      'All services',
      f.service,
    );
    const methodNames = catalog.methods
      .filter((m) => !f.service || !m.service_name || m.service_name === f.service)
      .map((m) => m.method_name)
      .concat(
        catalog.services
          .filter((s) => !f.service || s.service_name === f.service)
          .flatMap((s) => (s.methods ?? []).map((m) => m.method_name)),
      );
    fillSelect(el<HTMLSelectElement>('f-method'), methodNames, 'All methods', f.method);
  };

  const syncFilterInputs = (): void => {
    const f = state.filters;
    const hours = el<HTMLSelectElement>('f-hours');
    if (!Array.from(hours.options).some((o) => o.value === f.hours))
      hours.append(h('option', { value: f.hours }, `${f.hours} hours`));
    hours.value = f.hours;
    el<HTMLSelectElement>('f-status').value = f.status;
    el<HTMLInputElement>('f-user').value = f.user;
    el<HTMLInputElement>('f-search').value = f.search;
    el<HTMLSelectElement>('f-page-size').value = f.page_size;
    renderFilterOptions();
  };

  const requestRow = (r: RequestRow): HTMLElement => {
    const open = h(
      'button',
      {
        type: 'button',
        class: 'link mono',
        'aria-label': `Open request ${r.request_id}`,
        title: r.request_id,
      },
      r.request_id,
    );
    const row = h(
      'tr',
      { 'data-request-id': r.request_id, 'data-status': r.status, class: 'clickable' },
      h('td', { 'data-label': 'Request ID', class: 'id-cell' }, open),
      h('td', { 'data-label': 'Service' }, r.service_name),
      h('td', { 'data-label': 'Method' }, r.method_name),
      h('td', { 'data-label': 'Status', class: 'status-cell' }, badge(fmt.statusBadge(r.status))),
      h('td', { 'data-label': 'Duration', class: 'duration-cell' }, badge(fmt.durationBadge(r.duration_ms))),
      h(
        'td',
        { 'data-label': 'Size', class: 'num size-cell' },
        `${fmt.formatBytes(r.request_size)} / ${fmt.formatBytes(r.response_size)}`,
      ),
      h(
        'td',
        { 'data-label': 'User' },
        r.user
          ? filterLink(r.user.username, { user: String(r.user.id) }, `Only requests of user id ${r.user.id}`)
          : '—',
      ),
      h(
        'td',
        { 'data-label': 'Created' },
        h('time', { datetime: r.created_at }, fmt.formatTimestamp(r.created_at)),
      ),
    );
    row.addEventListener('click', (event) => {
      if (
        (event.target as HTMLElement).closest('button') !== open &&
        (event.target as HTMLElement).closest('a, button')
      )
        return;
      void openDetail(r.request_id);
    });
    return row;
  };

  let lastPage: RequestsResponse | undefined;

  const renderRequests = (page: RequestsResponse): void => {
    lastPage = page;
    const size = Number(state.filters.page_size);
    // A null count: too many rows to count within the API's read bound (user/search filters).
    const count = page.count ?? Number.POSITIVE_INFINITY;
    const first = count === 0 || page.results.length === 0 ? 0 : (state.pageNo - 1) * size + 1;
    const last = Math.min(count, first + page.results.length - 1);
    const more = page.partial ? ' (partial page: Next reads on)' : '';
    el('requests-count').textContent =
      page.count === 0
        ? 'No requests match.'
        : page.count === null
          ? `${first === 0 ? 'None yet' : `${fmt.formatCount(first)}–${fmt.formatCount(last)}`} of more than can be counted at once${more}`
          : `${fmt.formatCount(first)}–${fmt.formatCount(last)} of ${fmt.formatCount(page.count)}${more}`;
    el('requests-count').dataset.value = page.count === null ? '' : String(page.count);
    el('requests-rows').replaceChildren(
      ...(page.results.length
        ? page.results.map(requestRow)
        : [emptyRow(8, 'No requests match these filters.')]),
    );
    el<HTMLButtonElement>('page-prev').disabled = !page.previous;
    el<HTMLButtonElement>('page-next').disabled = !page.next;
    el('page-info').textContent = `Page ${state.pageNo}`;
  };

  const detailRows = (r: RequestDetail): Array<[string, Node | string]> => [
    ['Request ID', h('span', { class: 'mono' }, r.request_id)],
    ['Client request ID', r.client_request_id ? h('span', { class: 'mono' }, r.client_request_id) : '—'],
    ['Method', r.full_method ?? `${r.service_name}.${r.method_name}`],
    ['Status', badge(fmt.statusBadge(r.status))],
    ['gRPC code', r.grpc_status_code ?? '—'],
    ['Duration', badge(fmt.durationBadge(r.duration_ms))],
    ['Created', `${fmt.formatTimestamp(r.created_at)} UTC`],
    ['Updated', `${fmt.formatTimestamp(r.updated_at)} UTC`],
    ['User', r.user ? `${r.user.username} (id ${r.user.id})` : '—'],
    ['Client IP', r.client_ip ?? '—'],
    ['Peer', r.peer ?? '—'],
    ['User agent', r.user_agent ?? '—'],
    ['Request size', fmt.formatBytes(r.request_size)],
    ['Response size', fmt.formatBytes(r.response_size)],
    ['Request messages', fmt.formatCount(r.request_messages)],
    ['Response messages', fmt.formatCount(r.response_messages)],
    [
      'Deadline',
      r.deadline_ms === null || r.deadline_ms === undefined ? 'none' : fmt.formatDuration(r.deadline_ms),
    ],
    ['Trace ID', r.trace_id ?? '—'],
    ['Error message', r.error_message ?? '—'],
    [
      'Error details',
      r.error_details === null || r.error_details === undefined
        ? '—'
        : h('pre', {}, JSON.stringify(r.error_details, null, 2)),
    ],
  ];

  const openDetail = async (requestId: string): Promise<void> => {
    const dialog = el<HTMLDialogElement>('detail');
    state.open = requestId;
    writeState(false);
    el('detail-heading').textContent = 'Request';
    el('detail-body').replaceChildren(h('p', {}, 'Loading…'));
    if (!dialog.open) dialog.showModal();
    try {
      const body = await api<RequestDetail | { request: RequestDetail }>(
        `requests/${encodeURIComponent(requestId)}`,
      );
      const record = 'request' in body && !('request_id' in body) ? body.request : (body as RequestDetail);
      el('detail-heading').textContent = `${record.service_name}.${record.method_name}`;
      el('detail-body').replaceChildren(
        ...detailRows(record).flatMap(([name, value]) => [h('dt', {}, name), h('dd', {}, value)]),
      );
      dialog.dataset.requestId = record.request_id;
    } catch (error) {
      if (error instanceof AuthError) return signOut(error.message);
      el('detail-body').replaceChildren(h('p', { role: 'alert' }, (error as Error).message));
    }
  };

  // ---- loading and refresh ----------------------------------------------------------------

  let loads = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let generation = 0;

  const showError = (messages: string[]): void => {
    const alert = el('alert');
    alert.hidden = messages.length === 0;
    alert.textContent = messages.join(' ');
  };

  /** True while a load of everything is on its way: a newer load must not drop its figures. */
  let everythingPending = false;

  /**
   * Loads what the view needs: `all` for the statistics, charts and tables of the window and the
   * list (first load, refresh, time window); `list` for the request list alone (list filters, paging).
   */
  const loadAll = async (scope: 'all' | 'list' = 'all'): Promise<void> => {
    clearTimeout(timer);
    const mine = ++generation;
    const everything = scope === 'all' || everythingPending;
    everythingPending = everything;
    el('dashboard').setAttribute('aria-busy', 'true');
    const hours = { hours: state.filters.hours };
    const skip = Promise.resolve(undefined);
    const results = await Promise.allSettled([
      everything ? api<OverviewResponse>('overview', hours) : skip,
      everything ? api<HealthResponse>('health') : skip,
      everything ? api<TimelineResponse>('timeline', hours) : skip,
      everything ? api<ServicesResponse>('services', hours) : skip,
      everything ? api<MethodsResponse>('methods', hours) : skip,
      api<RequestsResponse>('requests', {
        ...listParams(),
        ...state.paging,
        page_size: state.filters.page_size,
      }),
    ]);
    if (mine !== generation) return;
    everythingPending = false;
    const failures = results
      .filter((r): r is PromiseRejectedResult => r.status === 'rejected')
      .map((r) => r.reason as Error);
    if (failures.some((e) => e instanceof AuthError)) return signOut('The API refused the token.');
    const [overview, health, timeline, services, methods, requests] = results.map((r) =>
      r.status === 'fulfilled' ? r.value : undefined,
    ) as [
      OverviewResponse?,
      HealthResponse?,
      TimelineResponse?,
      ServicesResponse?,
      MethodsResponse?,
      RequestsResponse?,
    ];
    renderStats(overview, health);
    if (overview?.recent_errors) renderRecentErrors(overview.recent_errors);
    if (timeline) renderTimeline(timeline.timeline);
    if (services) renderServices(services.services);
    if (methods) renderMethods(methods.methods);
    if (services || methods) {
      catalog = {
        services: services?.services ?? catalog.services,
        methods: methods?.methods ?? catalog.methods,
      };
      renderFilterOptions();
    }
    if (requests) renderRequests(requests);
    showError(failures.map((e) => e.message));
    el('updated').textContent = `Updated ${new Date().toISOString().slice(11, 19)} UTC`;
    el('dashboard').removeAttribute('aria-busy');
    document.body.dataset.loads = String(++loads);
    scheduleRefresh();
  };

  const scheduleRefresh = (): void => {
    clearTimeout(timer);
    const toggle = el<HTMLButtonElement>('refresh-toggle');
    const on = state.refreshSeconds > 0;
    toggle.setAttribute('aria-pressed', String(on));
    toggle.textContent = on ? `Auto-refresh every ${state.refreshSeconds} s: on` : 'Auto-refresh: paused';
    if (on && token()) timer = setTimeout(() => void loadAll(), state.refreshSeconds * 1000);
  };

  const applyFilters = (changes: Partial<Filters>, push: boolean): void => {
    const previousHours = state.filters.hours;
    state.filters = { ...state.filters, ...changes };
    if (changes.service !== undefined && changes.method === undefined) state.filters.method = '';
    state.paging = {};
    state.pageNo = 1;
    const windowChanged = changes.hours !== undefined && changes.hours !== previousHours;
    writeState(push);
    syncFilterInputs();
    void loadAll(windowChanged ? 'all' : 'list');
  };

  const readFilterForm = (): Filters => ({
    hours: el<HTMLSelectElement>('f-hours').value,
    service: el<HTMLSelectElement>('f-service').value,
    method: el<HTMLSelectElement>('f-method').value,
    status: el<HTMLSelectElement>('f-status').value,
    user: el<HTMLInputElement>('f-user').value.trim(),
    search: el<HTMLInputElement>('f-search').value.trim(),
    page_size: el<HTMLSelectElement>('f-page-size').value,
  });

  /** Follows the API's next/previous URL: keeps its paging parameters, not its path. */
  const turnPage = (target: string | null | undefined, delta: number): void => {
    if (!target) return;
    const url = new URL(target, location.href);
    const paging: Record<string, string> = {};
    for (const [name, value] of url.searchParams) {
      if (!(FILTER_NAMES as string[]).includes(name) && name !== 'format') paging[name] = value;
    }
    state.paging = paging;
    state.pageNo = Math.max(1, state.pageNo + delta);
    writeState(true);
    void loadAll('list');
  };

  const exportCsv = async (): Promise<void> => {
    const button = el<HTMLButtonElement>('export-csv');
    button.disabled = true;
    try {
      // One response carries a bounded number of rows; the API links the rest (`Link: <…>; rel="next"`).
      let response = await apiFetch('requests', { ...listParams(), format: 'csv' }, 'text/csv');
      const first = response;
      const parts: string[] = [];
      for (;;) {
        const text = await response.text();
        parts.push(parts.length === 0 ? text : text.slice(text.indexOf('\n') + 1));
        const next = /<([^>]+)>\s*;\s*rel="?next"?/.exec(response.headers.get('link') ?? '');
        if (!next?.[1]) break;
        button.textContent = `Exporting… (${parts.length})`;
        response = await fetchApiUrl(new URL(next[1], location.href).href, 'requests', 'text/csv');
      }
      const blob = new Blob(parts, { type: 'text/csv;charset=utf-8' });
      response = first;
      const disposition = response.headers.get('content-disposition') ?? '';
      const named = /filename="?([^";]+)"?/.exec(disposition);
      const link = h('a', {
        href: URL.createObjectURL(blob),
        download:
          named?.[1] ?? `grpc-requests-${new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-')}.csv`,
      }) as HTMLAnchorElement;
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
    } catch (error) {
      if (error instanceof AuthError) return signOut(error.message);
      showError([(error as Error).message]);
    } finally {
      button.disabled = false;
      button.textContent = 'Export CSV';
    }
  };

  // ---- sign-in ------------------------------------------------------------------------------

  const signOut = (message: string): void => {
    clearTimeout(timer);
    generation++;
    sessionStorage.removeItem(TOKEN_KEY);
    el('dashboard').hidden = true;
    el('sign-out').hidden = true;
    el('login').hidden = false;
    el('login-error').textContent = message;
    el<HTMLInputElement>('token').focus();
  };

  const start = (): void => {
    el('login').hidden = true;
    el('dashboard').hidden = false;
    el('sign-out').hidden = false;
    syncFilterInputs();
    void loadAll().then(() => {
      if (state.open) void openDetail(state.open);
    });
  };

  // ---- wiring ---------------------------------------------------------------------------------

  el('login-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const value = el<HTMLInputElement>('token').value.trim();
    if (!value) return;
    sessionStorage.setItem(TOKEN_KEY, value);
    el<HTMLInputElement>('token').value = '';
    el('login-error').textContent = '';
    start();
  });
  el('sign-out').addEventListener('click', () => signOut('Signed out.'));
  el('filters').addEventListener('submit', (event) => {
    event.preventDefault();
    applyFilters(readFilterForm(), true);
  });
  for (const id of ['f-hours', 'f-service', 'f-method', 'f-status', 'f-page-size']) {
    el(id).addEventListener('change', () => {
      const next = readFilterForm();
      if (id === 'f-service') next.method = '';
      applyFilters(next, true);
    });
  }
  el('filters').addEventListener('reset', (event) => {
    event.preventDefault();
    applyFilters({ ...FILTER_DEFAULTS }, true);
  });
  el('page-next').addEventListener('click', () => turnPage(lastPage?.next, 1));
  el('page-prev').addEventListener('click', () => turnPage(lastPage?.previous, -1));
  el('export-csv').addEventListener('click', () => void exportCsv());
  el('refresh-toggle').addEventListener('click', () => {
    state.refreshSeconds = state.refreshSeconds > 0 ? 0 : settings.refreshSeconds;
    writeState(false);
    if (state.refreshSeconds > 0) void loadAll();
    else scheduleRefresh();
  });
  el('detail').addEventListener('close', () => {
    state.open = '';
    writeState(false);
  });
  let resizeTimer: ReturnType<typeof setTimeout> | undefined;
  window.addEventListener('resize', () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => lastTimeline.length && renderTimeline(lastTimeline), 150);
  });
  window.addEventListener('popstate', () => {
    state = readState();
    syncFilterInputs();
    void loadAll();
  });

  if (token()) start();
  else signOut('');
}
