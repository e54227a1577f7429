/**
 * The daily check (API.md "SAML as enterprises run it": metadata URL refresh,
 * certificates that warn before they expire): run by the DailyCheck function over every
 * org and by `sso-jit metadata refresh`. IdP metadata is served on loopback (allowed in
 * tests as on the local stack); time moves on the service's fixed clock.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../bin/cli.js';
import { createDailyCheckHandler } from '../../functions/daily-check.js';
import { createSamlIdpKeys, type SamlIdpKeys } from '../../local/saml-idp.js';
import { dailyCheck, refreshIdpMetadata } from '../../shared/settings/daily-check.js';
import { staticSpKeySource } from '../../shared/saml/sp-keys.js';
import { makeTestCert } from '../support/certificates.js';
import { certificateBody } from '../support/saml-edits.js';
import { apiClient, createSamlOrg, startTestService, tokenFor, type TestService } from '../support/service.js';

const MD = 'urn:oasis:names:tc:SAML:2.0:metadata';
const DS = 'http://www.w3.org/2000/09/xmldsig#';
const REDIRECT = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect';
const SYSTEM = { type: 'system', id: 'daily-check' } as const;

let service: TestService;
let server: Server;
let base: string;
/** What each metadata path serves: XML, or an HTTP status. */
const served = new Map<string, string | number>();

const metadataOf = (keys: SamlIdpKeys[], entityId: string, ssoUrl: string, sloUrl?: string) =>
  `<?xml version="1.0"?><md:EntityDescriptor xmlns:md="${MD}" entityID="${entityId}"><md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">${keys
    .map((key) => `<md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="${DS}"><ds:X509Data><ds:X509Certificate>${certificateBody(key.certificatePem)}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>`)
    .join('')}${sloUrl === undefined ? '' : `<md:SingleLogoutService Binding="${REDIRECT}" Location="${sloUrl}"/>`}<md:SingleSignOnService Binding="${REDIRECT}" Location="${ssoUrl}"/></md:IDPSSODescriptor></md:EntityDescriptor>`;

const fingerprint = (key: SamlIdpKeys) => new X509Certificate(key.certificatePem).fingerprint256;

beforeAll(async () => {
  server = createServer((req, res) => {
    const answer = served.get(req.url ?? '');
    if (typeof answer === 'string') res.writeHead(200, { 'content-type': 'application/samlmetadata+xml' }).end(answer);
    else res.writeHead(answer ?? 404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  service = await startTestService();
});
afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await service?.close();
});
beforeEach(() => service.clock.advance(1000));

let counter = 0;

/**
 * An org whose SAML connection was set from metadata at a URL (as an admin does through
 * PUT settings/sso), with the daily refresh as given.
 */
async function orgFromMetadataUrl(refresh: { enabled: boolean; applyCertificateChanges: boolean } | undefined) {
  const path = `/metadata-${++counter}`;
  const idp = await createSamlIdpKeys(`https://idp-${counter}.test/metadata`);
  served.set(path, metadataOf([idp], idp.entityId, `https://idp-${counter}.test/sso`));
  const org = await createSamlOrg(service, { idp, provisioning: { method: 'manual' } });
  const admin = apiClient(service, await tokenFor(service, org.orgId, org.adminEmail));
  const put = await admin('PUT', `/orgs/${org.orgId}/settings/sso`, {
    enabled: true,
    protocol: 'saml',
    saml: { idpMetadataUrl: `${base}${path}`, ...(refresh ? { metadataRefresh: refresh } : {}) },
  });
  expect(put.status, JSON.stringify(put.body)).toBe(200);
  const sso = async () => (await admin('GET', `/orgs/${org.orgId}/settings/sso`)).body;
  const events = async (type: string) => (await service.rt.audit.list(org.orgId, { type, limit: 20 })).items;
  return { ...org, idp, path, admin, sso, events, entityId: idp.entityId };
}

describe('the metadata refresh', () => {
  it('applies a new SSO URL and holds a new certificate back without applyCertificateChanges, saying so with both fingerprints', async () => {
    const org = await orgFromMetadataUrl({ enabled: true, applyCertificateChanges: false });
    const rolled = await createSamlIdpKeys(org.entityId);
    served.set(org.path, metadataOf([rolled], org.entityId, 'https://idp.moved.test/sso'));

    const result = await refreshIdpMetadata(service.rt, org.orgId, SYSTEM);

    expect(result).toEqual({ outcome: 'changed', applied: ['ssoUrl'], heldBack: ['certificates'] });
    const saml = (await org.sso()).saml;
    expect(saml.ssoUrl).toBe('https://idp.moved.test/sso');
    expect(saml.certificateInfo.map((info: { fingerprintSha256: string }) => info.fingerprintSha256)).toEqual([fingerprint(org.idp)]);
    expect(saml.metadataFetchedAt).toBe(service.clock.now().toISOString());
    expect(await org.events('settings.sso.metadata_refreshed')).toEqual([
      expect.objectContaining({
        outcome: 'success',
        actor: SYSTEM,
        details: expect.objectContaining({ applied: ['ssoUrl'], heldBack: ['certificates'], fingerprintsBefore: [fingerprint(org.idp)], fingerprintsAfter: [fingerprint(rolled)] }),
      }),
    ]);
  });

  it('applies new certificates and a new entity ID when the org opted in', async () => {
    const org = await orgFromMetadataUrl({ enabled: true, applyCertificateChanges: true });
    const rolled = await createSamlIdpKeys('https://idp.renamed.test/metadata');
    served.set(org.path, metadataOf([org.idp, rolled], rolled.entityId, `https://idp-${counter}.test/sso`));

    const result = await refreshIdpMetadata(service.rt, org.orgId, SYSTEM);

    expect(result).toEqual({ outcome: 'changed', applied: ['certificates', 'idpEntityId'], heldBack: [] });
    const saml = (await org.sso()).saml;
    expect(saml.idpEntityId).toBe('https://idp.renamed.test/metadata');
    expect(saml.certificateInfo.map((info: { fingerprintSha256: string }) => info.fingerprintSha256)).toEqual([fingerprint(org.idp), fingerprint(rolled)]);
  });

  it('sets sloUrl from the metadata on write, and applies a moved SingleLogoutService like a moved SSO URL', async () => {
    const path = `/metadata-slo-${++counter}`;
    const idp = await createSamlIdpKeys(`https://idp-${counter}.test/metadata`);
    served.set(path, metadataOf([idp], idp.entityId, `https://idp-${counter}.test/sso`, `https://idp-${counter}.test/slo`));
    const org = await createSamlOrg(service, { idp, provisioning: { method: 'manual' } });
    const admin = apiClient(service, await tokenFor(service, org.orgId, org.adminEmail));
    const put = await admin('PUT', `/orgs/${org.orgId}/settings/sso`, {
      enabled: true,
      protocol: 'saml',
      saml: { idpMetadataUrl: `${base}${path}`, metadataRefresh: { enabled: true, applyCertificateChanges: false } },
    });
    expect(put.body.saml.sloUrl).toBe(`https://idp-${counter}.test/slo`);
    served.set(path, metadataOf([idp], idp.entityId, `https://idp-${counter}.test/sso`, 'https://idp.moved.test/slo'));

    const result = await refreshIdpMetadata(service.rt, org.orgId, SYSTEM);

    expect(result).toEqual({ outcome: 'changed', applied: ['sloUrl'], heldBack: [] });
    expect((await admin('GET', `/orgs/${org.orgId}/settings/sso`)).body.saml.sloUrl).toBe('https://idp.moved.test/slo');
    expect((await service.rt.audit.list(org.orgId, { type: 'settings.sso.metadata_refreshed', limit: 5 })).items[0]?.details).toMatchObject({ applied: ['sloUrl'] });
  });

  it('writes no event when nothing changed', async () => {
    const org = await orgFromMetadataUrl({ enabled: true, applyCertificateChanges: false });

    expect(await refreshIdpMetadata(service.rt, org.orgId, SYSTEM)).toEqual({ outcome: 'unchanged' });

    expect(await org.events('settings.sso.metadata_refreshed')).toEqual([]);
  });

  it('keeps the last good metadata when the fetch fails, says why in metadataError once, and clears it after the next success', async () => {
    const org = await orgFromMetadataUrl({ enabled: true, applyCertificateChanges: true });
    const good = served.get(org.path)!;
    served.set(org.path, 503);

    const failed = await refreshIdpMetadata(service.rt, org.orgId, SYSTEM);
    await refreshIdpMetadata(service.rt, org.orgId, SYSTEM);

    expect(failed).toEqual({ outcome: 'failed', error: expect.stringContaining('503') });
    const saml = (await org.sso()).saml;
    expect(saml.metadataError).toContain('503');
    expect(saml.certificateInfo.map((info: { fingerprintSha256: string }) => info.fingerprintSha256)).toEqual([fingerprint(org.idp)]);
    expect(await org.events('settings.sso.metadata_refreshed')).toEqual([expect.objectContaining({ outcome: 'failure', code: 'METADATA_FETCH_FAILED' })]);

    served.set(org.path, good);
    expect(await refreshIdpMetadata(service.rt, org.orgId, SYSTEM)).toEqual({ outcome: 'unchanged' });
    expect((await org.sso()).saml.metadataError).toBeUndefined();
  });

  it('keeps the last good metadata when what comes back is not IdP metadata', async () => {
    const org = await orgFromMetadataUrl({ enabled: true, applyCertificateChanges: true });
    served.set(org.path, '<html><body>Sign in</body></html>');

    const result = await refreshIdpMetadata(service.rt, org.orgId, SYSTEM);

    expect(result.outcome).toBe('failed');
    expect((await org.sso()).saml.idpEntityId).toBe(org.entityId);
  });

  it('skips an org that did not opt in, unless asked (the CLI with --org)', async () => {
    const org = await orgFromMetadataUrl(undefined);
    served.set(org.path, metadataOf([org.idp], org.entityId, 'https://idp.elsewhere.test/sso'));

    expect(await refreshIdpMetadata(service.rt, org.orgId, SYSTEM)).toEqual({ outcome: 'skipped', reason: 'refresh not enabled' });
    expect((await org.sso()).saml.ssoUrl).not.toBe('https://idp.elsewhere.test/sso');

    const env = { DYNAMODB_ENDPOINT: service.db.endpoint, TABLE_PREFIX: service.db.names.users.replace(/-users$/, ''), BASE_URL: service.rt.baseUrl, PATH: process.env.PATH };
    const output = await main(['metadata', 'refresh', '--org', org.orgId], env);

    expect(output).toBe(`${org.orgId}: applied ssoUrl`);
    expect((await org.sso()).saml.ssoUrl).toBe('https://idp.elsewhere.test/sso');
    expect((await org.events('settings.sso.metadata_refreshed'))[0]?.actor.type).toBe('cli');
  });

  it('keeps PUT settings/sso from taking metadataError or the warning record as input', async () => {
    const org = await orgFromMetadataUrl({ enabled: true, applyCertificateChanges: false });
    const body = await org.sso();

    const echoed = await org.admin('PUT', `/orgs/${org.orgId}/settings/sso`, { ...body, saml: { ...body.saml, metadataError: 'made up' } });
    const smuggled = await org.admin('PUT', `/orgs/${org.orgId}/settings/sso`, { ...body, saml: { ...body.saml, expiryWarned: ['x'] } });

    expect(echoed.status).toBe(200);
    expect(echoed.body.saml.metadataError).toBeUndefined();
    expect(smuggled.status).toBe(400);
  });
});

describe('certificate expiry', () => {
  it('warns once per certificate from 30 days before notAfter, with its fingerprint', async () => {
    const org = await orgFromMetadataUrl(undefined);
    const notAfter = new X509Certificate(org.idp.certificatePem).validToDate;
    const start = service.clock.now();
    try {
      service.clock.set(new Date(notAfter.getTime() - 31 * 86_400_000));
      expect((await dailyCheck(service.rt, org.orgId, SYSTEM)).certificates).toEqual([expect.objectContaining({ daysLeft: 31, warnedNow: false })]);
      expect(await org.events('settings.sso.certificate_expiring')).toEqual([]);

      service.clock.set(new Date(notAfter.getTime() - 29 * 86_400_000));
      const first = await dailyCheck(service.rt, org.orgId, SYSTEM);
      service.clock.advance(86_400_000);
      const second = await dailyCheck(service.rt, org.orgId, SYSTEM);

      expect(first.certificates).toEqual([{ fingerprintSha256: fingerprint(org.idp), notAfter: notAfter.toISOString(), daysLeft: 29, warnedNow: true }]);
      expect(second.certificates).toEqual([expect.objectContaining({ daysLeft: 28, warnedNow: false })]);
      expect(await org.events('settings.sso.certificate_expiring')).toEqual([
        expect.objectContaining({ outcome: 'failure', actor: SYSTEM, details: expect.objectContaining({ fingerprintSha256: fingerprint(org.idp), daysLeft: 29 }) }),
      ]);
      // Months later: the admin signs in again.
      const admin = apiClient(service, await tokenFor(service, org.orgId, org.adminEmail));
      const { saml } = (await admin('GET', `/orgs/${org.orgId}/settings/sso`)).body;
      expect(saml.certificateInfo[0].expiresSoon).toBe(true);
      expect(saml).not.toHaveProperty('expiryWarned');
    } finally {
      service.clock.set(start);
    }
  });
});

describe('the DailyCheck function', () => {
  it('checks every org and reports the smallest days left of any IdP certificate', async () => {
    const org = await orgFromMetadataUrl({ enabled: true, applyCertificateChanges: false });
    served.set(org.path, metadataOf([org.idp], org.entityId, 'https://idp.daily.test/sso'));
    const orgs = [];
    for await (const orgId of service.rt.settingsRepository.orgIds()) orgs.push(orgId);

    const summary = await createDailyCheckHandler(service.rt)();

    expect(orgs).toContain(org.orgId);
    expect(summary.orgs).toBe(orgs.length);
    expect(summary.failedOrgs).toEqual([]);
    expect(summary.metadataChanged).toBeGreaterThanOrEqual(1);
    expect(summary.minIdpCertificateDaysLeft).toBeGreaterThan(300);
    expect((await org.sso()).saml.ssoUrl).toBe('https://idp.daily.test/sso');
  });

  it('publishes SpCertificateDaysLeft for whichever SP certificate, signing or encryption, expires first', async () => {
    const [signing, encryption] = await Promise.all([makeTestCert('sso-jit SP', { validDays: 300 }), makeTestCert('sso-jit SP encryption', { validDays: 20 })]);
    const spKeys = staticSpKeySource({
      privateKeyPem: signing.privateKeyPem,
      certificatePem: signing.pem,
      encryption: { privateKeyPem: encryption.privateKeyPem, certificatePem: encryption.pem },
    });
    const daysLeft = (cert: typeof signing) => Math.floor((cert.x509.validToDate.getTime() - service.clock.now().getTime()) / 86_400_000);

    const summary = await createDailyCheckHandler({ ...service.rt, spKeys })();

    expect(summary.spSigningCertificateDaysLeft).toBe(daysLeft(signing));
    expect(summary.spEncryptionCertificateDaysLeft).toBe(daysLeft(encryption));
    expect(summary.spCertificateDaysLeft).toBe(daysLeft(encryption));
  });

  it('counts the signing certificate as the encryption one for a key pair stored before encryption existed', async () => {
    const signing = await makeTestCert('sso-jit SP', { validDays: 100 });

    const summary = await createDailyCheckHandler({ ...service.rt, spKeys: staticSpKeySource({ privateKeyPem: signing.privateKeyPem, certificatePem: signing.pem }) })();

    expect(summary.spEncryptionCertificateDaysLeft).toBe(summary.spSigningCertificateDaysLeft);
    expect(summary.spCertificateDaysLeft).toBe(summary.spSigningCertificateDaysLeft);
  });
});
