/**
 * The `sso-jit` command line: creates orgs and prints session tokens, against the same
 * tables as the service. With DYNAMODB_ENDPOINT it uses a local DynamoDB and the local
 * stack's table names and signing key; without it, AWS and the table names and key
 * secret in the environment (USERS_TABLE, MAPPINGS_TABLE, AUDIT_TABLE,
 * LOGIN_STATE_TABLE, SESSION_KEY_SECRET_ARN, BASE_URL).
 */
import { parseArgs } from 'node:util';
import { createRuntime } from '../functions/runtime.js';
import { readConfig } from '../shared/config.js';
import { AppError } from '../shared/errors.js';
import { createOrg } from '../shared/settings/orgs.js';
import { normalizeEmail } from '../shared/users/model.js';
import { localStackEnv } from '../local/local-config.js';

const USAGE = `usage:
  sso-jit org create --org ID --name NAME --admin-email EMAIL
  sso-jit token --org ID --email EMAIL [--ttl SECONDS]`;

class UsageError extends Error {}

function runtimeFromEnv(env: NodeJS.ProcessEnv) {
  const config = readConfig(env.DYNAMODB_ENDPOINT ? { ...localStackEnv(env, env.DYNAMODB_ENDPOINT), ...pick(env) } : env);
  return createRuntime(config);
}

/** Explicit table or key settings win over the local defaults. */
function pick(env: NodeJS.ProcessEnv): Record<string, string> {
  const names = ['BASE_URL', 'USERS_TABLE', 'MAPPINGS_TABLE', 'AUDIT_TABLE', 'LOGIN_STATE_TABLE', 'SESSION_KEY_FILE', 'SESSION_KEY_SECRET_ARN'];
  return Object.fromEntries(names.filter((name) => env[name]).map((name) => [name, env[name]!]));
}

function required(values: Record<string, string | boolean | undefined>, name: string): string {
  const value = values[name];
  if (typeof value !== 'string' || value === '') throw new UsageError(`--${name} is required`);
  return value;
}

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const [command, sub] = argv;
  if (command === 'org' && sub === 'create') {
    const { values } = parseArgs({ args: argv.slice(2), options: { org: { type: 'string' }, name: { type: 'string' }, 'admin-email': { type: 'string' } } });
    const rt = runtimeFromEnv(env);
    const result = await createOrg(
      rt,
      { orgId: required(values, 'org'), name: required(values, 'name'), adminEmail: required(values, 'admin-email') },
      { type: 'cli', id: env.USER ?? 'cli' },
    );
    return JSON.stringify(result);
  }
  if (command === 'token') {
    const { values } = parseArgs({ args: argv.slice(1), options: { org: { type: 'string' }, email: { type: 'string' }, ttl: { type: 'string' } } });
    const ttl = values.ttl === undefined ? undefined : Number(values.ttl);
    if (ttl !== undefined && (!Number.isInteger(ttl) || ttl < 60 || ttl > 7 * 86_400)) throw new UsageError('--ttl must be whole seconds between 60 and 604800');
    const rt = runtimeFromEnv(env);
    const orgId = required(values, 'org');
    const user = await rt.users.findByEmail(orgId, normalizeEmail(required(values, 'email')));
    if (!user) throw new AppError('NOT_FOUND', `no user ${values.email} in org ${orgId}`);
    if (user.status !== 'active') throw new AppError('USER_BLOCKED', `user ${user.email} is blocked`);
    return rt.sessions.issue(user, ttl ?? rt.config.sessionTtlSeconds);
  }
  throw new UsageError(command ? `unknown command: ${argv.join(' ')}` : 'no command given');
}

/** Runs the command line and sets the exit code: 0 ok, 1 refused or failed, 2 usage. */
export async function run(argv: string[]): Promise<void> {
  try {
    process.stdout.write(`${await main(argv)}\n`);
  } catch (error) {
    if (error instanceof UsageError) process.stderr.write(`sso-jit: ${error.message}\n${USAGE}\n`);
    else if (error instanceof AppError) process.stderr.write(`sso-jit: ${error.code}: ${error.message}\n`);
    else process.stderr.write(`sso-jit: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = error instanceof UsageError ? 2 : 1;
  }
}
