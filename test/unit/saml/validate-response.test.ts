import { beforeAll, describe, expect, it } from 'vitest';
import { NAMEID_PERSISTENT, createSamlIdpKeys, signLoginResponseXml, type SamlIdpKeys } from '../../../local/saml-idp.js';
import { MAX_SAML_RESPONSE_BYTES, maxSamlResponseBytes, validateSamlResponse } from '../../../shared/saml/index.js';
import {
  IDP_ENTITY_ID,
  LIFETIME_SECONDS,
  NOW,
  SKEW_SECONDS,
  SP,
  replaceOnce,
  secondsAfter,
  signedXml,
  unsignedXml,
  validate,
  validationInput,
} from './fixtures.js';

let idp: SamlIdpKeys;
let nextIdp: SamlIdpKeys;

beforeAll(async () => {
  [idp, nextIdp] = await Promise.all([createSamlIdpKeys(IDP_ENTITY_ID), createSamlIdpKeys(IDP_ENTITY_ID)]);
});

describe('validateSamlResponse accepts a genuine response', () => {
  it('returns the identity of a response whose assertion is signed', async () => {
    // Arrange
    const xml = signedXml(idp, { sessionIndex: '_session-1' }, 'assertion');

    // Act
    const assertion = await validate(idp, xml);

    // Assert
    expect(assertion).toMatchObject({
      issuer: IDP_ENTITY_ID,
      inResponseTo: '_request-1',
      nameId: 'ada@acme.com',
      nameIdFormat: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
      sessionIndex: '_session-1',
    });
    expect(assertion.responseId).toMatch(/^_[0-9a-f]{32}$/);
    expect(assertion.assertionId).toMatch(/^_[0-9a-f]{32}$/);
    expect(assertion.assertionId).not.toBe(assertion.responseId);
  });

  it('also reports every Attribute element as sent, the AuthnInstant and the Conditions window (what a test sign-in shows)', async () => {
    const unsigned = unsignedXml(idp, { attributes: { groups: ['Admins', 'Staff'], department: ' R&D ' } });
    const repeated = replaceOnce(unsigned, '</saml:AttributeStatement>', '<saml:Attribute Name="groups"><saml:AttributeValue>Ops</saml:AttributeValue></saml:Attribute></saml:AttributeStatement>');

    const assertion = await validate(idp, signLoginResponseXml(repeated, idp, 'assertion'));

    expect(assertion.attributeList).toEqual([
      { name: 'groups', nameFormat: 'urn:oasis:names:tc:SAML:2.0:attrname-format:basic', values: ['Admins', 'Staff'] },
      { name: 'department', nameFormat: 'urn:oasis:names:tc:SAML:2.0:attrname-format:basic', values: [' R&D '] },
      { name: 'groups', values: ['Ops'] },
    ]);
    expect(assertion.attributes.get('groups')).toEqual(['Admins', 'Staff', 'Ops']);
    expect(assertion.authnInstant).toEqual(NOW);
    expect(assertion.conditions).toEqual({ notBefore: NOW, notOnOrAfter: secondsAfter(NOW, LIFETIME_SECONDS) });
  });

  it('returns the identity of a response whose Response element is signed', async () => {
    const xml = signedXml(idp, {}, 'response');

    const assertion = await validate(idp, xml);

    expect(assertion.nameId).toBe('ada@acme.com');
  });

  it('returns the identity of a response signed on both the Response and the assertion', async () => {
    const xml = signedXml(idp, {}, 'both');

    const assertion = await validate(idp, xml);

    expect(assertion.nameId).toBe('ada@acme.com');
  });

  it('accepts a leading XML declaration', async () => {
    const xml = `<?xml version="1.0" encoding="UTF-8"?>${signedXml(idp)}`;

    const assertion = await validate(idp, xml);

    expect(assertion.nameId).toBe('ada@acme.com');
  });

  it('accepts a base64 value wrapped over several lines, as some IdPs post it', async () => {
    const input = validationInput(idp, signedXml(idp));
    const wrapped = { ...input, samlResponse: input.samlResponse.replace(/.{76}/g, '$&\r\n') };

    const assertion = await validateSamlResponse(wrapped);

    expect(assertion.nameId).toBe('ada@acme.com');
  });

  it('reports as notOnOrAfter the last instant the assertion may be accepted, skew included', async () => {
    const xml = signedXml(idp);

    const assertion = await validate(idp, xml);

    expect(assertion.notOnOrAfter).toEqual(secondsAfter(NOW, LIFETIME_SECONDS + SKEW_SECONDS));
  });

  it('returns a persistent NameID and its format unchanged', async () => {
    const xml = signedXml(idp, { nameId: '7f9c2ab4-0001', nameIdFormat: NAMEID_PERSISTENT });

    const assertion = await validate(idp, xml);

    expect(assertion.nameId).toBe('7f9c2ab4-0001');
    expect(assertion.nameIdFormat).toBe(NAMEID_PERSISTENT);
  });

  it('leaves inResponseTo out of an IdP-initiated response', async () => {
    const xml = signedXml(idp, { inResponseTo: undefined });

    const assertion = await validate(idp, xml);

    expect(assertion.inResponseTo).toBeUndefined();
  });

  it('accepts a response without Destination when only the assertion is signed', async () => {
    const xml = replaceOnce(signedXml(idp), ` Destination="${SP.acsUrl}"`, '');

    const assertion = await validate(idp, xml);

    expect(assertion.nameId).toBe('ada@acme.com');
  });
});

describe('validateSamlResponse reads attributes completely', () => {
  it('keeps every value of a multi-valued attribute, in document order', async () => {
    const xml = signedXml(idp, { attributes: { department: ['Engineering', 'Finance', 'engineering '] } });

    const assertion = await validate(idp, xml);

    expect(assertion.attributes.get('department')).toEqual(['Engineering', 'Finance', 'engineering ']);
  });

  it('accumulates the values of an attribute that appears twice', async () => {
    const xml = replaceOnce(
      unsignedXml(idp, { attributes: { role: 'admin' } }),
      '</saml:AttributeStatement>',
      '<saml:Attribute Name="role"><saml:AttributeValue>auditor</saml:AttributeValue></saml:Attribute></saml:AttributeStatement>',
    );

    const assertion = await validate(idp, signLoginResponseXml(xml, idp, 'assertion'));

    expect(assertion.attributes.get('role')).toEqual(['admin', 'auditor']);
    expect(assertion.attributeNames).toEqual(['role']);
  });

  it('reads Entra ID claim-URI attribute names as they are', async () => {
    const claims = {
      'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress': 'ada@acme.com',
      'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname': 'Ada',
      'http://schemas.microsoft.com/ws/2008/06/identity/claims/groups': ['3f2a-admins', '9b1c-staff'],
      'http://schemas.microsoft.com/identity/claims/tenantid': '72f988bf-86f1-41af-91ab-2d7cd011db47',
    };
    const xml = signedXml(idp, { nameId: 'AAAAAAAAAAAAAAAAAAAAAGx2', nameIdFormat: NAMEID_PERSISTENT, attributes: claims });

    const assertion = await validate(idp, xml);

    expect(assertion.attributeNames).toEqual(Object.keys(claims));
    expect(assertion.attributes.get('http://schemas.microsoft.com/ws/2008/06/identity/claims/groups')).toEqual(['3f2a-admins', '9b1c-staff']);
    expect(assertion.attributes.get('http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress')).toEqual(['ada@acme.com']);
  });

  it('treats attribute names such as __proto__ and constructor as plain data', async () => {
    const xml = signedXml(idp, { attributes: { ['__proto__']: ['polluted'], constructor: 'x', toString: 'y' } as Record<string, string | string[]> });

    const assertion = await validate(idp, xml);

    expect(assertion.attributes.get('__proto__')).toEqual(['polluted']);
    expect(assertion.attributes.get('constructor')).toEqual(['x']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('returns no attributes when the assertion has no AttributeStatement', async () => {
    const xml = signedXml(idp, { attributes: {} });

    const assertion = await validate(idp, xml);

    expect(assertion.attributes.size).toBe(0);
    expect(assertion.attributeNames).toEqual([]);
  });
});

describe('validateSamlResponse during a certificate rollover', () => {
  it('accepts a response signed by the second configured certificate without KeyInfo', async () => {
    const xml = signLoginResponseXml(unsignedXml(nextIdp), nextIdp, 'assertion', { includeKeyInfo: false });

    const assertion = await validate(idp, xml, { idp: { entityId: IDP_ENTITY_ID, certificates: [idp.certificatePem, nextIdp.certificatePem] } });

    expect(assertion.nameId).toBe('ada@acme.com');
  });

  it('accepts a response signed by the second configured certificate named in KeyInfo', async () => {
    const xml = signLoginResponseXml(unsignedXml(nextIdp), nextIdp, 'assertion');

    const assertion = await validate(idp, xml, { idp: { entityId: IDP_ENTITY_ID, certificates: [idp.certificatePem, nextIdp.certificatePem] } });

    expect(assertion.nameId).toBe('ada@acme.com');
  });
});

describe('maxSamlResponseBytes', () => {
  it('is 256 KiB', () => {
    expect(maxSamlResponseBytes()).toBe(256 * 1024);
    expect(MAX_SAML_RESPONSE_BYTES).toBe(256 * 1024);
  });
});
