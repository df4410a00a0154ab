/**
 * What grpc-monitor-interceptor costs a service to install: the packed tarball installed
 * offline (`npm ci --offline`, from the npm cache the root's install filled) into a fresh
 * project beside @grpc/grpc-js, against the baseline of a project with @grpc/grpc-js alone, in
 * the same run: install time, packages, bytes on disk (allocated blocks, as `du` counts them) and
 * bytes of files; and which packages weigh most.
 */
import { lstatSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  installConsumer,
  installedTree,
  megabytes,
  packInterceptor,
  PACKAGE_NAME,
  type InstalledTree,
} from '../test/package/consumerProject';
import { median } from './measure';

const ROUNDS = 3;

/** Allocated bytes under `path`. */
function diskBytes(path: string): number {
  const stat = lstatSync(path);
  let total = stat.blocks * 512;
  if (stat.isDirectory()) for (const entry of readdirSync(path)) total += diskBytes(join(path, entry));
  return total;
}

/** The heaviest top-level packages (scoped ones by scope) of a project, by bytes on disk. */
function heaviest(dir: string, count: number): Array<{ name: string; bytes: number }> {
  const modules = join(dir, 'node_modules');
  return readdirSync(modules)
    .filter((name) => !name.startsWith('.'))
    .map((name) => ({ name, bytes: diskBytes(join(modules, name)) }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, count);
}

export default async function packageBench(): Promise<string> {
  const work = mkdtempSync(join(tmpdir(), 'grpc-monitor-package-bench-'));
  try {
    const tarball = await packInterceptor(join(work, 'pack'));
    const times = { base: [] as number[], pkg: [] as number[] };
    let base: InstalledTree | undefined;
    let pkg: InstalledTree | undefined;
    let pkgDir = '';
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate, so that a busy moment of the machine hits both sides alike.
      const b = await installConsumer(join(work, `base-${round}`));
      times.base.push(b.installMs);
      base = installedTree(b.dir);
      const p = await installConsumer(join(work, `pkg-${round}`), tarball);
      times.pkg.push(p.installMs);
      pkg = installedTree(p.dir);
      pkgDir = p.dir;
      if (round < ROUNDS - 1) {
        rmSync(b.dir, { recursive: true, force: true });
        rmSync(p.dir, { recursive: true, force: true });
      }
    }
    const ownDisk = diskBytes(join(pkgDir, 'node_modules', PACKAGE_NAME));
    const row = (what: string, t: InstalledTree, ms: number) =>
      `| ${what} | ${t.names.length} | ${megabytes(t.diskBytes)} | ${megabytes(t.fileBytes)} | ${(ms / 1000).toFixed(1)} |`;
    const baseMs = median(times.base);
    const pkgMs = median(times.pkg);
    return [
      `\`npm pack\` of the workspace, then \`npm ci --offline\` into a fresh project, ${ROUNDS} rounds`,
      `alternating with the baseline (median install time). Tarball ${(statSync(tarball).size / 1024).toFixed(0)} KB;`,
      `the package itself ${(ownDisk / 1024).toFixed(0)} KB on disk.`,
      '',
      '| project | packages | MB on disk | MB of files | install, s |',
      '|---|---:|---:|---:|---:|',
      row('@grpc/grpc-js alone (baseline)', base!, baseMs),
      row(`@grpc/grpc-js + ${PACKAGE_NAME}`, pkg!, pkgMs),
      `| **added by the package** | ${pkg!.names.length - base!.names.length} | **${megabytes(pkg!.diskBytes - base!.diskBytes)}** | **${megabytes(pkg!.fileBytes - base!.fileBytes)}** | ×${(pkgMs / baseMs).toFixed(2)} |`,
      '',
      `Goal: under 15 MB beside grpc-js. The files added weigh ${megabytes(pkg!.fileBytes - base!.fileBytes)} MB;`,
      `on disk they take ${megabytes(pkg!.diskBytes - base!.diskBytes)} MB because they are ${pkg!.files - base!.files} files,`,
      `most far smaller than the file system's block (the AWS SDK ships each command, model and`,
      `type as a module of its own, in CommonJS, ESM and types).`,
      '',
      `Heaviest on disk with the package: ${heaviest(pkgDir, 6)
        .map((p) => `${p.name} ${megabytes(p.bytes)} MB`)
        .join(', ')}.`,
    ].join('\n');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
