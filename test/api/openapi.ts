import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { Ajv2020 } from 'ajv/dist/2020';
import addFormatsModule from 'ajv-formats';
import { parse } from 'yaml';

/** docs/openapi.yaml, parsed. */
export const openApi = parse(readFileSync(join(import.meta.dirname, '../../docs/openapi.yaml'), 'utf8')) as {
  openapi: string;
  paths: Record<
    string,
    { get?: { responses: Record<string, { content?: Record<string, { schema: unknown }> }> } }
  >;
};

const ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false });
// ajv-formats is CommonJS: its default export arrives wrapped under ESM interop.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (
  a: Ajv2020,
) => void;
addFormats(ajv);
ajv.addSchema({ ...openApi, $id: 'openapi' });

const pointer = (...parts: string[]) =>
  parts.map((p) => p.replaceAll('~', '~0').replaceAll('/', '~1')).join('/');

/** Fails unless `body` is what docs/openapi.yaml says `GET path` answers with `status`. */
export function assertMatchesOpenApi(
  path: string,
  status: number,
  body: unknown,
  type = 'application/json',
): void {
  // The file gives the deployed form `/x`; callers may name the contract's `/x/`, which answers too.
  const key = path in openApi.paths ? path : path.replace(/\/+$/, '');
  const operation = openApi.paths[key]?.get;
  assert.ok(operation, `docs/openapi.yaml documents GET ${path}`);
  const code = String(status) in operation.responses ? String(status) : 'default';
  let response = operation.responses[code] as
    { $ref?: string; content?: Record<string, unknown> } | undefined;
  assert.ok(response, `docs/openapi.yaml documents ${status} for GET ${path}`);
  let at = pointer('paths', key, 'get', 'responses', code);
  if (response.$ref) {
    // `#/components/responses/X`: validate against the shared response's schema.
    at = response.$ref.slice(2);
    response = at
      .split('/')
      .reduce<Record<string, unknown>>(
        (node, key) => node[key] as Record<string, unknown>,
        openApi,
      ) as typeof response;
  }
  assert.ok(response?.content?.[type], `docs/openapi.yaml documents ${type} for ${status} of ${path}`);
  const ref = `openapi#/${at}/${pointer('content', type, 'schema')}`;
  const validate = ajv.getSchema(ref) ?? ajv.compile({ $ref: ref });
  assert.ok(
    validate(body),
    `GET ${path} ${status}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(body).slice(0, 500)}`,
  );
}
