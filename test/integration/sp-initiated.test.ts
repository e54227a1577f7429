/**
 * Every way in that starts here: SP-initiated SAML (GET /sso/{orgId}/login and
 * GET /login/sso), email discovery and the login page, and logout.
 */
import { createVerify } from 'node:crypto';
import { inflateRawSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSignedLoginResponse, createSamlIdpKeys, type SamlIdpKeys } from '../../local/saml-idp.js';
import { createSamlOrg, postAcs, sessionCookieOf, startTestService, type SamlOrg, type TestService } from '../support/service.js';

let service: TestService;
let idp: SamlIdpKeys;
let spKey: SamlIdpKeys;

beforeAll(async () => {
  // The SP key pair is made like an IdP's: a fresh RSA key and a self-signed certificate.
  [idp, spKey] = await Promise.all([createSamlIdpKeys('https://idp.acme.test/metadata'), createSamlIdpKeys('sso-jit SP')]);
  service = await startTestService({ spKey: { privateKeyPem: spKey.privateKeyPem, certificatePem: spKey.certificatePem } });
});
afterAll(() => service?.close());

const SSO_URL = 'https://idp.acme.test/sso';

function orgWithSso(options: Parameters<typeof createSamlOrg>[1] = {}) {
  return createSamlOrg(service, { idp, ...options, saml: { ssoUrl: SSO_URL, ...options.saml } });
}

const get = (path: string, headers: Record<string, string> = { accept: 'application/json' }) =>
  fetch(`${service.baseUrl}${path}`, { redirect: 'manual', headers });

/** What the IdP receives: the AuthnRequest XML and the RelayState, from our redirect; and the browser's binding cookie. */
function authnRequestOf(response: Response) {
  const location = new URL(response.headers.get('location')!);
  const xml = inflateRawSync(Buffer.from(location.searchParams.get('SAMLRequest')!, 'base64')).toString('utf8');
  const browser = response.headers.getSetCookie().find((cookie) => cookie.startsWith('sso_browser='))!.split(';')[0]!;
  return { location, xml, id: /\sID="([^"]+)"/.exec(xml)![1]!, relayState: location.searchParams.get('RelayState')!, browser };
}

/** Posts the IdP's answer from the browser that started the login. */
const postFrom = (browser: string, orgId: string, fields: Record<string, string>) => postAcs(service, orgId, fields, { accept: 'application/json', cookie: browser });

function answer(org: SamlOrg, inResponseTo: string, nameId = 'ada@acme.test') {
  return buildSignedLoginResponse({
    idp,
    spEntityId: org.urls.spEntityId,
    acsUrl: org.urls.acsUrl,
    nameId,
    inResponseTo,
    attributes: { groups: 'Admins' },
    now: service.clock.now(),
  });
}

async function errorOf(response: Response) {
  return { status: response.status, ...((await response.json()) as { error: { code: string } }).error };
}

describe('GET /sso/{orgId}/login (SAML)', () => {
  it('sends the browser to the IdP with an AuthnRequest for this org, and only an opaque RelayState', async () => {
    const org = await orgWithSso();

    const response = await get(`/sso/${org.orgId}/login?fwd=${encodeURIComponent('/projects/7?tab=1')}`);

    expect(response.status).toBe(302);
    const request = authnRequestOf(response);
    expect(`${request.location.origin}${request.location.pathname}`).toBe(SSO_URL);
    expect(request.xml).toContain(`Destination="${SSO_URL}"`);
    expect(request.xml).toContain(`AssertionConsumerServiceURL="${org.urls.acsUrl}"`);
    expect(request.xml).toContain(`<saml:Issuer>${org.urls.spEntityId}</saml:Issuer>`);
    expect(request.relayState).toBe(request.id);
    expect(request.location.search).not.toContain('projects');
    expect(request.location.searchParams.has('Signature')).toBe(false);
  });

  it('completes the round trip: the answer to our request lands on the stored fwd', async () => {
    const org = await orgWithSso();
    const request = authnRequestOf(await get(`/sso/${org.orgId}/login?fwd=${encodeURIComponent('/projects/7?tab=1')}`));

    const login = await postFrom(request.browser, org.orgId, { SAMLResponse: answer(org, request.id), RelayState: request.relayState });

    expect(login.status).toBe(302);
    expect(login.headers.get('location')).toBe(`${service.baseUrl}/projects/7?tab=1`);
    expect(sessionCookieOf(login)).toBeTruthy();
  });

  it('accepts SP-initiated answers when IdP-initiated login is off', async () => {
    const org = await orgWithSso({ saml: { allowIdpInitiated: false } });
    const request = authnRequestOf(await get(`/sso/${org.orgId}/login`));

    const login = await postFrom(request.browser, org.orgId, { SAMLResponse: answer(org, request.id), RelayState: request.relayState });

    expect(login.status).toBe(302);
    expect(login.headers.get('location')).toBe(`${service.baseUrl}/`);
  });

  it('refuses the answer in another browser than the one that asked (login CSRF), and keeps it for the right one', async () => {
    const org = await orgWithSso({ saml: { allowIdpInitiated: false } });
    const request = authnRequestOf(await get(`/sso/${org.orgId}/login`));
    const SAMLResponse = answer(org, request.id, 'attacker@acme.test');

    const withoutCookie = await postAcs(service, org.orgId, { SAMLResponse, RelayState: request.relayState });
    const otherBrowser = await postFrom('sso_browser=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', org.orgId, { SAMLResponse, RelayState: request.relayState });

    expect(await errorOf(withoutCookie)).toMatchObject({ status: 401, code: 'IN_RESPONSE_TO_INVALID' });
    expect(await errorOf(otherBrowser)).toMatchObject({ status: 401, code: 'IN_RESPONSE_TO_INVALID' });
    expect((await service.rt.users.list(org.orgId, { email: 'attacker@acme.test', limit: 1 })).items).toEqual([]);
    expect(request.browser).toMatch(/^sso_browser=[A-Za-z0-9_-]{43}$/);
  });

  it('accepts the answer to a request only once', async () => {
    const org = await orgWithSso();
    const request = authnRequestOf(await get(`/sso/${org.orgId}/login`));
    expect((await postFrom(request.browser, org.orgId, { SAMLResponse: answer(org, request.id), RelayState: request.relayState })).status).toBe(302);

    // A second, freshly signed assertion answering the same request.
    const again = await postFrom(request.browser, org.orgId, { SAMLResponse: answer(org, request.id, 'bob@acme.test'), RelayState: request.relayState });

    expect(await errorOf(again)).toMatchObject({ status: 401, code: 'IN_RESPONSE_TO_INVALID' });
    expect((await service.rt.users.list(org.orgId, { email: 'bob@acme.test', limit: 1 })).items).toEqual([]);
  });

  it("refuses an answer to another org's request, even when both orgs trust the same IdP", async () => {
    const [orgA, orgB] = [await orgWithSso(), await orgWithSso()];
    const request = authnRequestOf(await get(`/sso/${orgA.orgId}/login`));

    const atB = await postFrom(request.browser, orgB.orgId, { SAMLResponse: answer(orgB, request.id), RelayState: request.relayState });

    expect(await errorOf(atB)).toMatchObject({ status: 401, code: 'IN_RESPONSE_TO_INVALID' });
  });

  it('refuses the answer to a request that expired', async () => {
    const org = await orgWithSso();
    const request = authnRequestOf(await get(`/sso/${org.orgId}/login`));
    service.clock.advance(11 * 60_000);

    const late = await postFrom(request.browser, org.orgId, { SAMLResponse: answer(org, request.id), RelayState: request.relayState });

    service.clock.advance(-11 * 60_000);
    expect(await errorOf(late)).toMatchObject({ status: 401, code: 'IN_RESPONSE_TO_INVALID' });
  });

  it.each([
    ['an absolute URL', 'https://evil.example/'],
    ['a protocol-relative URL', '//evil.example/'],
    ['a backslash host', '/\\evil.example'],
    ['encoded slashes', '/%2F%2Fevil.example'],
    ['an encoded backslash', '/%5Cevil.example'],
    ['a scheme', 'javascript:alert(1)'],
    ['CR/LF', '/x%0D%0ALocation:%20https://evil.example'],
    ['a tab', '/%09/evil.example'],
    ['a dot segment to a protocol-relative path', '/.//evil.example'],
  ])('refuses fwd with %s: 400 RELAY_STATE_INVALID, nothing stored', async (_name, fwd) => {
    const org = await orgWithSso();

    const response = await get(`/sso/${org.orgId}/login?fwd=${encodeURIComponent(fwd)}`);

    expect(await errorOf(response)).toMatchObject({ status: 400, code: 'RELAY_STATE_INVALID' });
  });

  it('signs the AuthnRequest with the SP key when the org asks for it, and the metadata publishes that key', async () => {
    const org = await orgWithSso({ saml: { signAuthnRequests: true } });

    const response = await get(`/sso/${org.orgId}/login`);
    const metadata = await (await get(`/sso/${org.orgId}/saml/metadata`, {})).text();

    const query = response.headers.get('location')!.split('?')[1]!;
    const signed = query.slice(0, query.indexOf('&Signature='));
    const signature = decodeURIComponent(query.slice(query.indexOf('&Signature=') + '&Signature='.length));
    expect(new URLSearchParams(query).get('SigAlg')).toBe('http://www.w3.org/2001/04/xmldsig-more#rsa-sha256');
    expect(createVerify('RSA-SHA256').update(signed).verify(spKey.certificatePem, signature, 'base64')).toBe(true);
    expect(metadata).toContain('AuthnRequestsSigned="true"');
    expect(metadata).toContain(spKey.certificatePem.replace(/-----[A-Z ]+-----|\s/g, '').slice(0, 64));
  });

  it.each([
    ['an unknown org', 'no-such-org', 404, 'ORG_NOT_FOUND'],
  ])('answers %s with %i %s', async (_name, orgId, status, code) => {
    expect(await errorOf(await get(`/sso/${orgId}/login`))).toMatchObject({ status, code });
  });

  it('refuses an org whose SSO is off with 403 SSO_NOT_ENABLED, as a page for browsers', async () => {
    const org = await orgWithSso({ sso: { enabled: false }, provisioning: { method: 'manual' } });

    const json = await get(`/sso/${org.orgId}/login`);
    const browser = await get(`/sso/${org.orgId}/login`, { accept: 'text/html' });

    expect(await errorOf(json)).toMatchObject({ status: 403, code: 'SSO_NOT_ENABLED' });
    expect(browser.status).toBe(403);
    expect(await browser.text()).toContain('SSO_NOT_ENABLED');
  });
});

describe('GET /login/sso?idp=…', () => {
  it("finds the org by its IdP entity ID and starts that org's login", async () => {
    const own = await createSamlIdpKeys(`https://idp.example/${Date.now()}`);
    const org = await createSamlOrg(service, { idp: own, saml: { ssoUrl: SSO_URL } });

    const response = await get(`/login/sso?idp=${encodeURIComponent(own.entityId)}&fwd=/dash`);

    expect(response.status).toBe(302);
    expect(authnRequestOf(response).xml).toContain(`AssertionConsumerServiceURL="${org.urls.acsUrl}"`);
  });

  it('answers an IdP no org uses with 404 ORG_NOT_FOUND', async () => {
    expect(await errorOf(await get('/login/sso?idp=https%3A%2F%2Fnobody.example&fwd=/'))).toMatchObject({ status: 404, code: 'ORG_NOT_FOUND' });
  });

  it('refuses an unsafe fwd before looking anything up', async () => {
    expect(await errorOf(await get(`/login/sso?idp=${encodeURIComponent(idp.entityId)}&fwd=//evil.example`))).toMatchObject({ status: 400, code: 'RELAY_STATE_INVALID' });
  });
});

describe('POST /login/discover', () => {
  const discover = (body: unknown, headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' }) =>
    fetch(`${service.baseUrl}/login/discover`, { method: 'POST', redirect: 'manual', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });

  it("answers an existing user's email with their org's login URL", async () => {
    const org = await orgWithSso();

    const response = await discover({ email: org.adminEmail.toUpperCase() });

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ loginUrl: `${service.baseUrl}/sso/${org.orgId}/login?fwd=%2F` });
  });

  // Domains route only once verified: verified-domains.test.ts.

  it('answers an unknown email and a user of an org without SSO exactly alike: 404 NO_SSO_FOR_EMAIL', async () => {
    const off = await orgWithSso({ sso: { enabled: false }, provisioning: { method: 'manual' } });

    const unknown = await discover({ email: 'nobody@nowhere.example' });
    const noSso = await discover({ email: off.adminEmail });

    const [a, b] = [await unknown.json(), await noSso.json()];
    expect(unknown.status).toBe(404);
    expect(noSso.status).toBe(404);
    expect(a).toEqual(b);
    expect(a).toMatchObject({ error: { code: 'NO_SSO_FOR_EMAIL' } });
  });

  it('refuses a body that is not an email with 400 VALIDATION_FAILED naming the field', async () => {
    expect(await errorOf(await discover({ email: 'not-an-email' }))).toMatchObject({ status: 400, code: 'VALIDATION_FAILED', message: expect.stringMatching(/^email:/) });
    expect(await errorOf(await discover({ email: 'a@b.example', extra: 1 }))).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
  });

  it('sends the login page\'s form post straight on with 303', async () => {
    const org = await orgWithSso();

    const response = await discover(new URLSearchParams({ email: org.adminEmail, fwd: '/after' }).toString(), {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'text/html',
    });

    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe(`${service.baseUrl}/sso/${org.orgId}/login?fwd=%2Fafter`);
  });
});

describe('GET /login', () => {
  it('serves a page with an email form that posts to /login/discover', async () => {
    const response = await get('/login?fwd=/x', {});

    const page = await response.text();
    expect(response.status).toBe(200);
    expect(page).toMatch(/<form method="post" action="\/login\/discover">/);
    expect(page).toContain('name="email"');
    expect(page).toContain('value="/x"');
  });

  it('refuses an unsafe fwd', async () => {
    expect((await get('/login?fwd=https://evil.example', {})).status).toBe(400);
  });
});

describe('POST /logout', () => {
  it('answers 204 and clears the session cookie', async () => {
    const response = await fetch(`${service.baseUrl}/logout`, { method: 'POST' });

    expect(response.status).toBe(204);
    expect(response.headers.getSetCookie()).toEqual(['session=; HttpOnly; Secure; SameSite=Lax; Path=/; Max-Age=0']);
  });
});
