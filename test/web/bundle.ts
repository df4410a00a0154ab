/**
 * Bundles lambdas/api/ui.ts the way CDK's NodejsFunction does (esbuild, CommonJS, Node target,
 * AWS SDK v3 external) into .test-output/, and loads the bundle's `handler`: proof that the page
 * needs no build step or file beyond the Lambda bundle.
 */
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { build } from 'esbuild';

export type BundledHandler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

const ROOT = join(import.meta.dirname, '..', '..');
export const TEST_OUTPUT = join(ROOT, '.test-output');

export interface BundleVariant {
  readonly format: 'cjs' | 'esm';
  readonly minify: boolean;
  readonly keepNames: boolean;
}

/** The options lib/monitorFunction.ts gives NodejsFunction (ESM, minified, keepNames, SDK bundled). */
export const STACK_BUNDLE: BundleVariant = { format: 'esm', minify: true, keepNames: true };

/** Where bundleUiHandler writes the bundle of a variant. */
export function bundleFile(variant: BundleVariant): string {
  const name = `ui-bundle-${variant.format}${variant.minify ? '-min' : ''}${variant.keepNames ? '-names' : ''}`;
  return join(TEST_OUTPUT, `${name}.${variant.format === 'esm' ? 'mjs' : 'cjs'}`);
}

export async function bundleUiHandler(variant: BundleVariant): Promise<BundledHandler> {
  mkdirSync(TEST_OUTPUT, { recursive: true });
  const outfile = bundleFile(variant);
  await build({
    entryPoints: [join(ROOT, 'lambdas/api/ui.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: variant.format,
    target: variant.format === 'esm' ? 'node24' : 'node20',
    mainFields: ['module', 'main'],
    ...(variant.format === 'esm'
      ? {
          banner: {
            js: "import { createRequire as __monitorCreateRequire } from 'node:module'; const require = __monitorCreateRequire(import.meta.url);",
          },
        }
      : { external: ['@aws-sdk/*'] }),
    minify: variant.minify,
    keepNames: variant.keepNames,
    logLevel: 'silent',
  });
  if (variant.format === 'esm') {
    return ((await import(`${pathToFileURL(outfile).href}?v=${Date.now()}`)) as { handler: BundledHandler })
      .handler;
  }
  const require = createRequire(import.meta.url);
  delete require.cache[outfile];
  return (require(outfile) as { handler: BundledHandler }).handler;
}

/** A GET of the dashboard route as API Gateway HTTP API (payload 2.0) delivers it. */
export function uiEvent(path = '/cfg/grpc/monitor/ui/'): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: 'GET /cfg/grpc/monitor/ui/',
    rawPath: path,
    rawQueryString: '',
    headers: { accept: 'text/html', host: 'example.execute-api.eu-west-1.amazonaws.com' },
    requestContext: {
      accountId: '123456789012',
      apiId: 'example',
      domainName: 'example.execute-api.eu-west-1.amazonaws.com',
      domainPrefix: 'example',
      http: { method: 'GET', path, protocol: 'HTTP/1.1', sourceIp: '203.0.113.9', userAgent: 'test' },
      requestId: 'req-1',
      routeKey: 'GET /cfg/grpc/monitor/ui/',
      stage: '$default',
      time: '29/Nov/2026:04:00:00 +0000',
      timeEpoch: 1795752000000,
    },
    isBase64Encoded: false,
  };
}

export const lambdaContext = { functionName: 'ui', awsRequestId: 'req-1' } as Context;
