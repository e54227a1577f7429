/**
 * Summarises V8 `.cpuprofile` files (from `node --cpu-prof`): self time by area of the
 * login (HTTP, body parsing, XML and signatures, validation, SDK marshalling, session
 * signing, audit and logs, …) and the top functions. A profiling aid, not a benchmark.
 *
 *   npx tsx bench/profile/summary.ts /tmp/prof/*.cpuprofile [--top 25] [--from-ms 0]
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  startTime: number;
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/**
 * First match wins: the area a sample is charged to, by the innermost frame of its stack
 * that belongs to the application or a package (node internals and native frames are
 * charged to whoever called them: an RSA verify to the verifier, a hash to its caller).
 * Stacks without such a frame go by their innermost node-internal module.
 */
const AREAS: [string, RegExp][] = [
  ['SAML: XML parse (xmldom)', /@xmldom\/xmldom/],
  ['SAML: signature (c14n, digest, RSA verify)', /xml-crypto|\/xpath\/|shared\/saml\/(signature|idp-keys|samlify)\.ts/],
  ['SAML: samlify', /samlify|@authenio|node-rsa|node-forge/],
  ['SAML: structure and assertion checks (shared/saml)', /shared\/saml\//],
  ['session token signing (jose, shared/sessions)', /\/jose\/|shared\/sessions\//],
  ['DynamoDB SDK (marshalling, SigV4, HTTP client)', /@aws-sdk|@smithy|lib-dynamodb|fast-xml-parser|bowser|uuid/],
  ['storage adapters (shared/storage)', /shared\/storage\//],
  ['audit, logs, metrics (powertools, shared/audit)', /@aws-lambda-powertools|shared\/audit\//],
  ['settings (zod, cache, shared/settings)', /\/zod\/|shared\/settings\//],
  ['login, provisioning, users (shared/)', /shared\//],
  ['HTTP adapter: body parsing, responses (functions/http)', /functions\/http\//],
  ['middy and handlers (functions/)', /@middy|\/functions\//],
  ['local server: HTTP to API Gateway events (local/)', /\/local\//],
  ['bench driver', /\/bench\//],
  ['tsx loader', /tsx|esbuild/],
  ['node: HTTP server and fetch (undici)', /_http_|node:http|node:net|undici|node:internal\/deps\/undici|node:internal\/(http|net|dns)/],
  ['node: crypto', /node:crypto|node:internal\/crypto/],
  ['node: streams, buffers, timers, events, url', /node:/],
];

const isApplication = (url: string) => url !== '' && !url.startsWith('node:');

/** `fromMs`: ignore the samples taken in the first milliseconds of the profile (a process's start-up). */
function summarise(path: string, top: number, fromMs: number): void {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const self = new Map<number, number>();
  let elapsed = 0;
  profile.samples.forEach((id, index) => {
    elapsed += profile.timeDeltas[index] ?? 0;
    if (elapsed >= fromMs * 1000) self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0));
  });
  const areaOf = (id: number): string => {
    let firstNode: string | undefined;
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const { url, functionName } = byId.get(at)!.callFrame;
      if (at === id && url === '' && /^\((idle|garbage collector|program)\)$/.test(functionName)) return functionName;
      if (isApplication(url)) return AREAS.find(([, pattern]) => pattern.test(url))?.[0] ?? `other package: ${url.replace(/^.*node_modules\//, '').split('/')[0]}`;
      if (firstNode === undefined && url.startsWith('node:')) firstNode = url;
    }
    return firstNode === undefined ? 'native, no JS caller' : (AREAS.find(([, pattern]) => pattern.test(firstNode!))?.[0] ?? firstNode);
  };
  const areas = new Map<string, number>();
  const functions = new Map<string, number>();
  for (const [id, time] of self) {
    const area = areaOf(id);
    areas.set(area, (areas.get(area) ?? 0) + time);
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const name = `${functionName || '(anonymous)'} ${url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*?\/(shared|functions|local|bench)\//, '$1/')}:${lineNumber + 1}`;
    functions.set(name, (functions.get(name) ?? 0) + time);
  }
  const total = [...self.values()].reduce((sum, time) => sum + time, 0);
  const busy = total - (areas.get('(idle)') ?? 0);
  const pct = (time: number) => `${((100 * time) / busy).toFixed(1).padStart(5)}%`;
  console.log(`${path}\n  busy ${(busy / 1000).toFixed(0)} ms of ${(total / 1000).toFixed(0)} ms sampled; shares of busy time (idle excluded)\n`);
  for (const [area, time] of [...areas].sort((a, b) => b[1] - a[1])) if (area !== '(idle)') console.log(`  ${pct(time)}  ${area}`);
  console.log(`\n  top ${top} functions by self time:`);
  for (const [name, time] of [...functions].filter(([name]) => !name.startsWith('(idle)')).sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${pct(time)}  ${name}`);
  console.log('');
}

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : fallback);
const values = new Set(['--top', '--from-ms'].map((name) => args.indexOf(name) + 1).filter((index) => index > 0));
for (const path of args.filter((arg, index) => !arg.startsWith('--') && !values.has(index))) summarise(path, option('--top', 25), option('--from-ms', 0));
