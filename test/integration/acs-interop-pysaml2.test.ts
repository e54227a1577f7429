/**
 * Interoperability: an independent IdP, pysaml2 with xmlsec1 (Debian's python3-pysaml2,
 * run by /usr/bin/python3), reads our SP metadata, signs the assertion (and the
 * Response), encrypts the assertion to the encryption certificate the metadata
 * publishes, and the real ACS provisions the user. Nothing is skipped: without pysaml2
 * or xmlsec1 this test fails (.ci/run installs them).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSamlIdpKeys, type SamlIdpKeys } from '../../local/saml-idp.js';
import { createSamlOrg, postAcs, sessionCookieOf, startTestService, type SamlOrg, type TestService } from '../support/service.js';

const PYTHON = '/usr/bin/python3';
const SCRIPT = new URL('../support/pysaml2_idp.py', import.meta.url).pathname;

let service: TestService;
let idp: SamlIdpKeys;
let org: SamlOrg;

beforeAll(async () => {
  const [signing, encryption] = await Promise.all([createSamlIdpKeys('sso-jit SP'), createSamlIdpKeys('sso-jit SP encryption')]);
  idp = await createSamlIdpKeys('https://pysaml2.idp.test/metadata');
  service = await startTestService({
    spKey: { privateKeyPem: signing.privateKeyPem, certificatePem: signing.certificatePem, encryption: { privateKeyPem: encryption.privateKeyPem, certificatePem: encryption.certificatePem } },
  });
  org = await createSamlOrg(service, { idp, saml: { allowIdpInitiated: true, requireEncryptedAssertions: true } });
});
afterAll(() => service?.close());

/** pysaml2's SAMLResponse for `nameId`, made from our SP metadata as served. */
async function pysaml2Response(nameId: string, options: { signResponse: boolean; content: 'aes256-cbc' | 'aes128-cbc' | 'aes256-gcm' | 'aes128-gcm' }): Promise<string> {
  const metadata = await fetch(`${service.baseUrl}/sso/${org.orgId}/saml/metadata`);
  expect(metadata.status).toBe(200);
  const request = {
    idpEntityId: idp.entityId,
    idpKeyPem: idp.privateKeyPem,
    idpCertPem: idp.certificatePem,
    spMetadataXml: await metadata.text(),
    spEntityId: org.urls.spEntityId,
    acsUrl: org.urls.acsUrl,
    nameId,
    attributes: { groups: ['Admins'], firstName: ['Grace'] },
    ...options,
  };
  const run = promisify(execFile)(PYTHON, [SCRIPT], { timeout: 60_000, maxBuffer: 4 * 1024 * 1024 });
  run.child.stdin!.end(JSON.stringify(request));
  const { stdout } = await run;
  return stdout.trim();
}

describe('pysaml2 (xmlsec1) as the IdP, encrypting to our SP metadata', () => {
  it('has python3-pysaml2 and xmlsec1 installed for /usr/bin/python3', async () => {
    const { stdout } = await promisify(execFile)(PYTHON, ['-c', 'import saml2, shutil; print(saml2.__name__, bool(shutil.which("xmlsec1")))']);
    expect(stdout.trim()).toBe('saml2 True');
  });

  it.each([
    { signResponse: true, content: 'aes256-cbc' as const },
    { signResponse: true, content: 'aes128-cbc' as const },
    { signResponse: false, content: 'aes128-gcm' as const },
    { signResponse: true, content: 'aes256-gcm' as const },
  ])('provisions the user from a signed, encrypted assertion (signed Response: $signResponse, $content)', async (options) => {
    const nameId = `grace-${options.content}-${options.signResponse}@pysaml2.test`;
    const xml = Buffer.from(await pysaml2Response(nameId, options), 'base64').toString('utf8');
    expect(xml).toContain('EncryptedAssertion');
    expect(xml).toContain(`#${options.content}"`);
    expect(xml).not.toMatch(/<[^>]*:Assertion[\s>]/);

    const response = await postAcs(service, org.orgId, { SAMLResponse: Buffer.from(xml, 'utf8').toString('base64') });

    expect(response.status, await response.clone().text()).toBe(302);
    expect(sessionCookieOf(response)).toBeDefined();
    const user = (await service.rt.users.list(org.orgId, { limit: 100 })).items.find((candidate) => candidate.email === nameId);
    expect(user).toMatchObject({ email: nameId, provisionedBy: 'jit' });
  });

  it('refuses pysaml2\'s AES-CBC encrypted assertion in an unsigned Response with ALGORITHM_NOT_ALLOWED, provisioning nobody', async () => {
    const nameId = 'grace-cbc-unsigned-response@pysaml2.test';

    const response = await postAcs(service, org.orgId, { SAMLResponse: await pysaml2Response(nameId, { signResponse: false, content: 'aes256-cbc' }) });

    const body = (await response.json()) as { error: { code: string } };
    expect({ status: response.status, code: body.error.code }).toEqual({ status: 401, code: 'ALGORITHM_NOT_ALLOWED' });
    expect((await service.rt.users.list(org.orgId, { limit: 100 })).items.map((user) => user.email)).not.toContain(nameId);
  });
});
