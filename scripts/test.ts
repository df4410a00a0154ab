/**
 * `npm test`: starts one DynamoDB Local for the whole run (each test file makes its own
 * tables in it), runs every test/**\/*.test.ts with Node's test runner, and stops it on every
 * exit path. `npm test -- test/core` runs the files under the paths given.
 *
 * DynamoDB Local does its storage work on one thread, so a heavy file would slow down, or time
 * out, every file beside it: such a file asks for its own with `startTestDynamo({ own: true })`
 * (the exactly-once test does), and runs in parallel with the others instead of against them.
 */
import { execFileSync, spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { startDynamoDbLocal } from '../local/dynamoDbLocal';
import { SHARED_ENDPOINT_ENV } from '../test/harness/dynamo';

function testFiles(paths: string[]): string[] {
  return paths
    .flatMap((path) =>
      statSync(path).isDirectory()
        ? readdirSync(path, { recursive: true, encoding: 'utf8' }).map((f) => join(path, f))
        : [path],
    )
    .filter((f) => f.endsWith('.test.ts'))
    .sort();
}

/** `--node <path>` and the paths, from the command line. */
function parseArgs(args: string[]): { node: string; paths: string[] } {
  let node = process.execPath;
  const paths: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--node') {
      const path = args[++i];
      if (!path) throw new Error('--node needs the path of a node binary');
      node = path;
    } else {
      paths.push(args[i]!);
    }
  }
  return { node, paths };
}

const { node, paths } = parseArgs(process.argv.slice(2));
const files = testFiles(paths.length > 0 ? paths : ['test']);
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}
function nodeVersion(binary: string): string {
  return execFileSync(binary, ['--version'], { encoding: 'utf8' }).trim();
}

const dynamo = await startDynamoDbLocal();
if (node !== process.execPath) console.log(`running the tests on ${node} (${nodeVersion(node)})`);
const child = spawn(
  node,
  // Two files at a time: the exactly-once test (5–8 min, in its own DynamoDB Local) beside the
  // rest, one by one; a third slot only slows it down on a 2-core machine, and it sets the wall
  // time. 15 min per file: it writes and aggregates 10,000 real stream records, which takes
  // several minutes in DynamoDB Local on a busy 2-core machine.
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=900000', ...files],
  {
    stdio: 'inherit',
    env: {
      ...process.env,
      [SHARED_ENDPOINT_ENV]: dynamo.endpoint,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
  },
);
const forward = (signal: NodeJS.Signals) => child.kill(signal);
process.on('SIGINT', forward);
process.on('SIGTERM', forward);
const code: number = await new Promise((resolve) => child.on('exit', (c, s) => resolve(c ?? (s ? 1 : 0))));
await dynamo.stop();
process.exit(code);
