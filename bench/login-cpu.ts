/**
 * Server CPU per whole login over HTTP on the local stack, against node-saml on the same
 * responses (issue 12, DESIGN.md "Performance budgets").
 *
 * The stack is `npm start` itself (local/start.ts, in its own Node process, with its own
 * DynamoDB Local): the server's CPU time is read from /proc/<pid>/stat (utime + stime of
 * that one process, so DynamoDB Local's JVM, a child process, is not in it) around a burst
 * of logins; nothing is subtracted. The responses are signed beforehand in this process by
 * the demo org's development IdP (its key is in the git-ignored .local folder), and posted
 * with a bounded concurrency. Then node-saml's `validatePostResponseAsync` validates the
 * very same responses here, timed with `process.cpuUsage()`.
 *
 * Two bursts: first logins (every user created by JIT), then returning users (the same
 * users again, each with a fresh response). Both after a warm-up of both kinds.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { SAML, ValidateInResponseTo } from '@node-saml/node-saml';
import { devIdpEntityId } from '../local/dev-idp.js';
import { buildSignedLoginResponse, type SamlIdpKeys } from '../local/saml-idp.js';
import { orgUrls } from '../shared/settings/urls.js';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const DEMO_ORG = 'demo';
const READY_LINE = 'Ctrl-C stops everything.';
const START_TIMEOUT_MS = 180_000;
/** Clock ticks per second of /proc/<pid>/stat (USER_HZ, 100 on Linux). */
const CLOCK_TICKS = 100;

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
    env: { ...process.env, PORT: String(port), OIDC_PORT: String(await freePort()), DYNAMODB_PORT: '0', BASE_URL: baseUrl, HOST: '127.0.0.1' },
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

async function postLogin(baseUrl: string, SAMLResponse: string): Promise<number | string> {
  try {
    const answer = await fetch(`${baseUrl}/sso/${DEMO_ORG}/saml/acs`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({ SAMLResponse }).toString(),
    });
    await answer.arrayBuffer();
    return answer.status;
  } catch (error) {
    return `network error: ${error instanceof Error ? error.message : String(error)}`;
  }
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
      const status = await postLogin(stack.baseUrl, responses[next++]!);
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

/** node-saml as an integrator would configure it for the demo org (assertion signed), warmed up, then timed on `responses`. */
async function nodeSamlCpuMs(idp: SamlIdpKeys, baseUrl: string, warmup: readonly string[], responses: readonly string[]): Promise<number> {
  const urls = orgUrls(baseUrl, DEMO_ORG);
  const saml = new SAML({
    idpCert: idp.certificatePem,
    idpIssuer: idp.entityId,
    issuer: urls.spEntityId,
    audience: urls.spEntityId,
    callbackUrl: urls.acsUrl,
    validateInResponseTo: ValidateInResponseTo.never,
    acceptedClockSkewMs: 60_000,
    wantAssertionsSigned: true,
    wantAuthnResponseSigned: false,
  });
  const validate = async (SAMLResponse: string) => {
    const { profile } = await saml.validatePostResponseAsync({ SAMLResponse });
    if (!profile?.nameID) throw new Error('node-saml returned no profile');
  };
  for (const response of warmup) await validate(response);
  const cpu = process.cpuUsage();
  for (const response of responses) await validate(response);
  const used = process.cpuUsage(cpu);
  return (used.user + used.system) / 1000 / responses.length;
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
  const stack = await startLocalStack();
  try {
    const startCpuMs = processCpuMs(stack.pid);
    const sign = signer(stack);

    const warmUsers = users('warm', options.warmup);
    const measuredUsers = users('bench', options.logins);
    const warmFirst = sign(warmUsers);
    const warmReturning = sign(warmUsers);
    const first = sign(measuredUsers);
    const returning = sign(measuredUsers);

    await burst(stack, warmFirst, options.concurrency);
    await burst(stack, warmReturning, options.concurrency);
    const firstBurst = await burst(stack, first, options.concurrency);
    const returningBurst = await burst(stack, returning, options.concurrency);
    await stack.stop();

    const nodeSamlFirst = await nodeSamlCpuMs(stack.idp, stack.baseUrl, [...warmFirst, ...warmReturning], first);
    const nodeSamlReturning = await nodeSamlCpuMs(stack.idp, stack.baseUrl, warmFirst, returning);
    const figures = (measured: typeof firstBurst, count: number, nodeSaml: number): LoginBurstCpu => {
      const serverCpuMs = measured.cpuMs / count;
      return { logins: count, serverCpuMs, serverSystemCpuMs: measured.systemCpuMs / count, wallMs: measured.wallMs, errors: measured.errors, nodeSamlCpuMs: nodeSaml, ratio: serverCpuMs / nodeSaml };
    };
    return {
      firstLogin: figures(firstBurst, first.length, nodeSamlFirst),
      returning: figures(returningBurst, returning.length, nodeSamlReturning),
      startCpuMs,
    };
  } finally {
    await stack.stop();
  }
}
