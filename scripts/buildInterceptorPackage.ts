/**
 * `npm run build -w grpc-monitor-interceptor` (and `prepack`): compiles the interceptor package
 * into interceptor/dist, ESM JavaScript with .d.ts types and source maps.
 *
 * The program starts from the entry points of interceptor/tsconfig.build.json and follows their
 * imports, so the parts of core/ the interceptor uses are compiled with it, whatever they become.
 * The sources import without extensions (bundler resolution, as tsx and esbuild read them); Node's
 * ESM loader and TypeScript's node16/nodenext resolution need the full file name, so a
 * transformer rewrites every relative specifier of the emitted .js and .d.ts to the file it
 * names (`./writer` → `./writer.js`, `../stats` → `../stats/index.js`). Last, every bare import
 * of the output must be a Node built-in or a dependency of interceptor/package.json: a new
 * import that the package would not install fails the build here, not in a user's service.
 */
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

const packageDir = resolve(import.meta.dirname, '..', 'interceptor');
const configPath = join(packageDir, 'tsconfig.build.json');

/** `./writer` → `./writer.js`, `../stats` → `../stats/index.js`; bare specifiers unchanged. */
function fullSpecifier(specifier: string, fromFile: string): string {
  if (!specifier.startsWith('./') && !specifier.startsWith('../')) return specifier;
  if (/\.(c|m)?js$|\.json$/.test(specifier)) return specifier;
  const target = resolve(dirname(fromFile), specifier);
  if (existsSync(`${target}.ts`)) return `${specifier}.js`;
  if (existsSync(join(target, 'index.ts'))) return `${specifier}/index.js`;
  throw new Error(`${relative(packageDir, fromFile)}: cannot resolve ${specifier}`);
}

/** Rewrites the module specifiers of imports, exports, import() and import types. */
function specifierRewriter<T extends ts.Node>(context: ts.TransformationContext) {
  const f = context.factory;
  return (root: T): T => {
    const fromFile = root.getSourceFile?.()?.fileName ?? (root as unknown as ts.SourceFile).fileName;
    const literal = (node: ts.Expression): ts.Expression =>
      ts.isStringLiteral(node) ? f.createStringLiteral(fullSpecifier(node.text, fromFile)) : node;
    const visit = (node: ts.Node): ts.Node => {
      if (ts.isImportDeclaration(node)) {
        return f.updateImportDeclaration(
          node,
          node.modifiers,
          node.importClause,
          literal(node.moduleSpecifier),
          node.attributes,
        );
      }
      if (ts.isExportDeclaration(node) && node.moduleSpecifier) {
        return f.updateExportDeclaration(
          node,
          node.modifiers,
          node.isTypeOnly,
          node.exportClause,
          literal(node.moduleSpecifier),
          node.attributes,
        );
      }
      if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
        const argument = f.updateLiteralTypeNode(
          node.argument,
          literal(node.argument.literal as ts.StringLiteral) as ts.StringLiteral,
        );
        return f.updateImportTypeNode(
          node,
          argument,
          node.attributes,
          node.qualifier,
          ts.visitNodes(node.typeArguments, visit, ts.isTypeNode),
          node.isTypeOf,
        );
      }
      if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
        const [first, ...rest] = node.arguments;
        if (first)
          return f.updateCallExpression(node, node.expression, node.typeArguments, [literal(first), ...rest]);
      }
      return ts.visitEachChild(node, visit, context);
    };
    return ts.visitNode(root, visit) as T;
  };
}

function fail(diagnostics: readonly ts.Diagnostic[]): never {
  const host: ts.FormatDiagnosticsHost = {
    getCanonicalFileName: (f) => f,
    getCurrentDirectory: () => process.cwd(),
    getNewLine: () => '\n',
  };
  console.error(ts.formatDiagnosticsWithColorAndContext(diagnostics, host));
  process.exit(1);
}

const read = ts.readConfigFile(configPath, (path) => ts.sys.readFile(path));
if (read.error) fail([read.error]);
const config = ts.parseJsonConfigFileContent(read.config, ts.sys, packageDir, undefined, configPath);
if (config.errors.length > 0) fail(config.errors);
const outDir = config.options.outDir!;
rmSync(outDir, { recursive: true, force: true });

const program = ts.createProgram({ rootNames: config.fileNames, options: config.options });
const diagnostics = ts.getPreEmitDiagnostics(program);
if (diagnostics.length > 0) fail(diagnostics);
const emitted = program.emit(undefined, undefined, undefined, false, {
  after: [specifierRewriter<ts.SourceFile>],
  afterDeclarations: [specifierRewriter<ts.SourceFile | ts.Bundle>],
});
if (emitted.diagnostics.length > 0) fail(emitted.diagnostics);

// Every bare import of the output is a built-in, a dependency or a peer dependency.
const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as {
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
};
const installed = new Set([
  ...Object.keys(manifest.dependencies ?? {}),
  ...Object.keys(manifest.peerDependencies ?? {}),
]);
const builtins = new Set(builtinModules);
const files = readdirSync(outDir, { recursive: true, encoding: 'utf8' }).filter(
  (f) => f.endsWith('.js') || f.endsWith('.d.ts'),
);
const missing = new Set<string>();
for (const file of files) {
  const text = readFileSync(join(outDir, file), 'utf8');
  for (const [, specifier] of text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)['"]([^'"]+)['"]/g)) {
    if (!specifier || specifier.startsWith('.')) continue;
    const name = specifier.startsWith('@')
      ? specifier.split('/').slice(0, 2).join('/')
      : specifier.split('/')[0]!;
    if (specifier.startsWith('node:') || builtins.has(name) || installed.has(name)) continue;
    // A type-only module of a declaration file may come from its @types package.
    if (file.endsWith('.d.ts') && installed.has(`@types/${name.replace(/^@/, '').replace('/', '__')}`))
      continue;
    missing.add(`${name} (imported by dist/${file})`);
  }
}
if (missing.size > 0) {
  console.error(
    `interceptor/package.json does not install what the package imports:\n  ${[...missing].join('\n  ')}`,
  );
  process.exit(1);
}
const js = files.filter((f) => f.endsWith('.js')).length;
console.log(
  `grpc-monitor-interceptor: ${js} modules with types and source maps in ${relative(process.cwd(), outDir) || '.'}`,
);
