import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

/**
 * `npm start` as a new user meets it: the CLI prints a curl line that works as printed, and
 * Ctrl-C (SIGINT) leaves none of its processes (Node, the watchdog shell, Java) behind.
 */
const root = join(import.meta.dirname, '..', '..');

function descendants(pid: number): number[] {
  let direct: number[] = [];
  try {
    direct = execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    // pgrep exits 1 when there are none
  }
  return direct.flatMap((child) => [child, ...descendants(child)]);
}

/** Running, that is: a zombie (exited, waiting for a reaper that may never come here) is gone. */
function alive(pid: number): boolean {
  try {
    return !execFileSync('ps', ['-o', 'stat=', '-p', String(pid)], { encoding: 'utf8' })
      .trim()
      .startsWith('Z');
  } catch {
    return false; // ps exits 1 for no such process
  }
}

/** The parts of the printed `curl -H 'Authorization: Bearer …' URL` line. */
function parseCurl(line: string): { authorization: string; url: string } {
  const match = /curl -H '([^:]+): ([^']+)' (\S+)/.exec(line);
  assert.ok(match, `no curl line in: ${line}`);
  return { authorization: match[2]!, url: match[3]! };
}

describe('npm start (local/cli.ts)', () => {
  it('prints a working curl, and Ctrl-C stops every process it started', async () => {
    // Prepare
    const cli = spawn(
      process.execPath,
      ['--import', 'tsx', 'local/cli.ts', '--api-port', '0', '--grpc-port', '0', '--quiet'],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, GRPC_MONITOR_API_TOKEN: '' } },
    );
    let output = '';
    cli.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => cli.on('exit', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      cli.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('Ctrl-C stops everything')) resolve();
      });
      void exited.then(() => reject(new Error(`npm start exited early:\n${output}`)));
    });

    // Act: the printed curl, as printed.
    const curlLine = output.split('\n').find((line) => line.trim().startsWith('curl '))!;
    const { authorization, url } = parseCurl(curlLine);
    const response = await fetch(url, { headers: { authorization } });
    const unauthorized = await fetch(url);

    // Assess
    assert.match(output, /Token {6}\S+ {2}\(generated/);
    assert.match(output, /Dashboard {2}http:\/\/127\.0\.0\.1:\d+\/cfg\/grpc\/monitor\/ui\//);
    assert.equal(response.status, 200, await response.clone().text());
    assert.equal(typeof ((await response.json()) as { total_requests?: unknown }).total_requests, 'number');
    assert.equal(unauthorized.status, 401);

    // Act: Ctrl-C.
    const processes = [cli.pid!, ...descendants(cli.pid!)];
    assert.ok(processes.length >= 3, `node, the watchdog and java: ${processes.join(' ')}`);
    cli.kill('SIGINT');
    const code = await exited;

    // Assess
    assert.equal(code, 0, output);
    assert.match(output, /stopping…/);
    const left = processes.filter(alive);
    assert.deepEqual(
      left,
      [],
      `processes left running: ${left.length ? execFileSync('ps', ['-o', 'pid=,args=', '-p', left.join(',')], { encoding: 'utf8' }) : ''}`,
    );
  });

  /** Runs the CLI to its exit: its exit code and everything it printed. */
  function runCli(
    args: string[],
    env: NodeJS.ProcessEnv = process.env,
  ): Promise<{ code: number; output: string }> {
    return new Promise((resolve) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', 'local/cli.ts', '--quiet', ...args],
        { cwd: root, env, timeout: 60_000 },
        (error, stdout, stderr) => resolve({ code: Number(error?.code ?? 0), output: stdout + stderr }),
      );
    });
  }

  it('a taken API port: one line naming the port and the flag, exit 1', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as { port: number };
    try {
      const { code, output } = await runCli(['--api-port', String(port)]);
      assert.equal(code, 1, output);
      assert.match(
        output,
        new RegExp(`error: port ${port} is in use: choose another for the API server \\(--api-port\\)`),
      );
      assert.doesNotMatch(output, /\n\s+at /, 'no stack trace');
    } finally {
      blocker.close();
    }
  });

  it('no java on PATH: the install hint, exit 1', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'no-java-'));
    try {
      const { code, output } = await runCli([], { ...process.env, PATH: empty });
      assert.equal(code, 1, output);
      assert.match(
        output,
        /error: Java 17\+ is needed to run DynamoDB Local, and `java` was not found on PATH/,
      );
      assert.match(output, /apt-get install -y openjdk-17-jre-headless/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
