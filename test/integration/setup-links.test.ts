/**
 * Setup links (docs/console.md "Setup links for the customer's IT admin"): made, listed
 * and revoked by admins; opened by the customer's IT admin into a setup session that can
 * set up and test the SSO connection of its org and nothing else, ends with its link,
 * and is never a user session.
 */
import { createHash, randomUUID } from 'node:crypto';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSamlIdpKeys, type SamlIdpKeys } from '../../local/saml-idp.js';
import type { Permission } from '../../shared/settings/model.js';
import { apiClient, createSamlOrg, startTestService, tokenFor, type SamlOrg, type TestService } from '../support/service.js';

let service: TestService;
let org: SamlOrg;
let otherOrg: SamlOrg;
let admin: ReturnType<typeof apiClient>;
let newIdp: SamlIdpKeys;

const SSO_URL = 'https://idp.setup.test/sso';

beforeAll(async () => {
  service = await startTestService();
  org = await createSamlOrg(service, { saml: { ssoUrl: SSO_URL } });
  otherOrg = await createSamlOrg(service);
  admin = apiClient(service, await tokenFor(service, org.orgId, org.adminEmail));
  newIdp = await createSamlIdpKeys('https://idp.customer.test/metadata');
});
afterAll(() => service?.close());
beforeEach(() => service.clock.advance(1000));

/** Makes a link as `maker` (the org admin by default): its id and URL. */
async function makeLink(maker = admin, note = 'for Pat at Acme IT') {
  const response = await maker('POST', `/orgs/${org.orgId}/setup-links`, { note });
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return response.body as { id: string; url: string; createdAt: string; expiresAt: string };
}

const open = (url: string, headers: Record<string, string> = { accept: 'application/json' }) => fetch(url, { redirect: 'manual', headers });

/** Opens a link: the setup session token from its `session` cookie. */
async function openLink(url: string): Promise<string> {
  const response = await open(url);
  expect(response.status).toBe(302);
  return response.headers.getSetCookie().find((cookie) => cookie.startsWith('session='))!.split(';')[0]!.slice('session='.length);
}

async function setupSession() {
  const link = await makeLink();
  const token = await openLink(link.url);
  return { link, token, api: apiClient(service, token) };
}

const me = (token: string) => fetch(`${service.baseUrl}/me`, { headers: { accept: 'application/json', cookie: `session=${token}` } });

/** A user of the org holding exactly `permissions`, and an API client acting as them. */
async function userWith(permissions: Permission[]) {
  const role = await admin('POST', `/orgs/${org.orgId}/roles`, { name: `role-${randomUUID().slice(0, 8)}`, permissions });
  expect(role.status).toBe(201);
  const email = `user-${randomUUID().slice(0, 8)}@${org.orgId}.test`;
  const at = service.clock.now().toISOString();
  const user = { id: randomUUID(), orgId: org.orgId, email, status: 'active' as const, provisionedBy: 'manual' as const, jitProvisioned: false, assignments: [{ groupId: 'default', roleId: role.body.id as string }], createdAt: at, updatedAt: at };
  await service.rt.users.commitLogin({ kind: 'create', user, events: [], settingsVersion: (await service.rt.settingsRepository.load(org.orgId))!.version });
  return { user, api: apiClient(service, await tokenFor(service, org.orgId, email)) };
}

const newConnection = { enabled: true, protocol: 'saml', saml: { idpEntityId: 'https://idp.customer.test/metadata', ssoUrl: SSO_URL, certificates: [] as string[] } };

describe('making, listing and revoking setup links', () => {
  it('makes a 24-hour link whose URL carries a 256-bit token stored only as its SHA-256', async () => {
    const link = await makeLink();

    const url = new URL(link.url);
    const token = url.searchParams.get('token')!;
    expect(`${url.origin}${url.pathname}`).toBe(`${service.baseUrl}/console/setup`);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Date.parse(link.expiresAt) - Date.parse(link.createdAt)).toBe(24 * 3600_000);
    const stored = await service.rt.setupLinks.get(org.orgId, link.id);
    expect(stored?.tokenHash).toBe(createHash('sha256').update(token).digest('base64url'));
    expect(JSON.stringify(stored)).not.toContain(token);
    const [created] = (await service.rt.audit.list(org.orgId, { type: 'setup_link.created', limit: 1 })).items;
    expect(created).toMatchObject({ actor: { type: 'user' }, target: { type: 'setup-link', id: link.id } });
    expect(JSON.stringify(created)).not.toContain(token);
  });

  it('lists links newest first without their tokens', async () => {
    const first = await makeLink(admin, 'first');
    service.clock.advance(1000);
    const second = await makeLink(admin, 'second');

    const response = await admin('GET', `/orgs/${org.orgId}/setup-links`);

    expect(response.status).toBe(200);
    const ids = response.body.items.map((item: { id: string }) => item.id);
    expect(ids.indexOf(second.id)).toBeLessThan(ids.indexOf(first.id));
    expect(response.body.items.find((item: { id: string }) => item.id === second.id)).toEqual({
      id: second.id,
      note: 'second',
      createdBy: expect.any(String),
      createdAt: second.createdAt,
      expiresAt: second.expiresAt,
      usedAt: null,
      revokedAt: null,
    });
    expect(JSON.stringify(response.body)).not.toContain(new URL(second.url).searchParams.get('token')!);
  });

  it('answers the revocation of an unknown link with 404', async () => {
    expect((await admin('DELETE', `/orgs/${org.orgId}/setup-links/no-such-link`)).status).toBe(404);
  });
});

describe('opening a setup link', () => {
  it('redirects to /console/setup with a setup session cookie that expires with the link, and audits the first use once', async () => {
    const link = await makeLink();

    const response = await open(link.url);
    await open(link.url);

    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe(`${service.baseUrl}/console/setup`);
    const cookie = response.headers.getSetCookie().find((value) => value.startsWith('session='))!;
    expect(cookie).toMatch(/; HttpOnly; Secure; SameSite=Lax; Path=\/; Max-Age=86400$/);
    const claims = decodeJwt(cookie.split(';')[0]!.slice('session='.length));
    expect(claims).toMatchObject({ scope: 'setup', sub: `setup:${link.id}`, org: org.orgId, exp: Math.floor(Date.parse(link.expiresAt) / 1000) });
    expect(claims.email).toBeUndefined();
    const used = (await service.rt.audit.list(org.orgId, { type: 'setup_link.used', limit: 10 })).items.filter((event) => event.target?.id === link.id);
    expect(used).toHaveLength(1);
    expect(used[0]?.actor).toEqual({ type: 'setup_link', id: link.id });
    expect((await service.rt.setupLinks.get(org.orgId, link.id))?.usedAt).toBeDefined();
  });

  it('answers an unknown token with 401, as a page for a browser', async () => {
    const json = await open(`${service.baseUrl}/console/setup?token=${'A'.repeat(43)}`);
    const page = await open(`${service.baseUrl}/console/setup?token=${'A'.repeat(43)}`, { accept: 'text/html' });

    expect(json.status).toBe(401);
    expect((await json.json()).error.code).toBe('UNAUTHENTICATED');
    expect(page.status).toBe(401);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await page.text()).toContain('setup link expired');
  });
});

describe('a setup session', () => {
  it('answers GET /me with its scope and org', async () => {
    const { token } = await setupSession();

    const response = await me(token);

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ scope: 'setup', orgId: org.orgId });
  });

  it('reads and changes the SSO connection, audited with the link as actor', async () => {
    const { link, api } = await setupSession();
    const before = await api('GET', `/orgs/${org.orgId}/settings/sso`);
    expect(before.status).toBe(200);

    const response = await api('PUT', `/orgs/${org.orgId}/settings/sso`, { ...newConnection, saml: { ...newConnection.saml, certificates: [newIdp.certificatePem] } });

    expect(response.status, JSON.stringify(response.body)).toBe(200);
    expect(response.body.saml.idpEntityId).toBe('https://idp.customer.test/metadata');
    const [updated] = (await service.rt.audit.list(org.orgId, { type: 'settings.sso.updated', limit: 1 })).items;
    expect(updated?.actor).toEqual({ type: 'setup_link', id: link.id });
    // Put the org's own IdP back for the other tests.
    expect((await admin('PUT', `/orgs/${org.orgId}/settings/sso`, { enabled: true, protocol: 'saml', saml: { idpEntityId: org.idp.entityId, ssoUrl: SSO_URL, certificates: [org.idp.certificatePem] } })).status).toBe(200);
  });

  it('cannot change domains or forceSso, and leaves them as they were', async () => {
    const { api } = await setupSession();
    const before = (await service.rt.settingsRepository.load(org.orgId))!.sso;
    const connection = { enabled: true, protocol: 'saml', saml: { idpEntityId: org.idp.entityId, ssoUrl: SSO_URL, certificates: [org.idp.certificatePem] } };

    const domains = await api('PUT', `/orgs/${org.orgId}/settings/sso`, { ...connection, domains: ['evil.example'] });
    const force = await api('PUT', `/orgs/${org.orgId}/settings/sso`, { ...connection, forceSso: true });

    expect([domains.status, force.status]).toEqual([403, 403]);
    expect(domains.body.error.code).toBe('FORBIDDEN');
    const after = (await service.rt.settingsRepository.load(org.orgId))!.sso;
    expect({ domains: after.domains, forceSso: after.forceSso }).toEqual({ domains: before.domains, forceSso: before.forceSso });
  });

  it.each([
    ['GET', '/users', undefined],
    ['GET', '/audit-events', undefined],
    ['PUT', '/settings/provisioning', { method: 'manual' }],
    ['PUT', '/settings/role-mappings', { items: [] }],
    ['POST', '/settings/role-mappings', { roleId: 'organization-admin', groupIds: ['default'], idpValue: 'Setup' }],
    ['GET', '/settings/role-mappings', undefined],
    ['GET', '/settings/attribute-names', undefined],
    ['POST', '/roles', { name: 'setup-role', permissions: [] }],
    ['GET', '/setup-links', undefined],
    ['POST', '/setup-links', {}],
  ])('is refused %s {org}%s with 403 FORBIDDEN', async (method, path, body) => {
    const { api } = await setupSession();

    const response = await api(method, `/orgs/${org.orgId}${path}`, body);

    expect(response.status).toBe(403);
    expect(response.body.error.code).toBe('FORBIDDEN');
  });

  it("is refused another org's SSO settings with 403", async () => {
    const { api } = await setupSession();

    const response = await api('GET', `/orgs/${otherOrg.orgId}/settings/sso`);

    expect(response.status).toBe(403);
  });

  it('is refused "sign out everywhere" with 403', async () => {
    const { token } = await setupSession();

    const response = await fetch(`${service.baseUrl}/me/sessions/revoke`, { method: 'POST', headers: { accept: 'application/json', authorization: `Bearer ${token}` } });

    expect(response.status).toBe(403);
  });

  it('starts and reads its own test sign-ins, which nobody else reads, and reads nobody else\'s', async () => {
    const { api } = await setupSession();
    const other = await setupSession();
    const started = await api('POST', `/orgs/${org.orgId}/sso/tests`, {});
    const adminTest = await admin('POST', `/orgs/${org.orgId}/sso/tests`, {});
    expect([started.status, adminTest.status]).toEqual([201, 201]);

    const own = await api('GET', `/orgs/${org.orgId}/sso/tests/${started.body.id}`);
    const byAdmin = await admin('GET', `/orgs/${org.orgId}/sso/tests/${started.body.id}`);
    const byOtherLink = await other.api('GET', `/orgs/${org.orgId}/sso/tests/${started.body.id}`);
    const adminsTest = await api('GET', `/orgs/${org.orgId}/sso/tests/${adminTest.body.id}`);

    expect(own.status).toBe(200);
    expect([byAdmin.status, byOtherLink.status, adminsTest.status]).toEqual([404, 404, 404]);
  });

  it('ends at once when its link is revoked, and the link cannot be opened again', async () => {
    const { link, token, api } = await setupSession();
    expect((await me(token)).status).toBe(200);

    const revoked = await admin('DELETE', `/orgs/${org.orgId}/setup-links/${link.id}`);

    expect(revoked.status).toBe(204);
    expect((await me(token)).status).toBe(401);
    expect((await api('GET', `/orgs/${org.orgId}/settings/sso`)).status).toBe(401);
    expect((await open(link.url)).status).toBe(401);
    expect((await admin('DELETE', `/orgs/${org.orgId}/setup-links/${link.id}`)).status).toBe(204);
    const events = (await service.rt.audit.list(org.orgId, { type: 'setup_link.revoked', limit: 10 })).items.filter((event) => event.target?.id === link.id);
    expect(events).toHaveLength(1);
    const listed = (await admin('GET', `/orgs/${org.orgId}/setup-links`)).body.items.find((item: { id: string }) => item.id === link.id);
    expect(listed.revokedAt).toBe(service.clock.now().toISOString());
  });

  it('ends when its link expires, and the link cannot be opened after', async () => {
    const { link, token, api } = await setupSession();
    const start = service.clock.now();

    service.clock.advance(24 * 3600_000 + 1000);
    const results = [(await me(token)).status, (await api('GET', `/orgs/${org.orgId}/settings/sso`)).status, (await open(link.url)).status];
    service.clock.set(start);

    expect(results).toEqual([401, 401, 401]);
  });

  it('ends when the admin who made the link is blocked', async () => {
    const maker = await userWith(['security:view', 'security:edit']);
    const link = await makeLink(maker.api);
    const token = await openLink(link.url);
    expect((await me(token)).status).toBe(200);

    expect((await admin('PATCH', `/orgs/${org.orgId}/users/${maker.user.id}`, { status: 'blocked' })).status).toBe(200);

    expect((await me(token)).status).toBe(401);
  });

  it('never does more than the admin who made it: a security:edit holder\'s link cannot change the identity provider', async () => {
    const maker = await userWith(['security:view', 'security:edit']);
    const link = await makeLink(maker.api);
    const api = apiClient(service, await openLink(link.url));
    const before = (await service.rt.settingsRepository.load(org.orgId))!.sso;

    const response = await api('PUT', `/orgs/${org.orgId}/settings/sso`, { ...newConnection, saml: { ...newConnection.saml, certificates: [newIdp.certificatePem] } });

    expect(response.status).toBe(403);
    expect((await service.rt.settingsRepository.load(org.orgId))!.sso).toEqual(before);
  });
});

describe('setup sessions and user sessions stay apart', () => {
  it('does not accept a setup token as a user session, nor a user token as a setup session', async () => {
    const { token } = await setupSession();
    const userToken = await tokenFor(service, org.orgId, org.adminEmail);

    await expect(service.rt.sessions.verify(token)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    await expect(service.rt.sessions.verifySetup(userToken)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('keeps a user session a user session on the setup routes: the admin reads the SSO settings as a user', async () => {
    const response = await admin('GET', `/orgs/${org.orgId}/settings/sso`);

    expect(response.status).toBe(200);
    expect((await me(await tokenFor(service, org.orgId, org.adminEmail))).status).toBe(200);
    expect(await (await me(await tokenFor(service, org.orgId, org.adminEmail))).json()).toMatchObject({ email: org.adminEmail, orgId: org.orgId });
  });
});
