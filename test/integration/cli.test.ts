/**
 * The `sso-jit` command line against DynamoDB Local: `org create`, `token` and
 * `login-link`, and a token or link it prints being accepted by a server that shares
 * the checkout's key file and tables.
 */
import { execFile } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../bin/cli.js';
import { createRuntime } from '../../functions/runtime.js';
import { readConfig } from '../../shared/config.js';
import { spDecryptionKeys } from '../../shared/saml/sp-keys.js';
import { redeemLoginLink } from '../../shared/sessions/login-links.js';
import { localStackEnv } from '../../local/local-config.js';
import { useTestTables, type TestTables } from '../support/dynamodb.js';

let db: TestTables;
let env: NodeJS.ProcessEnv;

const keyDir = mkdtempSync(join(tmpdir(), 'sso-jit-cli-'));

beforeAll(async () => {
  db = await useTestTables();
  env = {
    PATH: process.env.PATH,
    DYNAMODB_ENDPOINT: db.endpoint,
    TABLE_PREFIX: db.names.users.replace(/-users$/, ''),
    SESSION_KEY_FILE: join(keyDir, 'session-keys.json'),
    SP_KEY_FILE: join(keyDir, 'sp-key.json'),
    BASE_URL: 'http://localhost:3999',
  };
});

/** The server side of the same checkout: same tables, same key file. */
const server = () => createRuntime(readConfig(localStackEnv(env, db.endpoint)));

describe('sso-jit org create', () => {
  it('creates the org, its default group, the built-in roles and the first admin', async () => {
    const output = await main(['org', 'create', '--org', 'acme', '--name', 'Acme', '--admin-email', 'Root@Acme.test'], env);

    const { orgId, adminUserId } = JSON.parse(output) as { orgId: string; adminUserId: string };
    const rt = server();
    const settings = await rt.settingsRepository.load('acme');
    expect(orgId).toBe('acme');
    expect(settings?.groups).toEqual([{ id: 'default', name: 'Default', isDefault: true }]);
    expect(settings?.roles.map((role) => role.id).sort()).toEqual(['account-admin', 'organization-admin', 'regular-user']);
    expect(await rt.users.findById('acme', adminUserId)).toMatchObject({
      email: 'root@acme.test',
      provisionedBy: 'manual',
      jitProvisioned: false,
      assignments: [{ groupId: 'default', roleId: 'organization-admin' }],
    });
  });

  it('refuses an org id that is taken', async () => {
    await main(['org', 'create', '--org', 'taken', '--name', 'One', '--admin-email', 'a@one.test'], env);

    await expect(main(['org', 'create', '--org', 'taken', '--name', 'Two', '--admin-email', 'a@two.test'], env)).rejects.toMatchObject({ code: 'CONFLICT' });
  });

  it('refuses a malformed org id, naming the field', async () => {
    await expect(main(['org', 'create', '--org', 'Not Valid', '--name', 'X', '--admin-email', 'a@x.test'], env)).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      message: expect.stringMatching(/^orgId:/),
    });
  });
});

describe('sso-jit token', () => {
  it('prints a session token the server accepts for that user', async () => {
    await main(['org', 'create', '--org', 'tokens', '--name', 'Tokens', '--admin-email', 'admin@tokens.test'], env);

    const token = await main(['token', '--org', 'tokens', '--email', 'ADMIN@tokens.test', '--ttl', '600'], env);

    const claims = await server().sessions.verify(token);
    expect(claims).toMatchObject({ org: 'tokens', email: 'admin@tokens.test' });
    expect(claims.exp - claims.iat).toBe(600);
  });

  it('refuses a user that does not exist', async () => {
    await expect(main(['token', '--org', 'tokens', '--email', 'nobody@tokens.test'], env)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('runs as the installed npx command and exits non-zero with usage on bad arguments', async () => {
    const run = promisify(execFile);

    const ok = await run('npx', ['sso-jit', 'org', 'create', '--org', 'npx-org', '--name', 'N', '--admin-email', 'a@n.test'], { env });
    const bad = await run('npx', ['sso-jit', 'frobnicate'], { env }).catch((error: { code: number; stderr: string }) => error);

    expect(JSON.parse(ok.stdout)).toMatchObject({ orgId: 'npx-org' });
    expect(bad).toMatchObject({ code: 2, stderr: expect.stringContaining('usage:') });
  });
});

describe('sso-jit login-link', () => {
  it('prints a one-time console sign-in URL on BASE_URL that the server redeems once, for that user', async () => {
    await main(['org', 'create', '--org', 'links', '--name', 'Links', '--admin-email', 'admin@links.test'], env);

    const url = await main(['login-link', '--org', 'links', '--email', 'Admin@Links.test'], env);

    expect(url).toMatch(/^http:\/\/localhost:3999\/console\/login\?token=[A-Za-z0-9_-]{43}$/);
    const token = new URL(url).searchParams.get('token')!;
    const rt = server();
    const { user, sessionToken } = await redeemLoginLink(rt, token);
    expect(user).toMatchObject({ orgId: 'links', email: 'admin@links.test' });
    await expect(rt.sessions.verify(sessionToken)).resolves.toMatchObject({ org: 'links', email: 'admin@links.test' });
    await expect(redeemLoginLink(rt, token)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('prints a new link each time', async () => {
    await main(['org', 'create', '--org', 'links-twice', '--name', 'Links', '--admin-email', 'admin@links-twice.test'], env);

    const [first, second] = [await main(['login-link', '--org', 'links-twice', '--email', 'admin@links-twice.test'], env), await main(['login-link', '--org', 'links-twice', '--email', 'admin@links-twice.test'], env)];

    expect(first).not.toBe(second);
  });

  it('refuses a user that does not exist', async () => {
    await expect(main(['login-link', '--org', 'links', '--email', 'nobody@links.test'], env)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('refuses to run without --email', async () => {
    await expect(main(['login-link', '--org', 'links'], env)).rejects.toThrow('--email is required');
  });
});

describe('sso-jit keys rotate', () => {
  it('signs with a new key while tokens signed with the previous one stay valid, and the JWKS publishes both', async () => {
    await main(['org', 'create', '--org', 'rotation', '--name', 'R', '--admin-email', 'admin@rotation.test'], env);
    const before = await main(['token', '--org', 'rotation', '--email', 'admin@rotation.test'], env);

    await main(['keys', 'rotate'], env);

    const after = await main(['token', '--org', 'rotation', '--email', 'admin@rotation.test'], env);
    const rt = server();
    const kid = (token: string) => (JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as { kid: string }).kid;
    expect(kid(after)).not.toBe(kid(before));
    await expect(rt.sessions.verify(before)).resolves.toMatchObject({ email: 'admin@rotation.test' });
    await expect(rt.sessions.verify(after)).resolves.toMatchObject({ email: 'admin@rotation.test' });
    expect((await rt.sessions.jwks()).keys.map((key) => key.kid)).toEqual([kid(after), kid(before)]);
  });
});

describe('sso-jit sp-key rotate', () => {
  it('stores a new SP key pair that the service then signs AuthnRequests with', async () => {
    const output = await main(['sp-key', 'rotate'], env);

    const pair = await server().spKeys.load();
    expect(output).toMatch(/SHA-256 [0-9A-F:]{95}/);
    expect(pair?.privateKeyPem).toContain('PRIVATE KEY');
    expect(new X509Certificate(pair!.certificatePem).checkPrivateKey(createPrivateKey(pair!.privateKeyPem))).toBe(true);
  });

  it('rotates the encryption key too and keeps the one it replaced for decryption, dropping the one before', async () => {
    await main(['sp-key', 'rotate'], env);
    const first = (await server().spKeys.load())!;
    const output = await main(['sp-key', 'rotate'], env);
    const second = (await server().spKeys.load())!;

    expect(output).toMatch(/encryption certificate \(SHA-256 [0-9A-F:]{95}\)/);
    expect(second.encryption!.certificatePem).not.toBe(first.encryption!.certificatePem);
    expect(second.encryption!.certificatePem).not.toBe(second.certificatePem);
    expect(new X509Certificate(second.encryption!.certificatePem).checkPrivateKey(createPrivateKey(second.encryption!.privateKeyPem))).toBe(true);
    expect(second.previousEncryption).toEqual(first.encryption);
    expect(JSON.stringify(second)).not.toContain(first.previousEncryption?.privateKeyPem ?? 'none');
  });

  it('keeps a key pair stored before encryption existed working: its signing key was the encryption key, and stays the previous one', async () => {
    const legacy = (await server().spKeys.load())!;
    writeFileSync(env.SP_KEY_FILE!, JSON.stringify({ privateKeyPem: legacy.privateKeyPem, certificatePem: legacy.certificatePem }));
    expect(spDecryptionKeys(await server().spKeys.load())).toHaveLength(1);

    await main(['sp-key', 'rotate'], env);

    const rotated = (await server().spKeys.load())!;
    expect(rotated.previousEncryption).toEqual({ privateKeyPem: legacy.privateKeyPem, certificatePem: legacy.certificatePem });
    expect(spDecryptionKeys(rotated)).toHaveLength(2);
  });
});

describe('sso-jit scim-token (issue 14)', () => {
  it('makes a SCIM token the SCIM routes accept, lists it without its secret, and revokes it', async () => {
    await main(['org', 'create', '--org', 'scim-cli', '--name', 'Scim', '--admin-email', 'root@scim-cli.test'], env);
    const made = JSON.parse(await main(['scim-token', 'create', '--org', 'scim-cli'], env)) as { id: string; token: string; createdAt: string };
    expect(made.token).toMatch(/^scim_/);
    const rt = server();
    expect(await rt.scimAuth.authenticate('scim-cli', made.token)).toMatchObject({ id: made.id, orgId: 'scim-cli' });

    const listed = await main(['scim-token', 'list', '--org', 'scim-cli'], env);
    expect(JSON.parse(listed).items.map((item: { id: string }) => item.id)).toEqual([made.id]);
    expect(listed).not.toContain(made.token);

    await main(['scim-token', 'revoke', '--org', 'scim-cli', '--id', made.id], env);
    await expect(rt.scimAuth.authenticate('scim-cli', made.token)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('refuses an unknown org before writing anything', async () => {
    await expect(main(['scim-token', 'create', '--org', 'no-such-org'], env)).rejects.toMatchObject({ code: 'ORG_NOT_FOUND' });
  });
});
