import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import type { MonitorConfig } from '../../core/config';
import { startTestDynamo, type TestDynamo } from '../harness/dynamo';
import {
  forbiddenIn,
  installConsumer,
  installedTree,
  megabytes,
  packInterceptor,
  PACKAGE_NAME,
  REPO_ROOT,
  type ConsumerProject,
} from './consumerProject';

/**
 * The interceptor as a user installs it: `npm pack`, `npm ci --offline` of the tarball into a
 * fresh project, then plain Node (no tsx, no TypeScript) runs a grpc-js server with the monitor
 * from a CommonJS file (require of the ESM package, Node ≥ 20.19) and from an ES module, and
 * the calls land in DynamoDB Local; a strict TypeScript consumer checks against the .d.ts.
 */

const run = promisify(execFile);

/** Calls each consumer makes: OK ones and one NOT_FOUND. */
const OK_CALLS = 3;

/**
 * A consumer's source: an echo service defined with grpc-js alone (JSON messages, no
 * proto-loader), the monitor first among the server's interceptors, a few calls, close().
 * It prints the monitor's stats as JSON.
 */
function consumerSource(kind: 'Cjs' | 'Esm'): string {
  const imports =
    kind === 'Cjs'
      ? `const grpc = require('@grpc/grpc-js');
const { createGrpcMonitor } = require('${PACKAGE_NAME}');
const { configFromEnv, documentClient, getStatistics, requestLogs } = require('${PACKAGE_NAME}/query');`
      : `import * as grpc from '@grpc/grpc-js';
import { createGrpcMonitor } from '${PACKAGE_NAME}';
import { configFromEnv, documentClient, getStatistics, requestLogs } from '${PACKAGE_NAME}/query';`;
  return `${imports}

const json = {
  serialize: (value) => Buffer.from(JSON.stringify(value)),
  deserialize: (bytes) => JSON.parse(bytes.toString()),
};
const definition = {
  say: {
    path: '/pkgtest.${kind}Echo/Say',
    requestStream: false,
    responseStream: false,
    requestSerialize: json.serialize,
    requestDeserialize: json.deserialize,
    responseSerialize: json.serialize,
    responseDeserialize: json.deserialize,
  },
};

async function main() {
  const dynamoDb = JSON.parse(process.env.CONSUMER_DYNAMODB);
  const monitor = createGrpcMonitor({ dynamoDb, console: false });
  const server = new grpc.Server({ interceptors: [monitor.interceptor] });
  server.addService(definition, {
    say: (call, callback) =>
      call.request.text === 'missing'
        ? callback({ code: grpc.status.NOT_FOUND, details: 'no such text' })
        : callback(null, { text: call.request.text }),
  });
  const port = await new Promise((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, p) => (error ? reject(error) : resolve(p))),
  );
  const Client = grpc.makeGenericClientConstructor(definition, '${kind}Echo');
  const client = new Client('127.0.0.1:' + port, grpc.credentials.createInsecure());
  const say = (text) => new Promise((resolve) => client.say({ text }, (error) => resolve(error ? error.code : 0)));
  const codes = [];
  for (let i = 0; i < ${OK_CALLS}; i++) codes.push(await say('hello ' + i));
  codes.push(await say('missing'));
  client.close();
  await new Promise((resolve) => server.tryShutdown(resolve));
  await monitor.close();
  // Read back through the query library, as a back-office script would.
  const deps = { ddb: documentClient(dynamoDb), config: configFromEnv(), now: () => new Date() };
  const hour = { from: new Date(Date.now() - 3600e3), to: new Date(Date.now() + 60e3) };
  const page = await requestLogs(deps).between(hour).byService('${kind}Echo').list({ limit: 100 });
  const statistics = await getStatistics(deps, { hours: 1 });
  deps.ddb.destroy();
  const listed = page.items.map((item) => item.status).sort();
  console.log(JSON.stringify({ codes, stats: monitor.stats(), listed, statisticsTotal: statistics.total }));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
`;
}

/** What a strict TypeScript service writes; @ts-expect-error lines fail if the types were any. */
const TYPED_CONSUMER = `import * as grpc from '@grpc/grpc-js';
import {
  createGrpcMonitor,
  GrpcMonitorConfigError,
  REQUEST_ID_HEADER,
  type GrpcMonitor,
  type GrpcMonitorOptions,
  type WriterStats,
} from '${PACKAGE_NAME}';
import {
  configFromEnv,
  documentClient,
  getStatistics,
  requestLogs,
  type MonitorDeps,
  type RequestSummary,
  type Statistics,
} from '${PACKAGE_NAME}/query';

const options: GrpcMonitorOptions = {
  tableName: 'grpc-monitor-requests',
  dynamoDb: { region: 'eu-west-1' },
  resolveUser: (metadata) => ({ id: String(metadata.get('user-id')[0] ?? ''), username: 'someone' }),
  skipMethods: ['/grpc.health.v1.Health/*'],
  writerNiceness: 10,
};
const monitor: GrpcMonitor = createGrpcMonitor(options);
export const server = new grpc.Server({ interceptors: [monitor.interceptor] });
const stats: WriterStats = monitor.stats();
export const queued: number = stats.queued;
export const header: string = REQUEST_ID_HEADER;
export const isConfigError = (e: unknown): boolean => e instanceof GrpcMonitorConfigError;
export const closed: Promise<void> = monitor.close();
const deps: MonitorDeps = { ddb: documentClient({ region: 'eu-west-1' }), config: configFromEnv(), now: () => new Date() };
export const statistics: Promise<Statistics> = getStatistics(deps, { hours: 24 });
export const errors: Promise<RequestSummary[]> = requestLogs(deps)
  .recent({ hours: 1 })
  .error()
  .list()
  .then((page) => page.items);

// @ts-expect-error: the table name is a string
createGrpcMonitor({ tableName: 42 });
// @ts-expect-error: no such option
createGrpcMonitor({ tableNam: 'x' });
// @ts-expect-error: a status the query does not know
requestLogs(deps).byStatus('failed');
`;

describe('grpc-monitor-interceptor, packed and installed offline in a fresh project', () => {
  let work: string;
  let dynamo: TestDynamo;
  let project: ConsumerProject;
  let config: MonitorConfig;

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'grpc-monitor-package-'));
    dynamo = await startTestDynamo();
    config = await dynamo.createTables();
    const tarball = await packInterceptor(join(work, 'pack'));
    project = await installConsumer(join(work, 'app'), tarball);
    writeFileSync(join(project.dir, 'consumer.cjs'), consumerSource('Cjs'));
    writeFileSync(join(project.dir, 'consumer.mjs'), consumerSource('Esm'));
  });

  after(async () => {
    await dynamo?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('the installed tree is small and holds none of the repository tools', () => {
    const tree = installedTree(project.dir);
    console.log(
      `installed tree: ${tree.names.length} packages, ${megabytes(tree.diskBytes)} MB on disk ` +
        `(${megabytes(tree.fileBytes)} MB of files), npm ci --offline ${Math.round(project.installMs)} ms`,
    );
    assert.ok(tree.names.includes(PACKAGE_NAME));
    assert.ok(tree.names.includes('@grpc/grpc-js'));
    assert.deepEqual(forbiddenIn(tree.names), []);
  });

  test('the tarball carries compiled JavaScript, types, maps, README and LICENSE, and no TypeScript source', () => {
    const root = join(project.dir, 'node_modules', PACKAGE_NAME);
    const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      peerDependencies: Record<string, string>;
      dependencies: Record<string, string>;
    };
    assert.ok(manifest.peerDependencies['@grpc/grpc-js']);
    assert.equal(manifest.dependencies['@grpc/grpc-js'], undefined);
    for (const file of [
      'README.md',
      'LICENSE',
      'dist/interceptor/index.js',
      'dist/interceptor/index.d.ts',
      'dist/interceptor/index.js.map',
      'dist/interceptor/writerThread.js',
      'dist/core/query/index.js',
    ]) {
      assert.ok(readFileSync(join(root, file)).length > 0, file);
    }
    const map = readFileSync(join(root, 'dist/interceptor/writerThread.js.map'), 'utf8');
    assert.match(map, /"sourcesContent"/);
    const files = readdirSync(root, { recursive: true, encoding: 'utf8' });
    assert.deepEqual(
      files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')),
      [],
    );
  });

  let callsSoFar = 0;
  for (const [kind, file] of [
    ['Cjs', 'consumer.cjs'],
    ['Esm', 'consumer.mjs'],
  ] as const) {
    test(`${kind === 'Cjs' ? 'a CommonJS (require)' : 'an ES module (import)'} server records its calls in DynamoDB`, async () => {
      const { stdout } = await run(process.execPath, [file], {
        cwd: project.dir,
        // Plain Node: no tsx loader, nothing of the test runner's.
        env: {
          PATH: process.env.PATH,
          GRPC_MONITOR_TABLE: config.requestLogTable,
          GRPC_MONITOR_STATS_TABLE: config.statsTable,
          GRPC_MONITOR_DELTA_TABLE: config.deltaTable,
          CONSUMER_DYNAMODB: JSON.stringify(dynamo.clientConfig),
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        },
        timeout: 120_000,
      });
      const report = JSON.parse(stdout.trim().split('\n').at(-1)!) as {
        codes: number[];
        stats: { enqueued: number; written: number; dropped: number };
        listed: string[];
        statisticsTotal: number;
      };
      assert.deepEqual(report.codes, [...Array<number>(OK_CALLS).fill(0), 5]);
      assert.equal(report.stats.written, OK_CALLS + 1);
      assert.equal(report.stats.dropped, 0);
      assert.deepEqual(report.listed, ['error', ...Array<string>(OK_CALLS).fill('success')]);
      // No aggregator runs here: the counts come from the delta items the monitors shipped,
      // merged at read time (this consumer's calls and the earlier consumer's, same tables).
      callsSoFar += OK_CALLS + 1;
      assert.equal(report.statisticsTotal, callsSoFar);
      const items = (await dynamo.scanAll(config.requestLogTable)).filter(
        (item) => item.service_name === `${kind}Echo`,
      );
      const statuses = items.map((item) => `${String(item.status)} ${String(item.grpc_status_code)}`).sort();
      assert.deepEqual(statuses, ['error NOT_FOUND', ...Array<string>(OK_CALLS).fill('success OK')]);
      assert.ok(
        items.every((item) => item.method_name === 'Say' && item.full_method === `/pkgtest.${kind}Echo/Say`),
      );
    });
  }

  test('a strict TypeScript consumer type-checks against the shipped .d.ts (nodenext, no skipLibCheck)', async () => {
    writeFileSync(join(project.dir, 'server.mts'), TYPED_CONSUMER);
    writeFileSync(
      join(project.dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'nodenext',
          moduleResolution: 'nodenext',
          strict: true,
          skipLibCheck: false,
          noEmit: true,
          // @types/node from the repository: the project installs only what runs.
          typeRoots: [join(REPO_ROOT, 'node_modules', '@types')],
          types: ['node'],
        },
        files: ['server.mts'],
      }),
    );
    const tsc = join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    await run(process.execPath, [tsc, '-p', join(project.dir, 'tsconfig.json')], { cwd: project.dir }).catch(
      (error: { stdout?: string }) => assert.fail(`tsc failed:\n${error.stdout ?? String(error)}`),
    );
  });
});
