/**
 * docs/openapi.yaml against what AWS deploys: the paths the stack's route keys have (no trailing
 * slash), and the refusals API Gateway itself answers (401 with no token, 403 when the Lambda
 * authorizer denies a wrong or rotated one), in API Gateway's body `{"message": …}`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { API_ROUTES } from '../../core/apiRoutes';
import { httpApiPath } from '../../lib/monitorApi';
import { createGateway } from '../../local/apiServer';
import { assertMatchesOpenApi, openApi } from '../api/openapi';

const documented = API_ROUTES.filter((route) => route.name !== 'ui');

describe('docs/openapi.yaml', () => {
  it('documents every API route at the path the stack deploys (`/x`, as the dashboard calls it)', () => {
    const paths = Object.keys(openApi.paths).sort();
    assert.deepEqual(paths, documented.map((route) => httpApiPath(route.path)).sort());
    const description = (openApi as unknown as { info: { description: string } }).info.description;
    assert.match(description, /trailing slash/, 'says that `/x/` answers too');
  });

  it('documents 401 and 403 with API Gateway’s body on every protected route, none on public ones', () => {
    for (const route of documented) {
      const path = httpApiPath(route.path);
      const responses = openApi.paths[path]?.get?.responses ?? {};
      if (route.public) {
        assert.equal('401' in responses || '403' in responses, false, path);
        continue;
      }
      assertMatchesOpenApi(path, 401, { message: 'Unauthorized' });
      assertMatchesOpenApi(path, 403, { message: 'Forbidden' });
      assert.throws(() =>
        assertMatchesOpenApi(path, 403, { error: { code: 'x', message: 'y', field: null } }),
      );
    }
  });

  it('matches what the local stand-in for API Gateway answers without a token', async () => {
    const gateway = createGateway({
      handlers: new Map(),
      authorizer: async () => ({ isAuthorized: false }),
      onError: () => {},
    });
    for (const route of documented.filter((r) => !r.public)) {
      const path = httpApiPath(route.path);
      const url = path.replace('{request_id}', 'r-1');
      const missing = await gateway({ method: 'GET', url, headers: {}, sourceIp: '127.0.0.1' });
      assertMatchesOpenApi(path, missing.statusCode, JSON.parse(missing.body.toString()));
    }
  });
});
