import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';

const root = resolve(import.meta.dirname, '../..');
const outdir = mkdtempSync(join(tmpdir(), 'grpc-monitor-app-'));
after(() => rmSync(outdir, { recursive: true, force: true }));

/** Runs bin/app.ts the way the CDK CLI does (context and output dir through the environment). */
function runApp(context: Record<string, unknown>) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'bin/app.ts'], {
    cwd: root,
    encoding: 'utf8',
    env: {
      ...process.env,
      CDK_OUTDIR: outdir,
      CDK_VALIDATION: 'false',
      CDK_CONTEXT_JSON: JSON.stringify({ 'aws:cdk:bundling-stacks': [], ...context }),
    },
  });
}

describe('bin/app.ts', () => {
  it('synthesizes the GrpcMonitor stack with the context given', () => {
    const run = runApp({ alertEmail: 'ops@example.com' });
    assert.equal(run.status, 0, run.stderr);
    const template = JSON.parse(readFileSync(join(outdir, 'GrpcMonitor.template.json'), 'utf8')) as {
      Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
    };
    const subscriptions = Object.values(template.Resources).filter(
      (r) => r.Type === 'AWS::SNS::Subscription',
    );
    assert.deepEqual(
      subscriptions.map((s) => s.Properties.Endpoint),
      ['ops@example.com'],
    );
  });

  it('stops with a one-line message naming the bad context key', () => {
    const run = runApp({ shards: '0' });
    assert.equal(run.status, 1);
    assert.match(run.stderr, /^gRPC Monitor: context shards="0" must be a whole number from 1 to 100/m);
    assert.doesNotMatch(run.stderr, /at new MonitorStack/);
  });

  it('stops on a sampling rate outside 0 < r ≤ 1', () => {
    for (const rate of ['0', '2']) {
      const run = runApp({ sampleSuccess: rate });
      assert.equal(run.status, 1, rate);
      assert.match(
        run.stderr,
        new RegExp(`^gRPC Monitor: context sampleSuccess="${rate}" must be a rate with 0 < r ≤ 1`, 'm'),
      );
    }
  });
});
