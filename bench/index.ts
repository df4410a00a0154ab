/**
 * `npm run bench [name ...]`: runs the benchmarks (every `bench/*.bench.ts`, or those named),
 * each of which measures against a baseline in the same run and returns a Markdown section.
 * Each section replaces its own block in BENCHMARKS.md, so benches can be rerun one by one.
 */
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import os from 'node:os';

/** What a bench module default-exports. */
export type Bench = () => Promise<string>;

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const dir = import.meta.dirname;
const wanted = process.argv.slice(2);
const names = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .map((f) => f.replace(/\.bench\.ts$/, ''))
  .filter((n) => wanted.length === 0 || wanted.includes(n))
  .sort();
if (names.length === 0) {
  console.error(`no benchmark named ${wanted.join(', ')}`);
  process.exit(1);
}

const file = join(dir, '..', 'BENCHMARKS.md');
const header = `# Benchmarks

Produced by \`npm run bench\` (or \`npm run bench -- <name>\` for one section). Every figure is a
ratio against a baseline measured in the same run on the same machine, so the ratios travel
between machines better than the absolute numbers.
`;
let doc = existsSync(file) ? readFileSync(file, 'utf8') : header;
for (const name of names) {
  console.log(`bench ${name} ...`);
  const { default: run } = (await import(join(dir, `${name}.bench.ts`))) as { default: Bench };
  const body = await run();
  const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}`;
  const section = `<!-- bench:${name} -->\n## ${name}\n\nCommand: \`npm run bench -- ${name}\` (${machine})\n\n${body.trim()}\n<!-- /bench:${name} -->`;
  const block = new RegExp(`<!-- bench:${name} -->[\\s\\S]*?<!-- /bench:${name} -->`);
  doc = block.test(doc) ? doc.replace(block, section) : `${doc.trimEnd()}\n\n${section}\n`;
  writeFileSync(file, doc);
  console.log(body);
}
process.exit(0);
