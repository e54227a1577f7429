/**
 * The SSO, provisioning and role-mapping settings documents as an org admin edits them
 * over HTTP (API.md "Admin routes", "Rules", "Objects"): derived read-only fields,
 * certificate summaries, strict validation, the write-only OIDC client secret, the
 * JIT/SSO rules, ETag / If-Match, and the audit trail of every accepted write.
 * Certificates, keys and metadata are generated at test time.
 */
import { createPrivateKey } from 'node:crypto';
import { clientSecretContext } from '../../shared/settings/settings-service.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DS, makeTestCert, MD, POST, REDIRECT, SAML2, type TestCert } from '../support/certificates.js';
import { apiClient, createSamlOrg, startTestService, tokenFor, type ApiResponse, type SamlOrgOptions, type TestService } from '../support/service.js';

const makeCert = (commonName: string, validDays?: number) => makeTestCert(commonName, { validDays });
const canonicalPem = (cert: TestCert) => cert.canonicalPem.trim();
const trimmed = (pems: string[]) => pems.map((pem) => pem.trim());

const idpMetadata = (entityId: string, ssoUrl: string, certBody: string) =>
  `<?xml version="1.0" encoding="UTF-8"?><md:EntityDescriptor xmlns:md="${MD}" entityID="${entityId}"><md:IDPSSODescriptor protocolSupportEnumeration="${SAML2}"><md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="${DS}"><ds:X509Data><ds:X509Certificate>${certBody}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor><md:SingleSignOnService Binding="${REDIRECT}" Location="${ssoUrl}"/></md:IDPSSODescriptor></md:EntityDescriptor>`;

let service: TestService;
let fresh: TestCert;
let rollover: TestCert;
let expiring: TestCert;
let laterExpiring: TestCert;
let fromMetadata: TestCert;

beforeAll(async () => {
  service = await startTestService();
  [fresh, rollover, expiring, laterExpiring, fromMetadata] = await Promise.all([
    makeCert('IdP signing current'),
    makeCert('IdP signing next', 730),
    makeCert('IdP signing expiring', 10),
    makeCert('IdP signing in forty days', 40),
    makeCert('IdP signing from metadata'),
  ]);
}, 60_000);
afterAll(() => service?.close());

type Api = ReturnType<typeof apiClient>;

interface AdminOrg {
  orgId: string;
  adminId: string;
  api: Api;
  path: (document: 'sso' | 'provisioning' | 'role-mappings') => string;
}

/** A fresh org (SAML SSO on, JIT from the IdP's `groups` unless overridden) and its admin's client. */
async function orgWithAdmin(options: SamlOrgOptions = {}): Promise<AdminOrg> {
  const org = await createSamlOrg(service, options);
  const admin = await service.rt.users.findByEmail(org.orgId, org.adminEmail);
  const api = apiClient(service, await tokenFor(service, org.orgId, org.adminEmail));
  // The clock is fixed: move it on so the admin's events are newer than the set-up's.
  service.clock.advance(1000);
  return { orgId: org.orgId, adminId: admin!.id, api, path: (document) => `/orgs/${org.orgId}/settings/${document}` };
}

/** An org whose provisioning method is manual (JIT configured but off), so SSO may change freely. */
const orgWithoutJit = () => orgWithAdmin({ provisioning: { method: 'manual' } });

const OIDC_SECRET = 'oidc-client-secret-9f8e7d6c5b4a-do-not-leak';
const oidcSso = (extra: Record<string, unknown> = {}) => ({
  enabled: true,
  protocol: 'oidc',
  oidc: { issuer: 'https://login.example.com', clientId: 'sso-jit-client', clientSecret: OIDC_SECRET, ...extra },
});

/** An org whose SSO connection is OIDC with {@link OIDC_SECRET} as the client secret, JIT off. */
async function orgWithOidc(): Promise<AdminOrg> {
  const org = await orgWithoutJit();
  const response = await org.api('PUT', org.path('sso'), oidcSso());
  expect(response.status).toBe(200);
  return org;
}

const errorOf = (response: ApiResponse) => ({ status: response.status, code: response.body?.error?.code, message: response.body?.error?.message as string });

async function auditEvents(org: AdminOrg, type?: string) {
  const response = await org.api('GET', `/orgs/${org.orgId}/audit-events?limit=100${type ? `&type=${type}` : ''}`);
  expect(response.status).toBe(200);
  return response.body.items as Array<Record<string, any>>;
}

async function getSso(org: AdminOrg) {
  const response = await org.api('GET', org.path('sso'));
  expect(response.status).toBe(200);
  return response;
}

const READ_ONLY = { saml: ['spEntityId', 'acsUrl', 'metadataUrl', 'certificateInfo'], oidc: ['redirectUri', 'clientSecretSet'] };

/**
 * A GET body without the `saml` / `oidc` object of the protocol that is not configured (it
 * holds only read-only fields). Sending that back is refused today: the tests named
 * "accepts the GET body … sent back" prove it; the others leave it out, to test their own rule.
 */
function withoutUnconfiguredProtocol(body: any): any {
  const copy = structuredClone(body);
  for (const [protocol, keys] of Object.entries(READ_ONLY)) {
    if (copy[protocol] && Object.keys(copy[protocol]).every((key) => keys.includes(key))) delete copy[protocol];
  }
  return copy;
}

/** PUTs the current SSO document back with `edit` applied (the unconfigured protocol left out). */
async function editSso(org: AdminOrg, edit: (body: any) => void, headers: Record<string, string> = {}) {
  const body = withoutUnconfiguredProtocol((await getSso(org)).body);
  edit(body);
  return org.api('PUT', org.path('sso'), body, headers);
}

describe('GET /orgs/{orgId}/settings/sso', () => {
  it('derives the SP entity ID, ACS URL, metadata URL and OIDC redirect URI from BASE_URL', async () => {
    const org = await orgWithAdmin();

    const { body } = await getSso(org);

    const base = `${service.baseUrl}/sso/${org.orgId}`;
    expect(body.saml).toMatchObject({ spEntityId: `${base}/saml/metadata`, acsUrl: `${base}/saml/acs`, metadataUrl: `${base}/saml/metadata` });
    expect(body.oidc.redirectUri).toBe(`${base}/oidc/callback`);
  });

  it('returns an ETag header', async () => {
    const org = await orgWithAdmin();

    const response = await getSso(org);

    expect(response.headers.get('etag')).toMatch(/^(W\/)?"[^"]+"$/);
  });

  it.each([
    { cert: () => fresh, validity: 'a year', expiresSoon: false },
    { cert: () => laterExpiring, validity: '40 days', expiresSoon: false },
    { cert: () => expiring, validity: '10 days', expiresSoon: true },
  ])('describes a certificate valid for $validity with its subject, SHA-256 fingerprint, notAfter and expiresSoon $expiresSoon', async ({ cert, expiresSoon }) => {
    const org = await orgWithAdmin({ saml: { certificates: [cert().pem] } });

    const { body } = await getSso(org);

    expect(body.saml.certificateInfo).toHaveLength(1);
    const [info] = body.saml.certificateInfo;
    expect(info.subject).toContain(`CN=${cert().commonName}`);
    expect(info.fingerprintSha256).toBe(cert().x509.fingerprint256);
    expect(new Date(info.notAfter).getTime()).toBe(cert().x509.validToDate.getTime());
    expect(info.expiresSoon).toBe(expiresSoon);
  });
});

describe('PUT /orgs/{orgId}/settings/sso', () => {
  it.each([
    { protocol: 'SAML', org: () => orgWithAdmin() },
    { protocol: 'OIDC', org: () => orgWithOidc() },
  ])('accepts the GET body of an org using $protocol edited and sent back whole, read-only fields included', async ({ org: makeOrg }) => {
    const org = await makeOrg();
    const { body } = await getSso(org);
    body.forceSso = true;

    const response = await org.api('PUT', org.path('sso'), body);

    expect(response.status, JSON.stringify(response.body)).toBe(200);
    expect((await getSso(org)).body.forceSso).toBe(true);
  });

  it('ignores read-only fields sent back with new values', async () => {
    const org = await orgWithAdmin();

    const response = await editSso(org, (body) => {
      body.saml.clockSkewSeconds = 120;
      body.saml.acsUrl = 'https://attacker.example/acs';
      body.saml.spEntityId = 'https://attacker.example/sp';
      body.saml.metadataUrl = 'https://attacker.example/metadata';
      body.saml.certificateInfo = [];
    });

    expect(response.status).toBe(200);
    const { body } = await getSso(org);
    const base = `${service.baseUrl}/sso/${org.orgId}`;
    expect(body.saml).toMatchObject({ clockSkewSeconds: 120, acsUrl: `${base}/saml/acs`, spEntityId: `${base}/saml/metadata`, metadataUrl: `${base}/saml/metadata` });
    expect(body.saml.certificateInfo).toHaveLength(1);
  });

  it.each([
    { where: 'at the top level', field: 'surprise', edit: (body: any) => (body.surprise = true) },
    { where: 'in saml', field: 'idpLogoutUrl', edit: (body: any) => (body.saml.idpLogoutUrl = 'https://idp.example.com/logout') },
  ])('refuses an unknown field $where with 400 VALIDATION_FAILED naming it', async ({ field, edit }) => {
    const org = await orgWithAdmin();

    const response = await editSso(org, edit);

    expect(errorOf(response)).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
    expect(errorOf(response).message).toContain(field);
  });

  it.each([
    { ssoUrl: 'https://idp.example.com/sso', status: 200 },
    { ssoUrl: 'http://idp.example.com/sso', status: 400 },
    { ssoUrl: 'http://localhost.example.com/sso', status: 400 },
    { ssoUrl: 'http://127.0.0.1.example.com/sso', status: 400 },
    { ssoUrl: 'javascript:alert(1)', status: 400 },
    { ssoUrl: 'http://localhost:8080/sso', status: 200 },
    { ssoUrl: 'http://127.0.0.1:9000/sso', status: 200 },
    { ssoUrl: 'http://127.20.30.40/sso', status: 200 },
    { ssoUrl: 'http://[::1]:9000/sso', status: 200 },
  ])('answers $status to the IdP URL $ssoUrl (https, or http only on loopback)', async ({ ssoUrl, status }) => {
    const org = await orgWithAdmin();

    const response = await editSso(org, (body) => (body.saml.ssoUrl = ssoUrl));

    expect(response.status).toBe(status);
    if (status === 400) expect(errorOf(response)).toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringContaining('saml.ssoUrl') });
  });

  it.each([
    { clockSkewSeconds: 0, status: 200 },
    { clockSkewSeconds: 300, status: 200 },
    { clockSkewSeconds: 301, status: 400 },
    { clockSkewSeconds: -1, status: 400 },
    { clockSkewSeconds: 1.5, status: 400 },
  ])('answers $status to clockSkewSeconds $clockSkewSeconds (0..300)', async ({ clockSkewSeconds, status }) => {
    const org = await orgWithAdmin();

    const response = await editSso(org, (body) => (body.saml.clockSkewSeconds = clockSkewSeconds));

    expect(response.status).toBe(status);
    if (status === 400) expect(errorOf(response)).toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringContaining('saml.clockSkewSeconds') });
  });

  it.each([
    { index: 0, certificates: () => ['-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n'] },
    { index: 0, certificates: () => ['-----BEGIN CERTIFICATE-----\nTUlJQ2JqQ0NBZGVnQXdJQkFn\n-----END CERTIFICATE-----\n'] },
    { index: 0, certificates: () => [`-----BEGIN CERTIFICATE-----\n${fresh.body.slice(0, 200)}`] },
    { index: 1, certificates: () => [fresh.pem, 'hello'] },
  ])('refuses a malformed PEM with 400 naming saml.certificates[$index]', async ({ index, certificates }) => {
    const org = await orgWithAdmin();

    const response = await editSso(org, (body) => (body.saml.certificates = certificates()));

    expect(errorOf(response)).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
    expect(errorOf(response).message).toContain(`saml.certificates[${index}]`);
  });

  it.each([
    { form: 'a PEM private key', key: () => fresh.privateKeyPem },
    { form: 'a bare base64 private key', key: () => createPrivateKey(fresh.privateKeyPem).export({ type: 'pkcs8', format: 'der' }).toString('base64') },
  ])('refuses $form pasted as a certificate without echoing it in the response or the audit trail', async ({ key }) => {
    const org = await orgWithAdmin();
    const before = await getSso(org);
    const keyText = key();
    const keyLines = fresh.privateKeyPem.split('\n').filter((line) => line.length > 0 && !line.startsWith('-----'));
    const keyBase64 = keyLines.join('');

    const response = await editSso(org, (body) => (body.saml.certificates = [keyText]));

    expect(errorOf(response)).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
    expect(errorOf(response).message).toContain('saml.certificates[0]');
    const responseText = JSON.stringify(response.body);
    const auditText = JSON.stringify(await auditEvents(org));
    for (const text of [responseText, auditText]) {
      expect(text).not.toContain(keyBase64.slice(0, 64));
      expect(text).not.toContain(keyBase64.slice(-64));
      for (const line of keyLines) expect(text).not.toContain(line);
    }
    expect((await getSso(org)).body).toEqual(before.body);
  });

  it('accepts several certificates for a rollover and describes each in order', async () => {
    const org = await orgWithAdmin();

    const response = await editSso(org, (body) => (body.saml.certificates = [fresh.pem, rollover.pem]));

    expect(response.status).toBe(200);
    const { body } = await getSso(org);
    expect(trimmed(body.saml.certificates)).toEqual([canonicalPem(fresh), canonicalPem(rollover)]);
    expect(body.saml.certificateInfo.map((info: any) => info.fingerprintSha256)).toEqual([fresh.x509.fingerprint256, rollover.x509.fingerprint256]);
  });

  it('sets idpEntityId, ssoUrl and certificates from saml.metadataXml', async () => {
    const org = await orgWithoutJit();
    const entityId = `https://idp.metadata.example.com/${org.orgId}`;
    const xml = idpMetadata(entityId, 'https://idp.metadata.example.com/sso', fromMetadata.body);

    const response = await org.api('PUT', org.path('sso'), { enabled: true, protocol: 'saml', saml: { metadataXml: xml } });

    expect(response.status).toBe(200);
    const { body } = await getSso(org);
    expect(body.saml).toMatchObject({ idpEntityId: entityId, ssoUrl: 'https://idp.metadata.example.com/sso' });
    expect(trimmed(body.saml.certificates)).toEqual([canonicalPem(fromMetadata)]);
    expect(body.saml.certificateInfo[0].fingerprintSha256).toBe(fromMetadata.x509.fingerprint256);
    expect(body.saml).not.toHaveProperty('metadataXml');
  });

  it.each([
    { problem: 'text that is not XML', xml: () => 'this is not metadata' },
    { problem: 'truncated XML', xml: () => `<md:EntityDescriptor xmlns:md="${MD}" entityID="https://idp.example.com"><md:IDPSSODescriptor` },
    { problem: 'a URL instead of the document', xml: () => 'https://idp.example.com/metadata' },
    {
      problem: 'service provider metadata',
      xml: () =>
        `<md:EntityDescriptor xmlns:md="${MD}" entityID="https://sp.example.com"><md:SPSSODescriptor protocolSupportEnumeration="${SAML2}"><md:AssertionConsumerService Binding="${POST}" Location="https://sp.example.com/acs" index="0"/></md:SPSSODescriptor></md:EntityDescriptor>`,
    },
    { problem: 'metadata without a signing certificate', xml: () => idpMetadata('https://idp.example.com', 'https://idp.example.com/sso', '').replace(/<md:KeyDescriptor[\s\S]*<\/md:KeyDescriptor>/, '') },
  ])('refuses $problem as saml.metadataXml with 400 naming the field', async ({ xml }) => {
    const org = await orgWithAdmin();

    const response = await editSso(org, (body) => (body.saml.metadataXml = xml()));

    expect(errorOf(response)).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
    expect(errorOf(response).message).toContain('saml.metadataXml');
  });

  it('stores domains lowercased', async () => {
    const org = await orgWithAdmin();
    const domain = `${org.orgId}.Example.COM`;

    const response = await editSso(org, (body) => (body.domains = [domain]));

    expect(response.status).toBe(200);
    expect(response.body.domains).toEqual([domain.toLowerCase()]);
    expect((await getSso(org)).body.domains).toEqual([domain.toLowerCase()]);
  });

  it('lets another org list a domain one org listed: a listed domain routes nothing until it is verified (verified-domains.test.ts)', async () => {
    const first = await orgWithAdmin();
    const domain = `${first.orgId}.example.com`;
    expect((await editSso(first, (body) => (body.domains = [domain]))).status).toBe(200);
    const other = await orgWithAdmin();

    const response = await editSso(other, (body) => (body.domains = [domain.toUpperCase()]));

    expect(response.status).toBe(200);
    expect(response.body.domains).toEqual([domain]);
    expect(response.body.domainStatus).toEqual([
      { domain, verified: false, txtName: `_sso-jit-challenge.${domain}`, txtValue: expect.stringMatching(/^sso-jit-verification=[A-Za-z0-9_-]{32}$/), verifiedAt: null },
    ]);
    expect((await getSso(first)).body.domains).toEqual([domain]);
    // Each org proves ownership with its own token.
    expect((await getSso(first)).body.domainStatus[0].txtValue).not.toBe(response.body.domainStatus[0].txtValue);
  });
});

describe('the OIDC client secret', () => {
  const secret = OIDC_SECRET;

  it('is never returned by the PUT that sets it nor by a GET, which says clientSecretSet: true', async () => {
    const org = await orgWithoutJit();

    const put = await org.api('PUT', org.path('sso'), oidcSso());
    const get = await getSso(org);

    expect(put.status).toBe(200);
    for (const response of [put, get]) {
      expect(JSON.stringify(response.body)).not.toContain(secret);
      expect(response.body.oidc).not.toHaveProperty('clientSecret');
      expect(response.body.oidc).not.toHaveProperty('clientSecretEncrypted');
      expect(response.body.oidc.clientSecretSet).toBe(true);
    }
  });

  it('is never written into the audit trail, which only names the field as changed', async () => {
    const org = await orgWithoutJit();

    expect((await org.api('PUT', org.path('sso'), oidcSso())).status).toBe(200);

    const events = await auditEvents(org);
    expect(JSON.stringify(events)).not.toContain(secret);
    const stored = await service.rt.settingsRepository.load(org.orgId);
    expect(JSON.stringify(events)).not.toContain(stored!.sso.oidc!.clientSecretEncrypted!);
    const [updated] = events.filter((event) => event.type === 'settings.sso.updated');
    expect(updated!.details.changed).toContain('oidc.clientSecret');
  });

  it('is stored sealed, never in clear', async () => {
    const org = await orgWithoutJit();

    await org.api('PUT', org.path('sso'), oidcSso());

    const stored = await service.rt.settingsRepository.load(org.orgId);
    const sealed = stored!.sso.oidc!.clientSecretEncrypted!;
    expect(sealed).toMatch(/^v1\.[a-z]+\./);
    expect(sealed).not.toContain(secret);
    expect(JSON.stringify(stored)).not.toContain(secret);
  });

  it('keeps the stored secret when a PUT leaves it out', async () => {
    const org = await orgWithoutJit();
    await org.api('PUT', org.path('sso'), oidcSso());
    const sealedBefore = (await service.rt.settingsRepository.load(org.orgId))!.sso.oidc!.clientSecretEncrypted;

    const response = await editSso(org, (body) => (body.oidc.scopes = ['openid', 'email']));

    expect(response.status).toBe(200);
    expect(response.body.oidc).toMatchObject({ scopes: ['openid', 'email'], clientSecretSet: true });
    const sealedAfter = (await service.rt.settingsRepository.load(org.orgId))!.sso.oidc!.clientSecretEncrypted;
    expect(sealedAfter).toBe(sealedBefore);
    const oidc = (await service.rt.settingsRepository.load(org.orgId))!.sso.oidc!;
    await expect(service.rt.sealer.open(sealedAfter!, clientSecretContext(org.orgId, oidc))).resolves.toBe(secret);
    // Bound to the IdP it was entered for: it opens for no other issuer.
    await expect(service.rt.sealer.open(sealedAfter!, clientSecretContext(org.orgId, { ...oidc, issuer: 'https://evil.example' }))).rejects.toThrow();
  });

  it('refuses to keep the stored secret for another issuer or client id: the secret must be entered again', async () => {
    const org = await orgWithoutJit();
    await org.api('PUT', org.path('sso'), oidcSso());

    const otherIssuer = await editSso(org, (body) => (body.oidc.issuer = 'https://attacker.example'));
    const otherClient = await editSso(org, (body) => (body.oidc.clientId = 'another-client'));

    for (const response of [otherIssuer, otherClient]) {
      expect(response.status).toBe(400);
      expect(response.body.error).toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringMatching(/^oidc\.clientSecret:/) });
    }
  });

  it('is not echoed by a refused write', async () => {
    const org = await orgWithoutJit();

    const response = await org.api('PUT', org.path('sso'), { ...oidcSso({ issuer: 'http://login.example.com' }) });

    expect(errorOf(response)).toMatchObject({ status: 400, code: 'VALIDATION_FAILED', message: expect.stringContaining('oidc.issuer') });
    expect(JSON.stringify(response.body)).not.toContain(secret);
  });
});

describe('PUT /orgs/{orgId}/settings/provisioning', () => {
  it('refuses JIT while SSO is disabled with 409 JIT_REQUIRES_SSO', async () => {
    const org = await orgWithAdmin({ sso: { enabled: false }, provisioning: { method: 'manual' } });

    const response = await org.api('PUT', org.path('provisioning'), { method: 'jit' });

    expect(errorOf(response)).toMatchObject({ status: 409, code: 'JIT_REQUIRES_SSO' });
    expect((await org.api('GET', org.path('provisioning'))).body.method).toBe('manual');
  });

  it('refuses to disable SSO while the method is jit with 409 SSO_REQUIRED_BY_JIT', async () => {
    const org = await orgWithAdmin();

    const response = await editSso(org, (body) => (body.enabled = false));

    expect(errorOf(response)).toMatchObject({ status: 409, code: 'SSO_REQUIRED_BY_JIT' });
    expect((await getSso(org)).body.enabled).toBe(true);
  });

  it('refuses to switch the SSO protocol while the method is jit with 409', async () => {
    const org = await orgWithAdmin();

    const response = await org.api('PUT', org.path('sso'), {
      enabled: true,
      protocol: 'oidc',
      oidc: { issuer: 'https://login.example.com', clientId: 'client', clientSecret: 'a-client-secret' },
    });

    expect(response.status).toBe(409);
    expect(['SSO_REQUIRED_BY_JIT', 'CONFLICT']).toContain(errorOf(response).code);
    expect((await getSso(org)).body.protocol).toBe('saml');
  });

  it('turns JIT off with {"method":"manual"} and keeps the JIT configuration', async () => {
    const org = await orgWithAdmin();
    const before = await org.api('GET', org.path('provisioning'));

    const response = await org.api('PUT', org.path('provisioning'), { method: 'manual' });

    expect(response.status).toBe(200);
    const after = await org.api('GET', org.path('provisioning'));
    expect(after.body).toEqual({ method: 'manual', jit: before.body.jit });
    expect(before.body.jit).toMatchObject({ roleSource: 'idp', roleAttribute: 'groups' });
  });

  it('lets SSO be disabled once JIT is off', async () => {
    const org = await orgWithAdmin();
    await org.api('PUT', org.path('provisioning'), { method: 'manual' });

    const response = await editSso(org, (body) => (body.enabled = false));

    expect(response.status).toBe(200);
    expect((await getSso(org)).body.enabled).toBe(false);
  });

  it('accepts the scim method', async () => {
    const org = await orgWithAdmin();

    const response = await org.api('PUT', org.path('provisioning'), { method: 'scim' });

    expect(response.status).toBe(200);
    expect((await org.api('GET', org.path('provisioning'))).body.method).toBe('scim');
  });

  it.each([
    { field: 'jit.defaultRoleId', jit: { roleSource: 'app', defaultRoleId: 'no-such-role' } },
    { field: 'jit.defaultGroupId', jit: { roleSource: 'app', defaultGroupId: 'no-such-group' } },
    { field: 'jit.roleAttribute', jit: { roleSource: 'idp' } },
    { field: 'jit.onNoRoleMatch', jit: { roleSource: 'idp', roleAttribute: 'groups', onNoRoleMatch: 'allow' } },
    { field: 'jit.surprise', jit: { roleSource: 'app', surprise: 1 } },
  ])('refuses an invalid $field with 400 naming it', async ({ field, jit }) => {
    const org = await orgWithAdmin();
    const before = await org.api('GET', org.path('provisioning'));

    const response = await org.api('PUT', org.path('provisioning'), { method: 'jit', jit });

    expect(errorOf(response)).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
    // An unknown key is named inside its object: `jit: unknown field(s) "surprise"`.
    for (const part of field.split('.')) expect(errorOf(response).message).toContain(part);
    expect((await org.api('GET', org.path('provisioning'))).body).toEqual(before.body);
  });
});

/** An edit of each settings document that changes it. */
const DOCUMENTS = [
  {
    document: 'sso' as const,
    edit: (read: any, step: number) => {
      const body = withoutUnconfiguredProtocol(read);
      return { ...body, saml: { ...body.saml, clockSkewSeconds: 10 + step } };
    },
  },
  {
    document: 'provisioning' as const,
    edit: (body: any, step: number) => ({ ...body, jit: { ...body.jit, roleAttribute: `department-${step}` } }),
  },
  {
    document: 'role-mappings' as const,
    edit: (body: any, step: number) => ({
      items: [...body.items.map(({ id: _id, ...mapping }: any) => mapping), { roleId: 'organization-admin', groupIds: ['default'], idpValue: `Owners-${step}` }],
    }),
  },
];

describe.each(DOCUMENTS)('ETag and If-Match on settings/$document', ({ document, edit }) => {
  it('answers a PUT with the current ETag and returns a new ETag', async () => {
    const org = await orgWithAdmin();
    const read = await org.api('GET', org.path(document));
    const etag = read.headers.get('etag')!;

    const response = await org.api('PUT', org.path(document), edit(read.body, 1), { 'if-match': etag });

    expect(response.status).toBe(200);
    const newEtag = response.headers.get('etag');
    expect(newEtag).toBeTruthy();
    expect(newEtag).not.toBe(etag);
    expect((await org.api('GET', org.path(document))).headers.get('etag')).toBe(newEtag);
  });

  it('refuses a PUT with a stale ETag with 412 PRECONDITION_FAILED and changes nothing', async () => {
    const org = await orgWithAdmin();
    const first = await org.api('GET', org.path(document));
    const staleEtag = first.headers.get('etag')!;
    expect((await org.api('PUT', org.path(document), edit(first.body, 1), { 'if-match': staleEtag })).status).toBe(200);
    const current = await org.api('GET', org.path(document));

    const response = await org.api('PUT', org.path(document), edit(first.body, 2), { 'if-match': staleEtag });

    expect(errorOf(response)).toMatchObject({ status: 412, code: 'PRECONDITION_FAILED' });
    const after = await org.api('GET', org.path(document));
    expect(after.body).toEqual(current.body);
    expect(after.headers.get('etag')).toBe(current.headers.get('etag'));
  });

  it('accepts a PUT without If-Match', async () => {
    const org = await orgWithAdmin();
    const read = await org.api('GET', org.path(document));

    const response = await org.api('PUT', org.path(document), edit(read.body, 1));

    expect(response.status).toBe(200);
  });

  it('keeps the ETag while the document does not change, even when another document does', async () => {
    const org = await orgWithAdmin();
    const before = (await org.api('GET', org.path(document))).headers.get('etag');
    const other = DOCUMENTS.find((candidate) => candidate.document !== document)!;
    const otherBody = (await org.api('GET', org.path(other.document))).body;
    expect((await org.api('PUT', org.path(other.document), other.edit(otherBody, 1))).status).toBe(200);

    const after = (await org.api('GET', org.path(document))).headers.get('etag');

    expect(after).toBe(before);
  });
});

describe.each([{ document: 'sso' as const }, { document: 'provisioning' as const }])('PUT settings/$document unchanged', ({ document }) => {
  it('keeps the ETag when the GET body is sent back unchanged', async () => {
    const org = await orgWithAdmin();
    const read = await org.api('GET', org.path(document));
    const body = document === 'sso' ? withoutUnconfiguredProtocol(read.body) : read.body;

    const response = await org.api('PUT', org.path(document), body, { 'if-match': read.headers.get('etag')! });

    expect(response.status).toBe(200);
    expect(response.headers.get('etag')).toBe(read.headers.get('etag'));
    expect((await org.api('GET', org.path(document))).headers.get('etag')).toBe(read.headers.get('etag'));
  });
});

describe('PUT settings/sso unchanged on an OIDC org', () => {
  it('keeps the ETag when the client secret is left out', async () => {
    const org = await orgWithOidc();
    const read = await getSso(org);

    const response = await org.api('PUT', org.path('sso'), withoutUnconfiguredProtocol(read.body), { 'if-match': read.headers.get('etag')! });

    expect(response.status).toBe(200);
    expect(response.headers.get('etag')).toBe(read.headers.get('etag'));
  });
});

describe('the audit trail of settings writes', () => {
  it('records settings.sso.updated naming the admin and the changed fields', async () => {
    const org = await orgWithAdmin();

    await editSso(org, (body) => {
      body.forceSso = true;
      body.saml.clockSkewSeconds = 90;
    });

    const [event] = await auditEvents(org, 'settings.sso.updated');
    expect(event).toMatchObject({ type: 'settings.sso.updated', outcome: 'success', actor: { type: 'user', id: org.adminId }, target: { type: 'settings', id: 'sso' } });
    expect(event!.details.changed).toEqual(['forceSso', 'saml.clockSkewSeconds']);
  });

  it.each([
    { change: 'the method', input: { method: 'manual' }, changed: ['method'] },
    {
      change: 'the JIT configuration',
      input: { method: 'jit', jit: { roleSource: 'idp', roleAttribute: 'department', onNoRoleMatch: 'deny' } },
      changed: ['jit.roleAttribute'],
    },
  ])('records settings.provisioning.updated naming the admin and $change as changed', async ({ input, changed }) => {
    const org = await orgWithAdmin();

    expect((await org.api('PUT', org.path('provisioning'), input)).status).toBe(200);

    const [event] = await auditEvents(org, 'settings.provisioning.updated');
    expect(event).toMatchObject({ outcome: 'success', actor: { type: 'user', id: org.adminId }, target: { type: 'settings', id: 'provisioning' } });
    expect(event!.details.changed).toEqual(changed);
  });

  it.each<{ refusal: string; document: 'sso' | 'provisioning'; body: (read: any) => unknown; headers?: Record<string, string>; status: number }>([
    { refusal: 'an invalid SSO document', document: 'sso', body: (read) => ({ ...withoutUnconfiguredProtocol(read), saml: { ...read.saml, clockSkewSeconds: 301 } }), status: 400 },
    { refusal: 'disabling SSO under JIT', document: 'sso', body: (read) => ({ ...withoutUnconfiguredProtocol(read), enabled: false }), status: 409 },
    { refusal: 'a stale If-Match on sso', document: 'sso', body: (read) => ({ ...withoutUnconfiguredProtocol(read), forceSso: true }), headers: { 'if-match': '"stale"' }, status: 412 },
    { refusal: 'an invalid provisioning document', document: 'provisioning', body: () => ({ method: 'jit', jit: { roleSource: 'idp' } }), status: 400 },
    { refusal: 'a stale If-Match on provisioning', document: 'provisioning', body: () => ({ method: 'manual' }), headers: { 'if-match': '"stale"' }, status: 412 },
  ])('writes nothing for a PUT refused with $status: $refusal', async ({ document, body, headers, status }) => {
    const org = await orgWithAdmin();
    const read = await org.api('GET', org.path(document));
    const before = await auditEvents(org);

    const response = await org.api('PUT', org.path(document), body(read.body), headers);

    expect(response.status).toBe(status);
    expect(await auditEvents(org)).toEqual(before);
  });
});
