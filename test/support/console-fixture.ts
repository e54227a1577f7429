/**
 * A tiny stand-in for the admin console's sources (`console/main.tsx` is the console
 * app's own, built elsewhere): a Preact component and a stylesheet, written to a temp
 * folder at test time, so the build script, the Console function and the CDK bundling
 * are tested on a real build without depending on the app.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A marker the fixture's script carries, to recognise it in a build. */
export const FIXTURE_MARKER = 'sso-jit console fixture';

export interface ConsoleFixture {
  dir: string;
  entry: string;
  css: string;
}

export function writeConsoleFixture(): ConsoleFixture {
  const dir = mkdtempSync(join(tmpdir(), 'sso-jit-console-src-'));
  const entry = join(dir, 'main.tsx');
  const css = join(dir, 'styles.css');
  writeFileSync(
    entry,
    [
      "import { render } from 'preact';",
      "import { useState } from 'preact/hooks';",
      'function App() {',
      '  const [count, setCount] = useState(0);',
      `  return <main><h1>${FIXTURE_MARKER}</h1><button onClick={() => setCount(count + 1)}>Clicked {count}</button></main>;`,
      '}',
      "render(<App />, document.getElementById('app')!);",
      '',
    ].join('\n'),
  );
  writeFileSync(css, 'main { font-family: system-ui, sans-serif; }\nh1 { font-size: 1.4rem; }\n');
  return { dir, entry, css };
}
