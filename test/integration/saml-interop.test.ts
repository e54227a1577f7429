/**
 * SAML against an implementation nobody here wrote: pysaml2 (Debian's python3-pysaml2,
 * signing with xmlsec1) is the IdP, through test/support/pysaml2_idp.py, and
 * its responses go to the real ACS on DynamoDB Local. Covers the signature algorithms of
 * API.md "SAML as enterprises run it" (RSA-SHA256/384/512, ECDSA-SHA256/384, SHA-1 only
 * with `allowSha1`) and certificates past their `notAfter` (CERTIFICATE_EXPIRED).
 *
 * Needs `/usr/bin/python3` with `saml2` and `xmlsec1` (.ci/run installs them): without
 * them these tests fail, they are never skipped.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { generate } from 'selfsigned';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { updateSsoSettings } from '../../shared/settings/settings-service.js';
import { createSamlOrg, postAcs, sessionCookieOf, startTestService, type SamlOrg, type TestService } from '../support/service.js';

const run = promisify(execFile);
const PYTHON = '/usr/bin/python3';
const SCRIPT = join(import.meta.dirname, '../support/pysaml2_idp.py');
const XMLDSIG_MORE = 'http://www.w3.org/2001/04/xmldsig-more#';
const RSA_SHA1 = 'http://www.w3.org/2000/09/xmldsig#rsa-sha1';
const SHA1 = 'http://www.w3.org/2000/09/xmldsig#sha1';
const SHA256 = 'http://www.w3.org/2001/04/xmlenc#sha256';
const SHA384 = 'http://www.w3.org/2001/04/xmldsig-more#sha384';
const SHA512 = 'http://www.w3.org/2001/04/xmlenc#sha512';
const DAY_MS = 86_400_000;

interface IdpKey {
  privateKeyPem: string;
  certificatePem: string;
}

let service: TestService;

/** A key pair and self-signed certificate for pysaml2 (RSA 2048 or an EC curve). */
async function idpKey(kind: 'rsa' | 'P-256' | 'P-384', validity: { notBefore?: Date; notAfter?: Date } = {}): Promise<IdpKey> {
  const notBeforeDate = validity.notBefore ?? new Date(Date.now() - DAY_MS);
  const pems = await generate([{ name: 'commonName', value: 'pysaml2 interop IdP' }], {
    ...(kind === 'rsa' ? { keyType: 'rsa', keySize: 2048 } : { keyType: 'ec', curve: kind }),
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate: validity.notAfter ?? new Date(notBeforeDate.getTime() + 365 * DAY_MS),
  });
  return { privateKeyPem: pems.private, certificatePem: pems.cert };
}

interface PysamlLogin {
  key: IdpKey;
  nameId: string;
  signAlg: string;
  digestAlg: string;
  signResponse?: boolean;
  signAssertion?: boolean;
}

/** The base64 SAMLResponse pysaml2 makes for the org's SP (metadata from our own endpoint). */
async function pysamlResponse(org: SamlOrg, login: PysamlLogin): Promise<string> {
  const metadata = await fetch(org.urls.metadataUrl);
  expect(metadata.status).toBe(200);
  const child = run(PYTHON, [SCRIPT], { timeout: 30_000 });
  child.child.stdin!.end(
    JSON.stringify({
      idpEntityId: org.idp.entityId,
      idpKeyPem: login.key.privateKeyPem,
      idpCertPem: login.key.certificatePem,
      spMetadataXml: await metadata.text(),
      encrypt: false,
      spEntityId: org.urls.spEntityId,
      acsUrl: org.urls.acsUrl,
      nameId: login.nameId,
      attributes: { groups: ['Admins'], firstName: ['Grace'] },
      signAssertion: login.signAssertion ?? true,
      signResponse: login.signResponse ?? false,
      signAlg: login.signAlg,
      digestAlg: login.digestAlg,
    }),
  );
  const { stdout } = await child;
  return stdout.trim();
}

const orgTrusting = (certificates: string[]): Promise<SamlOrg> => createSamlOrg(service, { saml: { certificates } });

async function userEmails(orgId: string): Promise<string[]> {
  return (await service.rt.users.list(orgId, { limit: 100 })).items.map((user) => user.email).sort();
}

async function lastFailure(orgId: string) {
  const { items } = await service.rt.audit.list(orgId, { type: 'login.failed', limit: 1 });
  return items[0];
}

async function refusal(response: Response): Promise<{ status: number; code: string; message: string }> {
  const body = (await response.json()) as { error: { code: string; message: string } };
  return { status: response.status, code: body.error.code, message: body.error.message };
}

beforeAll(async () => {
  service = await startTestService();
});
afterAll(() => service?.close());
// pysaml2 stamps its assertions with the real time: the service's clock follows it.
beforeEach(() => service.clock.set(new Date()));

describe('pysaml2 as the IdP: every signature algorithm of the contract verifies', () => {
  const cases: { name: string; kind: 'rsa' | 'P-256' | 'P-384'; signAlg: string; digestAlg: string; signResponse?: boolean }[] = [
    { name: 'RSA-SHA256, SHA-256 digest, assertion signed', kind: 'rsa', signAlg: `${XMLDSIG_MORE}rsa-sha256`, digestAlg: SHA256 },
    { name: 'RSA-SHA384, SHA-384 digest, Response and assertion signed', kind: 'rsa', signAlg: `${XMLDSIG_MORE}rsa-sha384`, digestAlg: SHA384, signResponse: true },
    { name: 'RSA-SHA512, SHA-512 digest', kind: 'rsa', signAlg: `${XMLDSIG_MORE}rsa-sha512`, digestAlg: SHA512 },
    { name: 'ECDSA-SHA256 on P-256, SHA-256 digest', kind: 'P-256', signAlg: `${XMLDSIG_MORE}ecdsa-sha256`, digestAlg: SHA256 },
    // pysaml2 signs a Response only with RSA (its SIG_ALLOWED_ALG); its assertion signer takes ECDSA.
    { name: 'ECDSA-SHA384 on P-384, SHA-384 digest', kind: 'P-384', signAlg: `${XMLDSIG_MORE}ecdsa-sha384`, digestAlg: SHA384 },
  ];

  it.each(cases)('signs in and provisions a user from $name', async ({ kind, signAlg, digestAlg, signResponse }) => {
    const key = await idpKey(kind);
    const org = await orgTrusting([key.certificatePem]);

    const response = await postAcs(service, org.orgId, { SAMLResponse: await pysamlResponse(org, { key, nameId: 'grace@acme.test', signAlg, digestAlg, signResponse }) });

    expect(response.status, await response.clone().text()).toBe(302);
    expect(sessionCookieOf(response)).toBeTruthy();
    const user = (await service.rt.users.list(org.orgId, { limit: 100 })).items.find((u) => u.email === 'grace@acme.test');
    expect(user).toMatchObject({ firstName: 'Grace', jitProvisioned: true, assignments: [{ groupId: 'default', roleId: 'account-admin' }] });
  });

  it('refuses a response signed with another key of the same algorithm (ECDSA), and provisions nobody', async () => {
    const [trusted, other] = await Promise.all([idpKey('P-256'), idpKey('P-256')]);
    const org = await orgTrusting([trusted.certificatePem]);

    const response = await postAcs(service, org.orgId, {
      SAMLResponse: await pysamlResponse(org, { key: other, nameId: 'mallory@acme.test', signAlg: `${XMLDSIG_MORE}ecdsa-sha256`, digestAlg: SHA256 }),
    });

    expect(await refusal(response)).toMatchObject({ status: 401, code: 'SIGNATURE_INVALID' });
    expect(await userEmails(org.orgId)).toEqual([`admin@${org.orgId}.test`]);
  });
});

describe('SHA-1 is refused unless the org allows it (allowSha1)', () => {
  it('refuses RSA-SHA1 with a SHA-1 digest as ALGORITHM_NOT_ALLOWED, then accepts it once allowSha1 is on, and refuses it again once it is off', async () => {
    const key = await idpKey('rsa');
    const org = await orgTrusting([key.certificatePem]);
    const sha1Login = async () => postAcs(service, org.orgId, { SAMLResponse: await pysamlResponse(org, { key, nameId: 'legacy@acme.test', signAlg: RSA_SHA1, digestAlg: SHA1 }) });
    const settings = (allowSha1: boolean) =>
      updateSsoSettings(service.rt, { orgId: org.orgId, actor: { type: 'cli', id: 'test' } }, { enabled: true, protocol: 'saml', saml: { idpEntityId: org.idp.entityId, certificates: [key.certificatePem], allowSha1 } });

    const refused = await refusal(await sha1Login());
    expect(refused).toMatchObject({ status: 401, code: 'ALGORITHM_NOT_ALLOWED' });
    expect(refused.message).toMatch(/Allow SHA-1/);
    expect((await lastFailure(org.orgId))?.details).toMatchObject({ received: RSA_SHA1 });
    expect(await userEmails(org.orgId)).toEqual([`admin@${org.orgId}.test`]);

    await settings(true);
    const accepted = await sha1Login();
    expect(accepted.status, await accepted.clone().text()).toBe(302);
    expect(await userEmails(org.orgId)).toContain('legacy@acme.test');

    await settings(false);
    expect(await refusal(await sha1Login())).toMatchObject({ status: 401, code: 'ALGORITHM_NOT_ALLOWED' });
  });

  it('refuses a SHA-1 digest under an RSA-SHA256 signature as ALGORITHM_NOT_ALLOWED', async () => {
    const key = await idpKey('rsa');
    const org = await orgTrusting([key.certificatePem]);

    const response = await postAcs(service, org.orgId, { SAMLResponse: await pysamlResponse(org, { key, nameId: 'legacy@acme.test', signAlg: `${XMLDSIG_MORE}rsa-sha256`, digestAlg: SHA1 }) });

    expect(await refusal(response)).toMatchObject({ status: 401, code: 'ALGORITHM_NOT_ALLOWED' });
    expect((await lastFailure(org.orgId))?.details).toMatchObject({ received: SHA1 });
  });
});

describe('a certificate past its notAfter never verifies', () => {
  const expiredValidity = () => ({ notBefore: new Date(Date.now() - 400 * DAY_MS), notAfter: new Date(Date.now() - DAY_MS) });

  it('refuses a response signed by the only, expired, certificate as CERTIFICATE_EXPIRED with its fingerprint in the audit details', async () => {
    const expired = await idpKey('rsa', expiredValidity());
    const org = await orgTrusting([expired.certificatePem]);

    const response = await postAcs(service, org.orgId, { SAMLResponse: await pysamlResponse(org, { key: expired, nameId: 'grace@acme.test', signAlg: `${XMLDSIG_MORE}rsa-sha256`, digestAlg: SHA256 }) });

    const refused = await refusal(response);
    expect(refused).toMatchObject({ status: 401, code: 'CERTIFICATE_EXPIRED' });
    expect(refused.message).toMatch(/expired on \d{4}-\d{2}-\d{2}/);
    const { X509Certificate } = await import('node:crypto');
    const certificate = new X509Certificate(expired.certificatePem);
    expect((await lastFailure(org.orgId))?.details).toMatchObject({ fingerprintSha256: certificate.fingerprint256, notAfter: new Date(certificate.validTo).toISOString() });
    expect(await userEmails(org.orgId)).toEqual([`admin@${org.orgId}.test`]);
  });

  it('refuses the expired one even while another listed certificate is current, and signs in with the current one (a rollover)', async () => {
    const [expired, current] = await Promise.all([idpKey('rsa', expiredValidity()), idpKey('rsa')]);
    const org = await orgTrusting([expired.certificatePem, current.certificatePem]);
    const login = (key: IdpKey, nameId: string) => pysamlResponse(org, { key, nameId, signAlg: `${XMLDSIG_MORE}rsa-sha256`, digestAlg: SHA256 });

    expect(await refusal(await postAcs(service, org.orgId, { SAMLResponse: await login(expired, 'old@acme.test') }))).toMatchObject({ status: 401, code: 'CERTIFICATE_EXPIRED' });
    const accepted = await postAcs(service, org.orgId, { SAMLResponse: await login(current, 'new@acme.test') });
    expect(accepted.status, await accepted.clone().text()).toBe(302);
    expect(await userEmails(org.orgId)).toEqual([`admin@${org.orgId}.test`, 'new@acme.test']);
  });

  it('refuses a certificate that expires while it is configured: valid today, CERTIFICATE_EXPIRED once the clock passes its notAfter', async () => {
    const soon = await idpKey('rsa', { notBefore: new Date(Date.now() - DAY_MS), notAfter: new Date(Date.now() + 10 * 60_000) });
    const org = await orgTrusting([soon.certificatePem]);
    const saml = await pysamlResponse(org, { key: soon, nameId: 'grace@acme.test', signAlg: `${XMLDSIG_MORE}rsa-sha256`, digestAlg: SHA256 });

    // The same signed bytes, judged eleven minutes later (the assertion's own window is checked after the signature).
    service.clock.set(new Date(Date.now() + 11 * 60_000));
    expect(await refusal(await postAcs(service, org.orgId, { SAMLResponse: saml }))).toMatchObject({ status: 401, code: 'CERTIFICATE_EXPIRED' });
    service.clock.set(new Date());
    const accepted = await postAcs(service, org.orgId, { SAMLResponse: saml });
    expect(accepted.status, await accepted.clone().text()).toBe(302);
  });
});
