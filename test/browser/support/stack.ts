/**
 * Starts the real local stack (`tsx local/start.ts`, what `npm start` runs) as a child
 * process on free ports, with the console built into a temp dir, and reads what it
 * prints: the API base URL, the DynamoDB endpoint, the demo admin token and the console
 * sign-in link. Used by the browser tests' globalSetup and by `npm run screenshots`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url));

/** What the browser tests get (through vitest's provide/inject). */
export interface StackInfo {
  baseUrl: string;
  dynamodbEndpoint: string;
  port: number;
  /** The demo org's admin (admin@demo.example) bearer token. */
  adminToken: string;
  /** The one-time console sign-in link `npm start` printed for the demo admin. */
  consoleLink: string;
}

export interface RunningStack extends StackInfo {
  /** Everything the child printed so far (stdout and stderr). */
  output(): string;
  stop(): Promise<void>;
}

const READY = 'Ctrl-C stops everything.';
const START_TIMEOUT_MS = 120_000;

/** A port nobody listens on right now (the OS picks it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** The value printed after `label` on its line, up to the first space. */
function printed(output: string, label: string): string {
  const match = new RegExp(`^\\s*${label}\\s+(\\S+)`, 'm').exec(output);
  if (!match?.[1]) throw new Error(`the local stack did not print "${label}"`);
  return match[1];
}

/** Parses what `npm start` prints once it is ready. */
export function parseStackOutput(output: string): Omit<StackInfo, 'port'> {
  const consoleLink = /\(sign in: (http\S+\/console\/login\?token=[\w-]+)\)/.exec(output)?.[1];
  if (!consoleLink) throw new Error('the local stack did not print a console sign-in link');
  return {
    baseUrl: printed(output, 'API'),
    dynamodbEndpoint: printed(output, 'DynamoDB'),
    adminToken: printed(output, 'Admin token'),
    consoleLink,
  };
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

/** Spawns the stack and resolves once it printed its ready line; rejects with its output otherwise. */
export async function startLocalStack(): Promise<RunningStack> {
  const [port, dynamodbPort, oidcPort] = [await freePort(), await freePort(), await freePort()];
  const consoleDir = mkdtempSync(join(tmpdir(), 'sso-jit-console-'));
  const child = spawn(process.execPath, [join(REPO_ROOT, 'node_modules/tsx/dist/cli.mjs'), 'local/start.ts'], {
    cwd: REPO_ROOT,
    env: { ...process.env, PORT: String(port), DYNAMODB_PORT: String(dynamodbPort), OIDC_PORT: String(oidcPort), CONSOLE_DIR: consoleDir },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group: DynamoDB Local (java) goes down with it.
    detached: true,
  });
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      killGroup(child, 'SIGTERM');
      const timer = setTimeout(() => killGroup(child, 'SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    // DynamoDB Local may outlive its parent by a moment: end the rest of the group.
    killGroup(child, 'SIGKILL');
    rmSync(consoleDir, { recursive: true, force: true });
  };

  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the local stack did not print "${READY}" within ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS);
      const check = () => {
        if (output.includes(READY)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout!.on('data', check);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`the local stack exited (${signal ?? `code ${code}`}) before it was ready`));
      });
    });
    return { ...parseStackOutput(output), port, output: () => output, stop };
  } catch (error) {
    await stop();
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n--- local stack output ---\n${output}`);
  }
}
