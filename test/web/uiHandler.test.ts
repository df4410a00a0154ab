import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Script } from 'node:vm';
import { describe, it } from 'node:test';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { MonitorDeps } from '../../core/deps';
import { createHandler } from '../../lambdas/api/ui';
import { bundleFile, bundleUiHandler, lambdaContext, STACK_BUNDLE, uiEvent } from './bundle';

const deps = {} as MonitorDeps; // the page reads no table

const between = (html: string, open: string, close: string): string => {
  const start = html.indexOf(open);
  const end = html.indexOf(close, start);
  assert.ok(start >= 0 && end > start, `${open} in the page`);
  return html.slice(start + open.length, end);
};

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

function assertServesThePage(result: APIGatewayProxyStructuredResultV2): void {
  assert.equal(result.statusCode, 200);
  const headers = result.headers ?? {};
  assert.equal(headers['content-type'], 'text/html; charset=utf-8');
  const html = String(result.body);
  const script = between(html, '<script>', '</script>');
  const style = between(html, '<style>', '</style>');
  // The inline script parses, and the CSP allows exactly it and the stylesheet.
  assert.doesNotThrow(() => new Script(script));
  const csp = String(headers['content-security-policy']);
  assert.match(csp, new RegExp(`script-src ${sha256(script).replace(/[+/]/g, '\\$&')}`));
  assert.ok(csp.includes(`style-src ${sha256(style)}`), csp);
  assert.ok(csp.includes("default-src 'none'") && csp.includes("connect-src 'self'"));
}

describe('ui handler', () => {
  it('serves the dashboard page with a CSP pinned to its inline code', async () => {
    // Act
    const result = await createHandler(deps)(uiEvent());
    // Assess
    assertServesThePage(result);
  });

  it('serves the page at both forms of its path, `ui` (the deployed route) and `ui/`', async () => {
    const handler = createHandler(deps);
    for (const path of ['/cfg/grpc/monitor/ui', '/cfg/grpc/monitor/ui/']) {
      assertServesThePage(await handler(uiEvent(path)));
    }
  });

  it('redirects a contract path with its trailing slash to the deployed route (308, query kept)', async () => {
    // Prepare: what the stack's greedy `{proxy+}` route hands this Lambda when API Gateway does
    // not send `/x/` to the `/x` route itself
    const handler = createHandler(deps);
    const cases: Array<[string, string, string]> = [
      ['/cfg/grpc/monitor/overview/', 'hours=1', '/cfg/grpc/monitor/overview?hours=1'],
      ['/cfg/grpc/monitor/health/', '', '/cfg/grpc/monitor/health'],
      ['/cfg/grpc/monitor/requests/', 'format=csv&a=1', '/cfg/grpc/monitor/requests?format=csv&a=1'],
      ['/cfg/grpc/monitor/requests/r%2D1/', '', '/cfg/grpc/monitor/requests/r%2D1'],
      ['/cfg/grpc/monitor/timeline//', '', '/cfg/grpc/monitor/timeline'],
    ];
    for (const [path, query, location] of cases) {
      // Act
      const result = await handler({ ...uiEvent(path), rawQueryString: query });
      // Assess
      assert.equal(result.statusCode, 308, path);
      assert.equal(result.headers?.location, location, path);
    }
  });

  it('answers 404 in API Gateway’s shape to any other path, and never redirects in a loop', async () => {
    const handler = createHandler(deps);
    for (const path of [
      '/cfg/grpc/monitor/nothing/',
      '/cfg/grpc/monitor/overview',
      '/cfg/grpc/monitor/requests/a/b/',
      '/cfg/grpc/monitor/overview/x',
      '/cfg/grpc/monitor//overview/',
    ]) {
      const result = await handler(uiEvent(path));
      assert.equal(result.statusCode, 404, path);
      assert.deepEqual(JSON.parse(String(result.body)), { message: 'Not Found' }, path);
    }
  });

  it('labels every input and select of the page', async () => {
    const html = String((await createHandler(deps)(uiEvent())).body);
    const ids = [...html.matchAll(/<(?:input|select)[^>]*\sid="([^"]+)"/g)].map((m) => m[1]);
    assert.ok(ids.length >= 8, `found ${ids.length} controls`);
    for (const id of ids) assert.ok(html.includes(`<label for="${id}"`), `label for #${id}`);
  });

  for (const variant of [
    STACK_BUNDLE,
    { format: 'cjs', minify: true, keepNames: false } as const,
    { format: 'cjs', minify: false, keepNames: true } as const,
  ]) {
    it(`works from an esbuild Lambda bundle (${JSON.stringify(variant)})`, async () => {
      // Prepare
      const handler = await bundleUiHandler(variant);
      // Act
      const result = await handler(uiEvent(), lambdaContext);
      // Assess
      assertServesThePage(result);
      assert.match(String(result.body), /id="requests-rows"/);
    });
  }

  it('bundles small: the page needs no AWS SDK', async () => {
    // Prepare: the stack bundles the SDK into every function that imports it
    await bundleUiHandler(STACK_BUNDLE);
    // Assess
    const code = readFileSync(bundleFile(STACK_BUNDLE), 'utf8');
    assert.doesNotMatch(code, /DynamoDBClient|@aws-sdk/);
    assert.ok(code.length < 100_000, `${code.length} bytes`);
  });
});
