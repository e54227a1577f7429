/**
 * Server CPU per whole login over HTTP on the local stack, against node-saml on the same
 * responses (issue 12, DESIGN.md "Performance budgets").
 *
 * The stack is `npm start` itself (local/start.ts, in its own Node process, with its own
 * DynamoDB Local): the server's CPU time is read from /proc/<pid>/stat (utime + stime of
 * that one process, so DynamoDB Local's JVM, a child process, is not in it) around a burst
 * of logins; nothing is subtracted. The responses are signed beforehand in this process by
 * the demo org's development IdP (its key is in the git-ignored .local folder), and posted
 * with a bounded concurrency. node-saml's `validatePostResponseAsync` validates the very
 * same responses here, timed with `process.cpuUsage()`, taking turns with the server
 * chunk by chunk.
 *
 * Two bursts: first logins (every user created by JIT), then returning users (the same
 * users again, each with a fresh response). Both after a warm-up of both kinds.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { devIdpEntityId } from '../local/dev-idp.js';
import { buildSignedLoginResponse, type SamlIdpKeys } from '../local/saml-idp.js';
import { orgUrls } from '../shared/settings/urls.js';
import { nodeSamlFor, postLoginForm } from './support.js';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const DEMO_ORG = 'demo';
const READY_LINE = 'Ctrl-C stops everything.';
const START_TIMEOUT_MS = 180_000;
/** Clock ticks per second of /proc/<pid>/stat (USER_HZ, 100 on Linux). */
const CLOCK_TICKS = 100;
/** Logins per turn when the server and node-saml take turns. */
const CHUNK = 50;

export interface LoginCpuOptions {
  /** Logins per measured burst (first logins, then as many returning ones). */
  logins: number;
  /** Logins of each kind before measuring. */
  warmup: number;
  /** Requests in flight at once. */
  concurrency: number;
}

export interface LoginBurstCpu {
  logins: number;
  /** Server process CPU (user + system) per login. */
  serverCpuMs: number;
  /** Of which system (kernel) time: sockets to the client and to DynamoDB Local, pipes for the logs. */
  serverSystemCpuMs: number;
  wallMs: number;
  /** Answers other than the ACS's 302, by status. */
  errors: Record<string, number>;
  /** node-saml `validatePostResponseAsync` CPU per response, on the same responses. */
  nodeSamlCpuMs: number;
  ratio: number;
}

export interface LoginCpuResult {
  firstLogin: LoginBurstCpu;
  returning: LoginBurstCpu;
  /** Server CPU of the stack's start, import to ready (console build and seeding included). */
  startCpuMs: number;
}

async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? done(address.port) : fail(new Error('no port'))));
    });
  });
}

/** utime and stime of one process, in milliseconds. */
function processCpu(pid: number): { user: number; system: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces; the fields after its closing parenthesis are fixed.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: (Number(fields[11]) * 1000) / CLOCK_TICKS, system: (Number(fields[12]) * 1000) / CLOCK_TICKS };
}

const processCpuMs = (pid: number): number => {
  const { user, system } = processCpu(pid);
  return user + system;
};

export interface LocalStack {
  baseUrl: string;
  pid: number;
  idp: SamlIdpKeys;
  /** When the process was spawned (`performance.now()` of this process). */
  spawnedAt: number;
  stop(): Promise<void>;
}

/**
 * `npm start` (local/start.ts under tsx) on free ports, until it prints that it is ready.
 * @param nodeArgs extra Node options for the server process (`--cpu-prof` to profile it)
 */
export async function startLocalStack(nodeArgs: readonly string[] = []): Promise<LocalStack> {
  const port = await freePort();
  const baseUrl = `http://localhost:${port}`;
  const spawnedAt = performance.now();
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', 'local/start.ts'], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      PORT: String(port),
      OIDC_PORT: String(await freePort()),
      DYNAMODB_PORT: '0',
      BASE_URL: baseUrl,
      HOST: '127.0.0.1',
      // A loaded 2-core machine can keep DynamoDB Local's JVM busy for seconds while it starts
      // (3 attempts of 2 s with backoff stay within the config's 10 s bound).
      DYNAMODB_REQUEST_TIMEOUT_MS: process.env.DYNAMODB_REQUEST_TIMEOUT_MS ?? '2000',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  let output = '';
  await new Promise<void>((ready, fail) => {
    const timer = setTimeout(() => fail(new Error(`npm start did not get ready in ${START_TIMEOUT_MS / 1000} s:\n${output.slice(-2000)}`)), START_TIMEOUT_MS);
    const watch = (chunk: Buffer) => {
      // The server logs a line per request: keep only the start-up text, and keep draining.
      if (output.length < 64 * 1024) output += chunk.toString();
      if (output.includes(READY_LINE)) {
        clearTimeout(timer);
        ready();
      }
    };
    child.stdout!.on('data', watch);
    child.stderr!.on('data', watch);
    child.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`npm start exited (${code}) before it was ready:\n${output.slice(-2000)}`));
    });
  });
  const idp = JSON.parse(await readFile(`${REPO_ROOT}.local/dev-idp.json`, 'utf8')) as SamlIdpKeys;
  if (idp.entityId !== devIdpEntityId(baseUrl, DEMO_ORG)) throw new Error(`the development IdP key is for ${idp.entityId}, not this stack`);
  let stopping: Promise<void> | undefined;
  return {
    baseUrl,
    pid: child.pid!,
    idp,
    spawnedAt,
    stop: () =>
      (stopping ??= (async () => {
        // local/start.ts stops its server, its DynamoDB Local and its OIDC provider on SIGINT.
        child.kill('SIGINT');
        const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
        await exited;
        clearTimeout(timer);
      })()),
  };
}

/** Posts every response, `concurrency` at a time; the server's CPU and the wall time of the whole burst. */
export async function burst(
  stack: LocalStack,
  responses: readonly string[],
  concurrency: number,
): Promise<{ cpuMs: number; systemCpuMs: number; wallMs: number; errors: Record<string, number> }> {
  const errors: Record<string, number> = {};
  let next = 0;
  const worker = async () => {
    while (next < responses.length) {
      const status = await postLoginForm(stack.baseUrl, DEMO_ORG, responses[next++]!);
      if (status !== 302) errors[status] = (errors[status] ?? 0) + 1;
    }
  };
  const cpu = processCpu(stack.pid);
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const wallMs = performance.now() - started;
  const after = processCpu(stack.pid);
  return { cpuMs: after.user + after.system - cpu.user - cpu.system, systemCpuMs: after.system - cpu.system, wallMs, errors };
}

/** node-saml as an integrator would configure it for the demo org (the assertion signed). */
function nodeSamlValidator(idp: SamlIdpKeys, baseUrl: string): (SAMLResponse: string) => Promise<void> {
  const saml = nodeSamlFor(idp, orgUrls(baseUrl, DEMO_ORG), { assertion: true, response: false });
  return async (SAMLResponse) => {
    const { profile } = await saml.validatePostResponseAsync({ SAMLResponse });
    if (!profile?.nameID) throw new Error('node-saml returned no profile');
  };
}

/** CPU of this process validating `responses` with node-saml, in ms. */
async function nodeSamlCpu(validate: (SAMLResponse: string) => Promise<void>, responses: readonly string[]): Promise<number> {
  const cpu = process.cpuUsage();
  for (const response of responses) await validate(response);
  const used = process.cpuUsage(cpu);
  return (used.user + used.system) / 1000;
}

/**
 * The server and node-saml take turns on chunks of the same responses, so a change in
 * the machine's load (other processes) weighs on both alike; totals over all chunks.
 */
async function interleaved(stack: LocalStack, validate: (SAMLResponse: string) => Promise<void>, responses: readonly string[], options: LoginCpuOptions) {
  const total = { cpuMs: 0, systemCpuMs: 0, wallMs: 0, nodeSamlMs: 0, errors: {} as Record<string, number> };
  for (let at = 0; at < responses.length; at += CHUNK) {
    const chunk = responses.slice(at, at + CHUNK);
    const server = await burst(stack, chunk, options.concurrency);
    total.cpuMs += server.cpuMs;
    total.systemCpuMs += server.systemCpuMs;
    total.wallMs += server.wallMs;
    for (const [status, count] of Object.entries(server.errors)) total.errors[status] = (total.errors[status] ?? 0) + count;
    total.nodeSamlMs += await nodeSamlCpu(validate, chunk);
  }
  const logins = responses.length;
  const serverCpuMs = total.cpuMs / logins;
  const nodeSamlCpuMs = total.nodeSamlMs / logins;
  return { logins, serverCpuMs, serverSystemCpuMs: total.systemCpuMs / logins, wallMs: total.wallMs, errors: total.errors, nodeSamlCpuMs, ratio: serverCpuMs / nodeSamlCpuMs };
}

/** Distinct demo-org users for one run. */
export const users = (prefix: string, count: number, run = Date.now().toString(36)): string[] =>
  Array.from({ length: count }, (_, i) => `${prefix}-${run}-${i}@demo.example`);

/** Signs a fresh login response (assertion signed, as the development IdP does) for each email. */
export function signer(stack: LocalStack): (emails: readonly string[]) => string[] {
  const { spEntityId, acsUrl } = orgUrls(stack.baseUrl, DEMO_ORG);
  return (emails) =>
    emails.map((nameId) => buildSignedLoginResponse({ idp: stack.idp, spEntityId, acsUrl, nameId, attributes: { groups: ['Engineering'], firstName: 'Ada', lastName: 'Lovelace' } }));
}

/** Starts the local stack, measures both bursts and node-saml on the same responses, stops the stack. */
export async function benchLoginCpu(options: LoginCpuOptions): Promise<LoginCpuResult> {
  // One more try when the stack does not start (DynamoDB Local slow to answer on a busy machine).
  const stack = await startLocalStack().catch((error: unknown) => {
    process.stderr.write(`[bench] npm start failed once, trying again: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}\n`);
    return startLocalStack();
  });
  try {
    const startCpuMs = processCpuMs(stack.pid);
    const sign = signer(stack);

    const warmUsers = users('warm', options.warmup);
    const measuredUsers = users('bench', options.logins);
    const warmFirst = sign(warmUsers);
    const warmReturning = sign(warmUsers);
    const first = sign(measuredUsers);
    const returning = sign(measuredUsers);

    const validate = nodeSamlValidator(stack.idp, stack.baseUrl);
    await burst(stack, warmFirst, options.concurrency);
    await burst(stack, warmReturning, options.concurrency);
    for (const response of [...warmFirst, ...warmReturning]) await validate(response);
    const firstLogin = await interleaved(stack, validate, first, options);
    const returningLogin = await interleaved(stack, validate, returning, options);
    return { firstLogin, returning: returningLogin, startCpuMs };
  } finally {
    await stack.stop();
  }
}
