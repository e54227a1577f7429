/**
 * `saml.idpMetadataUrl` on PUT /orgs/{orgId}/settings/sso (API.md "Metadata URL"): the
 * service fetches the IdP's metadata itself and sets the connection from it; and every
 * way of turning that fetch against our own network is refused with
 * `400 METADATA_FETCH_FAILED` naming why, leaving the settings as they were. Metadata is
 * served from loopback, which the test service (like `npm start`) allows.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSamlIdpKeys, type SamlIdpKeys } from '../../local/saml-idp.js';
import { systemResolver } from '../../shared/settings/metadata-fetch.js';
import { certificateBody } from '../support/saml-edits.js';
import { apiClient, createSamlOrg, startTestService, tokenFor, type SamlOrg, type TestService } from '../support/service.js';

const MD = 'urn:oasis:names:tc:SAML:2.0:metadata';
const DS = 'http://www.w3.org/2000/09/xmldsig#';
const REDIRECT = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect';

let service: TestService;
let server: Server;
let base: string;
let idp: SamlIdpKeys;
let org: SamlOrg;
let admin: ReturnType<typeof apiClient>;
const slowResponses: (() => void)[] = [];

const metadataOf = (keys: SamlIdpKeys) =>
  `<?xml version="1.0"?><md:EntityDescriptor xmlns:md="${MD}" entityID="${keys.entityId}"><md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="${DS}"><ds:X509Data><ds:X509Certificate>${certificateBody(keys.certificatePem)}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor><md:SingleSignOnService Binding="${REDIRECT}" Location="https://idp.fetched.test/sso"/></md:IDPSSODescriptor></md:EntityDescriptor>`;

beforeAll(async () => {
  idp = await createSamlIdpKeys('https://idp.fetched.test/metadata');
  server = createServer((req, res) => {
    switch (req.url) {
      case '/metadata':
        res.writeHead(200, { 'content-type': 'application/samlmetadata+xml' }).end(metadataOf(idp));
        return;
      case '/moved':
        res.writeHead(302, { location: '/metadata' }).end();
        return;
      case '/to-private':
        res.writeHead(302, { location: 'https://10.0.0.1/metadata' }).end();
        return;
      case '/to-cloud-metadata':
        res.writeHead(301, { location: 'https://169.254.169.254/latest/meta-data/' }).end();
        return;
      case '/big':
        // Chunked, no Content-Length: the limit must hold while reading.
        res.writeHead(200, { 'content-type': 'application/xml' });
        res.write(Buffer.alloc(512 * 1024, ' '));
        res.end(Buffer.alloc(512 * 1024 + 1, ' '));
        return;
      case '/slow':
        slowResponses.push(() => res.destroy());
        return;
      case '/html':
        res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>Sign in</body></html>');
        return;
      default:
        res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  service = await startTestService({
    metadataFetch: {
      timeoutMs: 1000,
      // A name that resolves inside the network, as a split-horizon DNS would answer.
      resolve: async (hostname) => (hostname === 'internal.idp.test' ? [{ address: '10.9.8.7', family: 4 }] : systemResolver(hostname)),
    },
  });
  org = await createSamlOrg(service);
  admin = apiClient(service, await tokenFor(service, org.orgId, org.adminEmail));
});
afterAll(async () => {
  for (const end of slowResponses) end();
  await new Promise((resolve) => server?.close(resolve));
  await service?.close();
});

const ssoPath = () => `/orgs/${org.orgId}/settings/sso`;
const putUrl = (idpMetadataUrl: string) => admin('PUT', ssoPath(), { enabled: true, protocol: 'saml', saml: { idpMetadataUrl } });

describe('a metadata URL that serves IdP metadata', () => {
  it('sets the entity ID, SSO URL and certificates from it, and keeps the URL and when it was fetched', async () => {
    const response = await putUrl(`${base}/metadata`);

    expect(response.status, JSON.stringify(response.body)).toBe(200);
    expect(response.body.saml).toMatchObject({
      idpEntityId: idp.entityId,
      ssoUrl: 'https://idp.fetched.test/sso',
      certificates: [expect.stringContaining(certificateBody(idp.certificatePem).slice(0, 64))],
      idpMetadataUrl: `${base}/metadata`,
      metadataFetchedAt: service.clock.now().toISOString(),
    });
    const stored = (await service.rt.settingsRepository.load(org.orgId))!.sso.saml!;
    expect(stored.idpEntityId).toBe(idp.entityId);
    expect(stored.metadataFetchedAt).toBe(service.clock.now().toISOString());
  });

  it('follows a redirect on the same rules', async () => {
    const response = await putUrl(`${base}/moved`);

    expect(response.status).toBe(200);
    expect(response.body.saml.idpEntityId).toBe(idp.entityId);
  });

  it('refuses a URL together with pasted metadata: one source at a time', async () => {
    const response = await admin('PUT', ssoPath(), { enabled: true, protocol: 'saml', saml: { idpMetadataUrl: `${base}/metadata`, metadataXml: metadataOf(idp) } });

    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('VALIDATION_FAILED');
  });
});

describe('metadata URLs that are refused with 400 METADATA_FETCH_FAILED', () => {
  it.each([
    ['an http URL off loopback', () => 'http://idp.fetched.test/metadata', /only https/],
    ['the cloud metadata service', () => 'https://169.254.169.254/latest/meta-data/', /link-local address \(169\.254\.169\.254\)/],
    ['a private address', () => 'https://10.0.0.1/metadata', /private address \(10\.0\.0\.1\)/],
    ['a name that resolves to a private address', () => 'https://internal.idp.test/metadata', /internal\.idp\.test is a private address \(10\.9\.8\.7\)/],
    ['a redirect to a private address', () => `${base}/to-private`, /private address \(10\.0\.0\.1\)/],
    ['a redirect to the cloud metadata service', () => `${base}/to-cloud-metadata`, /link-local address/],
    ['a body over 1 MiB', () => `${base}/big`, /larger than 1 MiB/],
    ['a server that does not answer in time', () => `${base}/slow`, /did not answer within 1 seconds/],
    ['a page that is not SAML metadata', () => `${base}/html`, /not usable SAML IdP metadata/],
    ['a missing document', () => `${base}/nothing-here`, /answered 404/],
  ])('refuses %s, naming why, and changes nothing', async (_name, url, why) => {
    const before = await service.rt.settingsRepository.load(org.orgId);

    const response = await putUrl(url());

    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('METADATA_FETCH_FAILED');
    expect(response.body.error.message).toMatch(/^saml\.idpMetadataUrl: /);
    expect(response.body.error.message).toMatch(why);
    const after = await service.rt.settingsRepository.load(org.orgId);
    expect(after?.version).toBe(before?.version);
  });
});
