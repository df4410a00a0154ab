/**
 * `npm run smoke -- <ApiUrl> [token]`: a post-deploy check of a monitor API (or of `npm start`'s).
 * It asks what a user and the dashboard rely on, in both path forms (`/x`, the deployed route,
 * and `/x/`, the contract's), prints one line per check and exits non-zero if any fails:
 *
 * - `health` answers 200 without a token;
 * - `overview` answers 401 without a token, 401 or 403 with a wrong one, 200 with the right one;
 * - `ui` answers 200 with the page's Content-Security-Policy;
 * - the first page of the request list, and of its CSV export, comes back.
 *
 * The token may come from GRPC_MONITOR_API_TOKEN instead of the command line (kept out of the
 * shell history). Without a token the checks that need one are skipped, not failed.
 */
import { pathToFileURL } from 'node:url';
import { API_BASE_PATH } from '../core/apiRoutes';
import { ENV } from '../core/config';

export interface SmokeCheck {
  readonly name: string;
  readonly outcome: 'pass' | 'fail' | 'skip';
  /** What was seen (status, a field), or why it failed or was skipped. */
  readonly detail: string;
}

export interface SmokeReport {
  /** The API base the checks ran against (`…/cfg/grpc/monitor/`). */
  readonly base: string;
  readonly checks: readonly SmokeCheck[];
  readonly failed: number;
}

export interface SmokeOptions {
  /** The stack's `ApiUrl` output, or just the origin (`http://127.0.0.1:8000`). */
  readonly apiUrl: string;
  readonly token?: string;
  /** Per request. @default 15000 */
  readonly timeoutMs?: number;
  /** Called with each check as it completes (the CLI prints it). */
  readonly onCheck?: (check: SmokeCheck) => void;
}

/** `…/cfg/grpc/monitor/` from the `ApiUrl` output or an origin. */
export function apiBase(apiUrl: string): string {
  const url = new URL(apiUrl);
  const path = url.pathname.replace(/\/+$/, '');
  url.pathname = path.endsWith(API_BASE_PATH) ? `${path}/` : `${path}${API_BASE_PATH}/`;
  url.search = '';
  url.hash = '';
  return url.href;
}

/** A token that cannot be the real one (the real one has no `-`). */
const WRONG_TOKEN = 'smoke-check-wrong-token';

/** Runs every check against the API at `apiUrl`; never throws for what the API answers. */
export async function runSmoke(options: SmokeOptions): Promise<SmokeReport> {
  const base = apiBase(options.apiUrl);
  const timeoutMs = options.timeoutMs ?? 15_000;
  const checks: SmokeCheck[] = [];
  const record = (check: SmokeCheck) => {
    checks.push(check);
    options.onCheck?.(check);
  };

  const get = (path: string, token?: string, accept = 'application/json') =>
    fetch(new URL(path, base), {
      headers: { accept, ...(token !== undefined && { authorization: `Bearer ${token}` }) },
      redirect: 'follow',
      signal: AbortSignal.timeout(timeoutMs),
    });

  /** One check: `probe` returns what it saw, or throws why it failed. */
  const check = async (name: string, probe: () => Promise<string>) => {
    try {
      record({ name, outcome: 'pass', detail: await probe() });
    } catch (error) {
      record({ name, outcome: 'fail', detail: error instanceof Error ? error.message : String(error) });
    }
  };
  const skip = (name: string, detail: string) => record({ name, outcome: 'skip', detail });

  const via = (response: Response) =>
    response.redirected ? ` (redirected to ${new URL(response.url).pathname})` : '';
  const expectStatus = async (response: Response, allowed: readonly number[]): Promise<void> => {
    if (allowed.includes(response.status)) return;
    const body = (await response.text()).slice(0, 200).replace(/\s+/g, ' ');
    throw new Error(`expected ${allowed.join(' or ')}, got ${response.status}${body ? `: ${body}` : ''}`);
  };
  const json = async (response: Response): Promise<Record<string, unknown>> => {
    try {
      return (await response.json()) as Record<string, unknown>;
    } catch {
      throw new Error(`${response.status}, but the body is not JSON`);
    }
  };

  for (const path of ['health', 'health/']) {
    await check(`GET ${path} without a token answers 200`, async () => {
      const response = await get(path);
      await expectStatus(response, [200]);
      const body = await json(response);
      if (typeof body.status !== 'string') throw new Error('200, but no `status` in the body');
      return `200, status ${body.status}${via(response)}`;
    });
  }

  for (const path of ['overview', 'overview/']) {
    await check(`GET ${path} without a token answers 401`, async () => {
      const response = await get(path);
      await expectStatus(response, [401]);
      return `401${via(response)}`;
    });
    await check(`GET ${path} with a wrong token answers 401 or 403`, async () => {
      const response = await get(path, WRONG_TOKEN);
      await expectStatus(response, [401, 403]);
      return `${response.status}${via(response)}`;
    });
    if (options.token === undefined) {
      skip(`GET ${path} with the token answers 200`, 'no token given');
    } else {
      const token = options.token;
      await check(`GET ${path} with the token answers 200`, async () => {
        const response = await get(path, token);
        await expectStatus(response, [200]);
        const body = await json(response);
        if (typeof body.total_requests !== 'number') throw new Error('200, but no `total_requests`');
        return `200, ${body.total_requests} requests in 24 h${via(response)}`;
      });
    }
  }

  for (const path of ['ui', 'ui/']) {
    await check(`GET ${path} serves the dashboard with its CSP`, async () => {
      const response = await get(path, undefined, 'text/html');
      await expectStatus(response, [200]);
      const type = response.headers.get('content-type') ?? '';
      if (!type.startsWith('text/html')) throw new Error(`200, but content-type ${type || 'none'}`);
      const csp = response.headers.get('content-security-policy') ?? '';
      if (!csp.includes("default-src 'none'") || !/script-src 'sha256-/.test(csp))
        throw new Error(
          `200, but the Content-Security-Policy is ${csp ? `"${csp.slice(0, 120)}"` : 'missing'}`,
        );
      return `200, CSP default-src 'none' with hashed script${via(response)}`;
    });
  }

  if (options.token === undefined) {
    skip('GET requests (first page, and its next link)', 'no token given');
    skip('GET requests?format=csv (first part)', 'no token given');
  } else {
    const token = options.token;
    await check('GET requests (first page, and its next link)', async () => {
      const response = await get('requests?page_size=2', token);
      await expectStatus(response, [200]);
      const page = await json(response);
      if (!Array.isArray(page.results)) throw new Error('200, but no `results` list');
      if (typeof page.next !== 'string') return `200, ${page.results.length} rows, no next page`;
      const next = await get(new URL(page.next, base).href, token);
      await expectStatus(next, [200]);
      return `200, ${page.results.length} rows; next link ${new URL(page.next, base).pathname} answers 200`;
    });
    await check('GET requests?format=csv (first part)', async () => {
      const response = await get('requests?format=csv&hours=1', token, 'text/csv');
      await expectStatus(response, [200]);
      const type = response.headers.get('content-type') ?? '';
      if (!type.startsWith('text/csv')) throw new Error(`200, but content-type ${type || 'none'}`);
      const text = await response.text();
      const header = text.slice(0, text.search(/\r?\n|$/));
      if (!header.split(',').includes('request_id'))
        throw new Error(`200, but the header row is "${header}"`);
      const rows = text.split(/\r?\n/).filter(Boolean).length - 1;
      const more = response.headers.get('link')?.includes('rel="next"') ? ', more parts linked' : '';
      return `200, ${rows} rows in the last hour${more}`;
    });
  }

  return { base, checks, failed: checks.filter((c) => c.outcome === 'fail').length };
}

const MARK = { pass: 'PASS', fail: 'FAIL', skip: 'SKIP' } as const;

/** The report's lines, as the CLI prints them. */
export function formatCheck(check: SmokeCheck): string {
  return `  ${MARK[check.outcome]}  ${check.name}: ${check.detail}`;
}

export function formatSummary(report: SmokeReport): string {
  const count = (outcome: SmokeCheck['outcome']) => report.checks.filter((c) => c.outcome === outcome).length;
  const verdict = report.failed === 0 ? 'OK' : 'FAILED';
  return `${verdict}: ${count('pass')} passed, ${count('fail')} failed, ${count('skip')} skipped`;
}

async function main(argv: readonly string[]): Promise<number> {
  const [apiUrl, tokenArgument] = argv;
  if (!apiUrl || apiUrl === '-h' || apiUrl === '--help') {
    console.error(
      `usage: npm run smoke -- <ApiUrl> [token]\n` +
        `  ApiUrl  the stack's ApiUrl output (https://…/cfg/grpc/monitor/), or http://127.0.0.1:8000 for npm start\n` +
        `  token   the API token (or set ${ENV.apiToken}); without it the checks that need it are skipped`,
    );
    return 2;
  }
  const token = tokenArgument ?? process.env[ENV.apiToken];
  let base: string;
  try {
    base = apiBase(apiUrl);
  } catch {
    console.error(`not a URL: ${apiUrl}`);
    return 2;
  }
  console.log(`gRPC Monitor smoke check of ${base}`);
  const report = await runSmoke({
    apiUrl,
    ...(token && { token }),
    onCheck: (check) => console.log(formatCheck(check)),
  });
  console.log(formatSummary(report));
  return report.failed === 0 ? 0 : 1;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.exitCode = await main(process.argv.slice(2));
}
