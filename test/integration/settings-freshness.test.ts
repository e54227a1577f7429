/**
 * "Settings take effect at once" (API.md), across instances: a change made through one
 * instance is obeyed at once by another that keeps settings in memory for an hour (two
 * warm Lambda containers over one DynamoDB). The login instance is warmed first, so
 * every login below is planned on cached settings that the change made stale.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSignedLoginResponse, createSamlIdpKeys, type SamlIdpKeys } from '../../local/saml-idp.js';
import { apiClient, createSamlOrg, postAcs, startTestService, tokenFor, type SamlOrg, type TestService } from '../support/service.js';

/** Where the admin changes settings. */
let admin: TestService;
/** Another instance of the same service, with a one-hour settings cache: where people sign in. */
let logins: TestService;

beforeAll(async () => {
  admin = await startTestService();
  logins = await startTestService({ sameDataAs: admin, settingsCacheSeconds: 3600 });
});
afterAll(async () => {
  await logins?.close();
  await admin?.close();
});

interface Person {
  email: string;
  groups?: string[];
  idp?: SamlIdpKeys;
}

/** Signs `person` in at the login instance, as their IdP would (JSON errors). */
function signIn(org: SamlOrg, person: Person): Promise<Response> {
  const SAMLResponse = buildSignedLoginResponse({
    idp: person.idp ?? org.idp,
    spEntityId: org.urls.spEntityId,
    acsUrl: org.urls.acsUrl,
    nameId: person.email,
    attributes: { groups: person.groups ?? ['Admins'] },
    now: logins.clock.now(),
  });
  return postAcs(logins, org.orgId, { SAMLResponse });
}

async function codeOf(response: Response): Promise<string> {
  return ((await response.json()) as { error: { code: string } }).error.code;
}

/** An org whose settings the login instance has cached, after one successful login of `warm@…`. */
async function warmOrg(options: Parameters<typeof createSamlOrg>[1] = {}) {
  const org = await createSamlOrg(admin, options);
  const api = apiClient(admin, await tokenFor(admin, org.orgId, org.adminEmail));
  const warm = `warm@${org.orgId}.test`;
  expect((await signIn(org, { email: warm })).status).toBe(302);
  return { org, api, warm, base: `/orgs/${org.orgId}` };
}

async function userOf(org: SamlOrg, email: string) {
  return admin.rt.users.findByEmail(org.orgId, email);
}

describe('a change that turns something off is obeyed by another instance at once', () => {
  it('creates nobody once the method is manual', async () => {
    const { org, api, base } = await warmOrg();

    expect((await api('PUT', `${base}/settings/provisioning`, { method: 'manual' })).status).toBe(200);
    const response = await signIn(org, { email: `new@${org.orgId}.test` });

    expect(response.status).toBe(403);
    expect(await codeOf(response)).toBe('USER_NOT_PROVISIONED');
    expect(await userOf(org, `new@${org.orgId}.test`)).toBeUndefined();
  });

  it('signs nobody in once SSO is disabled', async () => {
    const { org, api, warm, base } = await warmOrg();

    await api('PUT', `${base}/settings/provisioning`, { method: 'manual' });
    expect((await api('PUT', `${base}/settings/sso`, { enabled: false, protocol: 'saml' })).status).toBe(200);
    const response = await signIn(org, { email: warm });

    expect(response.status).toBe(403);
    expect(await codeOf(response)).toBe('SSO_NOT_ENABLED');
  });

  it('grants nothing through a role mapping once it is removed', async () => {
    const { org, api, warm, base } = await warmOrg();
    const { body } = await api('GET', `${base}/settings/role-mappings`);

    for (const mapping of body.items) expect((await api('DELETE', `${base}/settings/role-mappings/${mapping.id}?force=true`)).status).toBe(204);
    const response = await signIn(org, { email: warm, groups: ['Admins'] });

    expect(response.status).toBe(403);
    expect(await codeOf(response)).toBe('ROLE_NOT_MAPPED');
    // The last successful login's assignments stay; nothing was granted again.
    const events = await admin.rt.audit.list(org.orgId, { type: 'login.succeeded', limit: 10 });
    expect(events.items).toHaveLength(1);
  });

  it('verifies nothing with a certificate once it is removed', async () => {
    const { org, api, warm, base } = await warmOrg();
    const replacement = await createSamlIdpKeys(org.idp.entityId);

    const put = await api('PUT', `${base}/settings/sso`, { enabled: true, protocol: 'saml', saml: { idpEntityId: org.idp.entityId, certificates: [replacement.certificatePem] } });
    expect(put.status).toBe(200);
    const response = await signIn(org, { email: warm });

    expect(response.status).toBe(401);
    expect(await codeOf(response)).toBe('SIGNATURE_INVALID');
    expect((await signIn(org, { email: warm, idp: replacement })).status).toBe(302);
  });

  it('signs a blocked user in nowhere', async () => {
    const { org, api, warm, base } = await warmOrg();
    const user = await userOf(org, warm);

    expect((await api('PATCH', `${base}/users/${user!.id}`, { status: 'blocked' })).status).toBe(200);
    const response = await signIn(org, { email: warm });

    expect(response.status).toBe(403);
    expect(await codeOf(response)).toBe('USER_BLOCKED');
  });

  it('records the refusal once, with the code the current settings give', async () => {
    const { org, api, base } = await warmOrg();

    await api('PUT', `${base}/settings/provisioning`, { method: 'manual' });
    await signIn(org, { email: `new@${org.orgId}.test` });

    const failures = await admin.rt.audit.list(org.orgId, { type: 'login.failed', limit: 10 });
    expect(failures.items.map((event) => event.code)).toEqual(['USER_NOT_PROVISIONED']);
  });
});

describe('a change that turns something on is obeyed by another instance at once', () => {
  it('creates a new user once JIT is turned back on', async () => {
    const { org, api, base } = await warmOrg();
    await api('PUT', `${base}/settings/provisioning`, { method: 'manual' });
    // The login instance now caches "manual" (its refusal re-read the settings).
    expect(await codeOf(await signIn(org, { email: `first@${org.orgId}.test` }))).toBe('USER_NOT_PROVISIONED');

    const { body } = await api('GET', `${base}/settings/provisioning`);
    expect((await api('PUT', `${base}/settings/provisioning`, { ...body, method: 'jit' })).status).toBe(200);
    const response = await signIn(org, { email: `second@${org.orgId}.test` });

    expect(response.status).toBe(302);
    expect(await userOf(org, `second@${org.orgId}.test`)).toMatchObject({ jitProvisioned: true });
  });

  it('grants a role through a mapping added after the settings were cached', async () => {
    const { org, api, base } = await warmOrg();

    const added = await api('POST', `${base}/settings/role-mappings`, { roleId: 'regular-user', groupIds: ['default'], idpValue: 'Engineering' });
    expect(added.status).toBe(201);
    const response = await signIn(org, { email: `eng@${org.orgId}.test`, groups: ['Engineering'] });

    expect(response.status).toBe(302);
    expect((await userOf(org, `eng@${org.orgId}.test`))?.assignments).toEqual([{ groupId: 'default', roleId: 'regular-user' }]);
  });
});
