/**
 * The SAML 2.0 metadata an org's admin gives their IdP: who we are (entityID), where
 * responses go (the ACS, HTTP-POST), where logout messages go (SLO, both bindings),
 * which NameID formats we accept, our signing certificate when we have one, and the
 * encryption certificate assertions may be encrypted to, with the algorithms we decrypt.
 * Rendered from a template: small, stable, no samlify entity needed.
 */
import { CONTENT_ENCRYPTION, KEY_TRANSPORT } from './decrypt.js';
import { certificateBody, escapeXml } from './xml.js';

export interface SpMetadataInput {
  entityId: string;
  acsUrl: string;
  /** Our SingleLogoutService (HTTP-Redirect and HTTP-POST); listed when given. */
  singleLogoutUrl?: string;
  /** PEM certificate the SP signs AuthnRequests with; adds a signing KeyDescriptor. */
  signingCertificatePem?: string;
  /** Defaults to true when a signing certificate is given (an SP without a key cannot sign). */
  authnRequestsSigned?: boolean;
  /** PEM certificate IdPs encrypt assertions to; adds an encryption KeyDescriptor. */
  encryptionCertificatePem?: string;
}

/** The EncryptionMethods an encryption KeyDescriptor lists, preferred first (decrypt.ts's allowlist). */
export const SP_ENCRYPTION_METHODS = [
  CONTENT_ENCRYPTION.aes256Gcm,
  CONTENT_ENCRYPTION.aes128Gcm,
  CONTENT_ENCRYPTION.aes256Cbc,
  CONTENT_ENCRYPTION.aes128Cbc,
  KEY_TRANSPORT.rsaOaep,
  KEY_TRANSPORT.rsaOaepMgf1p,
] as const;

const keyDescriptor = (use: 'signing' | 'encryption', certificatePem: string, methods: readonly string[] = []): string =>
  `    <md:KeyDescriptor use="${use}">\n` +
  `      <ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>${certificateBody(certificatePem)}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>\n` +
  methods.map((method) => `      <md:EncryptionMethod Algorithm="${method}"/>\n`).join('') +
  `    </md:KeyDescriptor>\n`;

export const SP_NAMEID_FORMATS = [
  'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
  'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
  'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified',
] as const;

/**
 * SP metadata XML (md:EntityDescriptor with one SPSSODescriptor).
 *
 * @example
 * buildSpMetadataXml({ entityId: 'https://sso.example.com/sso/acme/saml/metadata', acsUrl: 'https://sso.example.com/sso/acme/saml/acs' })
 */
export function buildSpMetadataXml(input: SpMetadataInput): string {
  const authnRequestsSigned = input.authnRequestsSigned ?? input.signingCertificatePem !== undefined;
  const keyDescriptors =
    (input.signingCertificatePem === undefined ? '' : keyDescriptor('signing', input.signingCertificatePem)) +
    (input.encryptionCertificatePem === undefined ? '' : keyDescriptor('encryption', input.encryptionCertificatePem, SP_ENCRYPTION_METHODS));
  // Schema order (saml-metadata 2.4.2): KeyDescriptor, SingleLogoutService, NameIDFormat, AssertionConsumerService.
  const singleLogout =
    input.singleLogoutUrl === undefined
      ? ''
      : ['HTTP-Redirect', 'HTTP-POST']
          .map((binding) => `    <md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:${binding}" Location="${escapeXml(input.singleLogoutUrl!)}"/>\n`)
          .join('');
  const nameIdFormats = SP_NAMEID_FORMATS.map((format) => `    <md:NameIDFormat>${format}</md:NameIDFormat>\n`).join('');
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="${escapeXml(input.entityId)}">\n` +
    `  <md:SPSSODescriptor AuthnRequestsSigned="${authnRequestsSigned}" WantAssertionsSigned="true" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">\n` +
    keyDescriptors +
    singleLogout +
    nameIdFormats +
    `    <md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="${escapeXml(input.acsUrl)}" index="0" isDefault="true"/>\n` +
    `  </md:SPSSODescriptor>\n` +
    `</md:EntityDescriptor>\n`
  );
}
