import { createHash } from 'node:crypto';
import { REQUEST_STATUSES } from '../../core/record';
import { dashboardApp, type DashboardSettings } from './app';
import { durationBadge, FORMATTERS, statusBadge, type Badge } from './format';
import { DASHBOARD_CSS } from './styles';

/**
 * The dashboard as one HTML document: markup, CSS and the browser code inlined from the typed
 * functions in this folder with `toString()`. Nothing is built or read from disk, so the same
 * module serves the page under `tsx` locally and from the esbuild bundle of lambdas/api/ui.ts.
 */
export interface DashboardPage {
  readonly html: string;
  /** A Content-Security-Policy that allows exactly the inline script and style of this page. */
  readonly contentSecurityPolicy: string;
}

export const DEFAULT_SETTINGS: DashboardSettings = { refreshSeconds: 5 };

const escapeHtml = (text: string): string =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

/** `</script>` inside the inlined code would end the element early. */
const safeScript = (code: string): string => code.replace(/<\/(script)/gi, '<\\/$1');

function badgeHtml(badge: Badge): string {
  const symbol = badge.symbol
    ? `<span aria-hidden="true" class="badge-symbol">${escapeHtml(badge.symbol)}</span>`
    : '';
  return `<span class="badge tone-${badge.tone}" data-tone="${badge.tone}">${symbol}${escapeHtml(badge.label)}</span>`;
}

/**
 * The name of esbuild's `keepNames` helper in this build, or undefined when there is none. With
 * `keepNames` (tsx always uses it; the stack's bundles set it) esbuild wraps named functions in
 * `__name(fn, "name")` calls, and a minified bundle renames `__name` to a short name. The
 * functions inlined into the page carry those calls, so the page must define the helper under the
 * same name: this probe, compiled like the rest of the module, shows which name that is.
 */
export function keepNamesHelper(): string | undefined {
  const probe = function () {
    const named = () => 0;
    return named;
  };
  return /([A-Za-z_$][\w$]*)\(\s*\(\)\s*=>\s*0\s*,\s*"named"\s*\)/.exec(probe.toString())?.[1];
}

/** The browser script: the keepNames helper as identity, the formatters, the app. */
export function dashboardScript(settings: DashboardSettings = DEFAULT_SETTINGS): string {
  const formatters = Object.entries(FORMATTERS)
    .map(([name, fn]) => `${JSON.stringify(name)}: (${fn.toString()})`)
    .join(',\n');
  const helper = keepNamesHelper();
  const shim = helper ? `var ${helper} = function (target) { return target; };\n` : '';
  return safeScript(
    `"use strict";\n${shim}` +
      `(${dashboardApp.toString()})({\n${formatters}\n}, ${JSON.stringify(settings)});\n`,
  );
}

const hash = (text: string): string =>
  `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

const STATUS_LEGEND = REQUEST_STATUSES.map((s) => badgeHtml(statusBadge(s))).join(' ');
const DURATION_LEGEND = [
  { ...durationBadge(50), label: '< 100 ms' },
  { ...durationBadge(500), label: '100–1000 ms' },
  { ...durationBadge(5000), label: '> 1000 ms' },
]
  .map(badgeHtml)
  .join(' ');

const stat = (id: string, label: string, extra = '', wide = false): string =>
  `<div class="stat${wide ? ' stat-wide' : ''}"><dt>${label}</dt><dd><span id="${id}">—</span>${extra}</dd></div>`;

const BODY = `
<a class="skip" href="#requests-heading">Skip to the request list</a>
<header class="top">
  <h1>gRPC Monitor</h1>
  <div class="top-meta">
    <span>Servers: <span id="health-badge" class="badge tone-grey" data-tone="grey" aria-live="polite">Unknown</span></span>
    <button id="refresh-toggle" type="button" aria-pressed="true">Auto-refresh</button>
    <span id="updated" class="muted" aria-live="off"></span>
    <button id="sign-out" type="button" hidden>Sign out</button>
  </div>
</header>
<div id="alert" role="alert" hidden></div>
<section id="login" aria-labelledby="login-heading" hidden>
  <h2 id="login-heading">Sign in</h2>
  <form id="login-form">
    <label for="token">API token <input id="token" name="token" type="password" autocomplete="current-password" required></label>
    <button type="submit" class="primary">Open the dashboard</button>
    <p id="login-error" role="status"></p>
  </form>
  <p class="muted">The token is kept for this browser tab only and sent as <code>Authorization: Bearer</code> to the monitor API.</p>
</section>
<main id="dashboard" hidden>
  <section class="panel" aria-labelledby="stats-heading">
    <h2 id="stats-heading">Statistics <span class="muted">(<span id="window-label">last 24 h</span>)</span></h2>
    <p id="sampling-notice" class="muted" role="note" hidden></p>
    <dl class="stats">
      ${stat('stat-total', 'Total requests', '<span class="note" id="stat-total-note"></span>')}
      ${stat('stat-success-rate', 'Success rate')}
      ${stat('stat-avg', 'Avg duration')}
      ${stat('stat-p95', 'p95 duration')}
      ${stat('stat-rate', 'Request rate', '<span class="note" id="stat-rate-note"></span>')}
      ${stat('stat-hour-requests', 'Requests, last hour')}
      ${stat('stat-hour-error-rate', 'Error rate, last hour')}
      ${stat('stat-servers', 'gRPC servers', '<span class="note" id="stat-last-request"></span><ul id="stat-servers-list"></ul>', true)}
    </dl>
  </section>
  <section class="panel" aria-labelledby="filters-heading">
    <h2 id="filters-heading">Filters</h2>
    <form id="filters" class="filters" role="search" aria-label="Filter requests">
      <label for="f-hours">Time window
        <select id="f-hours" name="hours">
          <option value="1">Last hour</option><option value="6">Last 6 hours</option><option value="24">Last 24 hours</option>
          <option value="72">Last 3 days</option><option value="168">Last 7 days</option><option value="720">Last 30 days</option>
        </select></label>
      <label for="f-service">Service <select id="f-service" name="service"><option value="">All services</option></select></label>
      <label for="f-method">Method <select id="f-method" name="method"><option value="">All methods</option></select></label>
      <label for="f-status">Status
        <select id="f-status" name="status"><option value="">All statuses</option>
          ${REQUEST_STATUSES.map((s) => `<option value="${s}">${escapeHtml(statusBadge(s).label)}</option>`).join('')}
        </select></label>
      <label for="f-user">User ID <input id="f-user" name="user" type="text" autocomplete="off" placeholder="e.g. 42"></label>
      <label for="f-search">Search <input id="f-search" name="search" type="search" autocomplete="off" placeholder="request id, IP, error…"></label>
      <label for="f-page-size">Rows per page
        <select id="f-page-size" name="page_size"><option>20</option><option>50</option><option>100</option></select></label>
      <div class="actions"><button type="submit" class="primary">Apply</button><button type="reset">Reset</button></div>
    </form>
  </section>
  <section class="panel" aria-labelledby="timeline-heading">
    <h2 id="timeline-heading">Requests per hour</h2>
    <figure class="timeline">
      <div id="timeline-chart"></div>
      <figcaption class="legend"><span class="swatch swatch-requests"></span> requests
        <span class="swatch swatch-errors"></span> errors (hours in UTC)</figcaption>
    </figure>
    <details><summary>Timeline as a table</summary>
      <div class="scroll"><table><thead><tr><th scope="col">Hour (UTC)</th><th scope="col" class="num">Requests</th>
        <th scope="col" class="num">Errors</th><th scope="col" class="num">Avg</th></tr></thead><tbody id="timeline-rows"></tbody></table></div>
    </details>
  </section>
  <section class="panel" aria-labelledby="errors-heading">
    <h2 id="errors-heading">Recent errors</h2>
    <ul id="recent-errors" class="errors"></ul>
  </section>
  <div class="grid2">
    <section class="panel" aria-labelledby="services-heading">
      <h2 id="services-heading">Services</h2>
      <div class="scroll"><table id="services-table" class="cards"><thead><tr><th scope="col">Service</th><th scope="col" class="num">Requests</th>
        <th scope="col" class="num">Success</th><th scope="col" class="num">Avg</th><th scope="col" class="num">p95</th></tr></thead>
        <tbody id="services-rows"></tbody></table></div>
    </section>
    <section class="panel" aria-labelledby="methods-heading">
      <h2 id="methods-heading">Methods</h2>
      <div class="scroll"><table id="methods-table" class="cards"><thead><tr><th scope="col">Method</th><th scope="col" class="num">Requests</th>
        <th scope="col" class="num">Success</th><th scope="col" class="num">Avg</th><th scope="col" class="num">p95</th></tr></thead>
        <tbody id="methods-rows"></tbody></table></div>
    </section>
  </div>
  <section class="panel" aria-labelledby="requests-heading">
    <div class="section-head">
      <h2 id="requests-heading" tabindex="-1">Requests</h2>
      <span id="requests-count" class="muted" aria-live="polite"></span>
      <button id="export-csv" type="button">Export CSV</button>
    </div>
    <div class="scroll"><table id="requests-table" class="cards">
      <caption class="sr-only">Requests matching the filters, newest first. Open a request ID for its full record.</caption>
      <thead><tr><th scope="col">Request ID</th><th scope="col">Service</th><th scope="col">Method</th><th scope="col">Status</th>
        <th scope="col">Duration</th><th scope="col" class="num">Size in / out</th><th scope="col">User</th><th scope="col">Created (UTC)</th></tr></thead>
      <tbody id="requests-rows"></tbody>
    </table></div>
    <nav class="pager" aria-label="Request pages">
      <button id="page-prev" type="button" disabled>← Previous</button>
      <span id="page-info" aria-live="polite">Page 1</span>
      <button id="page-next" type="button" disabled>Next →</button>
    </nav>
    <p class="legend" id="status-legend">Status: ${STATUS_LEGEND}</p>
    <p class="legend" id="duration-legend">Duration: ${DURATION_LEGEND}</p>
  </section>
</main>
<dialog id="detail" aria-labelledby="detail-heading">
  <form method="dialog" class="dialog-head"><h2 id="detail-heading">Request</h2><button type="submit">Close</button></form>
  <dl id="detail-body"></dl>
</dialog>`;

/** The whole page and the CSP that goes with it. */
export function renderDashboardPage(settings: DashboardSettings = DEFAULT_SETTINGS): DashboardPage {
  const script = dashboardScript(settings);
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light">
<link rel="icon" href="data:,">
<title>gRPC Monitor</title>
<style>${DASHBOARD_CSS}</style>
</head>
<body>${BODY}
<script>${script}</script>
</body>
</html>
`;
  const contentSecurityPolicy = [
    "default-src 'none'",
    `script-src ${hash(script)}`,
    `style-src ${hash(DASHBOARD_CSS)}`,
    "connect-src 'self'",
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  return { html, contentSecurityPolicy };
}
