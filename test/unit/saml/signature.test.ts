/**
 * Signatures: only the certificates configured for the org in the route ever vouch for
 * a response; weak algorithms are refused wherever they appear.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { DIGEST_ALGORITHMS, SIGNATURE_ALGORITHMS, createSamlIdpKeys, signLoginResponseXml, type SamlIdpKeys } from '../../../local/saml-idp.js';
import { certificateBody } from '../../support/saml-edits.js';
import { IDP_ENTITY_ID, expectRefusal, nameIdOf, replaceOnce, signedXml, unsignedXml, validate } from './fixtures.js';

let idp: SamlIdpKeys;
let attacker: SamlIdpKeys;

beforeAll(async () => {
  // The attacker claims the same entity ID: only the key can tell them apart.
  [idp, attacker] = await Promise.all([createSamlIdpKeys(IDP_ENTITY_ID), createSamlIdpKeys(IDP_ENTITY_ID)]);
});


describe('validateSamlResponse refuses responses that are not signed by the configured IdP', () => {
  it('refuses an unsigned response', async () => {
    // Arrange
    const xml = unsignedXml(idp);

    // Act
    const validation = validate(idp, xml);

    // Assert
    const error = await expectRefusal(validation, 'SIGNATURE_INVALID');
    expect(error.details.reason).toBe('no signature');
  });

  it('refuses a response signed by a key whose certificate is not configured', async () => {
    const xml = signLoginResponseXml(unsignedXml(attacker), attacker, 'assertion', { includeKeyInfo: false });

    await expectRefusal(validate(idp, xml), 'SIGNATURE_INVALID');
  });

  it("refuses a response that brings the attacker's own certificate in KeyInfo", async () => {
    const xml = signLoginResponseXml(unsignedXml(attacker), attacker, 'response');
    expect(xml).toContain(certificateBody(attacker.certificatePem));

    const error = await expectRefusal(validate(idp, xml), 'SIGNATURE_INVALID');
    expect(error.details.reason).toBe('signed by a certificate that is not configured');
  });

  it("refuses an attacker's signature that names the configured certificate in KeyInfo", async () => {
    const forged = signLoginResponseXml(unsignedXml(attacker), attacker, 'assertion');
    const xml = replaceOnce(forged, certificateBody(attacker.certificatePem), certificateBody(idp.certificatePem));

    const error = await expectRefusal(validate(idp, xml), 'SIGNATURE_INVALID');
    expect(error.details.reason).toBe('signature does not verify');
  });

  it("refuses a genuine response when the route's org trusts another IdP's certificate", async () => {
    const xml = signedXml(idp);

    await expectRefusal(validate(idp, xml, { idp: { entityId: IDP_ENTITY_ID, certificates: [attacker.certificatePem] } }), 'SIGNATURE_INVALID');
  });

  it('refuses a response whose NameID was changed after signing', async () => {
    const xml = signedXml(idp);
    const tampered = replaceOnce(xml, '>ada@acme.com<', '>mallory@evil.com<');
    expect(nameIdOf(tampered)).toBe('mallory@evil.com');

    await expectRefusal(validate(idp, tampered), 'SIGNATURE_INVALID');
  });

  it('refuses a response-signed message whose Destination was changed after signing', async () => {
    const xml = signedXml(idp, {}, 'response');
    const tampered = replaceOnce(xml, 'Destination="https://sso.example.test/sso/acme/saml/acs"', 'Destination="https://sso.example.test/sso/acme/saml/acs/"');

    // The Destination check would also refuse it; the signature check comes first.
    await expectRefusal(validate(idp, tampered), 'SIGNATURE_INVALID');
  });

  it('refuses a both-signed response whose envelope was changed after signing', async () => {
    const xml = signedXml(idp, { inResponseTo: undefined }, 'both');
    const tampered = replaceOnce(xml, 'Destination="https://sso.example.test/sso/acme/saml/acs">', 'Destination="https://sso.example.test/sso/acme/saml/acs" InResponseTo="_forged">');

    const error = await expectRefusal(validate(idp, tampered), 'SIGNATURE_INVALID');
    expect(error.details.reason).toBe('Response signature does not verify');
  });

  it('refuses a signature whose reference points at another element than the one it signs', async () => {
    const xml = signedXml(idp);
    const retargeted = replaceOnce(xml, /<ds:Reference URI="#[^"]+">/, '<ds:Reference URI="">');

    const error = await expectRefusal(validate(idp, retargeted), 'SIGNATURE_INVALID');
    expect(error.details.reason).toMatch(/reference/);
  });

  it('refuses a response when no certificate is configured', async () => {
    const xml = signedXml(idp);

    await expectRefusal(validate(idp, xml, { idp: { entityId: IDP_ENTITY_ID, certificates: [] } }), 'SIGNATURE_INVALID');
  });
});

describe('validateSamlResponse refuses weak algorithms', () => {
  it('refuses an RSA-SHA1 signature', async () => {
    const xml = signedXml(idp, {}, 'assertion', { signatureAlgorithm: SIGNATURE_ALGORITHMS.rsaSha1 });

    const error = await expectRefusal(validate(idp, xml), 'ALGORITHM_NOT_ALLOWED');
    expect(error.details.received).toBe(SIGNATURE_ALGORITHMS.rsaSha1);
    expect(error.message).toMatch(/weak algorithm/);
  });

  it('refuses a SHA-1 digest under an RSA-SHA256 signature', async () => {
    const xml = signedXml(idp, {}, 'assertion', { digestAlgorithm: DIGEST_ALGORITHMS.sha1 });

    const error = await expectRefusal(validate(idp, xml), 'ALGORITHM_NOT_ALLOWED');
    expect(error.details.received).toBe(DIGEST_ALGORITHMS.sha1);
  });

  it('refuses an RSA-MD5 signature method', async () => {
    const xml = replaceOnce(signedXml(idp), SIGNATURE_ALGORITHMS.rsaSha256, 'http://www.w3.org/2001/04/xmldsig-more#rsa-md5');

    const error = await expectRefusal(validate(idp, xml), 'ALGORITHM_NOT_ALLOWED');
    expect(error.details.received).toBe('http://www.w3.org/2001/04/xmldsig-more#rsa-md5');
  });

  it('refuses a SHA-1 signature on the Response even when the assertion is signed with SHA-256', async () => {
    const assertionSigned = signLoginResponseXml(unsignedXml(idp), idp, 'assertion');
    const xml = signLoginResponseXml(assertionSigned, idp, 'response', { signatureAlgorithm: SIGNATURE_ALGORITHMS.rsaSha1, digestAlgorithm: DIGEST_ALGORITHMS.sha1 });

    await expectRefusal(validate(idp, xml), 'ALGORITHM_NOT_ALLOWED');
  });

  it('refuses an RSA-1_5 key transport algorithm anywhere in the response with ALGORITHM_NOT_ALLOWED', async () => {
    const encryptedAttribute =
      '<saml:EncryptedAttribute><xenc:EncryptedData xmlns:xenc="http://www.w3.org/2001/04/xmlenc#">' +
      '<xenc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#rsa-1_5"/>' +
      '<xenc:CipherData><xenc:CipherValue>AAAA</xenc:CipherValue></xenc:CipherData></xenc:EncryptedData></saml:EncryptedAttribute>';
    const xml = replaceOnce(unsignedXml(idp), '</saml:AttributeStatement>', `${encryptedAttribute}</saml:AttributeStatement>`);

    const error = await expectRefusal(validate(idp, signLoginResponseXml(xml, idp, 'assertion')), 'ALGORITHM_NOT_ALLOWED');
    expect(error.details.received).toBe('http://www.w3.org/2001/04/xmlenc#rsa-1_5');
  });

  it('accepts an RSA-SHA512 signature with a SHA-512 digest', async () => {
    const xml = signedXml(idp, {}, 'assertion', { signatureAlgorithm: SIGNATURE_ALGORITHMS.rsaSha512, digestAlgorithm: DIGEST_ALGORITHMS.sha512 });

    const assertion = await validate(idp, xml);

    expect(assertion.nameId).toBe('ada@acme.com');
  });
});
