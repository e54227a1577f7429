/**
 * The development IdP of `npm start` encrypts when asked ("Encrypt the assertion"): its
 * page offers the checkbox (checked where the org requires encryption), and the response
 * it posts carries an EncryptedAssertion that the real ACS decrypts and provisions from.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devIdpEntityId, devIdpRoutes } from '../../local/dev-idp.js';
import { createLocalServer, listenLocalServer } from '../../local/http-server.js';
import { createSamlIdpKeys, type SamlIdpKeys } from '../../local/saml-idp.js';
import { updateSsoSettings } from '../../shared/settings/settings-service.js';
import { createSamlOrg, postAcs, startTestService, type SamlOrg, type TestService } from '../support/service.js';

let service: TestService;
let devIdp: { url: string; close(): Promise<void> };
let keys: SamlIdpKeys;
let org: SamlOrg;
let required = false;

beforeAll(async () => {
  const [signing, encryption] = await Promise.all([createSamlIdpKeys('sso-jit SP'), createSamlIdpKeys('sso-jit SP encryption')]);
  keys = await createSamlIdpKeys('dev idp');
  service = await startTestService({
    spKey: { privateKeyPem: signing.privateKeyPem, certificatePem: signing.certificatePem, encryption: { privateKeyPem: encryption.privateKeyPem, certificatePem: encryption.certificatePem } },
  });
  org = await createSamlOrg(service, { idp: keys });
  // The org trusts the development IdP as `npm start` seeds it: its entity ID is per org.
  await updateSsoSettings(service.rt, { orgId: org.orgId, actor: { type: 'cli', id: 'test' } }, {
    enabled: true,
    protocol: 'saml',
    saml: { idpEntityId: devIdpEntityId(service.baseUrl, org.orgId), certificates: [keys.certificatePem] },
  });
  const server = createLocalServer({
    routes: [],
    handlers: {},
    extraRoutes: devIdpRoutes({
      baseUrl: service.baseUrl,
      keys,
      roleAttribute: 'groups',
      roleValues: async () => ['Admins'],
      encryption: async () => ({ certificatePem: encryption.certificatePem, required }),
    }),
  });
  devIdp = await listenLocalServer(server);
});
afterAll(async () => {
  await devIdp?.close();
  await service?.close();
});

describe('the development IdP with "Encrypt the assertion"', () => {
  it('offers the checkbox, checked only where the org requires encryption', async () => {
    const page = async () => (await fetch(`${devIdp.url}/dev/idp/${org.orgId}`)).text();

    expect(await page()).toMatch(/<input type="checkbox" name="encrypt" value="on"> Encrypt the assertion/);
    required = true;
    expect(await page()).toMatch(/<input type="checkbox" name="encrypt" value="on" checked> Encrypt the assertion/);
    required = false;
  });

  it('posts an encrypted assertion that the ACS decrypts and provisions from', async () => {
    const form = new URLSearchParams({ email: 'dev@acme.test', firstName: 'Dev', lastName: 'Eloper', role: 'Admins', encrypt: 'on' });
    const page = await (await fetch(`${devIdp.url}/dev/idp/${org.orgId}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() })).text();
    const samlResponse = /name="SAMLResponse" value="([^"]+)"/.exec(page)![1]!;
    expect(Buffer.from(samlResponse, 'base64').toString('utf8')).toContain('<saml:EncryptedAssertion>');

    const response = await postAcs(service, org.orgId, { SAMLResponse: samlResponse });

    expect(response.status, await response.clone().text()).toBe(302);
    expect((await service.rt.users.list(org.orgId, { limit: 10 })).items.map((user) => user.email)).toContain('dev@acme.test');
  });
});
