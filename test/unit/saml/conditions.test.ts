/**
 * What samlify leaves to the caller: status, issuer, Destination, Audience, validity
 * times with the injected clock, the bearer SubjectConfirmation and InResponseTo.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createSamlIdpKeys, signLoginResponseXml, type SamlIdpKeys } from '../../../local/saml-idp.js';
import {
  IDP_ENTITY_ID,
  LIFETIME_SECONDS,
  NOW,
  OTHER_ORG_SP,
  SP,
  assertionOf,
  expectRefusal,
  replaceOnce,
  secondsAfter,
  signedXml,
  unsignedXml,
  validate,
} from './fixtures.js';

let idp: SamlIdpKeys;

beforeAll(async () => {
  idp = await createSamlIdpKeys(IDP_ENTITY_ID);
});

/** Edit the unsigned XML, then sign the assertion: the edit is covered by the signature. */
const signedAfter = (edit: (xml: string) => string): string => signLoginResponseXml(edit(unsignedXml(idp)), idp, 'assertion');

describe('validateSamlResponse reports an IdP that refused the login', () => {
  it('refuses a Responder status and reports the codes and message to the admin', async () => {
    // Arrange: what an IdP sends when the user is not assigned to the app (no assertion, unsigned).
    const xml = unsignedXml(idp);
    const failed = replaceOnce(
      replaceOnce(xml, assertionOf(xml), ''),
      '<samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/>',
      '<samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Responder"><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:RequestDenied"/></samlp:StatusCode>' +
        '<samlp:StatusMessage>User is not assigned to this application</samlp:StatusMessage>',
    );

    // Act
    const validation = validate(idp, failed);

    // Assert
    const error = await expectRefusal(validation, 'IDP_STATUS_ERROR');
    expect(error.details).toMatchObject({
      statusCode: 'urn:oasis:names:tc:SAML:2.0:status:Responder',
      subStatusCodes: ['urn:oasis:names:tc:SAML:2.0:status:RequestDenied'],
      statusMessage: 'User is not assigned to this application',
      receivedIssuer: IDP_ENTITY_ID,
    });
    expect(error.message).toContain('Responder/RequestDenied');
    // The StatusMessage is unsigned: it goes to the admin's audit trail, never onto our page.
    expect(error.message).not.toContain('User is not assigned');
  });

  it('shows unrecognized (unsigned, attacker-chosen) status codes on the page as "unrecognized"', async () => {
    const xml = unsignedXml(idp);
    const failed = replaceOnce(
      replaceOnce(xml, assertionOf(xml), ''),
      '<samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/>',
      '<samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Responder"><samlp:StatusCode Value="Your account is locked. Call +1-555-0100"/></samlp:StatusCode>',
    );

    const error = await expectRefusal(validate(idp, failed), 'IDP_STATUS_ERROR');

    expect(error.message).toContain('Responder/unrecognized');
    expect(error.message).not.toContain('555');
    expect(error.details.subStatusCodes).toEqual(['Your account is locked. Call +1-555-0100']);
  });
});

describe('validateSamlResponse checks the issuer against the org in the route', () => {
  it('refuses a response whose issuer is not the configured IdP entity', async () => {
    const xml = signedXml(idp);

    const error = await expectRefusal(validate(idp, xml, { idp: { entityId: 'https://idp.globex.test/metadata', certificates: [idp.certificatePem] } }), 'IDP_ISSUER_MISMATCH');

    expect(error.details).toMatchObject({ expected: 'https://idp.globex.test/metadata', received: IDP_ENTITY_ID });
  });

  it("refuses a response whose Response Issuer differs from the assertion's", async () => {
    const xml = replaceOnce(signedXml(idp), `<saml:Issuer>${IDP_ENTITY_ID}</saml:Issuer><samlp:Status>`, '<saml:Issuer>https://idp.evil.test</saml:Issuer><samlp:Status>');

    const error = await expectRefusal(validate(idp, xml), 'IDP_ISSUER_MISMATCH');
    expect(error.details.received).toBe('https://idp.evil.test');
  });
});

describe('validateSamlResponse checks where the response was meant to go', () => {
  it("refuses an assertion whose Audience is another org's SP entity", async () => {
    const xml = signedXml(idp, { spEntityId: OTHER_ORG_SP.entityId });

    const error = await expectRefusal(validate(idp, xml), 'AUDIENCE_MISMATCH');

    expect(error.details).toMatchObject({ expected: SP.entityId, received: [OTHER_ORG_SP.entityId] });
  });

  it('refuses an assertion without an AudienceRestriction', async () => {
    const xml = signedAfter((unsigned) => unsigned.replace(/<saml:AudienceRestriction>.*<\/saml:AudienceRestriction>/, ''));

    await expectRefusal(validate(idp, xml), 'AUDIENCE_MISMATCH');
  });

  it('refuses an assertion with a second AudienceRestriction that excludes this SP', async () => {
    const xml = signedAfter((unsigned) =>
      replaceOnce(unsigned, '</saml:Conditions>', `<saml:AudienceRestriction><saml:Audience>${OTHER_ORG_SP.entityId}</saml:Audience></saml:AudienceRestriction></saml:Conditions>`),
    );

    await expectRefusal(validate(idp, xml), 'AUDIENCE_MISMATCH');
  });

  it('refuses a response whose Destination is another ACS URL', async () => {
    const xml = replaceOnce(signedXml(idp), `Destination="${SP.acsUrl}"`, `Destination="${OTHER_ORG_SP.acsUrl}"`);

    const error = await expectRefusal(validate(idp, xml), 'DESTINATION_MISMATCH');
    expect(error.details).toMatchObject({ expected: SP.acsUrl, received: OTHER_ORG_SP.acsUrl });
  });

  it('refuses a signed Response without Destination', async () => {
    const xml = signLoginResponseXml(replaceOnce(unsignedXml(idp), ` Destination="${SP.acsUrl}"`, ''), idp, 'response');

    await expectRefusal(validate(idp, xml), 'DESTINATION_MISMATCH');
  });

  it('refuses a SubjectConfirmationData whose Recipient is another ACS URL', async () => {
    const xml = signedAfter((unsigned) => replaceOnce(unsigned, `Recipient="${SP.acsUrl}"`, `Recipient="${OTHER_ORG_SP.acsUrl}"`));

    const error = await expectRefusal(validate(idp, xml), 'DESTINATION_MISMATCH');
    expect(error.details).toMatchObject({ where: 'Recipient', expected: SP.acsUrl, received: OTHER_ORG_SP.acsUrl });
  });

  it('refuses a SubjectConfirmationData without Recipient', async () => {
    const xml = signedAfter((unsigned) => replaceOnce(unsigned, ` Recipient="${SP.acsUrl}"`, ''));

    await expectRefusal(validate(idp, xml), 'DESTINATION_MISMATCH');
  });
});

describe('validateSamlResponse checks validity times with the injected clock', () => {
  it('refuses an assertion used after its NotOnOrAfter plus the allowed skew', async () => {
    const xml = signedXml(idp);

    const error = await expectRefusal(validate(idp, xml, { now: secondsAfter(NOW, LIFETIME_SECONDS + 60), clockSkewSeconds: 60 }), 'ASSERTION_EXPIRED');

    expect(error.details).toMatchObject({ notOnOrAfter: secondsAfter(NOW, LIFETIME_SECONDS).toISOString(), now: secondsAfter(NOW, LIFETIME_SECONDS + 60).toISOString() });
  });

  it('refuses an assertion used right at its NotOnOrAfter without skew', async () => {
    const xml = signedXml(idp);

    await expectRefusal(validate(idp, xml, { now: secondsAfter(NOW, LIFETIME_SECONDS), clockSkewSeconds: 0 }), 'ASSERTION_EXPIRED');
  });

  it('accepts an assertion used shortly after its NotOnOrAfter within the allowed skew', async () => {
    const xml = signedXml(idp);

    const assertion = await validate(idp, xml, { now: secondsAfter(NOW, LIFETIME_SECONDS + 59), clockSkewSeconds: 60 });

    expect(assertion.nameId).toBe('ada@acme.com');
  });

  it('refuses an assertion whose NotBefore is ahead of the clock by more than the skew', async () => {
    const xml = signedXml(idp, { now: secondsAfter(NOW, 120) });

    const error = await expectRefusal(validate(idp, xml, { clockSkewSeconds: 60 }), 'ASSERTION_NOT_YET_VALID');

    expect(error.details).toMatchObject({ notBefore: secondsAfter(NOW, 120).toISOString(), now: NOW.toISOString() });
  });

  it('refuses an assertion whose NotBefore is ahead of the clock when no skew is allowed', async () => {
    const xml = signedXml(idp, { now: secondsAfter(NOW, 1) });

    await expectRefusal(validate(idp, xml, { clockSkewSeconds: 0 }), 'ASSERTION_NOT_YET_VALID');
  });

  it('accepts an assertion whose NotBefore is ahead of the clock within the skew', async () => {
    const xml = signedXml(idp, { now: secondsAfter(NOW, 120) });

    const assertion = await validate(idp, xml, { clockSkewSeconds: 180 });

    expect(assertion.nameId).toBe('ada@acme.com');
  });

  it('refuses an assertion without Conditions', async () => {
    const xml = signedAfter((unsigned) => unsigned.replace(/<saml:Conditions[\s\S]*<\/saml:Conditions>/, ''));

    const error = await expectRefusal(validate(idp, xml), 'SAML_MALFORMED');
    expect(error.details.reason).toMatch(/no Conditions/);
  });

  it('refuses Conditions without NotOnOrAfter', async () => {
    const xml = signedAfter((unsigned) => unsigned.replace(/(<saml:Conditions NotBefore="[^"]+") NotOnOrAfter="[^"]+"/, '$1'));

    const error = await expectRefusal(validate(idp, xml), 'SAML_MALFORMED');
    expect(error.details.reason).toMatch(/NotOnOrAfter/);
  });

  it('refuses a SubjectConfirmationData that expired before the Conditions', async () => {
    const xml = signedAfter((unsigned) =>
      unsigned.replace(/(<saml:SubjectConfirmationData NotOnOrAfter=")[^"]+"/, `$1${secondsAfter(NOW, 30).toISOString()}"`),
    );

    const error = await expectRefusal(validate(idp, xml, { now: secondsAfter(NOW, 60), clockSkewSeconds: 0 }), 'ASSERTION_EXPIRED');
    expect(error.details.where).toBe('SubjectConfirmationData');
  });

  it('refuses a SubjectConfirmationData without NotOnOrAfter', async () => {
    const xml = signedAfter((unsigned) => unsigned.replace(/(<saml:SubjectConfirmationData) NotOnOrAfter="[^"]+"/, '$1'));

    await expectRefusal(validate(idp, xml), 'SAML_MALFORMED');
  });

  it('reports the earlier of the two NotOnOrAfter times plus skew as the acceptance limit', async () => {
    const xml = signedAfter((unsigned) =>
      unsigned.replace(/(<saml:SubjectConfirmationData NotOnOrAfter=")[^"]+"/, `$1${secondsAfter(NOW, 120).toISOString()}"`),
    );

    const assertion = await validate(idp, xml, { clockSkewSeconds: 30 });

    expect(assertion.notOnOrAfter).toEqual(secondsAfter(NOW, 150));
  });
});

describe('validateSamlResponse checks the bearer subject confirmation', () => {
  it('refuses a subject confirmed by another method than bearer', async () => {
    const xml = signedAfter((unsigned) => replaceOnce(unsigned, 'urn:oasis:names:tc:SAML:2.0:cm:bearer', 'urn:oasis:names:tc:SAML:2.0:cm:holder-of-key'));

    const error = await expectRefusal(validate(idp, xml), 'SAML_MALFORMED');
    expect(error.details.expected).toBe('urn:oasis:names:tc:SAML:2.0:cm:bearer');
  });

  it('refuses a Response whose InResponseTo differs from the signed SubjectConfirmationData', async () => {
    // The envelope is not signed here: an attacker can rewrite it, the assertion cannot be.
    const xml = replaceOnce(signedXml(idp, { inResponseTo: '_request-1' }), '" InResponseTo="_request-1"><saml:Issuer>', '" InResponseTo="_request-2"><saml:Issuer>');

    const error = await expectRefusal(validate(idp, xml), 'IN_RESPONSE_TO_INVALID');
    expect(error.details).toMatchObject({ expected: '_request-1', received: '_request-2' });
  });

  it('returns the signed InResponseTo even when the Response omits it', async () => {
    const xml = replaceOnce(signedXml(idp, { inResponseTo: '_request-1' }), '" InResponseTo="_request-1"><saml:Issuer>', '"><saml:Issuer>');

    const assertion = await validate(idp, xml);

    expect(assertion.inResponseTo).toBe('_request-1');
  });
});
