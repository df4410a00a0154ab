/**
 * The dashboard's browser checks, written once and run against any monitor API that serves the
 * page: the real local runtime with known gRPC traffic (dashboard.local.test.ts) and the fake
 * API serving the esbuild-bundled Lambda (dashboard.bundle.test.ts).
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type {
  HealthResponse,
  MethodsResponse,
  OverviewResponse,
  RequestDetail,
  RequestsResponse,
  ServicesResponse,
  TimelineResponse,
} from '../../web/src/apiTypes';
import {
  durationBadge,
  formatCount,
  formatDuration,
  formatPercent,
  formatRate,
  statusBadge,
} from '../../web/src/format';
import { TONE_COLORS } from '../../web/src/styles';
import {
  afterLoad,
  allRequestIds,
  apiJson,
  hasChromium,
  LAPTOP,
  launchChromium,
  openDashboard,
  PHONE,
  rgb,
} from './browser';
import { TEST_OUTPUT } from './bundle';

export interface DashboardTarget {
  /** Origin of the API (`http://127.0.0.1:1234`). */
  readonly baseUrl: string;
  readonly token: string;
  stop(): Promise<void>;
}

/** What the traffic behind the target must contain for every check to mean something. */
export const TRAFFIC_NEEDS =
  'more than one page of requests (page size 20), at least one `error` and one non-error row';

export interface DashboardSuiteOptions {
  /**
   * Skip the checks of page behaviour alone (keyboard, auto-refresh), which do not depend on the
   * API behind the page, when another suite runs them on the same page code.
   */
  readonly pageOnlyChecksElsewhere?: string;
}

export function describeDashboard(
  name: string,
  setup: () => Promise<DashboardTarget>,
  options: DashboardSuiteOptions = {},
): void {
  const pageOnly = { skip: options.pageOnlyChecksElsewhere ?? false };
  describe(`dashboard in Chromium (${name})`, { skip: hasChromium ? false : 'no /usr/bin/chromium' }, () => {
    let target: DashboardTarget;
    let browser: Browser;
    let page: Page;
    const api = <T>(path: string, params: Record<string, string> = {}) =>
      apiJson<T>(target.baseUrl, target.token, path, params);
    const rowIds = () =>
      page
        .locator('#requests-rows tr[data-request-id]')
        .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-request-id')));

    before(async () => {
      target = await setup();
      browser = await launchChromium();
    });
    after(async () => {
      await browser?.close();
      await target?.stop();
    });

    /** Paths of every API request the pages made (the page itself excluded). */
    const apiPathsCalled = new Set<string>();
    const watchApiCalls = (watched: Page) =>
      watched.on('request', (request) => {
        const { pathname } = new URL(request.url());
        if (pathname.startsWith('/cfg/grpc/monitor/') && !/\/ui\/?$/.test(pathname))
          apiPathsCalled.add(pathname);
      });

    const freshPage = async (viewport = LAPTOP, query = 'refresh=0') => {
      await page?.close();
      page = await browser.newPage({ viewport, acceptDownloads: true });
      watchApiCalls(page);
      await openDashboard(page, target.baseUrl, target.token, query);
      return page;
    };

    it('shows the API numbers in the statistics header', async () => {
      // Prepare
      await freshPage();
      const [overview, health] = await Promise.all([
        api<OverviewResponse>('overview', { hours: '24' }),
        api<HealthResponse>('health'),
      ]);
      assert.ok(overview.total_requests > 0, 'the target has traffic');
      // Assess: the raw value the page holds and the text it shows
      const expected: Array<[string, number | null | undefined, string]> = [
        ['stat-total', overview.total_requests, formatCount(overview.total_requests)],
        ['stat-success-rate', overview.success_rate, formatPercent(overview.success_rate)],
        ['stat-avg', overview.avg_duration_ms, formatDuration(overview.avg_duration_ms)],
        ['stat-p95', overview.p95_duration_ms, formatDuration(overview.p95_duration_ms)],
        ['stat-rate', overview.requests_per_second, formatRate(overview.requests_per_second)],
        ['stat-hour-requests', health.requests_last_hour, formatCount(health.requests_last_hour)],
        ['stat-hour-error-rate', health.error_rate_last_hour, formatPercent(health.error_rate_last_hour)],
      ];
      for (const [id, value, text] of expected) {
        const stat = page.locator(`#${id}`);
        assert.equal(
          await stat.getAttribute('data-value'),
          value === null || value === undefined ? '' : String(value),
          id,
        );
        assert.equal(await stat.textContent(), text, id);
      }
      assert.equal(await page.locator('#health-badge').getAttribute('data-status'), health.status);
      assert.equal(
        await page.locator('#requests-count').getAttribute('data-value'),
        String((await api<RequestsResponse>('requests', { hours: '24' })).count),
      );
      // Act: a shorter time window reloads the figures for it
      await afterLoad(page, () => page.getByLabel('Time window').selectOption('1'));
      const lastHour = await api<OverviewResponse>('overview', { hours: '1' });
      assert.equal(
        await page.locator('#stat-total').getAttribute('data-value'),
        String(lastHour.total_requests),
      );
      assert.equal(
        await page.locator('#requests-count').getAttribute('data-value'),
        String((await api<RequestsResponse>('requests', { hours: '1' })).count),
      );
    });

    it('shows the services, methods, timeline and recent errors of the API', async () => {
      await freshPage();
      const [overview, services, methods, timeline] = await Promise.all([
        api<OverviewResponse>('overview', { hours: '24' }),
        api<ServicesResponse>('services', { hours: '24' }),
        api<MethodsResponse>('methods', { hours: '24' }),
        api<TimelineResponse>('timeline', { hours: '24' }),
      ]);
      const tableRows = (id: string) =>
        page
          .locator(`#${id} tr`)
          .evaluateAll((rows) => rows.map((r) => Array.from(r.children).map((c) => c.textContent?.trim())));
      assert.deepEqual(
        await tableRows('services-rows'),
        services.services.map((s) => [
          s.service_name,
          formatCount(s.total_requests),
          formatPercent(s.success_rate),
          formatDuration(s.avg_duration_ms),
          formatDuration(s.p95_duration_ms),
        ]),
      );
      assert.deepEqual(
        await tableRows('methods-rows'),
        methods.methods.map((m) => [
          m.service_name ? `${m.service_name}.${m.method_name}` : m.method_name,
          formatCount(m.total_requests),
          formatPercent(m.success_rate),
          formatDuration(m.avg_duration_ms),
          formatDuration(m.p95_duration_ms),
        ]),
      );
      assert.equal(await page.locator('#timeline-chart g.bar').count(), timeline.timeline.length);
      const recent = overview.recent_errors ?? [];
      assert.ok(recent.length > 0, 'the API lists recent errors');
      assert.deepEqual(
        await page
          .locator('#recent-errors li[data-request-id]')
          .evaluateAll((items) =>
            items.map((li) => [
              li.getAttribute('data-request-id'),
              li.querySelector('.message')?.textContent,
            ]),
          ),
        recent.map((e) => [e.request_id, e.error_message ?? '—']),
      );
      assert.deepEqual(
        await tableRows('timeline-rows').then((rows) => rows.map((r) => [r[1], r[2]])),
        timeline.timeline.map((h) => [formatCount(h.total_requests), formatCount(h.error_requests)]),
      );
    });

    it('filtering by status=error shows exactly the error rows, and the URL keeps the filter', async () => {
      // Prepare
      await freshPage();
      const expected = await allRequestIds(target.baseUrl, target.token, { hours: '24', status: 'error' });
      assert.ok(expected.length > 0 && expected.length <= 20, `${expected.length} error rows fit one page`);
      // Act
      await afterLoad(page, () => page.getByLabel('Status').selectOption('error'));
      // Assess
      assert.deepEqual(await rowIds(), expected);
      const statuses = await page
        .locator('#requests-rows tr')
        .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-status')));
      assert.ok(statuses.every((s) => s === 'error'));
      assert.match(page.url(), /[?&]status=error/);
      // A reload (or a shared link) opens the same view.
      await afterLoad(page, () => page.reload(), 1);
      assert.equal(await page.getByLabel('Status').inputValue(), 'error');
      assert.deepEqual(await rowIds(), expected);
    });

    it("a user's name filters the list to that user's requests", async () => {
      // Prepare
      await freshPage();
      const link = page.locator('#requests-rows td[data-label="User"] a', { hasText: 'alice' }).first();
      const userId = (await link.getAttribute('href'))?.match(/user=([^&]+)/)?.[1];
      assert.ok(userId, 'a row of alice links to her id');
      const expected = await allRequestIds(target.baseUrl, target.token, { hours: '24', user: userId });
      // Act
      await afterLoad(page, () => link.click());
      // Assess
      assert.deepEqual(await rowIds(), expected);
      const users = await page
        .locator('#requests-rows td[data-label="User"]')
        .evaluateAll((cells) => cells.map((c) => c.textContent));
      assert.ok(users.length > 1 && users.every((u) => u === 'alice'), users.join());
      assert.equal(await page.getByLabel('User ID').inputValue(), userId);
    });

    it('search finds a request by its id', async () => {
      await freshPage();
      const all = await allRequestIds(target.baseUrl, target.token, { hours: '24' });
      const wanted = all[Math.floor(all.length / 2)]!;
      await page.getByLabel('Search').fill(wanted);
      await afterLoad(page, () => page.getByLabel('Search').press('Enter'));
      assert.deepEqual(await rowIds(), [wanted]);
      assert.equal(await page.locator('#requests-count').getAttribute('data-value'), '1');
    });

    it('paging walks every row once, forward and back', async () => {
      // Prepare
      await freshPage();
      const expected = await allRequestIds(target.baseUrl, target.token, { hours: '24' });
      assert.ok(expected.length > 20, `${expected.length} rows make more than one page`);
      const next = page.getByRole('button', { name: 'Next →' });
      const previous = page.getByRole('button', { name: '← Previous' });
      // Act: forward to the end
      const pages: string[][] = [(await rowIds()) as string[]];
      while (await next.isEnabled()) {
        await afterLoad(page, () => next.click());
        pages.push((await rowIds()) as string[]);
      }
      // Assess
      assert.deepEqual(pages.flat(), expected);
      assert.equal(await page.locator('#page-info').textContent(), `Page ${pages.length}`);
      // Act: back to the start
      const back: string[][] = [];
      while (await previous.isEnabled()) {
        await afterLoad(page, () => previous.click());
        back.unshift((await rowIds()) as string[]);
      }
      assert.deepEqual(back, pages.slice(0, -1));
    });

    it('exports the filtered rows as CSV', async () => {
      // Prepare
      await freshPage(LAPTOP, 'refresh=0&status=error');
      const expected = await allRequestIds(target.baseUrl, target.token, { hours: '24', status: 'error' });
      // Act
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.getByRole('button', { name: 'Export CSV' }).click(),
      ]);
      mkdirSync(TEST_OUTPUT, { recursive: true });
      const file = join(TEST_OUTPUT, `dashboard-${name}-errors.csv`);
      await download.saveAs(file);
      // Assess
      const [header, ...rows] = parse(readFileSync(file, 'utf8')) as string[][];
      const idColumn = header!.indexOf('request_id');
      const statusColumn = header!.indexOf('status');
      assert.ok(idColumn >= 0 && statusColumn >= 0, `CSV header ${header}`);
      assert.deepEqual(
        rows.map((r) => r[idColumn]),
        expected,
      );
      assert.ok(rows.every((r) => r[statusColumn] === 'error'));
      assert.match(download.suggestedFilename(), /\.csv$/);
    });

    it('colours every badge as the legend says, with text', async () => {
      await freshPage();
      const results = (await api<RequestsResponse>('requests', { hours: '24' })).results;
      const badges = await page.locator('#requests-rows tr').evaluateAll((rows) =>
        rows.map((r) => {
          const status = r.querySelector('.status-cell .badge') as HTMLElement;
          const duration = r.querySelector('.duration-cell .badge') as HTMLElement;
          return {
            status: [status.textContent, getComputedStyle(status).backgroundColor],
            duration: [duration.textContent, getComputedStyle(duration).backgroundColor],
          };
        }),
      );
      assert.equal(badges.length, results.length);
      results.forEach((row, i) => {
        const status = statusBadge(row.status);
        const duration = durationBadge(row.duration_ms);
        assert.deepEqual(
          badges[i]!.status,
          [`${status.symbol}${status.label}`, rgb(TONE_COLORS[status.tone].background)],
          row.request_id,
        );
        assert.deepEqual(
          badges[i]!.duration,
          [duration.label, rgb(TONE_COLORS[duration.tone].background)],
          row.request_id,
        );
      });
      const legend = await page
        .locator('#status-legend .badge')
        .evaluateAll((els) => els.map((e) => [e.textContent, getComputedStyle(e).backgroundColor]));
      assert.deepEqual(
        legend,
        ['pending', 'success', 'error', 'cancelled', 'timeout'].map((s) => [
          `${statusBadge(s).symbol}${statusBadge(s).label}`,
          rgb(TONE_COLORS[statusBadge(s).tone].background),
        ]),
      );
      const tones = new Set(results.map((r) => statusBadge(r.status).tone));
      assert.ok(tones.has('green') && tones.has('red'), `tones seen: ${[...tones]}`);
    });

    it('opens the full record of a row', async () => {
      await freshPage(LAPTOP, 'refresh=0&status=error');
      const id = (await rowIds())[0]!;
      const record = await api<RequestDetail>(`requests/${encodeURIComponent(id!)}`);
      await page.locator(`#requests-rows tr[data-request-id="${id}"] td`).nth(2).click();
      const dialog = page.getByRole('dialog');
      await page.locator(`#detail[data-request-id="${id}"]`).waitFor();
      const text = (await dialog.textContent()) ?? '';
      for (const value of [
        record.request_id,
        record.error_message,
        record.peer,
        record.user_agent,
        record.client_ip,
        record.grpc_status_code,
      ]) {
        if (value) assert.ok(text.includes(value), `dialog shows ${value}`);
      }
      assert.match(text, /Request size/);
      assert.match(page.url(), new RegExp(`open=${encodeURIComponent(id)}`));
      // The link opens the record again; closing it takes it out of the URL.
      await page.reload();
      await page.locator(`#detail[open][data-request-id="${id}"]`).waitFor();
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'hidden' });
      // The dialog's `close` event (which rewrites the URL) is dispatched after it hides.
      for (let i = 0; i < 100 && /open=/.test(page.url()); i++) await page.waitForTimeout(50);
      assert.doesNotMatch(page.url(), /open=/);
    });

    it('is usable from the keyboard, with a label on every control', pageOnly, async () => {
      await freshPage();
      const unlabelled = await page
        .locator('#filters input, #filters select')
        .evaluateAll((els) =>
          els.filter((e) => (e as HTMLInputElement).labels?.length === 0).map((e) => e.id),
        );
      assert.deepEqual(unlabelled, []);
      // Tab to the status filter and pick "Error" by typing its first letter.
      await page.locator('#f-service').focus();
      await page.keyboard.press('Tab');
      await page.keyboard.press('Tab');
      assert.equal(await page.evaluate('document.activeElement.id'), 'f-status');
      await afterLoad(page, () => page.keyboard.press('e'));
      assert.match(page.url(), /status=error/);
      // A row opens from the keyboard too.
      await page.locator('#requests-rows button').first().focus();
      await page.keyboard.press('Enter');
      await page.getByRole('dialog').waitFor();
    });

    it('refreshes by itself every few seconds, and pauses and resumes', pageOnly, async () => {
      // Prepare: the default period, no refresh=0
      await freshPage(LAPTOP, '');
      // Assess: a second load comes with no action
      await page.locator('body[data-loads="2"]').waitFor({ state: 'attached', timeout: 60_000 });
      const toggle = page.locator('#refresh-toggle');
      assert.equal(await toggle.getAttribute('aria-pressed'), 'true');
      // Act: pause
      await toggle.click();
      assert.equal(await toggle.getAttribute('aria-pressed'), 'false');
      assert.match(page.url(), /[?&]refresh=0/);
      assert.match((await toggle.textContent()) ?? '', /paused/);
      // Act: resume, which loads at once
      await afterLoad(page, () => toggle.click());
      assert.equal(await toggle.getAttribute('aria-pressed'), 'true');
      assert.doesNotMatch(page.url(), /refresh=/);
    });

    it('asks again for the token when the API refuses it (401, or 403 as API Gateway answers)', async () => {
      await page?.close();
      page = await browser.newPage({ viewport: LAPTOP });
      // The page's own address in its deployed form, `ui` (the docs give `ui/`; both serve it).
      await page.goto(`${target.baseUrl}/cfg/grpc/monitor/ui?refresh=0`);
      await page.getByLabel('API token').fill('not-the-token');
      await page.getByRole('button', { name: 'Open the dashboard' }).click();
      await page.locator('#login-error', { hasText: 'refused' }).waitFor();
      assert.equal(await page.locator('#dashboard').isHidden(), true);
      assert.equal(await page.evaluate('sessionStorage.length'), 0);
      assert.equal(await page.locator('#alert').isHidden(), true, 'no "Forbidden" error shown instead');
    });

    it('called the API only at the deployed route paths (`/x`, as the stack deploys them)', () => {
      // Runs after the checks above: paging, a record, the CSV export all went through the API.
      const called = [...apiPathsCalled].sort();
      for (const path of ['overview', 'health', 'services', 'methods', 'timeline', 'requests'])
        assert.ok(called.includes(`/cfg/grpc/monitor/${path}`), `${path} in ${called.join(', ')}`);
      assert.ok(
        called.some((path) => /\/requests\/[^/]+$/.test(path)),
        'a request record',
      );
      assert.deepEqual(
        called.filter((path) => path.endsWith('/')),
        [],
      );
    });

    it('fits a laptop and a phone (screenshots in .test-output/)', async () => {
      mkdirSync(TEST_OUTPUT, { recursive: true });
      for (const [size, viewport] of [
        ['laptop', LAPTOP],
        ['phone', PHONE],
      ] as const) {
        await freshPage(viewport);
        await page.screenshot({
          path: join(TEST_OUTPUT, `dashboard-${name}-${size}.png`),
          fullPage: size === 'laptop',
        });
        const overflow = await page.evaluate(
          'document.documentElement.scrollWidth - document.documentElement.clientWidth',
        );
        assert.equal(overflow, 0, `${size}: no sideways scrolling`);
      }
    });
  });
}
