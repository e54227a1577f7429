import { DOMParser } from '@xmldom/xmldom';
import { beforeAll, describe, expect, it } from 'vitest';
import { createSamlIdpKeys, type SamlIdpKeys } from '../../../local/saml-idp.js';
import { buildSpMetadataXml } from '../../../shared/saml/index.js';
import { SP_ENCRYPTION_METHODS } from '../../../shared/saml/sp-metadata.js';
import { SP } from './fixtures.js';

const MD = 'urn:oasis:names:tc:SAML:2.0:metadata';

let spKeys: SamlIdpKeys;
let encryptionKeys: SamlIdpKeys;

beforeAll(async () => {
  [spKeys, encryptionKeys] = await Promise.all([createSamlIdpKeys(SP.entityId), createSamlIdpKeys('encryption')]);
});

const parse = (xml: string) =>
  new DOMParser({
    onError: (level, message) => {
      throw new Error(`${level}: ${message}`);
    },
  }).parseFromString(xml, 'text/xml');

describe('buildSpMetadataXml', () => {
  it('describes the SP entity, its HTTP-POST ACS and the NameID formats it accepts', () => {
    // Arrange / Act
    const doc = parse(buildSpMetadataXml(SP));

    // Assert
    const entity = doc.documentElement!;
    expect(entity.localName).toBe('EntityDescriptor');
    expect(entity.getAttribute('entityID')).toBe(SP.entityId);
    const descriptor = doc.getElementsByTagNameNS(MD, 'SPSSODescriptor').item(0)!;
    expect(descriptor.getAttribute('WantAssertionsSigned')).toBe('true');
    expect(descriptor.getAttribute('protocolSupportEnumeration')).toBe('urn:oasis:names:tc:SAML:2.0:protocol');
    const acs = doc.getElementsByTagNameNS(MD, 'AssertionConsumerService').item(0)!;
    expect(acs.getAttribute('Binding')).toBe('urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST');
    expect(acs.getAttribute('Location')).toBe(SP.acsUrl);
    const formats = Array.from({ length: doc.getElementsByTagNameNS(MD, 'NameIDFormat').length }, (_, i) => doc.getElementsByTagNameNS(MD, 'NameIDFormat').item(i)!.textContent);
    expect(formats).toEqual([
      'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
      'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
      'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified',
    ]);
  });

  it('has no KeyDescriptor and does not claim signed requests without a signing certificate', () => {
    const doc = parse(buildSpMetadataXml(SP));

    expect(doc.getElementsByTagNameNS(MD, 'KeyDescriptor').length).toBe(0);
    expect(doc.getElementsByTagNameNS(MD, 'SPSSODescriptor').item(0)!.getAttribute('AuthnRequestsSigned')).toBe('false');
  });

  it('publishes the signing certificate and signed requests when a certificate is given', () => {
    const doc = parse(buildSpMetadataXml({ ...SP, signingCertificatePem: spKeys.certificatePem }));

    const keyDescriptor = doc.getElementsByTagNameNS(MD, 'KeyDescriptor').item(0)!;
    expect(keyDescriptor.getAttribute('use')).toBe('signing');
    const certificate = keyDescriptor.getElementsByTagNameNS('http://www.w3.org/2000/09/xmldsig#', 'X509Certificate').item(0)!.textContent;
    expect(certificate).toBe(spKeys.certificatePem.replace(/-----(BEGIN|END) CERTIFICATE-----|\s/g, ''));
    expect(doc.getElementsByTagNameNS(MD, 'SPSSODescriptor').item(0)!.getAttribute('AuthnRequestsSigned')).toBe('true');
  });

  it('publishes the encryption certificate beside the signing one, with the algorithms the ACS decrypts', () => {
    const doc = parse(buildSpMetadataXml({ ...SP, signingCertificatePem: spKeys.certificatePem, encryptionCertificatePem: encryptionKeys.certificatePem }));

    const descriptors = doc.getElementsByTagNameNS(MD, 'KeyDescriptor');
    expect([descriptors.item(0)!.getAttribute('use'), descriptors.item(1)!.getAttribute('use')]).toEqual(['signing', 'encryption']);
    const encryption = descriptors.item(1)!;
    expect(encryption.getElementsByTagNameNS('http://www.w3.org/2000/09/xmldsig#', 'X509Certificate').item(0)!.textContent).toBe(
      encryptionKeys.certificatePem.replace(/-----(BEGIN|END) CERTIFICATE-----|\s/g, ''),
    );
    const methods = encryption.getElementsByTagNameNS(MD, 'EncryptionMethod');
    expect(Array.from({ length: methods.length }, (_, i) => methods.item(i)!.getAttribute('Algorithm'))).toEqual([...SP_ENCRYPTION_METHODS]);
    expect(SP_ENCRYPTION_METHODS).toEqual([
      'http://www.w3.org/2009/xmlenc11#aes256-gcm',
      'http://www.w3.org/2009/xmlenc11#aes128-gcm',
      'http://www.w3.org/2001/04/xmlenc#aes256-cbc',
      'http://www.w3.org/2001/04/xmlenc#aes128-cbc',
      'http://www.w3.org/2009/xmlenc11#rsa-oaep',
      'http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p',
    ]);
  });

  it('lists the SingleLogoutService with HTTP-Redirect and HTTP-POST, between the keys and the NameID formats, when given', () => {
    const doc = parse(buildSpMetadataXml({ ...SP, singleLogoutUrl: 'https://sso.example.test/sso/acme/saml/slo', signingCertificatePem: spKeys.certificatePem }));

    const services = Array.from({ length: doc.getElementsByTagNameNS(MD, 'SingleLogoutService').length }, (_, i) => doc.getElementsByTagNameNS(MD, 'SingleLogoutService').item(i)!);
    expect(services.map((service) => [service.getAttribute('Binding'), service.getAttribute('Location')])).toEqual([
      ['urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect', 'https://sso.example.test/sso/acme/saml/slo'],
      ['urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST', 'https://sso.example.test/sso/acme/saml/slo'],
    ]);
    const order = Array.from({ length: doc.getElementsByTagNameNS(MD, 'SPSSODescriptor').item(0)!.childNodes.length }, (_, i) => doc.getElementsByTagNameNS(MD, 'SPSSODescriptor').item(0)!.childNodes.item(i)!)
      .filter((node) => node.nodeType === 1)
      .map((node) => (node as unknown as { localName: string }).localName);
    expect([...new Set(order)]).toEqual(['KeyDescriptor', 'SingleLogoutService', 'NameIDFormat', 'AssertionConsumerService']);
  });

  it('lists no SingleLogoutService without its URL', () => {
    expect(parse(buildSpMetadataXml(SP)).getElementsByTagNameNS(MD, 'SingleLogoutService').length).toBe(0);
  });

  it('escapes URLs that contain XML special characters', () => {
    const xml = buildSpMetadataXml({ entityId: 'https://sso.example.test/m?a=1&b="2"', acsUrl: SP.acsUrl });

    expect(parse(xml).documentElement!.getAttribute('entityID')).toBe('https://sso.example.test/m?a=1&b="2"');
  });
});
