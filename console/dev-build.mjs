#!/usr/bin/env node
/**
 * A development build of the console, for looking at it locally: bundles main.tsx and
 * styles.css with the settings scripts/build-console.ts uses (esbuild, JSX automatic,
 * jsxImportSource preact), without hashing, and writes an index.html beside them.
 * Fails on any esbuild warning. The real build (hashed assets, served by the Console
 * function) is scripts/build-console.ts.
 *
 *   node console/dev-build.mjs [outdir]        # default /tmp/console-out
 */
import { writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const outdir = resolve(process.argv[2] ?? '/tmp/console-out');

const result = await build({
  entryPoints: [join(here, 'main.tsx'), join(here, 'styles.css')],
  bundle: true,
  format: 'esm',
  target: 'es2022',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  outdir: join(outdir, 'assets'),
  sourcemap: true,
  logLevel: 'warning',
  metafile: true,
});
if (result.warnings.length > 0) {
  console.error(`${result.warnings.length} esbuild warning(s)`);
  process.exit(1);
}

await writeFile(
  join(outdir, 'index.html'),
  `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>sso-jit console</title>
    <link rel="stylesheet" href="/console/assets/styles.css" />
    <script type="module" src="/console/assets/main.js"></script>
  </head>
  <body>
    <div id="app"></div>
  </body>
</html>
`,
);
const bytes = Object.entries(result.metafile.outputs)
  .filter(([file]) => !file.endsWith('.map'))
  .reduce((sum, [, output]) => sum + output.bytes, 0);
console.log(`console built into ${outdir} (${Math.round(bytes / 1024)} kB, unminified)`);
