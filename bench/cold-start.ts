/**
 * Cold start of every function bundle. Each `FUNCTIONS[*].entry` is bundled as CDK's
 * NodejsFunction bundles it (infra/sso-function.ts: ESM, node22, minified, source maps,
 * `@aws-sdk/*` external, the createRequire banner), and so is a second entry made of only
 * that function's third-party imports: the same specifiers and bindings its first-party
 * modules import, kept alive so nothing is tree-shaken away.
 *
 * Each bundle is imported by a fresh Node 22 process (the pinned `node_modules/.bin/node`,
 * with `--enable-source-maps` as in Lambda), which reports how long `import()` took, in
 * wall time and in CPU time (`process.cpuUsage()`, all of the child's threads). The target
 * is held to the CPU ratio: on a loaded machine wall time mostly measures the scheduler,
 * while a Lambda sandbox's init is the import's own work.
 * Handlers build their runtime on the first invocation, so the import is the cold start;
 * the function's process then also invokes its handler once with an event for its first
 * route, DynamoDB pointing at a closed loopback port and no retries, and reports how long
 * that first invocation (building the runtime, until the first I/O fails or the route
 * answers) took. Runs alternate between the two bundles.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, symlink } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { build, type BuildOptions, type Metafile } from 'esbuild';
import ts from 'typescript';
import { FUNCTIONS, ROUTES, type FunctionDefinition } from '../functions/routes.js';
import { localEnv } from '../shared/config.js';
import { summarize, type Summary } from './stats.js';
import { apiEvent } from './support.js';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const NODE = join(REPO_ROOT, 'node_modules/.bin/node');
/** infra/sso-function.ts's banner: esbuild's ESM output cannot `require` CommonJS dependencies without it. */
const REQUIRE_SHIM = "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);";
const RESULT_PREFIX = '@@bench ';

/** NodejsFunction's bundling options (infra/sso-function.ts). */
const BUNDLING: BuildOptions = {
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node22',
  mainFields: ['module', 'main'],
  banner: { js: REQUIRE_SHIM },
  minify: true,
  sourcemap: true,
  sourcesContent: false,
  external: ['@aws-sdk/*'],
  metafile: true,
  logLevel: 'silent',
};

export interface ColdStartCase {
  id: string;
  bundleKb: number;
  depsBundleKb: number;
  /** Bytes of node_modules code in each bundle: the baseline should hold what the function holds. */
  thirdPartyKb: { fn: number; deps: number };
  /** Wall time of `import()`. */
  importMs: Summary;
  depsImportMs: Summary;
  wallRatio: number;
  /** CPU time of `import()`. */
  importCpuMs: Summary;
  depsImportCpuMs: Summary;
  /** Median CPU time, function over deps-only: what the target is held to. */
  ratio: number;
  firstInvokeMs: Summary;
  /** What the first invocation answered (its route, with DynamoDB unreachable). */
  firstInvokeStatus: number;
}

const kb = (bytes: number) => Math.round(bytes / 102.4) / 10;
const isThirdParty = (specifier: string) => !specifier.startsWith('.') && !specifier.startsWith('node:') && !builtinModules.includes(specifier);

/** The third-party imports of one first-party source file, as import statements of a generated entry. */
function thirdPartyImports(file: string, source: string, names: { next(): string }): { statements: string[]; bindings: string[] } {
  const statements: string[] = [];
  const bindings: string[] = [];
  for (const node of ts.createSourceFile(file, source, ts.ScriptTarget.Latest).statements) {
    if (!ts.isImportDeclaration(node) || !ts.isStringLiteral(node.moduleSpecifier) || !isThirdParty(node.moduleSpecifier.text)) continue;
    const from = JSON.stringify(node.moduleSpecifier.text);
    const clause = node.importClause;
    if (clause === undefined) statements.push(`import ${from};`);
    if (clause === undefined || clause.isTypeOnly) continue;
    const bind = () => {
      const local = names.next();
      bindings.push(local);
      return local;
    };
    if (clause.name) statements.push(`import ${bind()} from ${from};`);
    const named = clause.namedBindings;
    if (named && ts.isNamespaceImport(named)) statements.push(`import * as ${bind()} from ${from};`);
    if (named && ts.isNamedImports(named)) {
      for (const element of named.elements.filter((one) => !one.isTypeOnly)) {
        statements.push(`import { ${(element.propertyName ?? element.name).text} as ${bind()} } from ${from};`);
      }
    }
  }
  return { statements, bindings };
}

/** An entry importing exactly what the function's own modules import from packages, all kept alive. */
async function thirdPartyEntry(metafile: Metafile): Promise<string> {
  let counter = 0;
  const names = { next: () => `d${counter++}` };
  const statements: string[] = [];
  const bindings: string[] = [];
  for (const input of Object.keys(metafile.inputs).filter((path) => !path.includes('node_modules/'))) {
    const found = thirdPartyImports(input, await readFile(join(REPO_ROOT, input), 'utf8'), names);
    statements.push(...found.statements);
    bindings.push(...found.bindings);
  }
  return `${statements.join('\n')}\nexport const dependencies = [${bindings.join(', ')}];\n`;
}

const thirdPartyBytes = (metafile: Metafile) =>
  Object.values(metafile.outputs)
    .flatMap((output) => Object.entries(output.inputs))
    .filter(([path]) => path.includes('node_modules/'))
    .reduce((sum, [, input]) => sum + input.bytesInOutput, 0);

interface Bundles {
  fn: string;
  deps: string;
  fnBytes: number;
  depsBytes: number;
  fnMeta: Metafile;
  depsMeta: Metafile;
}

async function bundle(definition: FunctionDefinition, outDir: string): Promise<Bundles> {
  const fn = join(outDir, `${definition.id}.mjs`);
  const deps = join(outDir, `${definition.id}-deps.mjs`);
  const fnBuild = await build({ ...BUNDLING, absWorkingDir: REPO_ROOT, entryPoints: [join(REPO_ROOT, definition.entry)], outfile: fn });
  const depsBuild = await build({
    ...BUNDLING,
    absWorkingDir: REPO_ROOT,
    stdin: { contents: await thirdPartyEntry(fnBuild.metafile!), resolveDir: REPO_ROOT, sourcefile: `${definition.id}-deps.mjs`, loader: 'js' },
    outfile: deps,
  });
  return { fn, deps, fnBytes: (await stat(fn)).size, depsBytes: (await stat(deps)).size, fnMeta: fnBuild.metafile!, depsMeta: depsBuild.metafile! };
}

/** The child's script: import the bundle, optionally invoke its handler once, print the timings. */
const CHILD = `
const [path, invoke] = process.argv.slice(1);
const cpu = process.cpuUsage();
const start = performance.now();
const module = await import(path);
const importMs = performance.now() - start;
const used = process.cpuUsage(cpu);
const importCpuMs = (used.user + used.system) / 1000;
let firstInvokeMs = null, status = null;
if (invoke) {
  const { event, context } = JSON.parse(invoke);
  const begun = performance.now();
  const result = await module.handler(event, { ...context, getRemainingTimeInMillis: () => 10000 });
  firstInvokeMs = performance.now() - begun;
  status = result.statusCode;
}
console.log(${JSON.stringify(RESULT_PREFIX)} + JSON.stringify({ importMs, importCpuMs, firstInvokeMs, status }));
`;

interface ChildResult {
  importMs: number;
  importCpuMs: number;
  firstInvokeMs: number | null;
  status: number | null;
}

async function runChild(bundlePath: string, env: NodeJS.ProcessEnv, invoke?: string): Promise<ChildResult> {
  const args = ['--enable-source-maps', '--input-type=module', '-e', CHILD, pathToFileURL(bundlePath).href, ...(invoke ? [invoke] : [])];
  const { stdout } = await promisify(execFile)(NODE, args, { env, maxBuffer: 16 * 1024 * 1024 });
  const line = stdout.split('\n').find((one) => one.startsWith(RESULT_PREFIX));
  if (line === undefined) throw new Error(`no result from ${bundlePath}:\n${stdout}`);
  return JSON.parse(line.slice(RESULT_PREFIX.length)) as ChildResult;
}

/** A loopback port nothing listens on: DynamoDB calls fail at once with ECONNREFUSED. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

/** The first route of the function as an event, path parameters filled in, plus a Lambda context; none for a function without routes. */
function firstInvocation(definition: FunctionDefinition): string | undefined {
  // A scheduled function (DailyCheck) has no route: its cold start is its import alone.
  const route = ROUTES.find((one) => one.functionId === definition.id);
  if (route === undefined) return undefined;
  const parameters = Object.fromEntries([...route.path.matchAll(/\{(\w+)\}/g)].map(([, name]) => [name!, 'bench-org']));
  const event = apiEvent({ method: route.method === 'GET' ? 'GET' : 'POST', route: route.path, pathParameters: parameters, ...(route.method === 'GET' ? {} : { form: {} }) });
  const context = { functionName: definition.id, functionVersion: '$LATEST', awsRequestId: 'cold', memoryLimitInMB: '512', invokedFunctionArn: `arn:aws:lambda:local:0:function:${definition.id}` };
  return JSON.stringify({ event, context });
}

export async function benchColdStart(runs: number): Promise<ColdStartCase[]> {
  const outDir = await mkdtemp(join(tmpdir(), 'sso-jit-bench-'));
  try {
    // The bundles leave `@aws-sdk/*` to the runtime: resolve it from the project, as Lambda's runtime provides it.
    await symlink(join(REPO_ROOT, 'node_modules'), join(outDir, 'node_modules'), 'dir');
    const env = {
      PATH: process.env.PATH,
      ...localEnv({ baseUrl: 'https://sso.bench.example', tablePrefix: 'bench-cold', dynamodbEndpoint: `http://127.0.0.1:${await closedPort()}`, sessionKeyFile: join(outDir, 'session-keys.json') }),
      AWS_MAX_ATTEMPTS: '1',
    };
    const definitions = Object.values(FUNCTIONS) as FunctionDefinition[];
    const bundles = new Map<string, Bundles>();
    for (const definition of definitions) bundles.set(definition.id, await bundle(definition, outDir));

    const runsOf = new Map(definitions.map((definition) => [definition.id, { fn: [] as ChildResult[], deps: [] as ChildResult[] }]));
    for (let run = 0; run < runs; run += 1) {
      for (const definition of definitions) {
        const { fn, deps } = bundles.get(definition.id)!;
        const results = runsOf.get(definition.id)!;
        const order = run % 2 === 0 ? (['fn', 'deps'] as const) : (['deps', 'fn'] as const);
        for (const which of order) {
          results[which].push(await runChild(which === 'fn' ? fn : deps, env, which === 'fn' ? firstInvocation(definition) : undefined));
        }
      }
    }
    return definitions.map((definition) => coldStartCase(definition, bundles.get(definition.id)!, runsOf.get(definition.id)!));
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
}

function coldStartCase(definition: FunctionDefinition, bundles: Bundles, results: { fn: ChildResult[]; deps: ChildResult[] }): ColdStartCase {
  const importMs = summarize(results.fn.map((one) => one.importMs));
  const depsImportMs = summarize(results.deps.map((one) => one.importMs));
  const importCpuMs = summarize(results.fn.map((one) => one.importCpuMs));
  const depsImportCpuMs = summarize(results.deps.map((one) => one.importCpuMs));
  return {
    id: definition.id,
    bundleKb: kb(bundles.fnBytes),
    depsBundleKb: kb(bundles.depsBytes),
    thirdPartyKb: { fn: kb(thirdPartyBytes(bundles.fnMeta)), deps: kb(thirdPartyBytes(bundles.depsMeta)) },
    importMs,
    depsImportMs,
    wallRatio: importMs.median / depsImportMs.median,
    importCpuMs,
    depsImportCpuMs,
    ratio: importCpuMs.median / depsImportCpuMs.median,
    firstInvokeMs: summarize(results.fn.map((one) => one.firstInvokeMs ?? Number.NaN)),
    firstInvokeStatus: results.fn[0]?.status ?? 0,
  };
}
