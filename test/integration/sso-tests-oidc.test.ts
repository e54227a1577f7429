/**
 * Test sign-in with OpenID Connect, against a real provider (oidc-provider on loopback):
 * the test's authorization request goes to the provider, the callback comes back from
 * the browser that started it, and the result shows the verified claims and what a
 * login would do, without provisioning or a session.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DevOidcProvider } from '../../local/dev-oidc.js';
import { orgUrls } from '../../shared/settings/urls.js';
import { authorizeThroughProvider, startTestOidcProvider } from '../support/oidc-provider.js';
import { apiClient, createOidcOrg, nextOrgId, startTestService, tokenFor, type OidcOrg, type TestService } from '../support/service.js';

let service: TestService;
let provider: DevOidcProvider;
let org: OidcOrg;
let admin: ReturnType<typeof apiClient>;
const CLIENT = { clientId: 'sso-jit-test', clientSecret: 'test-client-secret' };

beforeAll(async () => {
  service = await startTestService();
  const orgId = nextOrgId('oidc');
  provider = await startTestOidcProvider({
    clients: [{ ...CLIENT, redirectUris: [orgUrls(service.baseUrl, orgId).oidcRedirectUri] }],
    users: [
      { sub: 'grace-1', email: 'grace@demo.example', given_name: 'Grace', family_name: 'Hopper', groups: ['Engineering'] },
      { sub: 'nobody-1', email: 'nobody@demo.example', groups: ['Marketing'] },
    ],
  });
  org = await createOidcOrg(service, { orgId, issuer: provider.issuer, ...CLIENT });
  admin = apiClient(service, await tokenFor(service, org.orgId, org.adminEmail));
});
beforeEach(() => service.clock.advance(1000));
afterAll(async () => {
  await provider?.stop();
  await service?.close();
});

/** Starts a test as the admin and signs in at the provider as `email`: the test id, the callback URL and the browser cookie. */
async function testAs(email: string) {
  const started = await admin('POST', `/orgs/${org.orgId}/sso/tests`, {});
  expect(started.status, JSON.stringify(started.body)).toBe(201);
  const browser = started.headers.getSetCookie().find((cookie) => cookie.startsWith('sso_browser='))!.split(';')[0]!;
  const callback = await authorizeThroughProvider(started.body.loginUrl as string, email);
  return { id: started.body.id as string, loginUrl: new URL(started.body.loginUrl as string), callback, browser };
}

const back = (callback: URL, browser: string) => fetch(callback, { redirect: 'manual', headers: { accept: 'application/json', cookie: browser } });

describe('test sign-in with OIDC', () => {
  it('sends the browser to the provider with state, nonce and PKCE, as a login does', async () => {
    const started = await admin('POST', `/orgs/${org.orgId}/sso/tests`, {});

    const url = new URL(started.body.loginUrl as string);
    expect(url.origin).toBe(provider.issuer);
    expect(url.searchParams.get('redirect_uri')).toBe(org.urls.oidcRedirectUri);
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('state')).toMatch(/^[A-Za-z0-9_-]{43,}$/);
  });

  it('reports the verified issuer, sub and claims and what a login would do; no user, no session', async () => {
    const test = await testAs('grace@demo.example');

    const response = await back(test.callback, test.browser);

    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe(`${service.baseUrl}/console/sso/tests/${test.id}`);
    expect(response.headers.getSetCookie()).toEqual([]);
    const read = await admin('GET', `/orgs/${org.orgId}/sso/tests/${test.id}`);
    expect(read.body).toMatchObject({
      status: 'done',
      protocol: 'oidc',
      result: {
        outcome: 'success',
        issuer: provider.issuer,
        sub: 'grace-1',
        ssoEnabled: true,
        wouldDo: { action: 'create', email: 'grace@demo.example', firstName: 'Grace', lastName: 'Hopper', assignments: [{ groupId: 'default', roleId: 'account-admin' }] },
      },
    });
    expect(read.body.result.attributes).toEqual(expect.arrayContaining([{ name: 'email', values: ['grace@demo.example'] }, { name: 'groups', values: ['Engineering'] }]));
    expect(await service.rt.users.findByEmail(org.orgId, 'grace@demo.example')).toBeUndefined();
    const types = (await service.rt.audit.list(org.orgId, { limit: 100 })).items.map((event) => event.type);
    expect(types).toContain('login.tested');
    expect(types).not.toContain('login.succeeded');
  });

  it('reports the refusal a login would get', async () => {
    const test = await testAs('nobody@demo.example');

    await back(test.callback, test.browser);

    const read = await admin('GET', `/orgs/${org.orgId}/sso/tests/${test.id}`);
    expect(read.body.result).toMatchObject({ outcome: 'failure', sub: 'nobody-1', error: { code: 'ROLE_NOT_MAPPED', received: ['Marketing'] } });
  });

  it('refuses the callback of a test in another browser and provisions nobody', async () => {
    const test = await testAs('grace@demo.example');

    const response = await back(test.callback, 'sso_browser=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');

    expect(response.status).toBe(401);
    expect((await response.json()).error.code).toBe('STATE_INVALID');
    expect((await admin('GET', `/orgs/${org.orgId}/sso/tests/${test.id}`)).body.status).toBe('pending');
    expect(await service.rt.users.findByEmail(org.orgId, 'grace@demo.example')).toBeUndefined();
  });

  it('accepts the callback of a test once: the same state again is STATE_INVALID', async () => {
    const test = await testAs('grace@demo.example');
    expect((await back(test.callback, test.browser)).status).toBe(302);

    const again = await back(test.callback, test.browser);

    expect(again.status).toBe(401);
    expect((await again.json()).error.code).toBe('STATE_INVALID');
  });
});
