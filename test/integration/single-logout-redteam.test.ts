/**
 * Red-team suite for SAML single logout and POST /logout (API.md "SAML as enterprises run
 * it": Single logout; DESIGN.md security requirements). The attacker: a network attacker
 * or malicious user holding captured, legitimately signed logout messages; a hostile IdP
 * of another org; a web page the victim visits.
 *
 * Every test asserts the SAFE outcome. A failing test is an attack that works.
 */

import { deflateRawSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSignedLoginResponse, createSamlIdpKeys, type SamlIdpKeys } from '../../local/saml-idp.js';
import type { SpKeyPair } from '../../shared/saml/authn-request.js';
import { logoutRequestXml, logoutResponseXml, newMessageId, readRedirect, redirectQuery, RSA_SHA256, signRootXml } from '../support/saml-logout.js';
import { createSamlOrg, postAcs, sessionCookieOf, startTestService, type SamlOrg, type TestService } from '../support/service.js';

let service: TestService;
let org: SamlOrg;
let otherOrg: SamlOrg;
let forger: SamlIdpKeys;
let spCertificate: string;
const SLO_URL = 'https://idp.example.com/slo';

beforeAll(async () => {
  const sp = await createSamlIdpKeys('sp');
  const spKey: SpKeyPair = { privateKeyPem: sp.privateKeyPem, certificatePem: sp.certificatePem };
  spCertificate = sp.certificatePem;
  service = await startTestService({ spKey });
  org = await createSamlOrg(service, { saml: { sloUrl: SLO_URL } });
  // Another org trusting the very same IdP (same entity ID and key): a multi-tenant IdP.
  otherOrg = await createSamlOrg(service, { idp: org.idp, saml: { sloUrl: SLO_URL } });
  forger = await createSamlIdpKeys(org.idp.entityId);
});
afterAll(() => service?.close());

let counter = 0;
const email = (label: string) => `${label}-${++counter}@acme.test`;
const tick = () => service.clock.advance(1000);

async function signIn(target: SamlOrg, nameId: string, sessionIndex: string): Promise<string> {
  const SAMLResponse = buildSignedLoginResponse({
    idp: target.idp,
    spEntityId: target.urls.spEntityId,
    acsUrl: target.urls.acsUrl,
    nameId,
    attributes: { groups: ['Admins'] },
    sessionIndex,
    now: service.clock.now(),
  });
  const response = await postAcs(service, target.orgId, { SAMLResponse });
  expect(response.status).toBe(302);
  return sessionCookieOf(response)!;
}
const alive = async (token: string) => (await fetch(`${service.baseUrl}/me`, { headers: { authorization: `Bearer ${token}` } })).status === 200;
const sloGet = (target: SamlOrg, query: string) => fetch(`${target.urls.singleLogoutUrl}?${query}`, { redirect: 'manual', headers: { accept: 'application/json' } });
const sloPost = (target: SamlOrg, fields: Record<string, string>) =>
  fetch(target.urls.singleLogoutUrl, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams(fields).toString(),
  });
const request = (target: SamlOrg, nameId: string, sessionIndexes: string[], extra: Partial<Parameters<typeof logoutRequestXml>[0]> = {}) =>
  logoutRequestXml({ issuer: target.idp.entityId, nameId, sessionIndexes, destination: target.urls.singleLogoutUrl, now: service.clock.now(), ...extra });
const codeOf = async (response: Response) => {
  const text = await response.text();
  try {
    return (JSON.parse(text) as { error?: { code?: string } }).error?.code ?? `status ${response.status}`;
  } catch {
    return /[A-Z_]{6,}/.exec(text)?.[0] ?? `status ${response.status}`;
  }
};
async function expectRefused(response: Response, codes: string | string[]) {
  expect([400, 401, 413, 414, 431]).toContain(response.status);
  expect([codes].flat()).toContain(await codeOf(response));
}

/** A fresh victim signed in with one IdP session; returns the victim's NameID and token. */
async function victim(target: SamlOrg = org) {
  tick();
  const nameId = email('victim');
  const index = `idx-${counter}`;
  return { nameId, index, token: await signIn(target, nameId, index) };
}

describe('forged and tampered LogoutRequests revoke nothing', () => {
  it('Redirect: a request signed by a key claiming the IdP entity ID (not configured) is refused', async () => {
    const v = await victim();
    tick();
    await expectRefused(await sloGet(org, redirectQuery('SAMLRequest', request(org, v.nameId, []), forger)), 'SIGNATURE_INVALID');
    expect(await alive(v.token)).toBe(true);
  });

  it('Redirect: SigAlg claims rsa-sha512 over an rsa-sha256 signature', async () => {
    const v = await victim();
    tick();
    const query = redirectQuery('SAMLRequest', request(org, v.nameId, []), org.idp).replace(encodeURIComponent(RSA_SHA256), encodeURIComponent('http://www.w3.org/2001/04/xmldsig-more#rsa-sha512'));
    await expectRefused(await sloGet(org, query), 'SIGNATURE_INVALID');
    expect(await alive(v.token)).toBe(true);
  });

  it.each([
    ['none', 'none'],
    ['HMAC-SHA256', 'http://www.w3.org/2001/04/xmldsig-more#hmac-sha256'],
    ['RSA-MD5', 'http://www.w3.org/2001/04/xmldsig-more#rsa-md5'],
  ])('Redirect: SigAlg %s is refused', async (_name, sigAlg) => {
    const v = await victim();
    tick();
    let query = `SAMLRequest=${encodeURIComponent(deflateRawSync(Buffer.from(request(org, v.nameId, []))).toString('base64'))}&SigAlg=${encodeURIComponent(sigAlg)}`;
    query += `&Signature=${encodeURIComponent(Buffer.from('x').toString('base64'))}`;
    await expectRefused(await sloGet(org, query), ['ALGORITHM_NOT_ALLOWED', 'SIGNATURE_INVALID']);
    expect(await alive(v.token)).toBe(true);
  });

  it('Redirect: SAMLRequest given twice (signed one first, forged one second) is refused', async () => {
    const v = await victim();
    const bystander = await victim();
    tick();
    const signed = redirectQuery('SAMLRequest', request(org, bystander.nameId, []), org.idp);
    const forged = encodeURIComponent(deflateRawSync(Buffer.from(request(org, v.nameId, []))).toString('base64'));
    await expectRefused(await sloGet(org, `${signed}&SAMLRequest=${forged}`), 'SAML_MALFORMED');
    await expectRefused(await sloGet(org, `SAMLRequest=${forged}&${signed}`), 'SAML_MALFORMED');
    expect(await alive(v.token)).toBe(true);
  });

  it('Redirect: a percent-encoded parameter name (SAML%52equest) cannot smuggle a second, unsigned SAMLRequest', async () => {
    const v = await victim();
    const bystander = await victim();
    tick();
    const signed = redirectQuery('SAMLRequest', request(org, bystander.nameId, []), org.idp);
    const forged = encodeURIComponent(deflateRawSync(Buffer.from(request(org, v.nameId, []))).toString('base64'));
    await expectRefused(await sloGet(org, `SAML%52equest=${forged}&${signed}`), 'SAML_MALFORMED');
    expect(await alive(v.token)).toBe(true);
  });

  it('Redirect: a RelayState added to a request signed without one is refused', async () => {
    const v = await victim();
    tick();
    const signed = redirectQuery('SAMLRequest', request(org, v.nameId, []), org.idp);
    const [samlRequest, ...rest] = signed.split('&');
    await expectRefused(await sloGet(org, [samlRequest, 'RelayState=https%3A%2F%2Fevil.test', ...rest].join('&')), 'SIGNATURE_INVALID');
    expect(await alive(v.token)).toBe(true);
  });

  it('Redirect: the IdP signature over a LogoutResponse cannot be replayed as a LogoutRequest', async () => {
    const v = await victim();
    tick();
    // Signed octets start with "SAMLResponse=": move them under SAMLRequest.
    const signed = redirectQuery('SAMLResponse', request(org, v.nameId, []), org.idp).replace(/^SAMLResponse=/, 'SAMLRequest=');
    await expectRefused(await sloGet(org, signed), 'SIGNATURE_INVALID');
    expect(await alive(v.token)).toBe(true);
  });

  it('POST: a second NameID (the victim) added to a signed request naming someone else is refused', async () => {
    const v = await victim();
    tick();
    const signed = signRootXml(request(org, email('nobody'), []), org.idp);
    const wrapped = signed.replace('</samlp:LogoutRequest>', `<saml:NameID>${v.nameId}</saml:NameID></samlp:LogoutRequest>`);
    await expectRefused(await sloPost(org, { SAMLRequest: Buffer.from(wrapped).toString('base64') }), ['SAML_MALFORMED', 'SIGNATURE_INVALID']);
    expect(await alive(v.token)).toBe(true);
  });

  it('POST: XSW: the signed request moved into an Extensions of a forged root naming the victim is refused', async () => {
    const v = await victim();
    tick();
    const signed = signRootXml(request(org, email('nobody'), []), org.idp);
    const forged = request(org, v.nameId, []).replace('</saml:Issuer>', () => `</saml:Issuer><samlp:Extensions>${signed.replace(/ xmlns:samlp="[^"]+" xmlns:saml="[^"]+"/, '')}</samlp:Extensions>`);
    await expectRefused(await sloPost(org, { SAMLRequest: Buffer.from(forged).toString('base64') }), ['SAML_MALFORMED', 'SIGNATURE_INVALID']);
    expect(await alive(v.token)).toBe(true);
  });

  it('POST: a DOCTYPE with an entity expanding to the NameID is refused', async () => {
    const v = await victim();
    tick();
    const xml = `<!DOCTYPE x [<!ENTITY n "${v.nameId}">]>` + signRootXml(request(org, 'PLACEHOLDER', []), org.idp).replace('PLACEHOLDER', '&n;');
    await expectRefused(await sloPost(org, { SAMLRequest: Buffer.from(xml).toString('base64') }), ['SAML_MALFORMED', 'SIGNATURE_INVALID']);
    expect(await alive(v.token)).toBe(true);
  });

  it('POST: a signed NameID split by a comment never revokes the truncated identity', async () => {
    const v = await victim();
    tick();
    // The IdP signs "<victim>.evil.test" with a comment: c14n without comments keeps the digest.
    const signed = signRootXml(request(org, `${v.nameId}.evil.test`, []), org.idp);
    const split = signed.replace(`${v.nameId}.evil.test`, `${v.nameId}<!---->.evil.test`);
    const response = await sloPost(org, { SAMLRequest: Buffer.from(split).toString('base64') });
    expect(response.status).not.toBe(302);
    expect(await alive(v.token)).toBe(true);
  });
});

describe('scope of a logout: org, NameID, SessionIndex', () => {
  it("a SessionIndex of another user, under the attacker's own NameID, does not end the other user's session", async () => {
    const v = await victim();
    tick();
    const response = await sloGet(org, redirectQuery('SAMLRequest', request(org, email('mallory'), [v.index]), org.idp));
    expect(response.status).toBe(302);
    expect(await alive(v.token)).toBe(true);
  });

  it("a NameID differing only in case or surrounding whitespace does not end someone else's session", async () => {
    const v = await victim();
    tick();
    await sloGet(org, redirectQuery('SAMLRequest', request(org, v.nameId.toUpperCase(), []), org.idp));
    expect(await alive(v.token)).toBe(true);
  });

  it("org A's signed request (Destination = org A) replayed at org B (same IdP) ends nothing at B", async () => {
    const v = await victim(otherOrg);
    tick();
    const query = redirectQuery('SAMLRequest', request(org, v.nameId, []), org.idp);
    await expectRefused(await sloGet(otherOrg, query), 'DESTINATION_MISMATCH');
    expect(await alive(v.token)).toBe(true);
  });

  it("refuses a signed LogoutRequest WITHOUT Destination at org A and at org B (same IdP), ending no session", async () => {
    // SAML bindings 3.4.5.2 / 3.5.5.2: a signed message MUST carry Destination. Without it,
    // nothing binds the request to org A: captured at A (or sent by the IdP to A), it is
    // replayed at B (markSeen is per org) and logs out B's user with the same NameID.
    const atA = await victim(org);
    tick();
    const atB = await signIn(otherOrg, atA.nameId, atA.index);
    tick();
    const xml = request(org, atA.nameId, [atA.index], { destination: undefined });
    expect(xml).not.toContain('Destination=');
    const query = redirectQuery('SAMLRequest', xml, org.idp);
    // A signed request that does not name this org's SLO endpoint is refused everywhere.
    await expectRefused(await sloGet(org, query), 'DESTINATION_MISMATCH');
    await expectRefused(await sloGet(otherOrg, query), 'DESTINATION_MISMATCH');
    expect(await alive(atA.token)).toBe(true);
    expect(await alive(atB)).toBe(true);
  });

  it('a LogoutRequest replayed by HTTP-POST after its HTTP-Redirect use is refused (same ID)', async () => {
    const v = await victim();
    tick();
    const id = newMessageId();
    const xml = request(org, email('nobody'), [], { id });
    expect((await sloGet(org, redirectQuery('SAMLRequest', xml, org.idp))).status).toBe(302);
    const again = await sloPost(org, { SAMLRequest: Buffer.from(signRootXml(xml, org.idp)).toString('base64') });
    await expectRefused(again, 'ASSERTION_REPLAYED');
    expect(await alive(v.token)).toBe(true);
  });

  it('a request without NotOnOrAfter issued 11 minutes ago is expired', async () => {
    const v = await victim();
    tick();
    const xml = request(org, v.nameId, [], { lifetimeSeconds: null, now: new Date(service.clock.now().getTime() - 11 * 60_000) });
    await expectRefused(await sloGet(org, redirectQuery('SAMLRequest', xml, org.idp)), 'ASSERTION_EXPIRED');
    expect(await alive(v.token)).toBe(true);
  });
});

describe('redirects after logout', () => {
  it('an IdP LogoutRequest with RelayState=https://evil.test is answered to sloUrl only (RelayState is data for the IdP)', async () => {
    tick();
    const response = await sloGet(org, redirectQuery('SAMLRequest', request(org, email('nobody'), []), org.idp, { relayState: 'https://evil.test/x' }));
    expect(response.status).toBe(302);
    const location = new URL(response.headers.get('location')!);
    expect(location.origin + location.pathname).toBe(SLO_URL);
  });

  it('a LogoutResponse with RelayState //evil.test ends at / on our origin', async () => {
    tick();
    const token = await signIn(org, email('sp-init'), 'idx-sp');
    const start = await fetch(`${service.baseUrl}/logout`, { method: 'POST', redirect: 'manual', headers: { authorization: `Bearer ${token}` } });
    const sent = readRedirect(start.headers.get('location')!, spCertificate);
    const requestId = /ID="([^"]+)"/.exec(sent.xml)![1]!;
    const answer = logoutResponseXml({ issuer: org.idp.entityId, inResponseTo: requestId, destination: org.urls.singleLogoutUrl, now: service.clock.now() });
    const response = await sloGet(org, redirectQuery('SAMLResponse', answer, org.idp, { relayState: '//evil.test' }));
    expect(response.status).toBe(302);
    const location = new URL(response.headers.get('location')!, service.baseUrl);
    expect(location.origin).toBe(new URL(service.baseUrl).origin);
  });

  it("a LogoutResponse to org A's pending request, forged by another org's IdP, is refused", async () => {
    tick();
    const third = await createSamlOrg(service, { saml: { sloUrl: SLO_URL } });
    const token = await signIn(org, email('sp-init'), 'idx-sp2');
    const start = await fetch(`${service.baseUrl}/logout`, { method: 'POST', redirect: 'manual', headers: { authorization: `Bearer ${token}` } });
    const requestId = /ID="([^"]+)"/.exec(readRedirect(start.headers.get('location')!, spCertificate).xml)![1]!;
    const answer = logoutResponseXml({ issuer: org.idp.entityId, inResponseTo: requestId, destination: org.urls.singleLogoutUrl, now: service.clock.now() });
    // Third org's IdP signs it, claiming org A's IdP entity ID; sent to org A.
    await expectRefused(await sloGet(org, redirectQuery('SAMLResponse', answer, third.idp)), 'SIGNATURE_INVALID');
  });
});

describe('denial of service through the SLO endpoint', () => {
  it('a deflate bomb (SAMLRequest inflating far past 256 KiB) is refused quickly', async () => {
    const bomb = deflateRawSync(Buffer.alloc(8 * 1024 * 1024, 0x20));
    expect(bomb.length).toBeLessThan(10 * 1024);
    const started = Date.now();
    const response = await sloGet(org, `SAMLRequest=${encodeURIComponent(bomb.toString('base64'))}`);
    expect(Date.now() - started).toBeLessThan(3000);
    await expectRefused(response, ['SAML_MALFORMED', 'PAYLOAD_TOO_LARGE', 'status 414', 'status 413', 'status 431']);
  });

  it('a huge signed-looking query (many parameters) is refused without work', async () => {
    const junk = Array.from({ length: 20_000 }, (_, i) => `x${i}=y`).join('&');
    const response = await sloGet(org, `${junk}&SAMLRequest=AAAA`);
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
  });
});

describe('POST /logout', () => {
  it('refuses a cookie-authenticated POST /logout from another Origin (logout CSRF, which would also end the IdP session via sloUrl)', async () => {
    tick();
    const token = await signIn(org, email('csrf'), 'idx-csrf');
    const response = await fetch(`${service.baseUrl}/logout`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: `session=${token}`, origin: 'https://evil.test' },
    });
    // Secure (as POST /me/sessions/revoke): 403 CSRF_REJECTED and the session lives on.
    expect(response.status).toBe(403);
    expect(await alive(token)).toBe(true);
  });

  it('the SP-initiated LogoutRequest goes only to sloUrl and carries no session token', async () => {
    tick();
    const token = await signIn(org, email('leak'), 'idx-leak');
    const response = await fetch(`${service.baseUrl}/logout`, { method: 'POST', redirect: 'manual', headers: { authorization: `Bearer ${token}` } });
    const location = response.headers.get('location')!;
    expect(location.startsWith(`${SLO_URL}?`)).toBe(true);
    expect(location).not.toContain(token);
    expect(location).not.toContain(token.split('.')[1]!);
  });

  it('a logout started with a forged (unsigned) token sends nobody anywhere and revokes nothing', async () => {
    tick();
    const token = await signIn(org, email('forge'), 'idx-forge');
    const [header, payload] = token.split('.');
    const forged = `${header}.${payload}.${Buffer.from('sig').toString('base64url')}`;
    const response = await fetch(`${service.baseUrl}/logout`, { method: 'POST', redirect: 'manual', headers: { authorization: `Bearer ${forged}` } });
    expect(response.headers.get('location')).toBeNull();
    expect(await alive(token)).toBe(true);
  });
});

