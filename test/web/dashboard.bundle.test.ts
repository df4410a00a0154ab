/**
 * The page as the Lambda bundle serves it (esbuild with the stack's options: ESM, minified, keepNames), in Chromium, against a small fake
 * of the monitor API holding known records: checks the bundled page the way the local test
 * checks the tsx-served one.
 */
import { bundleUiHandler, STACK_BUNDLE } from './bundle';
import { describeDashboard } from './dashboardChecks';
import { fixtureRecords, startFakeApi } from './fakeApi';

describeDashboard('bundle', async () => {
  const ui = await bundleUiHandler(STACK_BUNDLE);
  const api = await startFakeApi({
    ui: (event) => ui(event, {} as never),
    records: fixtureRecords(45),
    token: 'secret',
  });
  return { baseUrl: api.url, token: 'secret', stop: () => api.stop() };
});
