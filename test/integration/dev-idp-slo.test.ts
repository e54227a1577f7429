/**
 * The development IdP's single logout (`npm start`: local/dev-idp.ts), driven like a
 * browser against the service: IdP-initiated from its form, and SP-initiated from
 * `POST /logout` through its answer back to `/`. The IdP's pages run on a server of
 * their own here; the service is the test service on DynamoDB Local.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devIdpEntityId, devIdpMetadata, devIdpRoutes } from '../../local/dev-idp.js';
import { buildSignedLoginResponse, createSamlIdpKeys, type SamlIdpKeys } from '../../local/saml-idp.js';
import { updateSsoSettings } from '../../shared/settings/settings-service.js';
import { createSamlOrg, postAcs, sessionCookieOf, startTestService, type SamlOrg, type TestService } from '../support/service.js';

let service: TestService;
let idpServer: Server;
let idpBase: string;
let org: SamlOrg;
let idp: SamlIdpKeys;

beforeAll(async () => {
  const sp = await createSamlIdpKeys('sp');
  service = await startTestService({ spKey: { privateKeyPem: sp.privateKeyPem, certificatePem: sp.certificatePem } });
  const keys = await createSamlIdpKeys('dev');
  const routes = devIdpRoutes({ baseUrl: service.baseUrl, keys, roleValues: async () => ['Admins'], roleAttribute: 'groups' });
  idpServer = createServer((req, res) => {
    const match = /^\/dev\/idp\/([^/?]+)\/slo(?:\?|$)/.exec(req.url ?? '');
    const route = match && routes.find((candidate) => candidate.method === req.method && candidate.path === '/dev/idp/{orgId}/slo');
    if (!route) return void res.writeHead(404).end();
    void route.handler(req, res, { orgId: decodeURIComponent(match![1]!) });
  });
  await new Promise<void>((resolve) => idpServer.listen(0, '127.0.0.1', resolve));
  idpBase = `http://127.0.0.1:${(idpServer.address() as AddressInfo).port}`;
  org = await createSamlOrg(service);
  idp = { ...keys, entityId: devIdpEntityId(service.baseUrl, org.orgId) };
  // As an admin sets it up: the dev IdP's metadata pasted (its SLO URL then served by the test's own IdP server).
  await updateSsoSettings(service.rt, { orgId: org.orgId, actor: { type: 'cli', id: 'test' } }, {
    enabled: true,
    protocol: 'saml',
    saml: { metadataXml: devIdpMetadata(service.baseUrl, org.orgId, keys.certificatePem) },
  });
  const sso = (await service.rt.settingsRepository.load(org.orgId))!.sso;
  expect(sso.saml?.sloUrl).toBe(`${service.baseUrl}/dev/idp/${org.orgId}/slo`);
  await updateSsoSettings(service.rt, { orgId: org.orgId, actor: { type: 'cli', id: 'test' } }, {
    enabled: true,
    protocol: 'saml',
    saml: { idpEntityId: idp.entityId, certificates: [keys.certificatePem], sloUrl: `${idpBase}/dev/idp/${org.orgId}/slo` },
  });
});
afterAll(async () => {
  await new Promise((resolve) => idpServer?.close(resolve));
  await service?.close();
});

async function signIn(email: string): Promise<string> {
  const SAMLResponse = buildSignedLoginResponse({ idp, spEntityId: org.urls.spEntityId, acsUrl: org.urls.acsUrl, nameId: email, attributes: { groups: ['Admins'] }, now: service.clock.now() });
  const response = await postAcs(service, org.orgId, { SAMLResponse });
  expect(response.status).toBe(302);
  return sessionCookieOf(response)!;
}

const meStatus = async (token: string) => (await fetch(`${service.baseUrl}/me`, { headers: { authorization: `Bearer ${token}` } })).status;
const follow = (location: string) => fetch(location, { redirect: 'manual' });

describe('the development IdP', () => {
  it("signs a person out everywhere from its form: the service revokes their sessions and the IdP shows the service's answer", async () => {
    const token = await signIn('ada@dev.test');

    const sent = await fetch(`${idpBase}/dev/idp/${org.orgId}/slo`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ nameId: 'ada@dev.test' }).toString(),
    });
    const atService = await follow(sent.headers.get('location')!);
    const backAtIdp = await follow(atService.headers.get('location')!);

    expect(sent.status).toBe(302);
    expect(atService.status).toBe(302);
    expect(await meStatus(token)).toBe(401);
    expect(backAtIdp.status).toBe(200);
    expect(await backAtIdp.text()).toContain('LogoutResponse received');
  });

  it('answers the LogoutRequest of POST /logout, and the browser ends at /', async () => {
    service.clock.advance(1000);
    const token = await signIn('grace@dev.test');

    const logout = await fetch(`${service.baseUrl}/logout`, { method: 'POST', redirect: 'manual', headers: { cookie: `session=${token}`, origin: service.baseUrl } });
    const atIdp = await follow(logout.headers.get('location')!);
    const atService = await follow(atIdp.headers.get('location')!);

    expect(logout.status).toBe(302);
    expect(atIdp.status).toBe(302);
    expect(atService.status).toBe(302);
    expect(atService.headers.get('location')).toBe(`${service.baseUrl}/`);
    expect(await meStatus(token)).toBe(401);
  });
});
