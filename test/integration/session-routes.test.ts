/**
 * GET /health, GET /.well-known/jwks.json, GET /me and the SP metadata route.
 */
import { importJWK, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSamlOrg, startTestService, type SamlOrg, type TestService } from '../support/service.js';

let service: TestService;
let org: SamlOrg;

beforeAll(async () => {
  service = await startTestService();
  org = await createSamlOrg(service);
});
afterAll(() => service?.close());

const adminToken = async () => service.rt.sessions.issue((await service.rt.users.findByEmail(org.orgId, org.adminEmail))!);

describe('GET /health', () => {
  it('answers ok', async () => {
    const response = await fetch(`${service.baseUrl}/health`);

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });
});

describe('GET /.well-known/jwks.json', () => {
  it('publishes the key that verifies session tokens, under the token\'s kid', async () => {
    const token = await adminToken();

    const { keys } = (await (await fetch(`${service.baseUrl}/.well-known/jwks.json`)).json()) as { keys: Record<string, string>[] };

    const header = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as { kid: string; alg: string };
    const jwk = keys.find((key) => key.kid === header.kid)!;
    expect(jwk).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA' });
    expect(jwk).not.toHaveProperty('d');
    const { payload } = await jwtVerify(token, await importJWK(jwk, 'EdDSA'), { currentDate: service.clock.now() });
    expect(payload).toMatchObject({ org: org.orgId, email: org.adminEmail });
  });
});

describe('GET /me', () => {
  it('returns the user with its org for a valid bearer token', async () => {
    const response = await fetch(`${service.baseUrl}/me`, { headers: { authorization: `Bearer ${await adminToken()}` } });

    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ email: org.adminEmail, orgId: org.orgId, status: 'active', provisionedBy: 'manual' });
  });

  it.each([
    ['no token', {}],
    ['a malformed token', { authorization: 'Bearer not.a.jwt' }],
    ['a token with a forged signature', { cookie: 'session=eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.AAAA' }],
  ])('answers 401 UNAUTHENTICATED for %s', async (_name, headers) => {
    const response = await fetch(`${service.baseUrl}/me`, { headers });

    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: { code: 'UNAUTHENTICATED' } });
  });

  it('answers 401 once the token has expired', async () => {
    const token = await adminToken();
    service.clock.advance(9 * 3600 * 1000);

    const response = await fetch(`${service.baseUrl}/me`, { headers: { authorization: `Bearer ${token}` } });

    service.clock.advance(-9 * 3600 * 1000);
    expect(response.status).toBe(401);
  });
});

describe('GET /sso/{orgId}/saml/metadata', () => {
  it('describes the org\'s SP: entity ID and HTTP-POST ACS', async () => {
    const response = await fetch(`${service.baseUrl}/sso/${org.orgId}/saml/metadata`);

    const xml = await response.text();
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/samlmetadata\+xml/);
    expect(xml).toContain(`entityID="${org.urls.spEntityId}"`);
    expect(xml).toMatch(new RegExp(`Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"[^>]*Location="${org.urls.acsUrl}"|Location="${org.urls.acsUrl}"[^>]*Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"`));
  });

  it('answers 404 ORG_NOT_FOUND for an unknown org', async () => {
    const response = await fetch(`${service.baseUrl}/sso/nope-nope/saml/metadata`);

    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ error: { code: 'ORG_NOT_FOUND' } });
  });
});
