/**
 * SAML single logout (API.md "SAML as enterprises run it": Single logout; issue 15 item 5),
 * end to end through the local server on DynamoDB Local, with LogoutRequests and
 * LogoutResponses signed at test time with the test IdP's key.
 *
 * Revocation is proven the way a thief would find out: the revoked token is refused
 * (`401 UNAUTHENTICATED`) on a session-authenticated route.
 */
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSignedLoginResponse, createSamlIdpKeys, NAMEID_PERSISTENT, type SamlIdpKeys } from '../../local/saml-idp.js';
import type { SpKeyPair } from '../../shared/saml/authn-request.js';
import {
  logoutRequestXml,
  logoutResponseXml,
  newMessageId,
  readRedirect,
  redirectQuery,
  rootAttribute,
  RSA_SHA1,
  signRootXml,
} from '../support/saml-logout.js';
import { apiClient, createSamlOrg, postAcs, sessionCookieOf, startTestService, tokenFor, type SamlOrg, type TestService } from '../support/service.js';

let service: TestService;
let spKey: SpKeyPair;
let org: SamlOrg;
let otherOrg: SamlOrg;
const SLO_URL = 'https://idp.example.com/slo';

beforeAll(async () => {
  const sp = await createSamlIdpKeys('sp');
  spKey = { privateKeyPem: sp.privateKeyPem, certificatePem: sp.certificatePem };
  service = await startTestService({ spKey });
  org = await createSamlOrg(service, { saml: { sloUrl: SLO_URL } });
  // Another org trusting the very same IdP (same entity ID and key): its sessions are its own.
  otherOrg = await createSamlOrg(service, { idp: org.idp, saml: { sloUrl: SLO_URL } });
});
afterAll(() => service?.close());

let counter = 0;
const email = (label: string) => `${label}-${++counter}@acme.test`;

/** A user signed in through the ACS with this NameID and SessionIndex: their session token. */
async function signIn(target: SamlOrg, nameId: string, sessionIndex: string, nameIdFormat?: string): Promise<string> {
  const SAMLResponse = buildSignedLoginResponse({
    idp: target.idp,
    spEntityId: target.urls.spEntityId,
    acsUrl: target.urls.acsUrl,
    nameId,
    ...(nameIdFormat ? { nameIdFormat, attributes: { groups: ['Admins'], emailAddress: `${sessionIndex}@acme.test` } } : { attributes: { groups: ['Admins'] } }),
    sessionIndex,
    now: service.clock.now(),
  });
  const response = await postAcs(service, target.orgId, { SAMLResponse });
  expect(response.status).toBe(302);
  return sessionCookieOf(response)!;
}

const meStatus = async (token: string) => (await fetch(`${service.baseUrl}/me`, { headers: { authorization: `Bearer ${token}` } })).status;

const sloGet = (target: SamlOrg, query: string, headers: Record<string, string> = {}) =>
  fetch(`${target.urls.singleLogoutUrl}?${query}`, { redirect: 'manual', headers });
const sloPost = (target: SamlOrg, fields: Record<string, string>, headers: Record<string, string> = {}) =>
  fetch(target.urls.singleLogoutUrl, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(fields).toString(),
  });

const request = (target: SamlOrg, nameId: string, sessionIndexes: string[], extra: Partial<Parameters<typeof logoutRequestXml>[0]> = {}) =>
  logoutRequestXml({ issuer: target.idp.entityId, nameId, sessionIndexes, destination: target.urls.singleLogoutUrl, now: service.clock.now(), ...extra });

const sloEvents = async (target: SamlOrg) => (await service.rt.audit.list(target.orgId, { type: 'sso.slo', limit: 50 })).items;

/** A later second: sessions made after a logout are not covered by it. */
const tick = () => service.clock.advance(1000);

describe('IdP-initiated single logout by HTTP-Redirect', () => {
  it('revokes the sessions of the NameID made with that SessionIndex and no other', async () => {
    tick();
    const alice = email('alice');
    const ended = await signIn(org, alice, 'idx-a1');
    const sameUserOtherIdpSession = await signIn(org, alice, 'idx-a2');
    const otherUser = await signIn(org, email('bob'), 'idx-a1');
    const otherOrgSameNameId = await signIn(otherOrg, alice, 'idx-a1');

    const response = await sloGet(org, redirectQuery('SAMLRequest', request(org, alice, ['idx-a1']), org.idp, { relayState: 'rs-1' }));

    expect(response.status).toBe(302);
    expect(await meStatus(ended)).toBe(401);
    expect(await meStatus(sameUserOtherIdpSession)).toBe(200);
    expect(await meStatus(otherUser)).toBe(200);
    expect(await meStatus(otherOrgSameNameId)).toBe(200);
  });

  it('revokes every session of the NameID from that IdP when the request names no SessionIndex', async () => {
    tick();
    const carol = email('carol');
    const first = await signIn(org, carol, 'idx-c1');
    const second = await signIn(org, carol, 'idx-c2');
    const otherUser = await signIn(org, email('dave'), 'idx-c1');
    const otherOrgSameNameId = await signIn(otherOrg, carol, 'idx-c1');

    const response = await sloGet(org, redirectQuery('SAMLRequest', request(org, carol, []), org.idp));

    expect(response.status).toBe(302);
    expect(await meStatus(first)).toBe(401);
    expect(await meStatus(second)).toBe(401);
    expect(await meStatus(otherUser)).toBe(200);
    expect(await meStatus(otherOrgSameNameId)).toBe(200);
  });

  it('lets a session made after the logout work', async () => {
    tick();
    const erin = email('erin');
    await signIn(org, erin, 'idx-e1');
    expect((await sloGet(org, redirectQuery('SAMLRequest', request(org, erin, []), org.idp))).status).toBe(302);

    tick();
    const later = await signIn(org, erin, 'idx-e2');

    expect(await meStatus(later)).toBe(200);
  });

  it('answers with our signed LogoutResponse to sloUrl: Success, InResponseTo the request ID, our entity ID as Issuer, the RelayState', async () => {
    tick();
    const frank = email('frank');
    await signIn(org, frank, 'idx-f1');
    const id = newMessageId();

    const response = await sloGet(org, redirectQuery('SAMLRequest', request(org, frank, ['idx-f1'], { id }), org.idp, { relayState: 'back-to-idp' }));

    const sent = readRedirect(response.headers.get('location')!, spKey.certificatePem);
    expect(`${sent.url.origin}${sent.url.pathname}`).toBe(SLO_URL);
    expect(sent.parameter).toBe('SAMLResponse');
    expect(sent.signatureValid).toBe(true);
    expect(sent.sigAlg).toBe('http://www.w3.org/2001/04/xmldsig-more#rsa-sha256');
    expect(sent.relayState).toBe('back-to-idp');
    expect(rootAttribute(sent.xml, 'InResponseTo')).toBe(id);
    expect(rootAttribute(sent.xml, 'Destination')).toBe(SLO_URL);
    expect(sent.xml).toContain(`<saml:Issuer>${org.urls.spEntityId}</saml:Issuer>`);
    expect(sent.xml).toContain('StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"');
    expect(response.headers.getSetCookie()[0]).toMatch(/^session=; .*Max-Age=0/);
  });

  it('records sso.slo with the NameID and SessionIndexes it ended', async () => {
    tick();
    const grace = email('grace');
    await signIn(org, grace, 'idx-g1');

    await sloGet(org, redirectQuery('SAMLRequest', request(org, grace, ['idx-g1']), org.idp));

    expect((await sloEvents(org)).find((event) => event.details.nameId === grace)).toMatchObject({
      outcome: 'success',
      actor: { type: 'idp', id: org.idp.entityId },
      details: { message: 'LogoutRequest', binding: 'redirect', sessionIndexes: ['idx-g1'] },
    });
  });

  it('matches a persistent NameID (not an email) with its Format', async () => {
    tick();
    const persistent = `p-${++counter}`;
    const token = await signIn(org, persistent, 'idx-p1', NAMEID_PERSISTENT);

    await sloGet(org, redirectQuery('SAMLRequest', request(org, persistent, ['idx-p1'], { nameIdFormat: NAMEID_PERSISTENT }), org.idp));

    expect(await meStatus(token)).toBe(401);
  });
});

describe('IdP-initiated single logout at an org without sloUrl', () => {
  it('revokes the sessions and answers with a page, there being nowhere to send a LogoutResponse', async () => {
    const plain = await createSamlOrg(service);
    const token = await signIn(plain, 'pat@acme.test', 'idx-n1');

    const response = await sloGet(plain, redirectQuery('SAMLRequest', request(plain, 'pat@acme.test', []), plain.idp));

    expect(response.status).toBe(200);
    expect(await response.text()).toContain('Signed out');
    expect(await meStatus(token)).toBe(401);
  });
});

describe('IdP-initiated single logout by HTTP-POST', () => {
  it('revokes the sessions of that SessionIndex with an enveloped signature, and answers by redirect with the RelayState', async () => {
    tick();
    const heidi = email('heidi');
    const ended = await signIn(org, heidi, 'idx-h1');
    const kept = await signIn(org, heidi, 'idx-h2');
    const id = newMessageId();

    const response = await sloPost(org, { SAMLRequest: Buffer.from(signRootXml(request(org, heidi, ['idx-h1'], { id }), org.idp)).toString('base64'), RelayState: 'posted' });

    expect(response.status).toBe(302);
    const sent = readRedirect(response.headers.get('location')!, spKey.certificatePem);
    expect(sent.signatureValid).toBe(true);
    expect(sent.relayState).toBe('posted');
    expect(rootAttribute(sent.xml, 'InResponseTo')).toBe(id);
    expect(await meStatus(ended)).toBe(401);
    expect(await meStatus(kept)).toBe(200);
  });
});

describe('a LogoutRequest that must be refused revokes nothing', () => {
  let ivan: string;
  let token: string;
  beforeAll(async () => {
    tick();
    ivan = email('ivan');
    token = await signIn(org, ivan, 'idx-i1');
  });

  const expectRefused = async (response: Response, code: string) => {
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: { code } });
    expect(await meStatus(token)).toBe(200);
  };
  const json = { accept: 'application/json' };

  it('refuses an unsigned Redirect request with 401 SIGNATURE_INVALID', async () => {
    await expectRefused(await sloGet(org, redirectQuery('SAMLRequest', request(org, ivan, []), org.idp, { unsigned: true }), json), 'SIGNATURE_INVALID');
  });

  it('refuses an unsigned POST request with 401 SIGNATURE_INVALID', async () => {
    await expectRefused(await sloPost(org, { SAMLRequest: Buffer.from(request(org, ivan, [])).toString('base64') }, json), 'SIGNATURE_INVALID');
  });

  it('refuses a request signed with another key with 401 SIGNATURE_INVALID', async () => {
    const stranger = await createSamlIdpKeys(org.idp.entityId);
    await expectRefused(await sloGet(org, redirectQuery('SAMLRequest', request(org, ivan, []), stranger), json), 'SIGNATURE_INVALID');
    await expectRefused(await sloPost(org, { SAMLRequest: Buffer.from(signRootXml(request(org, ivan, []), stranger)).toString('base64') }, json), 'SIGNATURE_INVALID');
  });

  it('refuses a Redirect request whose signed query was tampered with (another RelayState) with 401 SIGNATURE_INVALID', async () => {
    const query = redirectQuery('SAMLRequest', request(org, ivan, []), org.idp, { relayState: 'original' }).replace('RelayState=original', 'RelayState=changed');
    await expectRefused(await sloGet(org, query, json), 'SIGNATURE_INVALID');
  });

  it('refuses a POST request whose signed XML was tampered with (another NameID) with 401 SIGNATURE_INVALID', async () => {
    const signed = signRootXml(request(org, 'someone-else@acme.test', []), org.idp).replace('someone-else@acme.test', ivan);
    await expectRefused(await sloPost(org, { SAMLRequest: Buffer.from(signed).toString('base64') }, json), 'SIGNATURE_INVALID');
  });

  it('refuses a request signed with RSA-SHA1 with 401 ALGORITHM_NOT_ALLOWED', async () => {
    await expectRefused(await sloGet(org, redirectQuery('SAMLRequest', request(org, ivan, []), org.idp, { sigAlg: RSA_SHA1 }), json), 'ALGORITHM_NOT_ALLOWED');
  });

  it('refuses a signed request from another Issuer with 401 IDP_ISSUER_MISMATCH', async () => {
    await expectRefused(await sloGet(org, redirectQuery('SAMLRequest', request(org, ivan, [], { issuer: 'https://evil.example.com/idp' }), org.idp), json), 'IDP_ISSUER_MISMATCH');
  });

  it('refuses a request for another Destination with 401 DESTINATION_MISMATCH', async () => {
    await expectRefused(await sloGet(org, redirectQuery('SAMLRequest', request(org, ivan, [], { destination: otherOrg.urls.singleLogoutUrl }), org.idp), json), 'DESTINATION_MISMATCH');
  });

  it('refuses a request past its NotOnOrAfter (beyond the clock skew) with 401 ASSERTION_EXPIRED', async () => {
    const issued = new Date(service.clock.now().getTime() - 600_000);
    await expectRefused(await sloGet(org, redirectQuery('SAMLRequest', request(org, ivan, [], { now: issued, lifetimeSeconds: 300 }), org.idp), json), 'ASSERTION_EXPIRED');
  });

  it('accepts a request just past its NotOnOrAfter but within the clock skew', async () => {
    tick();
    const judy = email('judy');
    const judyToken = await signIn(org, judy, 'idx-j1');
    const issued = new Date(service.clock.now().getTime() - 330_000); // NotOnOrAfter 30 s ago; skew 60 s

    const response = await sloGet(org, redirectQuery('SAMLRequest', request(org, judy, [], { now: issued, lifetimeSeconds: 300 }), org.idp));

    expect(response.status).toBe(302);
    expect(await meStatus(judyToken)).toBe(401);
  });

  it('refuses a replayed request with 401 ASSERTION_REPLAYED, and the replay revokes nothing new', async () => {
    tick();
    const mallory = email('mallory');
    await signIn(org, mallory, 'idx-m1');
    const query = redirectQuery('SAMLRequest', request(org, mallory, []), org.idp);
    expect((await sloGet(org, query)).status).toBe(302);
    tick();
    const afterwards = await signIn(org, mallory, 'idx-m2');

    const replay = await sloGet(org, query, json);

    expect(replay.status).toBe(401);
    expect(await replay.json()).toMatchObject({ error: { code: 'ASSERTION_REPLAYED' } });
    expect(await meStatus(afterwards)).toBe(200);
  });

  it('refuses a request issued in the future (beyond the clock skew) with 401 ASSERTION_NOT_YET_VALID', async () => {
    const issued = new Date(service.clock.now().getTime() + 600_000);
    await expectRefused(await sloGet(org, redirectQuery('SAMLRequest', request(org, ivan, [], { now: issued }), org.idp), json), 'ASSERTION_NOT_YET_VALID');
  });

  it('refuses a request without NotOnOrAfter issued more than 10 minutes ago with 401 ASSERTION_EXPIRED', async () => {
    const issued = new Date(service.clock.now().getTime() - 11 * 60_000 - 60_000);
    await expectRefused(await sloGet(org, redirectQuery('SAMLRequest', request(org, ivan, [], { now: issued, lifetimeSeconds: null }), org.idp), json), 'ASSERTION_EXPIRED');
  });

  it('refuses a request at an org whose SSO is off with 403 SSO_NOT_ENABLED', async () => {
    const off = await createSamlOrg(service, { sso: { enabled: false }, provisioning: { method: 'manual' } });

    const response = await sloGet(off, redirectQuery('SAMLRequest', request(off, ivan, []), off.idp), json);

    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ error: { code: 'SSO_NOT_ENABLED' } });
  });

  it('folds repeats of an unsigned request into one counted sso.slo event', async () => {
    const target = await createSamlOrg(service, { saml: { sloUrl: SLO_URL } });
    const unsigned = () => sloGet(target, redirectQuery('SAMLRequest', request(target, ivan, []), target.idp, { unsigned: true }), json);

    for (let i = 0; i < 3; i++) expect((await unsigned()).status).toBe(401);

    const failures = (await sloEvents(target)).filter((event) => event.code === 'SIGNATURE_INVALID');
    expect(failures).toHaveLength(1);
    expect(failures[0]?.details).toMatchObject({ count: 3, signatureVerified: false });
  });

  it('carries out the retry of a request whose revocation failed (not refused as a replay)', async () => {
    tick();
    const rita = email('rita');
    const ritaToken = await signIn(org, rita, 'idx-r1');
    const query = redirectQuery('SAMLRequest', request(org, rita, []), org.idp);
    const revocations = service.rt.revocations;
    const original = revocations.revokeIdpSessions;
    revocations.revokeIdpSessions = async () => {
      throw new Error('storage failed');
    };
    try {
      expect((await sloGet(org, query, json)).status).toBe(500);
    } finally {
      revocations.revokeIdpSessions = original;
    }
    expect(await meStatus(ritaToken)).toBe(200);

    const retry = await sloGet(org, query);

    expect(retry.status).toBe(302);
    expect(await meStatus(ritaToken)).toBe(401);
  });

  it('answers a browser with an HTML page carrying the code', async () => {
    const response = await sloGet(org, redirectQuery('SAMLRequest', request(org, ivan, []), org.idp, { unsigned: true }));

    expect(response.status).toBe(401);
    expect(response.headers.get('content-type')).toMatch(/text\/html/);
    expect(await response.text()).toContain('SIGNATURE_INVALID');
  });

  it('records every refusal as an sso.slo failure', async () => {
    const events = await sloEvents(org);

    expect(events.filter((event) => event.outcome === 'failure').map((event) => event.code)).toEqual(
      expect.arrayContaining(['SIGNATURE_INVALID', 'ALGORITHM_NOT_ALLOWED', 'IDP_ISSUER_MISMATCH', 'DESTINATION_MISMATCH', 'ASSERTION_EXPIRED', 'ASSERTION_REPLAYED']),
    );
  });
});

describe('SP-initiated single logout (POST /logout)', () => {
  const logout = (token: string, headers: Record<string, string> = {}) =>
    fetch(`${service.baseUrl}/logout`, { method: 'POST', redirect: 'manual', headers: { cookie: `session=${token}`, origin: service.baseUrl, ...headers } });

  it('revokes our session and sends the browser to sloUrl with a signed LogoutRequest naming the NameID and SessionIndex', async () => {
    tick();
    const kim = email('kim');
    const token = await signIn(org, kim, 'idx-k1');

    const response = await logout(token);

    expect(response.status).toBe(302);
    expect(response.headers.getSetCookie()[0]).toMatch(/^session=; .*Max-Age=0/);
    const sent = readRedirect(response.headers.get('location')!, spKey.certificatePem);
    expect(`${sent.url.origin}${sent.url.pathname}`).toBe(SLO_URL);
    expect(sent.parameter).toBe('SAMLRequest');
    expect(sent.signatureValid).toBe(true);
    expect(rootAttribute(sent.xml, 'Destination')).toBe(SLO_URL);
    expect(sent.xml).toContain(`<saml:Issuer>${org.urls.spEntityId}</saml:Issuer>`);
    expect(sent.xml).toContain(`>${kim}</saml:NameID>`);
    expect(sent.xml).toContain('Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"');
    expect(sent.xml).toContain('<samlp:SessionIndex>idx-k1</samlp:SessionIndex>');
    expect(await meStatus(token)).toBe(401);
  });

  it('answers a JSON caller 204 with the LogoutRequest URL in Location', async () => {
    tick();
    const token = await signIn(org, email('leo'), 'idx-l1');

    const response = await logout(token, { accept: 'application/json' });

    expect(response.status).toBe(204);
    expect(readRedirect(response.headers.get('location')!, spKey.certificatePem).parameter).toBe('SAMLRequest');
    expect(await meStatus(token)).toBe(401);
  });

  it('answers 204 without Location for a session that did not come from a SAML login (a CLI token)', async () => {
    const user = await service.rt.users.findByEmail(org.orgId, org.adminEmail);
    const token = await service.rt.sessions.issue(user!);

    const response = await logout(token);

    expect(response.status).toBe(204);
    expect(response.headers.get('location')).toBeNull();
  });

  it('answers 204 when the org has no sloUrl', async () => {
    const plain = await createSamlOrg(service);
    const SAMLResponse = buildSignedLoginResponse({ idp: plain.idp, spEntityId: plain.urls.spEntityId, acsUrl: plain.urls.acsUrl, nameId: email('nina'), attributes: { groups: ['Admins'] }, now: service.clock.now() });
    const token = sessionCookieOf(await postAcs(service, plain.orgId, { SAMLResponse }))!;

    const response = await logout(token);

    expect(response.status).toBe(204);
    expect(await meStatus(token)).toBe(401);
  });

  it('records user.logout with where the browser was sent', async () => {
    tick();
    const quinn = email('quinn');
    const token = await signIn(org, quinn, 'idx-q1');
    const userId = (await service.rt.users.findByEmail(org.orgId, quinn))!.id;

    await logout(token);

    const events = (await service.rt.audit.list(org.orgId, { type: 'user.logout', limit: 50 })).items;
    expect(events.find((event) => event.target?.id === userId)).toMatchObject({
      outcome: 'success',
      actor: { type: 'user', id: userId },
      details: { sessionFrom: 'saml', singleLogout: 'saml LogoutRequest' },
    });
  });

  describe("the IdP's LogoutResponse at the SLO endpoint", () => {
    /** Starts an SP-initiated logout and returns the ID of the LogoutRequest we sent. */
    async function pendingRequestId(): Promise<string> {
      tick();
      const token = await signIn(org, email('olga'), `idx-o${++counter}`);
      const response = await logout(token);
      return rootAttribute(readRedirect(response.headers.get('location')!, spKey.certificatePem).xml, 'ID')!;
    }
    const answer = (inResponseTo: string | undefined, extra: Partial<Parameters<typeof logoutResponseXml>[0]> = {}) =>
      logoutResponseXml({ issuer: org.idp.entityId, inResponseTo, destination: org.urls.singleLogoutUrl, now: service.clock.now(), ...extra });

    it('accepts a signed Redirect LogoutResponse to our request and ends at /', async () => {
      const id = await pendingRequestId();

      const response = await sloGet(org, redirectQuery('SAMLResponse', answer(id), org.idp));

      expect(response.status).toBe(302);
      expect(response.headers.get('location')).toBe(`${service.baseUrl}/`);
    });

    it('accepts a signed POST LogoutResponse to our request and ends at /', async () => {
      const id = await pendingRequestId();

      const response = await sloPost(org, { SAMLResponse: Buffer.from(signRootXml(answer(id), org.idp)).toString('base64') });

      expect(response.status).toBe(302);
      expect(response.headers.get('location')).toBe(`${service.baseUrl}/`);
    });

    it('refuses a LogoutResponse to a request we never sent with 401 IN_RESPONSE_TO_INVALID', async () => {
      const response = await sloGet(org, redirectQuery('SAMLResponse', answer(newMessageId()), org.idp), { accept: 'application/json' });

      expect(response.status).toBe(401);
      expect(await response.json()).toMatchObject({ error: { code: 'IN_RESPONSE_TO_INVALID' } });
    });

    it('refuses a second LogoutResponse to the same request with 401 IN_RESPONSE_TO_INVALID', async () => {
      const id = await pendingRequestId();
      expect((await sloGet(org, redirectQuery('SAMLResponse', answer(id), org.idp))).status).toBe(302);

      const again = await sloGet(org, redirectQuery('SAMLResponse', answer(id), org.idp), { accept: 'application/json' });

      expect(again.status).toBe(401);
      expect(await again.json()).toMatchObject({ error: { code: 'IN_RESPONSE_TO_INVALID' } });
    });

    it("refuses our request's answer at another org's SLO endpoint with 401 IN_RESPONSE_TO_INVALID", async () => {
      const id = await pendingRequestId();
      const elsewhere = logoutResponseXml({ issuer: otherOrg.idp.entityId, inResponseTo: id, destination: otherOrg.urls.singleLogoutUrl, now: service.clock.now() });

      const response = await sloGet(otherOrg, redirectQuery('SAMLResponse', elsewhere, otherOrg.idp), { accept: 'application/json' });

      expect(response.status).toBe(401);
      expect(await response.json()).toMatchObject({ error: { code: 'IN_RESPONSE_TO_INVALID' } });
    });

    it('refuses an unsigned LogoutResponse with 401 SIGNATURE_INVALID, and the request stays answerable', async () => {
      const id = await pendingRequestId();

      const unsigned = await sloGet(org, redirectQuery('SAMLResponse', answer(id), org.idp, { unsigned: true }), { accept: 'application/json' });

      expect(unsigned.status).toBe(401);
      expect(await unsigned.json()).toMatchObject({ error: { code: 'SIGNATURE_INVALID' } });
      expect((await sloGet(org, redirectQuery('SAMLResponse', answer(id), org.idp))).status).toBe(302);
    });

    it('refuses a LogoutResponse signed by another key with 401 SIGNATURE_INVALID', async () => {
      const id = await pendingRequestId();
      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const stranger = { privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() } as SamlIdpKeys;

      const response = await sloGet(org, redirectQuery('SAMLResponse', answer(id), stranger), { accept: 'application/json' });

      expect(response.status).toBe(401);
      expect(await response.json()).toMatchObject({ error: { code: 'SIGNATURE_INVALID' } });
    });

    it('records the accepted LogoutResponse as sso.slo', async () => {
      expect((await sloEvents(org)).some((event) => event.outcome === 'success' && event.details.message === 'LogoutResponse')).toBe(true);
    });
  });
});

describe('the sloUrl setting', () => {
  it('is validated like ssoUrl: http on a public host is 400 VALIDATION_FAILED naming saml.sloUrl (the console shows it by that field)', async () => {
    const admin = apiClient(service, await tokenFor(service, org.orgId, org.adminEmail));
    const current = (await admin('GET', `/orgs/${org.orgId}/settings/sso`)).body;

    const put = await admin('PUT', `/orgs/${org.orgId}/settings/sso`, {
      enabled: true,
      protocol: 'saml',
      saml: { idpEntityId: current.saml.idpEntityId, certificates: [org.idp.certificatePem], sloUrl: 'http://idp.example.com/slo' },
    });

    expect(put.status).toBe(400);
    expect(put.body.error).toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringMatching(/^saml\.sloUrl\b/) });
  });
});

describe('the SP metadata', () => {
  it('lists the SingleLogoutService at /sso/{orgId}/saml/slo with both bindings', async () => {
    const xml = await (await fetch(org.urls.metadataUrl)).text();

    expect(xml).toContain(`<md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="${service.baseUrl}/sso/${org.orgId}/saml/slo"/>`);
    expect(xml).toContain(`<md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="${service.baseUrl}/sso/${org.orgId}/saml/slo"/>`);
  });
});
