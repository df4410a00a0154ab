/**
 * `npm run smoke` (scripts/smoke.ts) against the local API (`startLocal`: the real handlers and
 * authorizer behind the local stand-in for API Gateway), and against a server that gets every
 * answer wrong, so each check is seen to fail too.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { toRequestLogItem } from '../../core/requestLogItem';
import { startLocal, type LocalEnvironment } from '../../local';
import { apiBase, runSmoke, type SmokeReport } from '../../scripts/smoke';
import { SHARED_ENDPOINT_ENV } from '../harness/dynamo';
import { fixtureRecords } from '../web/knownTraffic';

const TOKEN = 'smoke-test-token';
const ROOT = join(import.meta.dirname, '..', '..');
const run = promisify(execFile);

const outcomes = (report: SmokeReport) => Object.fromEntries(report.checks.map((c) => [c.name, c.outcome]));

/** `npm run smoke -- <args>` as a user runs it; its exit code and output. */
async function smokeCli(...args: string[]): Promise<{ code: number; stdout: string }> {
  try {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'scripts/smoke.ts', ...args], {
      cwd: ROOT,
      env: { ...process.env, GRPC_MONITOR_API_TOKEN: '' },
    });
    return { code: 0, stdout };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? '' };
  }
}

describe('npm run smoke', () => {
  let env: LocalEnvironment;

  before(async () => {
    env = await startLocal({
      apiPort: 0,
      demo: false,
      apiToken: TOKEN,
      printAlerts: false,
      log: () => {},
      ...(process.env[SHARED_ENDPOINT_ENV] ? { dynamoEndpoint: process.env[SHARED_ENDPOINT_ENV] } : {}),
    });
    // A few calls in the last hour: more than one page of two, and CSV rows.
    const items = fixtureRecords(7, new Date(), 0.5).map((r) => ({
      PutRequest: { Item: toRequestLogItem(r, env.config) },
    }));
    await env.deps.ddb.send(new BatchWriteCommand({ RequestItems: { [env.tableName]: items } }));
  });
  after(async () => {
    await env?.stop();
  });

  it('takes the ApiUrl output or an origin', () => {
    assert.equal(
      apiBase('https://a.example.com/cfg/grpc/monitor/'),
      'https://a.example.com/cfg/grpc/monitor/',
    );
    assert.equal(
      apiBase('https://a.example.com/cfg/grpc/monitor'),
      'https://a.example.com/cfg/grpc/monitor/',
    );
    assert.equal(apiBase('http://127.0.0.1:8000'), 'http://127.0.0.1:8000/cfg/grpc/monitor/');
    assert.equal(apiBase('http://127.0.0.1:8000/prod/'), 'http://127.0.0.1:8000/prod/cfg/grpc/monitor/');
  });

  it('passes every check against the local API with the token, in both path forms', async () => {
    // Act
    const report = await runSmoke({ apiUrl: `${env.apiUrl}/cfg/grpc/monitor/`, token: TOKEN });
    // Assess
    assert.equal(report.failed, 0, JSON.stringify(report.checks, null, 2));
    assert.ok(report.checks.every((c) => c.outcome === 'pass'));
    const names = report.checks.map((c) => c.name);
    for (const path of ['health', 'health/', 'overview', 'overview/', 'ui', 'ui/'])
      assert.ok(
        names.some((n) => n.startsWith(`GET ${path} `)),
        `${path} in ${names.join(' | ')}`,
      );
    const list = report.checks.find((c) => c.name.startsWith('GET requests ('));
    assert.match(list?.detail ?? '', /next link \/cfg\/grpc\/monitor\/requests answers 200/);
    assert.match(report.checks.find((c) => c.name.includes('format=csv'))?.detail ?? '', /^200, 7 rows/);
  });

  it('skips, and does not fail, the checks that need a token when none is given', async () => {
    const report = await runSmoke({ apiUrl: env.apiUrl });
    assert.equal(report.failed, 0);
    assert.equal(report.checks.filter((c) => c.outcome === 'skip').length, 4);
    assert.equal(outcomes(report)['GET overview without a token answers 401'], 'pass');
  });

  it('fails the checks that need the token when it is wrong', async () => {
    const report = await runSmoke({ apiUrl: env.apiUrl, token: 'not-the-token' });
    assert.equal(report.failed, 4, JSON.stringify(report.checks, null, 2));
    assert.equal(outcomes(report)['GET overview with the token answers 200'], 'fail');
    assert.equal(outcomes(report)['GET health without a token answers 200'], 'pass');
  });

  it('fails every check against an API that answers wrongly', async () => {
    // Prepare: 200 to everything, no auth, no CSP, no JSON fields
    const server: Server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('hello');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      // Act
      const report = await runSmoke({ apiUrl: `http://127.0.0.1:${port}`, token: TOKEN });
      // Assess
      assert.deepEqual(
        report.checks.filter((c) => c.outcome !== 'fail').map((c) => c.name),
        [],
      );
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('prints a report and exits 0 when all pass, 1 when one fails, 2 without an ApiUrl', async () => {
    const good = await smokeCli(env.apiUrl, TOKEN);
    assert.equal(good.code, 0, good.stdout);
    assert.match(good.stdout, /smoke check of http:\/\/127\.0\.0\.1:\d+\/cfg\/grpc\/monitor\//);
    assert.match(good.stdout, /PASS {2}GET ui\/ serves the dashboard with its CSP/);
    assert.match(good.stdout, /^OK: 12 passed, 0 failed, 0 skipped$/m);

    const bad = await smokeCli(env.apiUrl, 'not-the-token');
    assert.equal(bad.code, 1, bad.stdout);
    assert.match(bad.stdout, /FAIL {2}GET overview with the token answers 200: expected 200, got 401/);
    assert.match(bad.stdout, /^FAILED: 8 passed, 4 failed, 0 skipped$/m);

    assert.equal((await smokeCli()).code, 2);
  });
});
