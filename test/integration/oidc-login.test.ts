/**
 * OIDC login end to end against a real OpenID Provider (oidc-provider on loopback): the
 * test starts the login at our route, signs in at the provider like a browser, and
 * comes back through our callback, on DynamoDB Local.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { orgUrls } from '../../shared/settings/urls.js';
import { startTestOidcProvider, authorizeThroughProvider } from '../support/oidc-provider.js';
import { createOidcOrg, nextOrgId, sessionCookieOf, startTestService, type OidcOrg, type TestService } from '../support/service.js';
import type { DevOidcProvider } from '../../local/dev-oidc.js';

let service: TestService;
let provider: DevOidcProvider;
let org: OidcOrg;
const CLIENT = { clientId: 'sso-jit-test', clientSecret: 'test-client-secret:with%odd&chars' };

beforeAll(async () => {
  // The provider must list our callback as a redirect URI, so the org id comes first.
  service = await startTestService();
  const orgId = nextOrgId('oidc');
  provider = await startTestOidcProvider({
    clients: [{ ...CLIENT, redirectUris: [orgUrls(service.baseUrl, orgId).oidcRedirectUri] }],
    users: [
      { sub: 'grace-1', email: 'Grace@Demo.example', given_name: 'Grace', family_name: 'Hopper', groups: ['Engineering'] },
      { sub: 'mallory-1', email: 'mallory@demo.example', email_verified: false, groups: ['Engineering'] },
      { sub: 'nobody-1', email: 'nobody@demo.example', groups: ['Marketing'] },
    ],
  });
  org = await createOidcOrg(service, { orgId, issuer: provider.issuer, ...CLIENT });
});
// Audit events sort by time: a second apart, the newest is the one a test just caused.
beforeEach(() => service.clock.advance(1000));
afterAll(async () => {
  await provider?.stop();
  await service?.close();
});

const get = (url: string, headers: Record<string, string> = { accept: 'application/json' }) => fetch(url, { redirect: 'manual', headers });

/** The browser's login binding cookie, as our login start set it. */
let browser = '';

/** Starts a login at our route and signs in at the provider as `email`: our callback URL, with code and state. */
async function signInAt(providerEmail: string, fwd = '/'): Promise<URL> {
  const start = await get(`${service.baseUrl}/sso/${org.orgId}/login?fwd=${encodeURIComponent(fwd)}`);
  expect(start.status).toBe(302);
  browser = start.headers.getSetCookie().find((cookie) => cookie.startsWith('sso_browser='))!.split(';')[0]!;
  return authorizeThroughProvider(start.headers.get('location')!, providerEmail);
}

/** Follows the provider's redirect back to our callback, from the browser that started the login. */
const back = (callback: URL) => get(callback.toString(), { accept: 'application/json', cookie: browser });

describe('OIDC login through a real provider', () => {
  it('sends the browser to the provider with state, nonce and a PKCE S256 challenge', async () => {
    const start = await get(`${service.baseUrl}/sso/${org.orgId}/login?fwd=/x`);

    const url = new URL(start.headers.get('location')!);
    expect(url.origin).toBe(provider.issuer);
    expect(url.searchParams.get('response_type')).toBe('code');
    expect(url.searchParams.get('client_id')).toBe(CLIENT.clientId);
    expect(url.searchParams.get('redirect_uri')).toBe(org.urls.oidcRedirectUri);
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('state')).toMatch(/^[A-Za-z0-9_-]{43,}$/);
    expect(url.searchParams.get('nonce')).toMatch(/^[A-Za-z0-9_-]{43,}$/);
  });

  it('creates the user on the first login, lands on fwd, and /me shows them', async () => {
    const callback = await signInAt('grace@demo.example', '/projects/1');

    const response = await back(callback);

    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe(`${service.baseUrl}/projects/1`);
    const me = await get(`${service.baseUrl}/me`, { cookie: `session=${sessionCookieOf(response)}` });
    expect(await me.json()).toMatchObject({
      email: 'grace@demo.example',
      firstName: 'Grace',
      lastName: 'Hopper',
      jitProvisioned: true,
      provisionedBy: 'jit',
      assignments: [{ groupId: 'default', roleId: 'account-admin' }],
      idpSubject: { issuer: provider.issuer, subject: 'grace-1' },
      orgId: org.orgId,
    });
  });

  it('updates the same user on a later login (re-login)', async () => {
    await back(await signInAt('grace@demo.example'));
    provider.users.set('grace@demo.example', { sub: 'grace-1', email: 'Grace@Demo.example', given_name: 'Grace B.', family_name: 'Hopper', groups: ['Engineering'] });

    const response = await back(await signInAt('grace@demo.example'));

    expect(response.status).toBe(302);
    const users = (await service.rt.users.list(org.orgId, { email: 'grace@demo.example', limit: 5 })).items;
    expect(users).toHaveLength(1);
    expect(users[0]?.firstName).toBe('Grace B.');
  });

  it('accepts a state only once: the same callback again is STATE_INVALID', async () => {
    const callback = await signInAt('grace@demo.example');
    expect((await back(callback)).status).toBe(302);

    const again = await back(callback);

    expect(again.status).toBe(401);
    expect(await again.json()).toMatchObject({ error: { code: 'STATE_INVALID' } });
  });

  it('refuses a replayed authorization code under a fresh state with OIDC_TOKEN_EXCHANGE_FAILED', async () => {
    const first = await signInAt('grace@demo.example');
    expect((await back(first)).status).toBe(302);
    const second = await signInAt('grace@demo.example');

    const replay = new URL(second);
    replay.searchParams.set('code', first.searchParams.get('code')!);
    const response = await back(replay);

    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: { code: 'OIDC_TOKEN_EXCHANGE_FAILED' } });
  });

  it('refuses a callback finished in another browser than the one that started the login (login CSRF)', async () => {
    const callback = await signInAt('grace@demo.example');

    const elsewhere = await get(callback.toString());

    expect(elsewhere.status).toBe(401);
    expect(await elsewhere.json()).toMatchObject({ error: { code: 'STATE_INVALID' } });
  });

  it('refuses an unverified email with EMAIL_NOT_VERIFIED and creates no user', async () => {
    const response = await back(await signInAt('mallory@demo.example'));

    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ error: { code: 'EMAIL_NOT_VERIFIED' } });
    expect((await service.rt.users.list(org.orgId, { email: 'mallory@demo.example', limit: 1 })).items).toEqual([]);
  });

  it('refuses an unmapped role claim with ROLE_NOT_MAPPED and records what was received', async () => {
    const response = await back(await signInAt('nobody@demo.example'));

    expect(await response.json()).toMatchObject({ error: { code: 'ROLE_NOT_MAPPED' } });
    const { items } = await service.rt.audit.list(org.orgId, { type: 'login.failed', limit: 1 });
    expect(items[0]?.details).toMatchObject({ protocol: 'oidc', roleValues: ['Marketing'], received: ['Marketing'] });
  });
});

describe('RP-initiated logout (OpenID RP-Initiated Logout 1.0)', () => {
  const logout = (session: string, headers: Record<string, string> = {}) =>
    fetch(`${service.baseUrl}/logout`, { method: 'POST', redirect: 'manual', headers: { cookie: `session=${session}`, origin: service.baseUrl, ...headers } });
  const signedIn = async () => sessionCookieOf(await back(await signInAt('grace@demo.example')))!;

  it("revokes our session and sends the browser to the provider's end_session_endpoint with client_id and logout_hint, which the provider accepts", async () => {
    const session = await signedIn();
    const discovery = (await (await fetch(`${provider.issuer}/.well-known/openid-configuration`)).json()) as { end_session_endpoint: string };

    const response = await logout(session);

    expect(response.status).toBe(302);
    const location = new URL(response.headers.get('location')!);
    expect(`${location.origin}${location.pathname}`).toBe(discovery.end_session_endpoint);
    expect(location.searchParams.get('client_id')).toBe(CLIENT.clientId);
    expect(location.searchParams.get('logout_hint')).toBe('grace@demo.example');
    expect(location.searchParams.has('id_token_hint')).toBe(false);
    expect((await get(`${service.baseUrl}/me`, { cookie: `session=${session}` })).status).toBe(401);
    // The real provider takes it: its logout confirmation page, not an error.
    const atProvider = await fetch(location, { redirect: 'manual' });
    expect(atProvider.status).toBe(200);
    expect(await atProvider.text()).toMatch(/logout/i);
  });

  it('answers a JSON caller 204 with the end_session URL in Location', async () => {
    const session = await signedIn();

    const response = await logout(session, { accept: 'application/json' });

    expect(response.status).toBe(204);
    expect(new URL(response.headers.get('location')!).searchParams.get('client_id')).toBe(CLIENT.clientId);
  });

  it('answers 204 without Location when the provider has no end_session_endpoint', async () => {
    const orgId = nextOrgId('oidc-no-logout');
    const quiet = await startTestOidcProvider({
      clients: [{ ...CLIENT, redirectUris: [orgUrls(service.baseUrl, orgId).oidcRedirectUri] }],
      users: [{ sub: 'grace-2', email: 'grace@quiet.example', groups: ['Engineering'] }],
      endSession: false,
    });
    try {
      const quietOrg = await createOidcOrg(service, { orgId, issuer: quiet.issuer, ...CLIENT });
      const start = await get(`${service.baseUrl}/sso/${quietOrg.orgId}/login?fwd=/`);
      const cookie = start.headers.getSetCookie().find((value) => value.startsWith('sso_browser='))!.split(';')[0]!;
      const callback = await authorizeThroughProvider(start.headers.get('location')!, 'grace@quiet.example');
      const session = sessionCookieOf(await get(callback.toString(), { accept: 'application/json', cookie }))!;

      const response = await logout(session);

      expect(response.status).toBe(204);
      expect(response.headers.get('location')).toBeNull();
    } finally {
      await quiet.stop();
    }
  });
});
