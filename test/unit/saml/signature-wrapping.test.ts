/**
 * XML signature wrapping (XSW): a genuinely signed assertion is kept somewhere in the
 * message so the signature still verifies, while an unsigned, forged assertion sits where
 * a careless reader looks. Every variant must be refused, never yield the forged identity.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createSamlIdpKeys, type SamlIdpKeys } from '../../../local/saml-idp.js';
import { signatureOf, withoutSignature } from '../../support/saml-edits.js';
import { IDP_ENTITY_ID, assertionOf, evilAssertion, expectRefusal, replaceOnce, signedXml, unsignedXml, validate } from './fixtures.js';

let idp: SamlIdpKeys;

beforeAll(async () => {
  idp = await createSamlIdpKeys(IDP_ENTITY_ID);
});

const idOf = (fragment: string): string => / ID="([^"]+)"/.exec(fragment)![1]!;
const afterAssertionIssuer = (assertion: string, insert: string): string =>
  assertion.replace(/(<saml:Assertion[^>]*><saml:Issuer>[^<]*<\/saml:Issuer>)/, `$1${insert}`);

describe('validateSamlResponse refuses signature wrapping of an assertion-signed response', () => {
  it('refuses an evil unsigned assertion placed before the signed one', async () => {
    // Arrange
    const xml = signedXml(idp);
    const signed = assertionOf(xml);
    const wrapped = replaceOnce(xml, signed, evilAssertion(idp) + signed);

    // Act
    const validation = validate(idp, wrapped);

    // Assert
    const error = await expectRefusal(validation, 'SAML_MALFORMED');
    expect(error.details.reason).toMatch(/more than one Assertion/);
  });

  it('refuses an evil unsigned assertion placed after the signed one', async () => {
    const xml = signedXml(idp);
    const signed = assertionOf(xml);
    const wrapped = replaceOnce(xml, signed, signed + evilAssertion(idp));

    await expectRefusal(validate(idp, wrapped), 'SAML_MALFORMED');
  });

  it('refuses an evil assertion that wraps the signed one', async () => {
    const xml = signedXml(idp);
    const signed = assertionOf(xml);
    const evil = evilAssertion(idp);
    const evilWrapping = evil.replace(/<\/saml:Assertion>$/, `${signed}</saml:Assertion>`);
    const wrapped = replaceOnce(xml, signed, evilWrapping);

    await expectRefusal(validate(idp, wrapped), 'SAML_MALFORMED');
  });

  it('refuses the signed assertion moved into Extensions with an evil one in its place', async () => {
    const xml = signedXml(idp);
    const signed = assertionOf(xml);
    const moved = replaceOnce(xml, signed, evilAssertion(idp)).replace(
      /(<\/saml:Issuer>)/,
      `$1<samlp:Extensions>${signed}</samlp:Extensions>`,
    );

    await expectRefusal(validate(idp, moved), 'SAML_MALFORMED');
  });

  it('refuses the signed assertion moved into a Signature Object with an evil one in its place', async () => {
    const xml = signedXml(idp);
    const signed = assertionOf(xml);
    const signature = signatureOf(signed);
    const carrier = signature.replace('</ds:Signature>', `<ds:Object>${withoutSignature(signed)}</ds:Object></ds:Signature>`);
    const evil = afterAssertionIssuer(evilAssertion(idp), carrier);
    const wrapped = replaceOnce(xml, signed, evil);

    await expectRefusal(validate(idp, wrapped), 'SAML_MALFORMED');
  });

  it('refuses an evil assertion that reuses the signed assertion ID while the signed one stays in the message', async () => {
    const xml = signedXml(idp);
    const signed = assertionOf(xml);
    const evil = evilAssertion(idp).replace(/ ID="[^"]+"/, ` ID="${idOf(signed)}"`);
    const wrapped = replaceOnce(xml, signed, `${evil}`).replace(/(<\/saml:Issuer>)/, `$1<samlp:Extensions>${signed}</samlp:Extensions>`);

    const error = await expectRefusal(validate(idp, wrapped), 'SAML_MALFORMED');
    expect(error.details.reason).toMatch(/same ID|more than one Assertion|Signature in an unexpected place/);
  });

  it('refuses an evil assertion carrying the copied signature of an assertion that is no longer there', async () => {
    const xml = signedXml(idp);
    const signed = assertionOf(xml);
    const evil = afterAssertionIssuer(evilAssertion(idp), signatureOf(signed));
    const wrapped = replaceOnce(xml, signed, evil);

    const error = await expectRefusal(validate(idp, wrapped), 'SIGNATURE_INVALID');
    expect(error.details.reason).toMatch(/reference/);
  });

  it('refuses an evil assertion with the original ID and the copied signature', async () => {
    const xml = signedXml(idp);
    const signed = assertionOf(xml);
    const evil = afterAssertionIssuer(evilAssertion(idp).replace(/ ID="[^"]+"/, ` ID="${idOf(signed)}"`), signatureOf(signed));
    const wrapped = replaceOnce(xml, signed, evil);

    await expectRefusal(validate(idp, wrapped), 'SIGNATURE_INVALID');
  });
});

describe('validateSamlResponse refuses signature wrapping of a response-signed response', () => {
  it('refuses an evil Response that carries the signed Response inside its Signature Object', async () => {
    // Arrange
    const original = signedXml(idp, {}, 'response');
    const signature = signatureOf(original);
    const carrier = signature.replace('</ds:Signature>', `<ds:Object>${withoutSignature(original)}</ds:Object></ds:Signature>`);
    const evilResponse = unsignedXml(idp, { nameId: 'mallory@evil.com' }).replace(/(<\/saml:Issuer>)/, `$1${carrier}`);

    // Act
    const validation = validate(idp, evilResponse);

    // Assert
    await expectRefusal(validation, 'SAML_MALFORMED');
  });

  it('refuses an evil assertion added next to the signed one inside the signed Response', async () => {
    const xml = signedXml(idp, {}, 'response');
    const signed = assertionOf(xml);
    const wrapped = replaceOnce(xml, signed, evilAssertion(idp) + signed);

    await expectRefusal(validate(idp, wrapped), 'SAML_MALFORMED');
  });

  it('refuses a signed Response whose assertion was swapped for an evil one', async () => {
    const xml = signedXml(idp, {}, 'response');
    const swapped = replaceOnce(xml, assertionOf(xml), evilAssertion(idp));

    await expectRefusal(validate(idp, swapped), 'SIGNATURE_INVALID');
  });

  it('refuses a both-signed response whose Response signature was stripped and assertion swapped', async () => {
    const xml = signedXml(idp, {}, 'both');
    const stripped = replaceOnce(xml, signatureOf(xml), '');
    const swapped = replaceOnce(stripped, assertionOf(stripped), evilAssertion(idp));

    await expectRefusal(validate(idp, swapped), 'SIGNATURE_INVALID');
  });
});
