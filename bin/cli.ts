/**
 * The `sso-jit` command line: creates orgs, prints session tokens, one-time console
 * sign-in links and SCIM tokens, rotates the session and SP keys and refreshes IdP metadata, against the same tables and keys as the service. With DYNAMODB_ENDPOINT it uses a local DynamoDB and the local
 * stack's table names and signing key; without it, AWS and the table names and key
 * secret in the environment (USERS_TABLE, MAPPINGS_TABLE, AUDIT_TABLE,
 * LOGIN_STATE_TABLE, SESSION_KEY_SECRET_ARN, BASE_URL).
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { X509Certificate } from 'node:crypto';
import { parseArgs } from 'node:util';
import { createSamlIdpKeys } from '../local/saml-idp.js';
import { FileSpKeySource, SecretsManagerSpKeySource, rotatedKeyPair } from '../shared/saml/sp-keys.js';
import { FileKeySource, SecretsManagerKeySource } from '../shared/sessions/key-sources.js';
import { createRuntime } from '../functions/runtime.js';
import { ENV_VARS, readConfig } from '../shared/config.js';
import { TABLES } from '../shared/storage/tables.js';
import { AppError } from '../shared/errors.js';
import { createOrg } from '../shared/settings/orgs.js';
import { createLoginLink } from '../shared/sessions/login-links.js';
import { refreshIdpMetadata, type MetadataRefresh } from '../shared/settings/daily-check.js';
import { normalizeEmail } from '../shared/users/model.js';
import { localStackEnv } from '../local/local-config.js';
import { createScimToken, listScimTokens, revokeScimToken } from '../shared/scim/tokens.js';
import { loadOrg } from '../shared/settings/settings-service.js';

const USAGE = `usage:
  sso-jit org create --org ID --name NAME --admin-email EMAIL
  sso-jit token --org ID --email EMAIL [--ttl SECONDS]
  sso-jit login-link --org ID --email EMAIL   one-time console sign-in URL (10 minutes, single use)
  sso-jit keys rotate        new session signing key; the previous one still verifies
  sso-jit sp-key rotate      new SP key pair for signing AuthnRequests (update IdPs that check it)
  sso-jit metadata refresh [--org ID]
                             re-fetch IdP metadata now: that org's (whether or not its daily
                             refresh is on), or every org's whose daily refresh is on
  sso-jit scim-token create --org ID          a SCIM token for the org's IdP: JSON {"id","token","createdAt"}; the secret is shown only here
  sso-jit scim-token list --org ID            the org's SCIM tokens (never their secrets)
  sso-jit scim-token revoke --org ID --id ID  the token stops working at once`;

class UsageError extends Error {}

function runtimeFromEnv(env: NodeJS.ProcessEnv) {
  const config = readConfig(env.DYNAMODB_ENDPOINT ? { ...localStackEnv(env, env.DYNAMODB_ENDPOINT), ...pick(env) } : env);
  return createRuntime(config);
}

/** Explicit table or key settings win over the local defaults. */
function pick(env: NodeJS.ProcessEnv): Record<string, string> {
  const names = [...Object.values(ENV_VARS), ...TABLES.map((table) => table.envVar)];
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
  if (command === 'login-link') {
    const { values } = parseArgs({ args: argv.slice(1), options: { org: { type: 'string' }, email: { type: 'string' } } });
    const orgId = required(values, 'org');
    const email = required(values, 'email');
    return createLoginLink(runtimeFromEnv(env), orgId, email);
  }
  if (command === 'keys' && sub === 'rotate') {
    const { sessionKeys } = runtimeFromEnv(env).config;
    const source =
      sessionKeys.kind === 'file' ? new FileKeySource(sessionKeys.path) : sessionKeys.kind === 'secretsManager' ? new SecretsManagerKeySource(new SecretsManagerClient({}), sessionKeys.secretId) : undefined;
    if (!source) throw new UsageError('no session key configured: set SESSION_KEY_SECRET_ARN or SESSION_KEY_FILE');
    await source.rotate();
    return 'rotated: new sessions are signed with the new key; sessions signed with the previous key stay valid until they expire';
  }
  if (command === 'sp-key' && sub === 'rotate') {
    const { spKeys } = runtimeFromEnv(env).config;
    const target =
      spKeys.kind === 'file' ? new FileSpKeySource(spKeys.path) : spKeys.kind === 'secretsManager' ? new SecretsManagerSpKeySource(new SecretsManagerClient({}), spKeys.secretId) : undefined;
    if (!target) throw new UsageError('no SP key configured: set SP_KEY_SECRET_ARN or SP_KEY_FILE');
    const [signing, encryption] = await Promise.all([createSamlIdpKeys('sso-jit SP'), createSamlIdpKeys('sso-jit SP encryption')]);
    const material = (keys: { privateKeyPem: string; certificatePem: string }) => ({ privateKeyPem: keys.privateKeyPem, certificatePem: keys.certificatePem });
    await target.store(rotatedKeyPair(await target.load(), material(signing), material(encryption)));
    return (
      `rotated: AuthnRequests are now signed with a new key; the SP metadata publishes its certificate (SHA-256 ${new X509Certificate(signing.certificatePem).fingerprint256}) ` +
      `and a new encryption certificate (SHA-256 ${new X509Certificate(encryption.certificatePem).fingerprint256}); the previous encryption key still decrypts until the next rotation`
    );
  }
  if (command === 'metadata' && sub === 'refresh') {
    const { values } = parseArgs({ args: argv.slice(2), options: { org: { type: 'string' } } });
    const rt = runtimeFromEnv(env);
    const actor = { type: 'cli', id: env.USER ?? 'cli' } as const;
    const orgIds: string[] = [];
    if (values.org !== undefined) orgIds.push(required(values, 'org'));
    else for await (const orgId of rt.settingsRepository.orgIds()) orgIds.push(orgId);
    const lines: string[] = [];
    for (const orgId of orgIds) {
      const refresh = await refreshIdpMetadata(rt, orgId, actor, { force: values.org !== undefined });
      if (values.org === undefined && refresh.outcome === 'skipped') continue;
      lines.push(`${orgId}: ${describeRefresh(refresh)}`);
    }
    return lines.length > 0 ? lines.join('\n') : 'no org has its daily metadata refresh enabled';
  }
  if (command === 'scim-token' && (sub === 'create' || sub === 'list' || sub === 'revoke')) {
    const { values } = parseArgs({ args: argv.slice(2), options: { org: { type: 'string' }, id: { type: 'string' } } });
    const orgId = required(values, 'org');
    const rt = runtimeFromEnv(env);
    await loadOrg(rt, orgId); // ORG_NOT_FOUND before anything is written
    const context = { orgId, actor: { type: 'cli' as const, id: env.USER ?? 'cli' } };
    if (sub === 'create') return JSON.stringify(await createScimToken(rt, context));
    if (sub === 'list') return JSON.stringify(await listScimTokens(rt, orgId));
    await revokeScimToken(rt, context, required(values, 'id'));
    return `revoked: SCIM token ${values.id} no longer works`;
  }
  throw new UsageError(command ? `unknown command: ${argv.join(' ')}` : 'no command given');
}

function describeRefresh(refresh: MetadataRefresh): string {
  switch (refresh.outcome) {
    case 'skipped':
      return `skipped (${refresh.reason})`;
    case 'failed':
      return `failed, the last good metadata is kept: ${refresh.error}`;
    case 'unchanged':
      return 'unchanged';
    case 'changed':
      return [
        refresh.applied.length > 0 ? `applied ${refresh.applied.join(', ')}` : '',
        refresh.heldBack.length > 0 ? `held back ${refresh.heldBack.join(', ')} (metadataRefresh.applyCertificateChanges is off)` : '',
      ]
        .filter(Boolean)
        .join('; ');
  }
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
