/**
 * The structural guard: what is refused before any signature is looked at.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createSamlIdpKeys, encodeSamlResponse, signLoginResponseXml, type SamlIdpKeys } from '../../../local/saml-idp.js';
import { MAX_SAML_RESPONSE_BYTES, validateSamlResponse } from '../../../shared/saml/index.js';
import { IDP_ENTITY_ID, assertionOf, evilAssertion, expectRefusal, replaceOnce, signedXml, unsignedXml, validate, validationInput } from './fixtures.js';

let idp: SamlIdpKeys;

beforeAll(async () => {
  idp = await createSamlIdpKeys(IDP_ENTITY_ID);
});

const withSamlResponse = (samlResponse: string) => validateSamlResponse({ ...validationInput(idp, ''), samlResponse });

describe('validateSamlResponse refuses what is not a SAML response', () => {
  it('refuses a value that is not base64', async () => {
    await expectRefusal(withSamlResponse('<samlp:Response>not encoded</samlp:Response>'), 'SAML_MALFORMED');
  });

  it('refuses an empty value', async () => {
    await expectRefusal(withSamlResponse(''), 'SAML_MALFORMED');
  });

  it('refuses base64 that does not decode to XML', async () => {
    const error = await expectRefusal(withSamlResponse(Buffer.from('just some text, no markup').toString('base64')), 'SAML_MALFORMED');
    expect(error.details.reason).toMatch(/XML|root/);
  });

  it('refuses XML that is not well formed', async () => {
    const xml = signedXml(idp).replace('</samlp:Response>', '');

    await expectRefusal(validate(idp, xml), 'SAML_MALFORMED');
  });

  it('refuses bytes that are not UTF-8', async () => {
    const bytes = Buffer.concat([Buffer.from('<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">'), Buffer.from([0xff, 0xfe]), Buffer.from('</samlp:Response>')]);

    await expectRefusal(withSamlResponse(bytes.toString('base64')), 'SAML_MALFORMED');
  });

  it('refuses a response larger than 256 KiB before parsing it', async () => {
    // Arrange: a genuine, signed response padded with a huge attribute value.
    const xml = signedXml(idp, { attributes: { padding: 'x'.repeat(MAX_SAML_RESPONSE_BYTES) } });

    // Act
    const validation = validate(idp, xml);

    // Assert
    const error = await expectRefusal(validation, 'SAML_MALFORMED');
    expect(error.details.reason).toMatch(/larger than 256 KiB/);
  });

  it('refuses a root element other than a SAML 2.0 protocol Response', async () => {
    const assertionOnly = assertionOf(signedXml(idp)).replace('<saml:Assertion ', '<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ');

    const error = await expectRefusal(validate(idp, assertionOnly), 'SAML_MALFORMED');
    expect(error.details.expected).toBe('{urn:oasis:names:tc:SAML:2.0:protocol}Response');
  });

  it('refuses a Response in another namespace', async () => {
    const xml = signedXml(idp).replace('xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"', 'xmlns:samlp="urn:example:not-saml"');

    await expectRefusal(validate(idp, xml), 'SAML_MALFORMED');
  });
});

describe('validateSamlResponse refuses XML features attacks rely on', () => {
  it('refuses a DOCTYPE with an external entity (XXE)', async () => {
    const xml =
      '<?xml version="1.0"?><!DOCTYPE samlp:Response [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>' +
      replaceOnce(signedXml(idp), '>ada@acme.com<', '>&xxe;<');

    const error = await expectRefusal(validate(idp, xml), 'SAML_MALFORMED');
    expect(error.details.reason).toMatch(/DOCTYPE/);
  });

  it('refuses nested entity declarations (billion laughs)', async () => {
    const laughs =
      '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">' +
      '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>';
    const xml = laughs + replaceOnce(signedXml(idp), '>Ada<', '>&lol3;<');

    await expectRefusal(validate(idp, xml), 'SAML_MALFORMED');
  });

  it('refuses a DOCTYPE written in lower case', async () => {
    const xml = `<!doctype x [<!ENTITY e "v">]>${signedXml(idp)}`;

    await expectRefusal(validate(idp, xml), 'SAML_MALFORMED');
  });

  it('refuses a processing instruction', async () => {
    const xml = replaceOnce(signedXml(idp), '<samlp:Status>', '<?xml-stylesheet href="evil.xsl"?><samlp:Status>');

    const error = await expectRefusal(validate(idp, xml), 'SAML_MALFORMED');
    expect(error.details.reason).toMatch(/processing instruction/);
  });

  it('refuses a comment-split NameID and never yields the truncated email', async () => {
    // Arrange: the IdP signed "ada@acme.com.evil.com"; the comment does not change the
    // canonical form, so the signature still verifies, but a naive reader of the first
    // text node would see "ada@acme.com".
    const xml = signedXml(idp, { nameId: 'ada@acme.com.evil.com' });
    const split = replaceOnce(xml, '>ada@acme.com.evil.com<', '>ada@acme.com<!---->.evil.com<');

    // Act
    const validation = validate(idp, split);

    // Assert
    const error = await expectRefusal(validation, 'SAML_MALFORMED');
    expect(error.details.reason).toMatch(/comment/);
    expect(JSON.stringify(error.details)).not.toContain('ada@acme.com');
  });

  it('refuses a comment anywhere in the response', async () => {
    const xml = replaceOnce(signedXml(idp), '<samlp:Status>', '<!-- hello --><samlp:Status>');

    await expectRefusal(validate(idp, xml), 'SAML_MALFORMED');
  });

  it('refuses a CDATA section inside the NameID', async () => {
    const xml = replaceOnce(signedXml(idp, { nameId: 'ada@acme.com.evil.com' }), '>ada@acme.com.evil.com<', '>ada@acme.com<![CDATA[.evil.com]]><');

    await expectRefusal(validate(idp, xml), 'SAML_MALFORMED');
  });
});

describe('validateSamlResponse refuses ambiguous SAML structure', () => {
  it('refuses two assertions', async () => {
    const xml = signedXml(idp);
    const twoAssertions = replaceOnce(xml, '</samlp:Response>', `${evilAssertion(idp)}</samlp:Response>`);

    const error = await expectRefusal(validate(idp, twoAssertions), 'SAML_MALFORMED');
    expect(error.details.reason).toMatch(/more than one Assertion/);
  });

  it('refuses an assertion hidden in the Advice of the signed assertion', async () => {
    const xml = replaceOnce(unsignedXml(idp), '<saml:AuthnStatement', `<saml:Advice>${evilAssertion(idp)}</saml:Advice><saml:AuthnStatement`);

    await expectRefusal(validate(idp, signLoginResponseXml(xml, idp, 'assertion')), 'SAML_MALFORMED');
  });

  it('refuses a response with no assertion and a Success status', async () => {
    const xml = unsignedXml(idp);
    const empty = replaceOnce(xml, assertionOf(xml), '');

    await expectRefusal(validate(idp, signLoginResponseXml(empty, idp, 'response')), 'SAML_MALFORMED');
  });

  it('refuses a response with both an Assertion and an EncryptedAssertion', async () => {
    const xml = unsignedXml(idp);
    const both = replaceOnce(xml, '</samlp:Response>', '<saml:EncryptedAssertion><xenc:EncryptedData xmlns:xenc="http://www.w3.org/2001/04/xmlenc#"/></saml:EncryptedAssertion></samlp:Response>');

    await expectRefusal(validate(idp, signLoginResponseXml(both, idp, 'response')), 'SAML_MALFORMED');
  });

  it('refuses an EncryptedAssertion that is not a child of the Response', async () => {
    const xml = unsignedXml(idp);
    const nested = replaceOnce(xml, assertionOf(xml), '<samlp:Extensions><saml:EncryptedAssertion/></samlp:Extensions>');

    await expectRefusal(validate(idp, signLoginResponseXml(nested, idp, 'response')), 'SAML_MALFORMED');
  });

  it('refuses two elements with the same ID', async () => {
    const xml = replaceOnce(unsignedXml(idp), '<saml:AuthnStatement', '<saml:AuthnStatement ID="dup"/><saml:AuthnStatement');
    const duplicated = replaceOnce(xml, '<samlp:Status>', '<samlp:Status ID="dup">');

    const error = await expectRefusal(validate(idp, signLoginResponseXml(duplicated, idp, 'assertion')), 'SAML_MALFORMED');
    expect(error.details.id).toBe('dup');
  });

  it('accepts two Signatures with the same Id, as pysaml2 (xmlsec1) signs both Response and Assertion', async () => {
    const withId = (xml: string, nth: number) => {
      let seen = -1;
      return xml.replace(/<ds:Signature /g, (tag) => (++seen === nth ? '<ds:Signature Id="Signature1" ' : tag));
    };
    const assertionSigned = withId(signLoginResponseXml(unsignedXml(idp), idp, 'assertion'), 0);
    const both = withId(signLoginResponseXml(assertionSigned, idp, 'response'), 0);
    expect(both.match(/Id="Signature1"/g)).toHaveLength(2);

    expect((await validate(idp, both)).nameId).toBe('ada@acme.com');
  });

  it('still refuses an element other than a Signature that shares a Signature\'s Id', async () => {
    const signed = signedXml(idp).replace('<ds:Signature ', '<ds:Signature Id="sig-1" ');
    const duplicated = replaceOnce(signed, '<samlp:Status>', '<samlp:Status Id="sig-1">');

    const error = await expectRefusal(validate(idp, duplicated), 'SAML_MALFORMED');
    expect(error.details.id).toBe('sig-1');
  });

  it('refuses a Signature outside the Response and the Assertion', async () => {
    const xml = signedXml(idp);
    const signature = /<ds:Signature[\s\S]*?<\/ds:Signature>/.exec(xml)![0];
    const misplaced = replaceOnce(xml, '</saml:NameID>', `</saml:NameID>${signature}`);

    const error = await expectRefusal(validate(idp, misplaced), 'SAML_MALFORMED');
    expect(error.details.received).toBe('/Response/Assertion/Subject/Signature');
  });

  it('refuses an empty NameID', async () => {
    const xml = signedXml(idp, { nameId: '  ' });

    const error = await expectRefusal(validate(idp, xml), 'SAML_MALFORMED');
    expect(error.details.reason).toMatch(/NameID is empty/);
  });

  it('refuses a NameID that contains markup', async () => {
    const xml = replaceOnce(unsignedXml(idp), '>ada@acme.com<', '>ada@acme.com<saml:Extra>.evil.com</saml:Extra><');

    await expectRefusal(validate(idp, signLoginResponseXml(xml, idp, 'assertion')), 'SAML_MALFORMED');
  });

  it('refuses a time that is not an xs:dateTime', async () => {
    const xml = unsignedXml(idp).replace(/NotOnOrAfter="[^"]+"/g, 'NotOnOrAfter="tomorrow"');

    const error = await expectRefusal(validate(idp, signLoginResponseXml(xml, idp, 'assertion')), 'SAML_MALFORMED');
    expect(error.details.received).toBe('tomorrow');
  });

  it('accepts the plain base64 of a response built by the development IdP', async () => {
    const assertion = await withSamlResponse(encodeSamlResponse(signedXml(idp)));

    expect(assertion.nameId).toBe('ada@acme.com');
  });
});
