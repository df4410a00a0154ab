/**
 * Headless Chromium (Debian's, driven by playwright-core) and the page-level steps every
 * dashboard test needs: open, sign in, wait for a load to finish, read the API as the page does.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
  });
}

export const LAPTOP = { width: 1366, height: 800 };
export const PHONE = { width: 390, height: 844 };

/** Loads finished so far (the page counts them on `<body data-loads>`). */
export async function loads(page: Page): Promise<number> {
  return Number((await page.getAttribute('body', 'data-loads')) ?? 0);
}

/**
 * Runs `action` and waits until the page has finished the load it started (one action, one load:
 * tests pause auto-refresh). A selector, not waitForFunction: the page's CSP forbids eval.
 */
export async function afterLoad(
  page: Page,
  action: () => Promise<unknown>,
  expectedLoads?: number,
): Promise<void> {
  const target = expectedLoads ?? (await loads(page)) + 1;
  await action();
  await page.locator(`body[data-loads="${target}"]`).waitFor({ state: 'attached' });
}

/** Opens the dashboard (auto-refresh paused so assertions read a still page) and signs in. */
export async function openDashboard(
  page: Page,
  baseUrl: string,
  token: string,
  query = 'refresh=0',
): Promise<void> {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(`${baseUrl}/cfg/grpc/monitor/ui/?${query}`);
  await page.getByLabel('API token').fill(token);
  await afterLoad(page, () => page.getByRole('button', { name: 'Open the dashboard' }).click());
  if (errors.length) throw new Error(`page errors: ${errors.join('; ')}`);
}

/** GET a monitor API path as the page does. */
export async function apiJson<T>(
  baseUrl: string,
  token: string,
  path: string,
  params: Record<string, string> = {},
): Promise<T> {
  const query = new URLSearchParams(params).toString();
  const response = await fetch(`${baseUrl}/cfg/grpc/monitor/${path}${query ? `?${query}` : ''}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

/** Every request id the API lists for these filters, walking its pages. */
export async function allRequestIds(
  baseUrl: string,
  token: string,
  params: Record<string, string>,
): Promise<string[]> {
  const ids: string[] = [];
  let query: Record<string, string> = { ...params, page_size: '100' };
  for (;;) {
    const page = await apiJson<{ next: string | null; results: Array<{ request_id: string }> }>(
      baseUrl,
      token,
      'requests',
      query,
    );
    ids.push(...page.results.map((r) => r.request_id));
    if (!page.next) return ids;
    query = Object.fromEntries(new URL(page.next, baseUrl).searchParams);
  }
}

/** `rgb(r, g, b)` of a `#rrggbb` colour, as getComputedStyle reports it. */
export function rgb(hex: string): string {
  const n = Number.parseInt(hex.slice(1), 16);
  return `rgb(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255})`;
}
