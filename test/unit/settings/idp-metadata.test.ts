/**
 * SAML 2.0 IdP metadata (shared/settings/idp-metadata.ts). The fixtures are small
 * copies of what each vendor publishes, in its own shape (prefixes, default namespace,
 * Signature, RoleDescriptors, several or use-less KeyDescriptors), with certificates
 * generated at test time inserted where the vendor puts its own.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../../shared/errors.js';
import { MAX_IDP_METADATA_BYTES, parseIdpMetadata } from '../../../shared/settings/idp-metadata.js';
import { DS, makeTestCert, MD, POST, REDIRECT, SAML2, type TestCert } from '../../support/certificates.js';

const makeCert = (commonName: string, keySize?: number) => makeTestCert(commonName, { keySize });

let first: TestCert;
let second: TestCert;
let other: TestCert;
let metadataSigner: TestCert;
let fifth: TestCert;
let sixth: TestCert;
let weak: TestCert;

beforeAll(async () => {
  [first, second, other, metadataSigner, fifth, sixth, weak] = await Promise.all([
    makeCert('IdP signing 1'),
    makeCert('IdP signing 2'),
    makeCert('Not for SAML signing'),
    makeCert('Metadata signer'),
    makeCert('IdP signing 5'),
    makeCert('IdP signing 6'),
    makeCert('Weak', 1024),
  ]);
}, 60_000);

// ---------------------------------------------------------------------------------------
// Vendor-shaped fixtures

const okta = (cert: string) =>
  `<?xml version="1.0" encoding="UTF-8"?><md:EntityDescriptor xmlns:md="${MD}" entityID="http://www.okta.com/exk1fcia6d6EMsf331d8"><md:IDPSSODescriptor WantAuthnRequestsSigned="false" protocolSupportEnumeration="${SAML2}"><md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="${DS}"><ds:X509Data><ds:X509Certificate>${cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor><md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified</md:NameIDFormat><md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat><md:SingleSignOnService Binding="${POST}" Location="https://acme.okta.com/app/acme_ssojit_1/exk1fcia6d6EMsf331d8/sso/saml"/><md:SingleSignOnService Binding="${REDIRECT}" Location="https://acme.okta.com/app/acme_ssojit_1/exk1fcia6d6EMsf331d8/sso/saml"/></md:IDPSSODescriptor></md:EntityDescriptor>`;

/** Entra ID: BOM, default namespace, a Signature, WS-Fed RoleDescriptors, two signing certificates (rollover). */
const entraId = (signer: string, wsFedOnly: string, certA: string, certB: string) => {
  const tenant = '72f988bf-86f1-41af-91ab-2d7cd011db47';
  const keyDescriptor = (cert: string) =>
    `<KeyDescriptor use="signing"><KeyInfo xmlns="${DS}"><X509Data><X509Certificate>${cert}</X509Certificate></X509Data></KeyInfo></KeyDescriptor>`;
  return `\uFEFF<?xml version="1.0" encoding="utf-8"?><EntityDescriptor ID="_6c3e1f2a-47a4-4bd6-9c36-1c4e0fb5f3c1" entityID="https://sts.windows.net/${tenant}/" xmlns="${MD}">
<Signature xmlns="${DS}"><SignedInfo><CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/><SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/><Reference URI="#_6c3e1f2a-47a4-4bd6-9c36-1c4e0fb5f3c1"><Transforms><Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/><Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></Transforms><DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><DigestValue>q6kqkF1yJ3cK8Jw0cL5VtVb0rJ0t9R4Wq0b1dQ2mH7E=</DigestValue></Reference></SignedInfo><SignatureValue>c2lnbmF0dXJl</SignatureValue><KeyInfo><X509Data><X509Certificate>${signer}</X509Certificate></X509Data></KeyInfo></Signature>
<RoleDescriptor xsi:type="fed:SecurityTokenServiceType" protocolSupportEnumeration="http://docs.oasis-open.org/wsfed/federation/200706" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:fed="http://docs.oasis-open.org/wsfed/federation/200706">${keyDescriptor(wsFedOnly)}<fed:ClaimTypesOffered><auth:ClaimType Uri="http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name" xmlns:auth="http://docs.oasis-open.org/wsfed/authorization/200706"><auth:DisplayName>Name</auth:DisplayName></auth:ClaimType></fed:ClaimTypesOffered><fed:PassiveRequestorEndpoint><wsa:EndpointReference xmlns:wsa="http://www.w3.org/2005/08/addressing"><wsa:Address>https://login.microsoftonline.com/${tenant}/wsfed</wsa:Address></wsa:EndpointReference></fed:PassiveRequestorEndpoint></RoleDescriptor>
<IDPSSODescriptor protocolSupportEnumeration="${SAML2}">${keyDescriptor(certA)}${keyDescriptor(certB)}<SingleLogoutService Binding="${REDIRECT}" Location="https://login.microsoftonline.com/${tenant}/saml2"/><SingleSignOnService Binding="${REDIRECT}" Location="https://login.microsoftonline.com/${tenant}/saml2"/><SingleSignOnService Binding="${POST}" Location="https://login.microsoftonline.com/${tenant}/saml2"/></IDPSSODescriptor>
</EntityDescriptor>`;
};

/** ADFS: default namespace, ds-prefixed Signature, RoleDescriptors, an SPSSODescriptor, and an encryption key. */
const adfs = (signer: string, encryption: string, signing: string) =>
  `<?xml version="1.0" encoding="utf-8"?><EntityDescriptor ID="_5b1c2e3f-aaaa-4bbb-8ccc-0123456789ab" entityID="http://adfs.contoso.com/adfs/services/trust" xmlns="${MD}"><ds:Signature xmlns:ds="${DS}"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/><ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/><ds:Reference URI="#_5b1c2e3f-aaaa-4bbb-8ccc-0123456789ab"><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/><ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue>3q2+7w==</ds:DigestValue></ds:Reference></ds:SignedInfo><ds:SignatureValue>c2lnbmF0dXJl</ds:SignatureValue><KeyInfo xmlns="${DS}"><X509Data><X509Certificate>${signer}</X509Certificate></X509Data></KeyInfo></ds:Signature>
<RoleDescriptor xsi:type="fed:ApplicationServiceType" protocolSupportEnumeration="http://docs.oasis-open.org/wsfed/federation/200706" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:fed="http://docs.oasis-open.org/wsfed/federation/200706"><KeyDescriptor use="encryption"><KeyInfo xmlns="${DS}"><X509Data><X509Certificate>${encryption}</X509Certificate></X509Data></KeyInfo></KeyDescriptor><fed:TargetScopes><wsa:EndpointReference xmlns:wsa="http://www.w3.org/2005/08/addressing"><wsa:Address>https://adfs.contoso.com/adfs/services/trust/2005/issuedtokenmixedasymmetricbasic256</wsa:Address></wsa:EndpointReference></fed:TargetScopes></RoleDescriptor>
<SPSSODescriptor WantAssertionsSigned="true" protocolSupportEnumeration="${SAML2}"><KeyDescriptor use="encryption"><KeyInfo xmlns="${DS}"><X509Data><X509Certificate>${encryption}</X509Certificate></X509Data></KeyInfo></KeyDescriptor><KeyDescriptor use="signing"><KeyInfo xmlns="${DS}"><X509Data><X509Certificate>${encryption}</X509Certificate></X509Data></KeyInfo></KeyDescriptor><AssertionConsumerService Binding="${POST}" Location="https://adfs.contoso.com/adfs/ls/" index="0" isDefault="true"/></SPSSODescriptor>
<IDPSSODescriptor protocolSupportEnumeration="${SAML2}"><KeyDescriptor use="encryption"><KeyInfo xmlns="${DS}"><X509Data><X509Certificate>${encryption}</X509Certificate></X509Data></KeyInfo></KeyDescriptor><KeyDescriptor use="signing"><KeyInfo xmlns="${DS}"><X509Data><X509Certificate>${signing}</X509Certificate></X509Data></KeyInfo></KeyDescriptor><SingleLogoutService Binding="${REDIRECT}" Location="https://adfs.contoso.com/adfs/ls/"/><NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</NameIDFormat><SingleSignOnService Binding="${REDIRECT}" Location="https://adfs.contoso.com/adfs/ls/"/><SingleSignOnService Binding="${POST}" Location="https://adfs.contoso.com/adfs/ls/"/></IDPSSODescriptor></EntityDescriptor>`;

/** PingOne: md prefix, the certificate wrapped in indented 76-character lines. */
const pingOne = (cert: string) => {
  const env = '0a7af83d-4ed9-4510-93cd-506fe835f69a';
  const wrapped = `\n          ${cert.match(/.{1,76}/g)!.join('\n          ')}\n        `;
  return `<?xml version="1.0" encoding="UTF-8"?>
<md:EntityDescriptor xmlns:md="${MD}" ID="ping-${env}" entityID="https://auth.pingone.com/${env}">
  <md:IDPSSODescriptor protocolSupportEnumeration="${SAML2}" WantAuthnRequestsSigned="false">
    <md:KeyDescriptor use="signing">
      <ds:KeyInfo xmlns:ds="${DS}">
        <ds:X509Data>
          <ds:X509Certificate>${wrapped}</ds:X509Certificate>
        </ds:X509Data>
      </ds:KeyInfo>
    </md:KeyDescriptor>
    <md:SingleLogoutService Binding="${POST}" Location="https://auth.pingone.com/${env}/saml20/idp/slo"/>
    <md:SingleSignOnService Binding="${POST}" Location="https://auth.pingone.com/${env}/saml20/idp/sso"/>
    <md:SingleSignOnService Binding="${REDIRECT}" Location="https://auth.pingone.com/${env}/saml20/idp/sso"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>`;
};

/** Google Workspace: KeyDescriptor without `use`, a query string in entityID and Location. */
const google = (cert: string) =>
  `<?xml version="1.0" encoding="UTF-8" standalone="no"?><md:EntityDescriptor xmlns:md="${MD}" entityID="https://accounts.google.com/o/saml2?idpid=C03xyz789" validUntil="2031-06-01T12:00:00.000Z"><md:IDPSSODescriptor WantAuthnRequestsSigned="false" protocolSupportEnumeration="${SAML2}"><md:KeyDescriptor><ds:KeyInfo xmlns:ds="${DS}"><ds:X509Data><ds:X509Certificate>${cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor><md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat><md:SingleSignOnService Binding="${REDIRECT}" Location="https://accounts.google.com/o/saml2/idp?idpid=C03xyz789"/><md:SingleSignOnService Binding="${POST}" Location="https://accounts.google.com/o/saml2/idp?idpid=C03xyz789"/></md:IDPSSODescriptor></md:EntityDescriptor>`;

// ---------------------------------------------------------------------------------------
// Generic shapes for one rule at a time

interface Idp {
  entityId?: string;
  keyDescriptors?: string;
  sso?: string;
  protocols?: string;
}

const signingKey = (cert: string, use: string | null = 'signing') =>
  `<md:KeyDescriptor${use === null ? '' : ` use="${use}"`}><ds:KeyInfo xmlns:ds="${DS}"><ds:X509Data><ds:X509Certificate>${cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>`;
const ssoService = (binding: string, location: string) => `<md:SingleSignOnService Binding="${binding}" Location="${location}"/>`;

const entity = ({ entityId = 'https://idp.example.com/metadata', keyDescriptors, sso, protocols = SAML2 }: Idp = {}) =>
  `<md:EntityDescriptor xmlns:md="${MD}" entityID="${entityId}"><md:IDPSSODescriptor protocolSupportEnumeration="${protocols}">${keyDescriptors ?? signingKey(first.body)}${sso ?? ssoService(REDIRECT, 'https://idp.example.com/sso')}</md:IDPSSODescriptor></md:EntityDescriptor>`;

const spEntity = (entityId: string) =>
  `<md:EntityDescriptor xmlns:md="${MD}" entityID="${entityId}"><md:SPSSODescriptor protocolSupportEnumeration="${SAML2}"><md:AssertionConsumerService Binding="${POST}" Location="https://sp.example.com/acs" index="0"/></md:SPSSODescriptor></md:EntityDescriptor>`;

const entities = (...children: string[]) => `<md:EntitiesDescriptor xmlns:md="${MD}" Name="urn:example:federation">${children.join('')}</md:EntitiesDescriptor>`;

function caught(fn: () => unknown): AppError {
  try {
    fn();
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('expected an AppError');
}

/** The message of the VALIDATION_FAILED error parsing `xml` throws, after checking it names the field. */
function refusal(xml: string): string {
  const error = caught(() => parseIdpMetadata(xml));
  expect(error.code).toBe('VALIDATION_FAILED');
  expect(error.message).toMatch(/^saml\.metadataXml\b/);
  return error.message;
}

// ---------------------------------------------------------------------------------------

describe('parseIdpMetadata', () => {
  describe('reads each vendor shape', () => {
    it('reads Okta metadata (md prefix), preferring HTTP-Redirect listed after HTTP-POST', () => {
      const metadata = parseIdpMetadata(okta(first.body));

      expect(metadata).toEqual({
        idpEntityId: 'http://www.okta.com/exk1fcia6d6EMsf331d8',
        ssoUrl: 'https://acme.okta.com/app/acme_ssojit_1/exk1fcia6d6EMsf331d8/sso/saml',
        certificates: [first.canonicalPem],
      });
    });

    it('reads Entra ID metadata: both rollover certificates, not the Signature or WS-Federation certificates', () => {
      const metadata = parseIdpMetadata(entraId(metadataSigner.body, other.body, first.body, second.body));

      expect(metadata).toEqual({
        idpEntityId: 'https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/',
        ssoUrl: 'https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/saml2',
        certificates: [first.canonicalPem, second.canonicalPem],
        sloUrl: 'https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/saml2',
      });
    });

    it('reads ADFS metadata: the IdP signing certificate only, past the Signature, RoleDescriptor, SPSSODescriptor and encryption key', () => {
      const metadata = parseIdpMetadata(adfs(metadataSigner.body, other.body, first.body));

      expect(metadata).toEqual({
        idpEntityId: 'http://adfs.contoso.com/adfs/services/trust',
        ssoUrl: 'https://adfs.contoso.com/adfs/ls/',
        certificates: [first.canonicalPem],
        sloUrl: 'https://adfs.contoso.com/adfs/ls/',
      });
    });

    it('reads PingOne metadata with a line-wrapped, indented certificate', () => {
      const metadata = parseIdpMetadata(pingOne(first.body));

      expect(metadata).toEqual({
        idpEntityId: 'https://auth.pingone.com/0a7af83d-4ed9-4510-93cd-506fe835f69a',
        ssoUrl: 'https://auth.pingone.com/0a7af83d-4ed9-4510-93cd-506fe835f69a/saml20/idp/sso',
        certificates: [first.canonicalPem],
      });
    });

    it('reads Google metadata, whose KeyDescriptor has no use attribute', () => {
      const metadata = parseIdpMetadata(google(first.body));

      expect(metadata).toEqual({
        idpEntityId: 'https://accounts.google.com/o/saml2?idpid=C03xyz789',
        ssoUrl: 'https://accounts.google.com/o/saml2/idp?idpid=C03xyz789',
        certificates: [first.canonicalPem],
      });
    });
  });

  describe('SingleLogoutService', () => {
    const sloService = (binding: string, location: string) => `<md:SingleLogoutService Binding="${binding}" Location="${location}"/>`;

    it('reads the HTTP-Redirect SingleLogoutService into sloUrl', () => {
      const metadata = parseIdpMetadata(entity({ sso: sloService(POST, 'https://idp.example.com/slo-post') + sloService(REDIRECT, 'https://idp.example.com/slo') + ssoService(REDIRECT, 'https://idp.example.com/sso') }));

      expect(metadata.sloUrl).toBe('https://idp.example.com/slo');
    });

    it('leaves sloUrl out when the IdP offers single logout by HTTP-POST only (PingOne)', () => {
      const metadata = parseIdpMetadata(pingOne(first.body));

      expect(metadata).not.toHaveProperty('sloUrl');
    });

    it('refuses an http SLO URL on a non-loopback host, quoting it', () => {
      const message = refusal(entity({ sso: sloService(REDIRECT, 'http://idp.example.com/slo') + ssoService(REDIRECT, 'https://idp.example.com/sso') }));

      expect(message).toContain('HTTP-Redirect SingleLogoutService Location "http://idp.example.com/slo"');
    });
  });

  describe('SingleSignOnService', () => {
    it.each([
      ['prefers HTTP-Redirect when both are listed', ssoService(POST, 'https://idp.example.com/post') + ssoService(REDIRECT, 'https://idp.example.com/redirect'), 'https://idp.example.com/redirect'],
      ['falls back to HTTP-POST when there is no HTTP-Redirect', ssoService('urn:oasis:names:tc:SAML:2.0:bindings:SOAP', 'https://idp.example.com/soap') + ssoService(POST, 'https://idp.example.com/post'), 'https://idp.example.com/post'],
      ['accepts http on localhost for development', ssoService(REDIRECT, 'http://localhost:3000/dev-idp/sso'), 'http://localhost:3000/dev-idp/sso'],
      ['decodes an escaped ampersand in the Location', ssoService(REDIRECT, 'https://idp.example.com/sso?a=1&amp;b=2'), 'https://idp.example.com/sso?a=1&b=2'],
    ])('%s', (_label, sso, expected) => {
      const metadata = parseIdpMetadata(entity({ sso }));

      expect(metadata.ssoUrl).toBe(expected);
    });

    it('leaves ssoUrl out when the IdP offers neither HTTP-Redirect nor HTTP-POST', () => {
      const metadata = parseIdpMetadata(entity({ sso: ssoService('urn:oasis:names:tc:SAML:2.0:bindings:SOAP', 'https://idp.example.com/soap') }));

      expect(metadata).not.toHaveProperty('ssoUrl');
    });

    it('refuses an http SSO URL on a non-loopback host, quoting it and the https rule', () => {
      const message = refusal(entity({ sso: ssoService(REDIRECT, 'http://idp.example.com/sso') }));

      expect(message).toContain('"http://idp.example.com/sso"');
      expect(message).toContain('must be an https URL');
    });

    it('refuses a chosen SingleSignOnService without a Location', () => {
      const message = refusal(entity({ sso: `<md:SingleSignOnService Binding="${REDIRECT}"/>` }));

      expect(message).toBe('saml.metadataXml: the HTTP-Redirect SingleSignOnService has no Location');
    });
  });

  describe('certificates', () => {
    it('lists a certificate that appears in two KeyDescriptors once', () => {
      const metadata = parseIdpMetadata(entity({ keyDescriptors: signingKey(first.body) + signingKey(first.body, null) + signingKey(second.body) }));

      expect(metadata.certificates).toEqual([first.canonicalPem, second.canonicalPem]);
    });

    it('ignores encryption-only KeyDescriptors', () => {
      const metadata = parseIdpMetadata(entity({ keyDescriptors: signingKey(other.body, 'encryption') + signingKey(first.body) }));

      expect(metadata.certificates).toEqual([first.canonicalPem]);
    });

    it.each<[string, () => string, string]>([
      ['there is no KeyDescriptor', () => '', 'the IDPSSODescriptor has no signing certificate'],
      ['the only KeyDescriptor is for encryption', () => signingKey(other.body, 'encryption'), 'only KeyDescriptors with use="encryption"'],
      ['the signing KeyDescriptor has a KeyName but no certificate', () => `<md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="${DS}"><ds:KeyName>idp-key</ds:KeyName></ds:KeyInfo></md:KeyDescriptor>`, 'the IDPSSODescriptor has no signing certificate'],
    ])('refuses metadata where %s', (_label, keyDescriptors, problem) => {
      const message = refusal(entity({ keyDescriptors: keyDescriptors() }));

      expect(message).toContain(problem);
    });

    it('refuses a signing certificate that is not a certificate, naming the KeyDescriptor', () => {
      const message = refusal(entity({ keyDescriptors: signingKey(first.body) + signingKey('bm90IGEgY2VydGlmaWNhdGU=') }));

      expect(message).toBe('saml.metadataXml (signing KeyDescriptor 2 of the IDPSSODescriptor): is not a valid X.509 certificate (its content does not decode as one)');
    });

    it('refuses a signing certificate with a 1024-bit RSA key', () => {
      const message = refusal(entity({ keyDescriptors: signingKey(weak.body) }));

      expect(message).toContain('1024 bits');
    });

    it('refuses more signing certificates than the settings can store', () => {
      const keyDescriptors = [first, second, other, metadataSigner, fifth, sixth].map((cert) => signingKey(cert.body)).join('');

      const message = refusal(entity({ keyDescriptors }));

      expect(message).toBe('saml.metadataXml: the IDPSSODescriptor has 6 different signing certificates; at most 5 are supported');
    });
  });

  describe('EntitiesDescriptor', () => {
    it('reads the one identity provider among service providers', () => {
      const xml = entities(spEntity('https://sp.example.com'), entity({ entityId: 'https://idp.example.com/only' }));

      const metadata = parseIdpMetadata(xml);

      expect(metadata.idpEntityId).toBe('https://idp.example.com/only');
    });

    it('refuses two identity providers, naming both and asking to pick one', () => {
      const xml = entities(entity({ entityId: 'https://idp-a.example.com' }), entity({ entityId: 'https://idp-b.example.com' }));

      const message = refusal(xml);

      expect(message).toContain('2 identity providers');
      expect(message).toContain('"https://idp-a.example.com"');
      expect(message).toContain('"https://idp-b.example.com"');
      expect(message).toContain('paste only the EntityDescriptor of the one to use');
    });

    it('counts identity providers in nested EntitiesDescriptors', () => {
      const xml = entities(entity({ entityId: 'https://idp-a.example.com' }), entities(entity({ entityId: 'https://idp-b.example.com' })).replace(` xmlns:md="${MD}"`, ''));

      const message = refusal(xml);

      expect(message).toContain('2 identity providers');
    });
  });

  describe('refuses documents that are not usable IdP metadata', () => {
    it.each<[string, () => string, string]>([
      ['an empty string', () => '  ', 'is empty'],
      ['plain text', () => 'my metadata', 'is not XML'],
      ['a metadata URL', () => 'https://login.microsoftonline.com/tenant/federationmetadata/2007-06/federationmetadata.xml', 'is a URL'],
      ['XML that is not well-formed', () => `<md:EntityDescriptor xmlns:md="${MD}" entityID="x">`, 'is not well-formed XML'],
      ['another kind of SAML document', () => `<samlp:Response xmlns:samlp="${SAML2}"/>`, `its root element is Response in ${SAML2}`],
      ['an EntityDescriptor without the metadata namespace', () => '<EntityDescriptor entityID="x"/>', 'not in the SAML 2.0 metadata namespace'],
      ['service provider metadata', () => spEntity('https://sp.example.com'), 'it has no IDPSSODescriptor, so it is not identity provider metadata (it describes a service provider'],
      ['an EntitiesDescriptor with only service providers', () => entities(spEntity('https://sp1.example.com'), spEntity('https://sp2.example.com')), 'none of its 2 EntityDescriptors has an IDPSSODescriptor'],
      ['an IDPSSODescriptor for SAML 1.1 only', () => entity({ protocols: 'urn:oasis:names:tc:SAML:1.1:protocol' }), 'does not support SAML 2.0'],
      ['an EntityDescriptor without entityID', () => entity().replace(/ entityID="[^"]*"/, ''), 'has no entityID'],
      ['a processing instruction', () => entity().replace('<md:IDPSSODescriptor', '<?evil x?><md:IDPSSODescriptor'), 'processing instruction'],
      ['a CDATA section', () => entity({ keyDescriptors: signingKey(`<![CDATA[${first.body}]]>`) }), 'CDATA'],
    ])('refuses %s, saying what is wrong', (_label, xml, problem) => {
      const message = refusal(xml());

      expect(message).toContain(problem);
    });

    it('refuses a DOCTYPE before expanding any entity in it', () => {
      // Arrange: a classic XXE that would put a local file into the entityID.
      const xml = `<?xml version="1.0"?><!DOCTYPE md:EntityDescriptor [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>${entity({ entityId: '&xxe;' })}`;

      // Act
      const message = refusal(xml);

      // Assert
      expect(message).toBe('saml.metadataXml: is refused: it contains a DOCTYPE declaration');
    });

    it('refuses a document larger than 1 MiB', () => {
      const xml = entity().replace('</md:EntityDescriptor>', `${' '.repeat(MAX_IDP_METADATA_BYTES)}</md:EntityDescriptor>`);

      const message = refusal(xml);

      expect(message).toContain('larger than the 1 MiB allowed');
    });
  });

  it('accepts comments, as Shibboleth metadata has them, even inside a certificate', () => {
    const body = `${first.body.slice(0, 100)}<!-- wrapped -->${first.body.slice(100)}`;
    const xml = `<!-- IdP metadata -->${entity({ keyDescriptors: signingKey(body) })}`;

    const metadata = parseIdpMetadata(xml);

    expect(metadata.certificates).toEqual([first.canonicalPem]);
  });

  it('ignores an IDPSSODescriptor whose md prefix is bound to another namespace', () => {
    // Arrange: a look-alike descriptor first, holding a certificate that must not be trusted.
    const impostor = `<md:IDPSSODescriptor xmlns:md="urn:example:not-metadata" protocolSupportEnumeration="${SAML2}">${signingKey(other.body)}${ssoService(REDIRECT, 'https://evil.example.com/sso')}</md:IDPSSODescriptor>`;
    const xml = entity().replace('<md:IDPSSODescriptor', `${impostor}<md:IDPSSODescriptor`);

    // Act
    const metadata = parseIdpMetadata(xml);

    // Assert
    expect(metadata).toEqual({ idpEntityId: 'https://idp.example.com/metadata', ssoUrl: 'https://idp.example.com/sso', certificates: [first.canonicalPem] });
  });
});
