/**
 * Sessions end when they should (API.md "Session", issue 11): `POST /logout` revokes
 * the presented token, "sign out everywhere" revokes every token issued until now (by
 * the user or by an admin), and a revoked token is `401 UNAUTHENTICATED` at once on
 * `/me` and on the admin routes, on every instance.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSignedLoginResponse } from '../../local/saml-idp.js';
import { apiClient, createSamlOrg, postAcs, sessionCookieOf, startTestService, tokenFor, type SamlOrg, type TestService } from '../support/service.js';

let service: TestService;
/** Another instance over the same tables: revocation must hold there too. */
let other: TestService;
let org: SamlOrg;

beforeAll(async () => {
  service = await startTestService();
  other = await startTestService({ sameDataAs: service });
  org = await createSamlOrg(service);
});
afterAll(async () => {
  await other?.close();
  await service?.close();
});

const adminToken = () => tokenFor(service, org.orgId, org.adminEmail);

/** GET /me on `on` with the token as a bearer token. */
const me = (token: string, on: TestService = service) => fetch(`${on.baseUrl}/me`, { headers: { authorization: `Bearer ${token}` } });
/** An admin route (users:view) with the token. */
const adminRoute = (token: string, on: TestService = service) => apiClient(on, token)('GET', `/orgs/${org.orgId}/users`);

async function expectRefused(token: string): Promise<void> {
  for (const on of [service, other]) {
    const response = await me(token, on);
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: { code: 'UNAUTHENTICATED' } });
    const admin = await adminRoute(token, on);
    expect(admin.status).toBe(401);
    expect(admin.body).toMatchObject({ error: { code: 'UNAUTHENTICATED' } });
  }
}

/** A user signed in through the ACS: their session cookie value. */
async function signIn(email: string): Promise<string> {
  const SAMLResponse = buildSignedLoginResponse({
    idp: org.idp,
    spEntityId: org.urls.spEntityId,
    acsUrl: org.urls.acsUrl,
    nameId: email,
    attributes: { groups: ['Admins'] },
    now: service.clock.now(),
  });
  const response = await postAcs(service, org.orgId, { SAMLResponse });
  expect(response.status).toBe(302);
  return sessionCookieOf(response)!;
}

const logout = (headers: Record<string, string>) => fetch(`${service.baseUrl}/logout`, { method: 'POST', headers });

describe('POST /logout', () => {
  it('revokes the bearer token it was given, on /me and the admin routes, on every instance', async () => {
    const token = await adminToken();
    expect((await me(token)).status).toBe(200);

    const response = await logout({ authorization: `Bearer ${token}` });

    expect(response.status).toBe(204);
    expect(response.headers.getSetCookie()[0]).toMatch(/^session=; .*Max-Age=0/);
    await expectRefused(token);
  });

  it('revokes the session of the cookie it was given', async () => {
    const cookie = await signIn(`cookie-${Date.now()}@acme.test`);
    expect((await me(cookie)).status).toBe(200);

    expect((await logout({ cookie: `session=${cookie}`, origin: service.baseUrl })).status).toBe(204);

    expect((await me(cookie)).status).toBe(401);
  });

  it('ends only that session: another token of the same user still works', async () => {
    const [first, second] = [await adminToken(), await adminToken()];

    await logout({ authorization: `Bearer ${first}` });

    expect((await me(first)).status).toBe(401);
    expect((await me(second)).status).toBe(200);
  });

  it('answers 204 and writes nothing for a token that is not a session', async () => {
    const response = await logout({ authorization: 'Bearer not.a.token' });

    expect(response.status).toBe(204);
  });
});

describe('sign out everywhere', () => {
  it('revokes every session of the user issued until now, and a session issued afterwards works', async () => {
    const email = `everywhere-${Date.now()}@acme.test`;
    const [first, second] = [await signIn(email), await signIn(email)];

    const response = await fetch(`${service.baseUrl}/me/sessions/revoke`, { method: 'POST', headers: { authorization: `Bearer ${first}` } });

    expect(response.status).toBe(204);
    await expectRefused(first);
    await expectRefused(second);
    service.clock.advance(1_000);
    const later = await signIn(email);
    expect((await me(later)).status).toBe(200);
  });

  it('records user.sessions_revoked with the user as actor and target', async () => {
    const email = `audited-${Date.now()}@acme.test`;
    const token = await signIn(email);
    const user = (await service.rt.users.findByEmail(org.orgId, email))!;

    await fetch(`${service.baseUrl}/me/sessions/revoke`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });

    const { items } = await service.rt.audit.list(org.orgId, { type: 'user.sessions_revoked', limit: 10 });
    expect(items.find((event) => event.target?.id === user.id)).toMatchObject({ actor: { type: 'user', id: user.id }, outcome: 'success' });
  });

  it('refuses a cookie-authenticated call from another origin, or without one, with CSRF_REJECTED', async () => {
    const cookie = await signIn(`csrf-${Date.now()}@acme.test`);

    for (const origin of ['https://evil.example', undefined]) {
      const response = await fetch(`${service.baseUrl}/me/sessions/revoke`, {
        method: 'POST',
        headers: { accept: 'application/json', cookie: `session=${cookie}`, ...(origin ? { origin } : {}) },
      });
      expect(response.status).toBe(403);
      expect(await response.json()).toMatchObject({ error: { code: 'CSRF_REJECTED' } });
    }
    expect((await me(cookie)).status).toBe(200);
  });

  it('accepts a cookie-authenticated call from the service\'s own origin', async () => {
    const cookie = await signIn(`same-origin-${Date.now()}@acme.test`);

    const response = await fetch(`${service.baseUrl}/me/sessions/revoke`, { method: 'POST', headers: { cookie: `session=${cookie}`, origin: new URL(service.baseUrl).origin } });

    expect(response.status).toBe(204);
    expect((await me(cookie)).status).toBe(401);
  });

  it('lets an admin sign a user out everywhere, audited with the admin as actor', async () => {
    const email = `by-admin-${Date.now()}@acme.test`;
    const token = await signIn(email);
    const user = (await service.rt.users.findByEmail(org.orgId, email))!;
    const api = apiClient(service, await adminToken());

    const response = await api('POST', `/orgs/${org.orgId}/users/${user.id}/sessions/revoke`);

    expect(response.status).toBe(204);
    await expectRefused(token);
    const admin = (await service.rt.users.findByEmail(org.orgId, org.adminEmail))!;
    const { items } = await service.rt.audit.list(org.orgId, { type: 'user.sessions_revoked', limit: 10 });
    expect(items.find((event) => event.target?.id === user.id)).toMatchObject({ actor: { type: 'user', id: admin.id } });
  });

  it('answers 404 for a user that does not exist', async () => {
    const api = apiClient(service, await adminToken());

    const response = await api('POST', `/orgs/${org.orgId}/users/no-such-user/sessions/revoke`);

    expect(response.status).toBe(404);
  });
});
