/**
 * Test sign-in (docs/console.md "Test sign-in"), SAML end to end: an admin starts a test,
 * the browser goes to the IdP with a real AuthnRequest, the IdP's signed answer comes back
 * to the ACS from that browser, and the result shows what the current settings would do,
 * while nothing is provisioned, no session is issued and the assertion is spent.
 */
import { inflateRawSync } from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildLoginResponseXml, buildSignedLoginResponse, createSamlIdpKeys, encodeSamlResponse, signLoginResponseXml, type SamlIdpKeys } from '../../local/saml-idp.js';
import { replaceOnce } from '../support/saml-edits.js';
import { apiClient, createSamlOrg, postAcs, startTestService, tokenFor, type SamlOrg, type TestService } from '../support/service.js';

let service: TestService;
let idp: SamlIdpKeys;

beforeAll(async () => {
  idp = await createSamlIdpKeys('https://idp.tests.test/metadata');
  service = await startTestService();
});
afterAll(() => service?.close());
// Audit events sort by time: a second apart, the newest is the one a test just caused.
beforeEach(() => service.clock.advance(1000));

const SSO_URL = 'https://idp.tests.test/sso';

async function orgWithSso(options: Parameters<typeof createSamlOrg>[1] = {}) {
  const org = await createSamlOrg(service, { idp, ...options, saml: { ssoUrl: SSO_URL, ...options.saml } });
  return { ...org, admin: apiClient(service, await tokenFor(service, org.orgId, org.adminEmail)) };
}

/** A second admin of the org (Organization Admin), with their own token. */
async function secondAdmin(org: SamlOrg) {
  const email = `second-${Date.now()}@${org.orgId}.test`;
  const at = service.clock.now().toISOString();
  await service.rt.users.commitLogin({
    kind: 'create',
    user: { id: `u-${Date.now()}`, orgId: org.orgId, email, status: 'active', provisionedBy: 'manual', jitProvisioned: false, assignments: [{ groupId: 'default', roleId: 'organization-admin' }], createdAt: at, updatedAt: at },
    events: [],
    settingsVersion: (await service.rt.settingsRepository.load(org.orgId))!.version,
  });
  return apiClient(service, await tokenFor(service, org.orgId, email));
}

/** Starts a test as `admin`: its id, the AuthnRequest the IdP gets, and the browser's binding cookie. */
async function startTest(org: SamlOrg, admin: ReturnType<typeof apiClient>) {
  const response = await admin('POST', `/orgs/${org.orgId}/sso/tests`, {});
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  const location = new URL(response.body.loginUrl as string);
  const xml = inflateRawSync(Buffer.from(location.searchParams.get('SAMLRequest')!, 'base64')).toString('utf8');
  const browser = response.headers.getSetCookie().find((cookie) => cookie.startsWith('sso_browser='))!.split(';')[0]!;
  return { id: response.body.id as string, location, xml, requestId: /\sID="([^"]+)"/.exec(xml)![1]!, relayState: location.searchParams.get('RelayState')!, browser };
}

function answer(org: SamlOrg, inResponseTo: string | undefined, options: { nameId?: string; attributes?: Record<string, string | string[]>; idp?: SamlIdpKeys } = {}) {
  return buildSignedLoginResponse({
    idp: options.idp ?? idp,
    spEntityId: org.urls.spEntityId,
    acsUrl: org.urls.acsUrl,
    nameId: options.nameId ?? 'ada@tests.test',
    ...(inResponseTo === undefined ? {} : { inResponseTo }),
    attributes: options.attributes ?? { groups: 'Admins' },
    now: service.clock.now(),
  });
}

const postFrom = (browser: string, orgId: string, fields: Record<string, string>) => postAcs(service, orgId, fields, { accept: 'application/json', cookie: browser });

async function eventsOf(orgId: string) {
  return (await service.rt.audit.list(orgId, { limit: 100 })).items;
}

describe('POST /orgs/{orgId}/sso/tests (SAML)', () => {
  it('answers 201 with an id and the IdP redirect of a real AuthnRequest, binds this browser, and the test is pending', async () => {
    const org = await orgWithSso();

    const test = await startTest(org, org.admin);

    expect(`${test.location.origin}${test.location.pathname}`).toBe(SSO_URL);
    expect(test.xml).toContain(`AssertionConsumerServiceURL="${org.urls.acsUrl}"`);
    expect(test.xml).toContain(`<saml:Issuer>${org.urls.spEntityId}</saml:Issuer>`);
    expect(test.relayState).toBe(test.requestId);
    expect(test.browser).toMatch(/^sso_browser=[A-Za-z0-9_-]{43}$/);
    const read = await org.admin('GET', `/orgs/${org.orgId}/sso/tests/${test.id}`);
    expect(read.status).toBe(200);
    expect(read.body).toEqual({ id: test.id, status: 'pending', startedAt: service.clock.now().toISOString(), protocol: 'saml' });
  });

  it('refuses to start a test when the org has no connection configured: 409 CONFLICT', async () => {
    const org = await orgWithSso();
    await service.rt.settingsRepository.apply(org.orgId, { sso: { enabled: false, protocol: 'oidc', forceSso: false, domains: [] } }, [], {
      ifVersion: (await service.rt.settingsRepository.load(org.orgId))!.version,
    });

    const response = await org.admin('POST', `/orgs/${org.orgId}/sso/tests`, {});

    expect(response.status).toBe(409);
    expect(response.body.error.code).toBe('CONFLICT');
  });

  it('refuses to start a SAML test without the IdP\'s SSO URL: 409 CONFLICT', async () => {
    const org = await createSamlOrg(service, { idp });
    const admin = apiClient(service, await tokenFor(service, org.orgId, org.adminEmail));

    const response = await admin('POST', `/orgs/${org.orgId}/sso/tests`, {});

    expect(response.status).toBe(409);
    expect(response.body.error.message).toMatch(/SSO URL/);
  });
});

describe("the ACS answering a test sign-in", () => {
  it('reports what the IdP sent and what a login would do, redirects to the result page, and provisions nothing', async () => {
    const org = await orgWithSso();
    const test = await startTest(org, org.admin);

    const response = await postFrom(test.browser, org.orgId, { SAMLResponse: answer(org, test.requestId, { attributes: { groups: ['Admins', 'Staff'], firstName: 'Ada' } }), RelayState: test.relayState });

    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe(`${service.baseUrl}/console/sso/tests/${test.id}`);
    expect(response.headers.getSetCookie()).toEqual([]);
    const read = await org.admin('GET', `/orgs/${org.orgId}/sso/tests/${test.id}`);
    expect(read.body).toMatchObject({
      id: test.id,
      status: 'done',
      completedAt: service.clock.now().toISOString(),
      protocol: 'saml',
      result: {
        outcome: 'success',
        issuer: idp.entityId,
        nameId: 'ada@tests.test',
        nameIdFormat: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
        attributes: [
          { name: 'groups', values: ['Admins', 'Staff'] },
          { name: 'firstName', values: ['Ada'] },
        ],
        ssoEnabled: true,
        wouldDo: { action: 'create', email: 'ada@tests.test', firstName: 'Ada', assignments: [{ groupId: 'default', roleId: 'account-admin' }] },
      },
    });
    expect(read.body.result.session).toEqual({
      authnInstant: service.clock.now().toISOString(),
      notBefore: service.clock.now().toISOString(),
      notOnOrAfter: new Date(service.clock.now().getTime() + 300_000).toISOString(),
      sessionIndex: expect.any(String),
    });
    expect(await service.rt.users.findByEmail(org.orgId, 'ada@tests.test')).toBeUndefined();
    const types = (await eventsOf(org.orgId)).map((event) => event.type);
    expect(types).toContain('login.tested');
    expect(types).not.toContain('login.succeeded');
    expect(types).not.toContain('login.failed');
    expect(types).not.toContain('user.jit_created');
  });

  it('shows every attribute as sent: in document order, repeated names apart, values verbatim', async () => {
    const org = await orgWithSso();
    const test = await startTest(org, org.admin);
    let xml = buildLoginResponseXml({ idp, spEntityId: org.urls.spEntityId, acsUrl: org.urls.acsUrl, nameId: 'ada@tests.test', inResponseTo: test.requestId, attributes: { groups: 'Admins', department: '  R&D  ' }, now: service.clock.now() });
    xml = replaceOnce(xml, '</saml:AttributeStatement>', '<saml:Attribute Name="groups"><saml:AttributeValue>admins </saml:AttributeValue></saml:Attribute></saml:AttributeStatement>');
    const SAMLResponse = encodeSamlResponse(signLoginResponseXml(xml, idp, 'assertion'));

    await postFrom(test.browser, org.orgId, { SAMLResponse, RelayState: test.relayState });

    const read = await org.admin('GET', `/orgs/${org.orgId}/sso/tests/${test.id}`);
    expect(read.body.result.attributes).toEqual([
      { name: 'groups', values: ['Admins'] },
      { name: 'department', values: ['  R&D  '] },
      { name: 'groups', values: ['admins '] },
    ]);
  });

  it('reports the refusal a login would get, with expected and received, and audits login.tested as a failure', async () => {
    const org = await orgWithSso();
    const test = await startTest(org, org.admin);

    await postFrom(test.browser, org.orgId, { SAMLResponse: answer(org, test.requestId, { attributes: { groups: 'admins' } }), RelayState: test.relayState });

    const read = await org.admin('GET', `/orgs/${org.orgId}/sso/tests/${test.id}`);
    expect(read.body.result).toMatchObject({ outcome: 'failure', error: { code: 'ROLE_NOT_MAPPED', message: expect.any(String), received: ['admins'] } });
    expect(read.body.result.wouldDo).toBeUndefined();
    const [tested] = (await eventsOf(org.orgId)).filter((event) => event.type === 'login.tested');
    expect(tested).toMatchObject({ outcome: 'failure', code: 'ROLE_NOT_MAPPED', target: { type: 'sso-test', id: test.id }, details: { attributeNames: ['groups'], roleValues: ['admins'] } });
    expect(await service.rt.users.findByEmail(org.orgId, 'ada@tests.test')).toBeUndefined();
  });

  it('reports a signature that does not verify as a failed test, not as a login', async () => {
    const org = await orgWithSso();
    const test = await startTest(org, org.admin);
    const other = await createSamlIdpKeys(idp.entityId);

    const response = await postFrom(test.browser, org.orgId, { SAMLResponse: answer(org, test.requestId, { idp: other }), RelayState: test.relayState });

    expect(response.status).toBe(302);
    const read = await org.admin('GET', `/orgs/${org.orgId}/sso/tests/${test.id}`);
    expect(read.body).toMatchObject({ status: 'done', result: { outcome: 'failure', error: { code: 'SIGNATURE_INVALID' } } });
    expect(read.body.result.nameId).toBeUndefined();
    expect((await eventsOf(org.orgId)).map((event) => event.type)).not.toContain('login.failed');
  });

  it('leaves an existing user exactly as they were: the result says it would update them', async () => {
    const org = await orgWithSso();
    const before = (await service.rt.users.findByEmail(org.orgId, org.adminEmail))!;
    const test = await startTest(org, org.admin);

    await postFrom(test.browser, org.orgId, { SAMLResponse: answer(org, test.requestId, { nameId: org.adminEmail, attributes: { groups: 'Admins', firstName: 'Changed' } }), RelayState: test.relayState });

    const read = await org.admin('GET', `/orgs/${org.orgId}/sso/tests/${test.id}`);
    expect(read.body.result.wouldDo).toEqual({ action: 'update', email: org.adminEmail, userId: before.id, firstName: 'Changed', assignments: [{ groupId: 'default', roleId: 'account-admin' }] });
    expect(await service.rt.users.findByEmail(org.orgId, org.adminEmail)).toEqual(before);
  });

  it('runs while SSO is not enabled yet, and says so', async () => {
    const org = await orgWithSso({ sso: { enabled: false }, provisioning: { method: 'manual' } });
    const test = await startTest(org, org.admin);

    await postFrom(test.browser, org.orgId, { SAMLResponse: answer(org, test.requestId, { nameId: org.adminEmail }), RelayState: test.relayState });

    const read = await org.admin('GET', `/orgs/${org.orgId}/sso/tests/${test.id}`);
    expect(read.body.result).toMatchObject({ outcome: 'success', ssoEnabled: false, wouldDo: { action: 'update', email: org.adminEmail } });
  });

  it('refuses the answer in another browser than the one that started the test, and keeps the test for the right one', async () => {
    const org = await orgWithSso();
    const test = await startTest(org, org.admin);
    const SAMLResponse = answer(org, test.requestId);

    const elsewhere = await postFrom('sso_browser=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', org.orgId, { SAMLResponse, RelayState: test.relayState });
    const noCookie = await postAcs(service, org.orgId, { SAMLResponse, RelayState: test.relayState });

    expect(elsewhere.status).toBe(401);
    expect((await elsewhere.json()).error.code).toBe('IN_RESPONSE_TO_INVALID');
    expect(noCookie.status).toBe(401);
    expect((await org.admin('GET', `/orgs/${org.orgId}/sso/tests/${test.id}`)).body.status).toBe('pending');
    expect((await postFrom(test.browser, org.orgId, { SAMLResponse, RelayState: test.relayState })).status).toBe(302);
    expect((await org.admin('GET', `/orgs/${org.orgId}/sso/tests/${test.id}`)).body.status).toBe('done');
  });

  it('accepts the answer to a test only once', async () => {
    const org = await orgWithSso();
    const test = await startTest(org, org.admin);
    expect((await postFrom(test.browser, org.orgId, { SAMLResponse: answer(org, test.requestId), RelayState: test.relayState })).status).toBe(302);

    const again = await postFrom(test.browser, org.orgId, { SAMLResponse: answer(org, test.requestId, { nameId: 'bob@tests.test' }), RelayState: test.relayState });

    expect(again.status).toBe(401);
    expect((await again.json()).error.code).toBe('IN_RESPONSE_TO_INVALID');
  });

  it('never lets the real ACS finish a test request: without the test RelayState the answer is refused and nobody is provisioned', async () => {
    const org = await orgWithSso();
    const test = await startTest(org, org.admin);
    const SAMLResponse = answer(org, test.requestId);

    const asLogin = await postFrom(test.browser, org.orgId, { SAMLResponse });

    expect(asLogin.status).toBe(401);
    expect((await asLogin.json()).error.code).toBe('IN_RESPONSE_TO_INVALID');
    expect(asLogin.headers.getSetCookie().some((cookie) => cookie.startsWith('session='))).toBe(false);
    expect(await service.rt.users.findByEmail(org.orgId, 'ada@tests.test')).toBeUndefined();
  });

  it('spends the assertion: replayed at the real ACS after the test, it signs nobody in', async () => {
    const org = await orgWithSso();
    const test = await startTest(org, org.admin);
    const SAMLResponse = answer(org, test.requestId);
    expect((await postFrom(test.browser, org.orgId, { SAMLResponse, RelayState: test.relayState })).status).toBe(302);

    const replayed = await postFrom(test.browser, org.orgId, { SAMLResponse });

    expect(replayed.status).toBe(401);
    expect(replayed.headers.getSetCookie().some((cookie) => cookie.startsWith('session='))).toBe(false);
    expect(await service.rt.users.findByEmail(org.orgId, 'ada@tests.test')).toBeUndefined();
  });

  it('records the replay marker of every validated assertion: one shown to a test is ASSERTION_REPLAYED at the real ACS', async () => {
    const org = await orgWithSso();
    const test = await startTest(org, org.admin);
    // An IdP-initiated assertion (no InResponseTo), posted to the test: validated, then refused as no answer to it.
    const SAMLResponse = answer(org, undefined);
    await postFrom(test.browser, org.orgId, { SAMLResponse, RelayState: test.relayState });
    const read = await org.admin('GET', `/orgs/${org.orgId}/sso/tests/${test.id}`);
    expect(read.body.result).toMatchObject({ outcome: 'failure', nameId: 'ada@tests.test', error: { code: 'IN_RESPONSE_TO_INVALID' } });

    const replayed = await postAcs(service, org.orgId, { SAMLResponse });

    expect(replayed.status).toBe(401);
    expect((await replayed.json()).error.code).toBe('ASSERTION_REPLAYED');
    expect(await service.rt.users.findByEmail(org.orgId, 'ada@tests.test')).toBeUndefined();
  });

  it('answers a test RelayState that names no pending test with 401 IN_RESPONSE_TO_INVALID', async () => {
    const org = await orgWithSso();

    const response = await postAcs(service, org.orgId, { SAMLResponse: answer(org, `_t${'0'.repeat(40)}`), RelayState: `_t${'0'.repeat(40)}` });

    expect(response.status).toBe(401);
    expect((await response.json()).error.code).toBe('IN_RESPONSE_TO_INVALID');
  });
});

describe('GET /orgs/{orgId}/sso/tests/{testId}', () => {
  it("answers another admin of the org with 404, exactly as for a test that does not exist", async () => {
    const org = await orgWithSso();
    const test = await startTest(org, org.admin);
    const other = await secondAdmin(org);

    const theirs = await other('GET', `/orgs/${org.orgId}/sso/tests/${test.id}`);
    const missing = await other('GET', `/orgs/${org.orgId}/sso/tests/no-such-test`);

    expect(theirs.status).toBe(404);
    expect(theirs.body).toEqual(missing.body);
  });

  it('keeps a result for an hour', async () => {
    const org = await orgWithSso();
    const test = await startTest(org, org.admin);
    await postFrom(test.browser, org.orgId, { SAMLResponse: answer(org, test.requestId), RelayState: test.relayState });
    const start = service.clock.now();

    service.clock.advance(59 * 60_000);
    const withinTheHour = await org.admin('GET', `/orgs/${org.orgId}/sso/tests/${test.id}`);
    service.clock.advance(2 * 60_000);
    const after = await org.admin('GET', `/orgs/${org.orgId}/sso/tests/${test.id}`);
    service.clock.set(start);

    expect(withinTheHour.status).toBe(200);
    expect(after.status).toBe(404);
  });
});

describe('login events and GET /orgs/{orgId}/settings/attribute-names', () => {
  it('records the attribute names of a successful login in its login.succeeded event', async () => {
    const org = await orgWithSso();

    expect((await postAcs(service, org.orgId, { SAMLResponse: answer(org, undefined, { attributes: { groups: 'Admins', department: 'R&D' } }) })).status).toBe(302);

    const [succeeded] = (await eventsOf(org.orgId)).filter((event) => event.type === 'login.succeeded');
    expect(succeeded?.details.attributeNames).toEqual(['groups', 'department']);
  });

  it('lists the names of recent logins, succeeded and failed, newest first, each once with when it was last seen', async () => {
    const org = await orgWithSso();
    await postAcs(service, org.orgId, { SAMLResponse: answer(org, undefined, { nameId: 'a@tests.test', attributes: { groups: 'Admins', oldName: 'x' } }) });
    const firstAt = service.clock.now().toISOString();
    service.clock.advance(1000);
    await postAcs(service, org.orgId, { SAMLResponse: answer(org, undefined, { nameId: 'b@tests.test', attributes: { groups: 'Nobody', 'http://schemas.xmlsoap.org/claims/Group': 'y' } }) });
    const secondAt = service.clock.now().toISOString();

    const response = await org.admin('GET', `/orgs/${org.orgId}/settings/attribute-names`);

    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      items: [
        { name: 'groups', lastSeenAt: secondAt },
        { name: 'http://schemas.xmlsoap.org/claims/Group', lastSeenAt: secondAt },
        { name: 'oldName', lastSeenAt: firstAt },
      ],
    });
    expect((await eventsOf(org.orgId)).find((event) => event.type === 'login.failed')?.code).toBe('ROLE_NOT_MAPPED');
  });

  it('answers an org without logins with an empty list', async () => {
    const org = await orgWithSso();

    const response = await org.admin('GET', `/orgs/${org.orgId}/settings/attribute-names`);

    expect(response.body).toEqual({ items: [] });
  });
});

