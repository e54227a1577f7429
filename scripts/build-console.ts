/**
 * `npm run build:console`: builds the admin console with esbuild. The TypeScript/JSX app
 * (`console/main.tsx`, JSX for Preact) and its stylesheet (`console/styles.css`) become
 * one hashed, minified script and one hashed stylesheet in `dist/console/assets/`, and
 * `dist/console/index.html` loads them (no inline script or style: the console's CSP
 * allows none). The Console function serves that folder; `npm start` calls
 * `buildConsole()`, and CDK runs this script while bundling the Console function, into
 * the bundle's own `console/` folder.
 *
 *   tsx scripts/build-console.ts [--entry console/main.tsx] [--css console/styles.css] [--out dist/console]
 */
import { build, type BuildOptions, type Metafile } from 'esbuild';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { CONSOLE_ASSETS_PATH } from '../functions/http/console-app.js';

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The app's sources and where the build goes, by default. */
export const CONSOLE_BUILD_DEFAULTS = {
  entry: join(REPO_ROOT, 'console', 'main.tsx'),
  css: join(REPO_ROOT, 'console', 'styles.css'),
  outDir: join(REPO_ROOT, 'dist', 'console'),
} as const;

export interface BuildConsoleOptions {
  /** The app's entry (default `console/main.tsx`). */
  entry?: string;
  /** The stylesheet entry (default `styles.css` beside the entry). */
  css?: string;
  /** The build folder, emptied first (default `dist/console`). */
  outDir?: string;
}

export interface ConsoleBuild {
  outDir: string;
  /** File names in `assets/`: the script `index.html` loads, and its stylesheets. */
  script: string;
  stylesheets: string[];
}

/** A console that cannot be built: says which file is missing or what esbuild refused. */
export class ConsoleBuildError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ConsoleBuildError';
  }
}

/** The app shell: loads the hashed files, renders into `#app`; nothing inline. */
export function indexHtml(script: string, stylesheets: readonly string[]): string {
  const lines = [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<title>sso-jit admin console</title>',
    '<link rel="icon" href="data:,">',
    ...stylesheets.map((name) => `<link rel="stylesheet" href="${CONSOLE_ASSETS_PATH}${name}">`),
    `<script type="module" src="${CONSOLE_ASSETS_PATH}${script}"></script>`,
    '</head>',
    '<body>',
    '<div id="app"></div>',
    '<noscript>The admin console needs JavaScript.</noscript>',
    '</body>',
    '</html>',
    '',
  ];
  return lines.join('\n');
}

const outputNames = (metafile: Metafile | undefined, extension: string): string[] =>
  Object.keys(metafile?.outputs ?? {})
    .filter((path) => path.endsWith(extension))
    .map((path) => basename(path));

/**
 * Builds the console into `outDir` and returns the names of what it wrote.
 * @throws ConsoleBuildError when a source file is missing or does not compile
 * @example await buildConsole({ entry: 'fixture/main.tsx', css: 'fixture/styles.css', outDir: '/tmp/console' })
 */
export async function buildConsole(options: BuildConsoleOptions = {}): Promise<ConsoleBuild> {
  const entry = resolve(options.entry ?? CONSOLE_BUILD_DEFAULTS.entry);
  const css = resolve(options.css ?? join(dirname(entry), 'styles.css'));
  const outDir = resolve(options.outDir ?? CONSOLE_BUILD_DEFAULTS.outDir);
  for (const source of [entry, css]) {
    if (!existsSync(source)) {
      throw new ConsoleBuildError(`${source} does not exist: the admin console is built from ${entry} and ${css}`);
    }
  }
  const assetsDir = join(outDir, 'assets');
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(assetsDir, { recursive: true });
  const common = {
    bundle: true,
    minify: true,
    write: true,
    metafile: true,
    outdir: assetsDir,
    entryNames: 'app-[hash]',
    assetNames: '[name]-[hash]',
    legalComments: 'none',
    logLevel: 'silent',
    platform: 'browser',
    target: ['es2022', 'chrome111', 'firefox111', 'safari16'],
    // Resolved from this checkout's packages wherever the entry is (fixtures in a temp folder too).
    nodePaths: [join(REPO_ROOT, 'node_modules')],
    loader: { '.svg': 'file', '.png': 'file', '.woff2': 'file', '.woff': 'file' },
  } satisfies BuildOptions;
  try {
    const app = await build({
      ...common,
      entryPoints: [entry],
      format: 'esm',
      jsx: 'automatic',
      jsxImportSource: 'preact',
      define: { 'process.env.NODE_ENV': '"production"' },
    });
    const styles = await build({ ...common, entryPoints: [css] });
    const [script, ...others] = outputNames(app.metafile, '.js');
    if (!script || others.length > 0) throw new ConsoleBuildError(`expected one script from ${entry}, got ${others.length + (script ? 1 : 0)}`);
    // A stylesheet the app imports itself comes out of the first build; the CSS entry out of the second.
    const stylesheets = [...new Set([...outputNames(app.metafile, '.css'), ...outputNames(styles.metafile, '.css')])];
    writeFileSync(join(outDir, 'index.html'), indexHtml(script, stylesheets));
    return { outDir, script, stylesheets };
  } catch (error) {
    if (error instanceof ConsoleBuildError) throw error;
    throw new ConsoleBuildError(`the admin console did not build: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

/** The command line: `--entry`, `--css`, `--out`; prints what it wrote, exits 1 on failure. */
async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { entry: { type: 'string' }, css: { type: 'string' }, out: { type: 'string' } } });
  try {
    const result = await buildConsole({ entry: values.entry, css: values.css, outDir: values.out });
    const where = relative(process.cwd(), result.outDir);
    process.stdout.write(`console built in ${where && !where.startsWith('..') ? where : result.outDir}: ${[result.script, ...result.stylesheets].join(', ')}\n`);
  } catch (error) {
    process.stderr.write(`build-console: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) await main(process.argv.slice(2));
