/**
 * Red-team regression suite for the ACS (POST /sso/{orgId}/saml/acs): a hostile IdP, a
 * man in the browser holding a legitimately signed response for their own account, and a
 * malicious user of another org, each trying to get a session they should not have.
 *
 * Every test asserts the SAFE outcome: refused with a sensible code and no user for the
 * attacker's identity, or, when accepted, exactly the identity that was legitimately signed.
 * A test that fails here is an attack that works (see the report that came with this file).
 */
import { SignedXml } from 'xml-crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  buildLoginResponseXml,
  createSamlIdpKeys,
  encodeSamlResponse,
  NAMEID_PERSISTENT,
  signLoginResponseXml,
  type LoginResponseInput,
  type SamlIdpKeys,
  type SignMode,
  type SignOptions,
} from '../../local/saml-idp.js';
import { assertionOf, certificateBody, replaceOnce, signatureOf, withoutSignature } from '../support/saml-edits.js';
import { createSamlOrg, postAcs, sessionCookieOf, startTestService, type SamlOrg, type TestService } from '../support/service.js';

const VICTIM = 'ceo@acme.test';
const MALLORY = 'mallory@acme.test'; // a legitimate user of the org's IdP, attacking from her browser
const NAMEID_TRANSIENT = 'urn:oasis:names:tc:SAML:2.0:nameid-format:transient';
const NS_ASSERTION = 'urn:oasis:names:tc:SAML:2.0:assertion';
const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
const ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';
const RSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';
const SHA256 = 'http://www.w3.org/2001/04/xmlenc#sha256';

let service: TestService;
let idp: SamlIdpKeys;
let forger: SamlIdpKeys;
let otherIdp: SamlIdpKeys;
let org: SamlOrg;
let otherOrg: SamlOrg;

beforeAll(async () => {
  service = await startTestService();
  // The forger claims the real IdP's entity ID: only the key tells them apart.
  [idp, forger, otherIdp] = await Promise.all([
    createSamlIdpKeys('https://idp.acme.test/metadata'),
    createSamlIdpKeys('https://idp.acme.test/metadata'),
    createSamlIdpKeys('https://idp.other.test/metadata'),
  ]);
  // Two orgs that trust the very same IdP (entity ID and certificate).
  [org, otherOrg] = [await createSamlOrg(service, { idp }), await createSamlOrg(service, { idp })];
});
afterAll(() => service?.close());
// Audit events sort by time, and the settings cache follows the test clock. A minute
// apart, no unsigned attack folds into the event of an earlier one (60 s window).
beforeEach(() => service.clock.advance(60_000));

// ---------------------------------------------------------------------------------------
// helpers

function xmlFor(target: SamlOrg, overrides: Partial<LoginResponseInput> = {}): string {
  return buildLoginResponseXml({
    idp: target.idp,
    spEntityId: target.urls.spEntityId,
    acsUrl: target.urls.acsUrl,
    nameId: MALLORY,
    attributes: { groups: 'Admins' },
    now: service.clock.now(),
    ...overrides,
  });
}

const sign = (xml: string, mode: SignMode = 'assertion', options: SignOptions = {}, keys = idp) => signLoginResponseXml(xml, keys, mode, options);
/** What Mallory legitimately holds: a signed response for her own account. */
const mallorysResponse = (mode: SignMode = 'assertion', overrides: Partial<LoginResponseInput> = {}) => sign(xmlFor(org, overrides), mode);
/** An unsigned assertion that names the victim (what she would like the SP to read). */
const victimAssertion = () => withoutSignature(assertionOf(xmlFor(org, { nameId: VICTIM })));
/** Inserts `insert` right after the Response's own Issuer (where samlp:Extensions and a Response Signature go). */
function afterResponseIssuer(xml: string, insert: string): string {
  const head = /^<samlp:Response[^>]*><saml:Issuer>[^<]*<\/saml:Issuer>/.exec(xml);
  expect(head).not.toBeNull();
  return head![0] + insert + xml.slice(head![0].length);
}
const assertionIdOf = (xml: string) => /<saml:Assertion[^>]*\sID="([^"]+)"/.exec(xml)![1]!;
const responseIdOf = (xml: string) => /<samlp:Response[^>]*\sID="([^"]+)"/.exec(xml)![1]!;

function post(xml: string, target: SamlOrg = org, extra: Record<string, string> = {}, headers?: Record<string, string>) {
  return postAcs(service, target.orgId, { SAMLResponse: encodeSamlResponse(xml), ...extra }, headers);
}

async function errorOf(response: Response): Promise<{ status: number; code: string; message: string }> {
  const body = (await response.json()) as { error: { code: string; message: string } };
  return { status: response.status, code: body.error.code, message: body.error.message };
}

async function emailsOf(target: SamlOrg): Promise<string[]> {
  return (await service.rt.users.list(target.orgId, { limit: 200 })).items.map((user) => user.email).sort();
}

async function lastFailure(target: SamlOrg) {
  return (await service.rt.audit.list(target.orgId, { type: 'login.failed', limit: 1 })).items[0];
}

/** GET /me with the session cookie a response set; the signed-in user. */
async function me(response: Response): Promise<{ email: string; orgId: string; id: string; assignments: unknown[] }> {
  const token = sessionCookieOf(response);
  expect(token, 'a session cookie').toBeDefined();
  const answer = await fetch(`${service.baseUrl}/me`, { headers: { cookie: `session=${token}` } });
  expect(answer.status).toBe(200);
  return (await answer.json()) as { email: string; orgId: string; id: string; assignments: unknown[] };
}

const STATUS_OF: Record<string, number> = { SAML_MALFORMED: 400, RELAY_STATE_INVALID: 400, SUBJECT_MISMATCH: 403, ROLE_NOT_MAPPED: 403, ROLE_ATTRIBUTE_MISSING: 403, EMAIL_MISSING: 403 };

/** Refused with `code`, the victim untouched, and the refusal audited under that code. */
async function expectRefused(response: Response, code: string, target: SamlOrg = org): Promise<void> {
  const error = await errorOf(response);
  expect({ status: error.status, code: error.code }).toEqual({ status: STATUS_OF[code] ?? 401, code });
  expect(error.message).not.toMatch(/<saml|-----BEGIN|at .*\.ts:/);
  expect(await emailsOf(target)).not.toContain(VICTIM);
  expect((await lastFailure(target))?.code).toBe(code);
}

/** A fresh org (its own IdP-trusting configuration) for tests that need a clean user table. */
const freshOrg = (options: Parameters<typeof createSamlOrg>[1] = {}) => createSamlOrg(service, { idp, ...options });

/** Signs `xml` with arbitrary references (xml-crypto, the real key): the hostile-IdP signer. */
function signWithReferences(xml: string, keys: SamlIdpKeys, references: { xpath: string; isEmptyUri?: boolean }[], location: string): string {
  const signer = new SignedXml({ privateKey: keys.privateKeyPem, publicCert: keys.certificatePem, signatureAlgorithm: RSA_SHA256, canonicalizationAlgorithm: EXC_C14N });
  for (const reference of references) {
    signer.addReference({ xpath: reference.xpath, transforms: [ENVELOPED, EXC_C14N], digestAlgorithm: SHA256, isEmptyUri: reference.isEmptyUri ?? false });
  }
  signer.computeSignature(xml, { prefix: 'ds', location: { reference: location, action: 'after' } });
  return signer.getSignedXml();
}
const RESPONSE_XPATH = "/*[local-name(.)='Response']";
const ASSERTION_XPATH = `${RESPONSE_XPATH}/*[local-name(.)='Assertion']`;

// ---------------------------------------------------------------------------------------

describe('signature wrapping (XSW): a man in the browser with a signed response for her own account', () => {
  const cases: { name: string; code: string; xml: () => string }[] = [
    {
      name: "the victim's assertion in samlp:Extensions beside the signed one",
      code: 'SAML_MALFORMED',
      xml: () => afterResponseIssuer(mallorysResponse(), `<samlp:Extensions>${victimAssertion()}</samlp:Extensions>`),
    },
    {
      name: "the signed assertion moved into samlp:Extensions, the victim's in its place",
      code: 'SAML_MALFORMED',
      xml: () => {
        const xml = mallorysResponse();
        const signed = assertionOf(xml);
        return afterResponseIssuer(replaceOnce(xml, signed, victimAssertion()), `<samlp:Extensions>${signed}</samlp:Extensions>`);
      },
    },
    {
      name: "the signed assertion in the Advice of the victim's assertion",
      code: 'SAML_MALFORMED',
      xml: () => {
        const xml = mallorysResponse();
        const signed = assertionOf(xml);
        const evil = victimAssertion().replace('<saml:Conditions', `<saml:Advice>${signed}</saml:Advice><saml:Conditions`);
        return replaceOnce(xml, signed, evil);
      },
    },
    {
      name: "the signed assertion inside an unknown-namespace wrapper, the victim's in its place",
      code: 'SAML_MALFORMED',
      xml: () => {
        const xml = mallorysResponse();
        const signed = assertionOf(xml);
        return replaceOnce(xml, signed, `<x:Wrapper xmlns:x="urn:evil">${signed}</x:Wrapper>${victimAssertion()}`);
      },
    },
    {
      name: "the signed assertion in a foreign-namespace element named Assertion, the victim's in SAML's",
      code: 'SAML_MALFORMED',
      xml: () => {
        const xml = mallorysResponse();
        const signed = assertionOf(xml);
        return replaceOnce(xml, signed, `${victimAssertion()}<e:Assertion xmlns:e="urn:evil">${signed}</e:Assertion>`);
      },
    },
    ...(['Id', 'id', 'xml:id'] as const).map((attribute) => ({
      name: `the victim's assertion with the signed one's ID as ${attribute} and its Signature, the original removed`,
      code: 'SIGNATURE_INVALID',
      xml: () => {
        const xml = mallorysResponse();
        const signed = assertionOf(xml);
        const evil = victimAssertion()
          .replace(/ ID="[^"]+"/, ` ID="_evil" ${attribute}="${assertionIdOf(xml)}"`)
          .replace('</saml:Issuer>', `</saml:Issuer>${signatureOf(signed)}`);
        return replaceOnce(xml, signed, evil);
      },
    })),
    {
      name: "the victim's assertion with the signed one's ID as xml:id beside the signed one (duplicate IDs)",
      code: 'SAML_MALFORMED',
      xml: () => {
        const xml = mallorysResponse();
        const evil = victimAssertion().replace(/ ID="[^"]+"/, ` ID="_evil" xml:id="${assertionIdOf(xml)}"`);
        return afterResponseIssuer(xml, `<samlp:Extensions>${evil}</samlp:Extensions>`);
      },
    },
    {
      name: "the signed assertion's ID moved to an Id attribute of the Response (reference resolves elsewhere)",
      code: 'SAML_MALFORMED',
      xml: () => {
        const xml = mallorysResponse();
        const id = assertionIdOf(xml);
        return replaceOnce(xml, /<samlp:Response /, `<samlp:Response Id="${id}" `);
      },
    },
    {
      name: "the signed assertion's Signature copied into the victim's assertion (signature over Mallory's ID)",
      code: 'SIGNATURE_INVALID',
      xml: () => {
        const xml = mallorysResponse();
        const signed = assertionOf(xml);
        const evil = victimAssertion().replace(/ ID="[^"]+"/, ` ID="${assertionIdOf(xml)}"`).replace('</saml:Issuer>', `</saml:Issuer>${signatureOf(signed)}`);
        return replaceOnce(xml, signed, evil);
      },
    },
    {
      name: "a response-signed response whose Reference still names the Response while the victim's assertion sits inside",
      code: 'SIGNATURE_INVALID',
      xml: () => {
        const xml = mallorysResponse('response');
        return replaceOnce(xml, assertionOf(xml), victimAssertion());
      },
    },
    {
      name: "a response signature taken from Mallory's response put on a response holding the victim's assertion",
      code: 'SIGNATURE_INVALID',
      xml: () => {
        const legit = mallorysResponse('response');
        const forged = xmlFor(org, { nameId: VICTIM }).replace(/ ID="[^"]+"/, ` ID="${responseIdOf(legit)}"`);
        return afterResponseIssuer(forged, signatureOf(legit));
      },
    },
    {
      name: 'both signed, the Response signature broken by an envelope edit, the assertion swapped for an unsigned copy with a new NameID',
      code: 'SIGNATURE_INVALID',
      xml: () => replaceOnce(mallorysResponse('both'), `>${MALLORY}<`, `>${VICTIM}<`),
    },
    {
      name: 'both signed, the Response envelope edited after signing (falls back to the assertion signature)',
      code: 'SIGNATURE_INVALID',
      xml: () => replaceOnce(mallorysResponse('both'), /<samlp:Response /, '<samlp:Response Consent="urn:oasis:names:tc:SAML:2.0:consent:obtained" '),
    },
    {
      name: 'a Signature placed in samlp:Extensions',
      code: 'SAML_MALFORMED',
      xml: () => {
        const xml = mallorysResponse();
        return afterResponseIssuer(xml, `<samlp:Extensions>${signatureOf(xml)}</samlp:Extensions>`);
      },
    },
    {
      name: 'a second Signature on the assertion',
      code: 'SAML_MALFORMED',
      xml: () => {
        const xml = mallorysResponse();
        return replaceOnce(xml, signatureOf(xml), signatureOf(xml) + signatureOf(xml));
      },
    },
    {
      name: 'a Signature in a foreign namespace where the real one was',
      code: 'SAML_MALFORMED',
      xml: () => {
        const xml = mallorysResponse();
        return replaceOnce(xml, signatureOf(xml), signatureOf(xml).replace('<ds:Signature ', '<ds:Signature xmlns:ds="urn:evil" ').replace(/xmlns:ds="http:\/\/www.w3.org\/2000\/09\/xmldsig#"/, ''));
      },
    },
    {
      name: 'an XPath transform added to the Reference',
      code: 'SIGNATURE_INVALID',
      xml: () =>
        replaceOnce(
          mallorysResponse(),
          '<ds:Transforms>',
          '<ds:Transforms><ds:Transform Algorithm="http://www.w3.org/TR/1999/REC-xpath-19991116"><ds:XPath>not(ancestor-or-self::saml:NameID)</ds:XPath></ds:Transform>',
        ),
    },
    {
      name: 'an XSLT transform added to the Reference',
      code: 'SIGNATURE_INVALID',
      xml: () => replaceOnce(mallorysResponse(), '<ds:Transforms>', '<ds:Transforms><ds:Transform Algorithm="http://www.w3.org/TR/1999/REC-xslt-19991116"/>'),
    },
    {
      name: 'the Reference URI emptied (whole-document reference)',
      code: 'SIGNATURE_INVALID',
      xml: () => replaceOnce(mallorysResponse(), /<ds:Reference URI="[^"]+"/, '<ds:Reference URI=""'),
    },
    {
      name: "the victim's assertion signed by a forger whose KeyInfo names the configured certificate",
      code: 'SIGNATURE_INVALID',
      xml: () => {
        const xml = sign(xmlFor(org, { nameId: VICTIM }), 'both', {}, forger);
        expect(xml).toContain(certificateBody(forger.certificatePem));
        return xml.replaceAll(certificateBody(forger.certificatePem), certificateBody(idp.certificatePem));
      },
    },
    {
      name: "the victim's assertion signed by another org's genuine IdP",
      code: 'SIGNATURE_INVALID',
      xml: () => sign(xmlFor(org, { nameId: VICTIM }), 'assertion', {}, { ...otherIdp, entityId: idp.entityId }),
    },
    {
      name: "the SAML assertion namespace redefined on the Response (Assertion in a foreign namespace)",
      code: 'SAML_MALFORMED',
      xml: () => {
        const xml = mallorysResponse();
        const head = /^<samlp:Response[^>]*>/.exec(xml)![0];
        return replaceOnce(xml, head, head.replace(`xmlns:saml="${NS_ASSERTION}"`, 'xmlns:saml="urn:evil"'));
      },
    },
    {
      name: 'the saml prefix redeclared on the signed Subject (different namespace for the NameID)',
      code: 'SIGNATURE_INVALID',
      xml: () => replaceOnce(mallorysResponse(), '<saml:Subject>', '<saml:Subject xmlns:saml="urn:evil">'),
    },
    {
      name: "an EncryptedID added beside the signed NameID",
      code: 'SAML_MALFORMED',
      xml: () => sign(xmlFor(org).replace('<saml:SubjectConfirmation ', '<saml:EncryptedID><x:EncryptedData xmlns:x="http://www.w3.org/2001/04/xmlenc#"/></saml:EncryptedID><saml:SubjectConfirmation ')),
    },
  ];

  it.each(cases)('refuses $name ($code)', async ({ xml, code }) => {
    const response = await post(xml());
    await expectRefused(response, code);
  });
});

describe('a hostile IdP signing unusual but validly signed content for its own org', () => {
  it('refuses a signature with two References (Response and Assertion)', async () => {
    const xml = signWithReferences(xmlFor(org, { nameId: VICTIM }), idp, [{ xpath: RESPONSE_XPATH }, { xpath: ASSERTION_XPATH }], `${RESPONSE_XPATH}/*[local-name(.)='Issuer']`);
    await expectRefused(await post(xml), 'SIGNATURE_INVALID');
  });

  it('refuses a genuinely signed whole-document reference (URI="")', async () => {
    const xml = signWithReferences(xmlFor(org, { nameId: VICTIM }), idp, [{ xpath: RESPONSE_XPATH, isEmptyUri: true }], `${RESPONSE_XPATH}/*[local-name(.)='Issuer']`);
    expect(xml).toContain('URI=""');
    await expectRefused(await post(xml), 'SIGNATURE_INVALID');
  });

  it('refuses a signed response whose assertion Issuer is another entity', async () => {
    const xml = xmlFor(org, { nameId: VICTIM });
    const edited = xml.replace(/(<saml:Assertion[^>]*><saml:Issuer>)[^<]*/, '$1https://idp.other.test/metadata');
    expect(edited).toContain('<saml:Issuer>https://idp.other.test/metadata</saml:Issuer>');
    await expectRefused(await post(sign(edited, 'both')), 'IDP_ISSUER_MISMATCH');
  });

  it('refuses an Issuer padded with whitespace (no lenient issuer comparison)', async () => {
    const xml = xmlFor(org, { nameId: VICTIM }).replaceAll(`<saml:Issuer>${idp.entityId}</saml:Issuer>`, `<saml:Issuer> ${idp.entityId} </saml:Issuer>`);
    await expectRefused(await post(sign(xml, 'both')), 'IDP_ISSUER_MISMATCH');
  });

  it('accepts an Issuer with the entity Format and signs in exactly the signed NameID', async () => {
    const target = await freshOrg();
    const xml = xmlFor(target, { nameId: 'ada@acme.test' }).replaceAll('<saml:Issuer>', '<saml:Issuer Format="urn:oasis:names:tc:SAML:2.0:nameid-format:entity">');
    const response = await post(sign(xml), target);
    expect(response.status).toBe(302);
    expect((await me(response)).email).toBe('ada@acme.test');
  });

  it('refuses the only Assertion when it is in a foreign namespace, even validly signed', async () => {
    const xml = xmlFor(org, { nameId: VICTIM });
    const assertion = assertionOf(xml);
    const foreign = assertion.replace(/<(\/?)saml:/g, '<$1e:').replace('<e:Assertion ', '<e:Assertion xmlns:e="urn:evil" ');
    await expectRefused(await post(sign(replaceOnce(xml, assertion, foreign))), 'SAML_MALFORMED');
  });

  it('accepts an assertion written in the default namespace (interop) and reads its signed NameID', async () => {
    const target = await freshOrg();
    const xml = xmlFor(target, { nameId: 'grace@acme.test' });
    const assertion = assertionOf(xml);
    const unprefixed = assertion.replace(/<(\/?)saml:/g, '<$1').replace('<Assertion ', `<Assertion xmlns="${NS_ASSERTION}" `);
    const response = await post(sign(replaceOnce(xml, assertion, unprefixed)), target);
    expect(response.status).toBe(302);
    expect((await me(response)).email).toBe('grace@acme.test');
  });

  it('refuses holder-of-key only confirmations', async () => {
    const xml = xmlFor(org, { nameId: VICTIM }).replace('cm:bearer', 'cm:holder-of-key');
    await expectRefused(await post(sign(xml)), 'SAML_MALFORMED');
  });

  it('accepts a second bearer confirmation with the right Recipient after a wrong one, as the profile allows', async () => {
    const target = await freshOrg();
    const xml = xmlFor(target, { nameId: 'lin@acme.test' });
    const confirmation = /<saml:SubjectConfirmation [\s\S]*?<\/saml:SubjectConfirmation>/.exec(xml)![0];
    const wrong = confirmation.replace(target.urls.acsUrl, org.urls.acsUrl);
    const response = await post(sign(replaceOnce(xml, confirmation, wrong + confirmation)), target);
    expect(response.status).toBe(302);
    expect((await me(response)).email).toBe('lin@acme.test');
  });

  it('refuses when every bearer confirmation names another Recipient', async () => {
    const xml = xmlFor(org, { nameId: VICTIM });
    const confirmation = /<saml:SubjectConfirmation [\s\S]*?<\/saml:SubjectConfirmation>/.exec(xml)![0];
    const wrong = confirmation.replace(org.urls.acsUrl, otherOrg.urls.acsUrl);
    await expectRefused(await post(sign(replaceOnce(xml, confirmation, wrong + wrong.replace('cm:bearer', 'cm:sender-vouches')))), 'DESTINATION_MISMATCH');
  });

  it('refuses two NameIDs in one Subject', async () => {
    const xml = xmlFor(org, { nameId: MALLORY });
    const nameId = /<saml:NameID[^>]*>[^<]*<\/saml:NameID>/.exec(xml)![0];
    await expectRefused(await post(sign(replaceOnce(xml, nameId, nameId + nameId.replace(MALLORY, VICTIM)))), 'SAML_MALFORMED');
  });

  it('refuses a NameID with markup inside', async () => {
    const xml = replaceOnce(xmlFor(org), `>${MALLORY}<`, `>ceo<x:b xmlns:x="urn:x">@acme.test</x:b><`);
    await expectRefused(await post(sign(xml)), 'SAML_MALFORMED');
  });

  it('refuses an assertion that names a Conditions window in a non-UTC form without a zone (no Z)', async () => {
    const xml = xmlFor(org, { nameId: VICTIM }).replace(/(<saml:Conditions NotBefore="[^"]+" NotOnOrAfter="[^"]+)Z"/, '$1"');
    await expectRefused(await post(sign(xml)), 'SAML_MALFORMED');
  });

  it('refuses a date-only NotOnOrAfter', async () => {
    const xml = xmlFor(org, { nameId: VICTIM }).replace(/(<saml:SubjectConfirmationData NotOnOrAfter=")[^"]+/, '$12999-01-01');
    await expectRefused(await post(sign(xml)), 'SAML_MALFORMED');
  });

  it('reads a timezone offset as the instant it is (lexically future, really expired)', async () => {
    // 10 minutes ago in UTC, written in +14:00: "looks" 13h50 ahead to a string compare.
    const past = new Date(service.clock.now().getTime() - 10 * 60_000 + 14 * 3600_000).toISOString().replace('Z', '+14:00');
    const xml = xmlFor(org, { nameId: VICTIM }).replace(/NotOnOrAfter="[^"]+"/g, `NotOnOrAfter="${past}"`);
    await expectRefused(await post(sign(xml)), 'ASSERTION_EXPIRED');
  });

  it('honours an expired SessionNotOnOrAfter', async () => {
    const past = new Date(service.clock.now().getTime() - 10 * 60_000).toISOString();
    const xml = xmlFor(org, { nameId: VICTIM }).replace('<saml:AuthnStatement ', `<saml:AuthnStatement SessionNotOnOrAfter="${past}" `);
    await expectRefused(await post(sign(xml)), 'ASSERTION_EXPIRED');
  });

  it('accepts nine fractional digits and a +hh:mm offset, and still refuses the replay of a year-9999 assertion', async () => {
    const target = await freshOrg();
    const soon = new Date(service.clock.now().getTime() + 120_000 + 2 * 3600_000).toISOString().replace(/\.\d+Z$/, '.123456789+02:00');
    const fractional = xmlFor(target, { nameId: 'frac@acme.test' }).replace(/(<saml:Conditions NotBefore="[^"]+" NotOnOrAfter=")[^"]+/, `$1${soon}`);
    const first = await post(sign(fractional), target);
    expect(first.status).toBe(302);
    expect((await me(first)).email).toBe('frac@acme.test');

    const forever = sign(xmlFor(target, { nameId: 'forever@acme.test' }).replace(/NotOnOrAfter="[^"]+"/g, 'NotOnOrAfter="9999-12-31T23:59:59Z"'));
    expect((await post(forever, target)).status).toBe(302);
    service.clock.advance(30 * 24 * 3600_000);
    await expectRefused(await post(forever, target), 'ASSERTION_REPLAYED', target);
  });

  it('keeps __proto__, constructor and toString attributes as data, and reads the email from the configured attribute', async () => {
    const target = await freshOrg();
    const xml = xmlFor(target, {
      nameId: 'opaque-1234',
      nameIdFormat: NAMEID_TRANSIENT,
      attributes: { ['__proto__']: 'polluted', constructor: 'x', toString: 'y', hasOwnProperty: 'z', emailAddress: 'proto@acme.test', groups: ['Staff', 'Admins'] },
    });
    expect(xml).toContain('Name="__proto__"');
    const response = await post(sign(xml), target);
    expect(response.status).toBe(302);
    const user = await me(response);
    expect(user.email).toBe('proto@acme.test');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('refuses a role attribute named constructor that is absent (no prototype lookup)', async () => {
    const target = await freshOrg({ provisioning: { method: 'jit', jit: { roleSource: 'idp', roleAttribute: 'constructor', onNoRoleMatch: 'deny' } } });
    const xml = xmlFor(target, { nameId: 'role@acme.test', attributes: { ['__proto__']: 'Admins' } });
    expect(xml).toContain('Name="__proto__"');
    await expectRefused(await post(sign(xml), target), 'ROLE_ATTRIBUTE_MISSING', target);
  });
});

describe('NameID and email tricks', () => {
  it('maps whitespace around and uppercase in the NameID to the same, legitimately signed user', async () => {
    const target = await freshOrg();
    const first = await post(sign(xmlFor(target, { nameId: 'Ada@Acme.Test' })), target);
    const second = await post(sign(xmlFor(target, { nameId: '  ada@acme.test\n' })), target);
    expect([first.status, second.status]).toEqual([302, 302]);
    expect((await me(first)).id).toBe((await me(second)).id);
    expect(await emailsOf(target)).toEqual(['ada@acme.test', `admin@${target.orgId}.test`].sort());
  });

  it('reads a character reference (&#64;) in a signed NameID as the character it is', async () => {
    const target = await freshOrg();
    const xml = replaceOnce(xmlFor(target, { nameId: 'bob@acme.test' }), '>bob@acme.test<', '>bob&#64;acme.test<');
    const response = await post(sign(xml), target);
    expect(response.status).toBe(302);
    expect((await me(response)).email).toBe('bob@acme.test');
  });

  it('never signs a Cyrillic homoglyph NameID in as the Latin-lettered victim', async () => {
    const target = await freshOrg();
    const victim = await post(sign(xmlFor(target, { nameId: 'ceo@acme.test' })), target);
    const homoglyph = await post(sign(xmlFor(target, { nameId: 'c\u0435o@acme.test' })), target);
    expect(homoglyph.status).toBe(302);
    expect((await me(homoglyph)).id).not.toBe((await me(victim)).id);
  });

  it('never signs a KELVIN SIGN NameID (U+212A, lowercases to ASCII "k") in as the victim', async () => {
    const target = await freshOrg();
    const victim = await post(sign(xmlFor(target, { nameId: 'kate@acme.test' })), target);
    expect(victim.status).toBe(302);
    const victimId = (await me(victim)).id;

    // A different identifier at the IdP ("\u212Aate" ≠ "kate" / "Kate" byte for byte and under ASCII case folding).
    const lookalike = await post(sign(xmlFor(target, { nameId: '\u212Aate@acme.test' })), target);
    if (lookalike.status === 302) {
      expect((await me(lookalike)).id, 'the lookalike identifier was signed in as kate@acme.test').not.toBe(victimId);
    } else {
      expect(lookalike.status).toBeGreaterThanOrEqual(400);
    }
  });

  it('never takes over a user linked to a persistent subject by presenting a transient NameID and the email attribute', async () => {
    const target = await freshOrg();
    const linked = await post(sign(xmlFor(target, { nameId: 'P-0001', nameIdFormat: NAMEID_PERSISTENT, attributes: { emailAddress: 'dana@acme.test', groups: 'Admins' } })), target);
    expect(linked.status).toBe(302);
    const persistentAgain = await post(sign(xmlFor(target, { nameId: 'P-9999', nameIdFormat: NAMEID_PERSISTENT, attributes: { emailAddress: 'dana@acme.test', groups: 'Admins' } })), target);
    expect((await errorOf(persistentAgain)).code).toBe('SUBJECT_MISMATCH');

    // Same email, same issuer, another subject: but transient, so nothing is compared.
    const transient = await post(sign(xmlFor(target, { nameId: '_t-42', nameIdFormat: NAMEID_TRANSIENT, attributes: { emailAddress: 'dana@acme.test', groups: 'Admins' } })), target);
    expect(transient.status, 'a transient NameID signed in as the persistently linked user').not.toBe(302);
    expect((await errorOf(transient)).code).toBe('SUBJECT_MISMATCH');
  });
});

describe('replay and races', () => {
  it('refuses the same signed assertion re-wrapped in a Response with a new ID', async () => {
    const target = await freshOrg();
    const xml = sign(xmlFor(target, { nameId: 'eve@acme.test' }));
    expect((await post(xml, target)).status).toBe(302);
    const rewrapped = replaceOnce(xml, ` ID="${responseIdOf(xml)}"`, ' ID="_brand-new-response-id"');
    await expectRefused(await post(rewrapped, target), 'ASSERTION_REPLAYED', target);
  });

  it.each(['new user', 'existing user'] as const)('lets exactly one of 10 concurrent posts of one response through (%s), the others ASSERTION_REPLAYED', async (kind) => {
    const target = await freshOrg();
    if (kind === 'existing user') expect((await post(sign(xmlFor(target, { nameId: 'race@acme.test' })), target)).status).toBe(302);
    const xml = sign(xmlFor(target, { nameId: 'race@acme.test' }));
    const responses = await Promise.all(Array.from({ length: 10 }, () => post(xml, target)));
    const outcomes = await Promise.all(responses.map(async (response) => (response.status === 302 ? 'OK' : (await errorOf(response)).code)));
    expect(outcomes.filter((outcome) => outcome === 'OK')).toHaveLength(1);
    expect(outcomes.filter((outcome) => outcome !== 'OK')).toEqual(Array(9).fill('ASSERTION_REPLAYED'));
    expect(await emailsOf(target)).toEqual([`admin@${target.orgId}.test`, 'race@acme.test'].sort());
  });

  it("refuses at org A an assertion the shared IdP made for org B, even with A's Destination and Recipient", async () => {
    const xml = xmlFor(otherOrg, { nameId: VICTIM }).replaceAll(otherOrg.urls.acsUrl, org.urls.acsUrl);
    await expectRefused(await post(sign(xml, 'both')), 'AUDIENCE_MISMATCH');
  });

  it("keeps a session of org B's user to org B at /me", async () => {
    const response = await post(sign(xmlFor(otherOrg, { nameId: 'bee@acme.test' })), otherOrg);
    expect(response.status).toBe(302);
    const user = await me(response);
    expect(user.orgId).toBe(otherOrg.orgId);
    expect(await emailsOf(org)).not.toContain('bee@acme.test');
  });

  it('refuses an org id spelled differently in the route (no case folding to another org)', async () => {
    const response = await post(sign(xmlFor(org, { nameId: VICTIM })), { ...org, orgId: org.orgId.toUpperCase() });
    expect(response.status).toBe(404);
    expect(await emailsOf(org)).not.toContain(VICTIM);
  });
});

describe('RelayState', () => {
  const refused = [
    '//evil.com',
    '/\\evil.com',
    '\\\\evil.com',
    '/%09/evil.com',
    '/\t/evil.com',
    '/%2F/evil.com',
    '/%2f%2fevil.com',
    '/%252F%252Fevil.com',
    '/%5c/evil.com',
    '/%5Cevil.com',
    'https://evil.com/',
    'javascript:alert(1)',
    ' /evil',
    '/x%0d%0aSet-Cookie:%20session=evil',
    '/x\r\nLocation: https://evil.com',
    '/%E0%A4%A',
    '/%2525252525252F',
    `/${'a'.repeat(3000)}`,
  ];
  it.each(refused.map((relayState, index) => ({ relayState, email: `relay-${index}@acme.test` })))(
    'refuses $relayState with 400 RELAY_STATE_INVALID and signs nobody in',
    async ({ relayState, email }) => {
      const response = await post(sign(xmlFor(org, { nameId: email })), org, { RelayState: relayState });
      expect(await errorOf(response)).toMatchObject({ status: 400, code: 'RELAY_STATE_INVALID' });
      expect(sessionCookieOf(response)).toBeUndefined();
      expect(await emailsOf(org)).not.toContain(email);
    },
  );

  const sameOrigin = ['/.//evil.com', '/\uFF0Fevil.com', '/%EF%BC%8Fevil.com', '/%2e%2e/%2e%2e/evil.com', '/@evil.com', '/a/../..//evil.com', '/%2e/%2fevil.com'];
  it.each(sameOrigin)('keeps %j on BASE_URL\'s origin if it accepts it', async (relayState) => {
    const response = await post(sign(xmlFor(org, { nameId: 'relay-ok@acme.test' })), org, { RelayState: relayState });
    if (response.status === 302) {
      const location = response.headers.get('location')!;
      expect(new URL(location).origin).toBe(new URL(service.baseUrl).origin);
      expect(location.startsWith(service.baseUrl)).toBe(true);
    } else {
      expect(await errorOf(response)).toMatchObject({ status: 400, code: 'RELAY_STATE_INVALID' });
    }
  });

  it('uses the first RelayState when several are posted, and never the later evil one', async () => {
    const target = await freshOrg();
    const body = `SAMLResponse=${encodeURIComponent(encodeSamlResponse(sign(xmlFor(target, { nameId: 'multi@acme.test' }))))}&RelayState=%2Fhome&RelayState=%2F%2Fevil.com`;
    const answer = await fetch(`${service.baseUrl}/sso/${target.orgId}/saml/acs`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body,
    });
    expect(answer.status).toBe(302);
    expect(answer.headers.get('location')).toBe(`${service.baseUrl}/home`);
  });
});

describe('body encodings', () => {
  async function raw(target: SamlOrg, body: string, contentType: string) {
    return fetch(`${service.baseUrl}/sso/${target.orgId}/saml/acs`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': contentType, accept: 'application/json' },
      body,
    });
  }

  it('accepts base64 wrapped at 76 columns (as many IdPs send it)', async () => {
    const target = await freshOrg();
    const wrapped = encodeSamlResponse(sign(xmlFor(target, { nameId: 'wrap@acme.test' }))).replace(/.{76}/g, '$&\r\n');
    const response = await postAcs(service, target.orgId, { SAMLResponse: wrapped });
    expect(response.status).toBe(302);
    expect((await me(response)).email).toBe('wrap@acme.test');
  });

  it('refuses base64url', async () => {
    let xml = sign(xmlFor(org, { nameId: VICTIM }));
    // Make sure the encoding really differs from base64.
    while (!/[+/]/.test(encodeSamlResponse(xml))) xml += ' ';
    const response = await postAcs(service, org.orgId, { SAMLResponse: Buffer.from(xml).toString('base64url') });
    await expectRefused(response, 'SAML_MALFORMED');
  });

  it('refuses a JSON body', async () => {
    const response = await raw(org, JSON.stringify({ SAMLResponse: encodeSamlResponse(sign(xmlFor(org, { nameId: VICTIM }))) }), 'application/json');
    await expectRefused(response, 'SAML_MALFORMED');
  });

  it('with several SAMLResponse fields uses the first: an edited one first is refused, never the later signed one', async () => {
    const target = await freshOrg();
    const legit = encodeSamlResponse(sign(xmlFor(target, { nameId: 'first@acme.test' })));
    const edited = encodeSamlResponse(replaceOnce(sign(xmlFor(target, { nameId: 'first@acme.test' })), '>first@acme.test<', `>${VICTIM}<`));
    const response = await raw(target, `SAMLResponse=${encodeURIComponent(edited)}&SAMLResponse=${encodeURIComponent(legit)}`, 'application/x-www-form-urlencoded');
    await expectRefused(response, 'SIGNATURE_INVALID', target);
  });

  it('a text/plain body, if read as a form, signs in only the signed identity', async () => {
    const target = await freshOrg();
    const response = await raw(target, `SAMLResponse=${encodeURIComponent(encodeSamlResponse(sign(xmlFor(target, { nameId: 'plain@acme.test' }))))}`, 'text/plain');
    if (response.status === 302) expect((await me(response)).email).toBe('plain@acme.test');
    else expect(response.status).toBeGreaterThanOrEqual(400);
    expect(await emailsOf(target)).not.toContain(VICTIM);
  });

  it('refuses a UTF-16 encoded SAMLResponse', async () => {
    const xml = sign(xmlFor(org, { nameId: VICTIM }));
    const response = await postAcs(service, org.orgId, { SAMLResponse: Buffer.from(`\uFEFF${xml}`, 'utf16le').toString('base64') });
    await expectRefused(response, 'SAML_MALFORMED');
  });
});

describe('cost of hostile documents (unauthenticated CPU)', () => {
  // What such documents cost is measured by `npm run bench`, never by a timed test. These
  // tests pin the structural bounds that keep the cost small: the guard refuses them
  // before any canonicalization or digest runs.
  /** A forged signature that references the assertion and names the configured certificate: digests are computed before any key check. */
  const forged = (xml: string) => replaceOnce(sign(xml, 'assertion', {}, forger), certificateBody(forger.certificatePem), certificateBody(idp.certificatePem));

  it('refuses a ~160 KiB assertion of 1,000 attributes under a forged signature', async () => {
    const attributes: Record<string, string> = { groups: 'Admins' };
    for (let i = 0; i < 1000; i++) attributes[`a${i}`] = 'v';
    const xml = forged(xmlFor(org, { nameId: VICTIM, attributes }));
    expect(xml.length).toBeGreaterThan(120_000);

    const response = await post(xml);

    await expectRefused(response, 'SIGNATURE_INVALID');
  });

  it('refuses 8,000 nested elements in the unsigned envelope as malformed, before any signature work', async () => {
    const depth = 8000;
    const deep = `<samlp:Extensions>${'<x:a xmlns:x="urn:x">'.repeat(1)}${'<x:a>'.repeat(depth)}${'</x:a>'.repeat(depth + 1)}</samlp:Extensions>`;
    const xml = afterResponseIssuer(mallorysResponse('assertion', { nameId: MALLORY }), deep);

    const response = await post(xml);

    await expectRefused(response, 'SAML_MALFORMED');
    expect(await emailsOf(org)).not.toContain(MALLORY);
  });

  it('refuses a forged assertion nesting 1,000 elements that each declare a namespace as malformed, before canonicalizing it', async () => {
    const depth = 1000;
    let nest = '';
    for (let i = 0; i < depth; i++) nest += `<n${i}:a xmlns:n${i}="urn:n${i}">`;
    for (let i = depth - 1; i >= 0; i--) nest += `</n${i}:a>`;
    const xml = forged(xmlFor(org, { nameId: VICTIM })).replace('<saml:AuthnStatement', `<saml:Advice>${nest}</saml:Advice><saml:AuthnStatement`);

    const response = await post(xml);

    await expectRefused(response, 'SAML_MALFORMED');
    const { items } = await service.rt.audit.list(org.orgId, { type: 'login.failed', limit: 1 });
    expect(items[0]?.details.reason).toMatch(/too many namespaces/);
  });

  it('refuses 40 levels of nesting (under the element and namespace limits) as too deep', async () => {
    const nest = `${'<x:a xmlns:x="urn:x">'}${'<x:a>'.repeat(40)}${'</x:a>'.repeat(41)}`;
    const xml = forged(xmlFor(org, { nameId: VICTIM })).replace('<saml:AuthnStatement', `<saml:Advice>${nest}</saml:Advice><saml:AuthnStatement`);

    const response = await post(xml);

    await expectRefused(response, 'SAML_MALFORMED');
    const { items } = await service.rt.audit.list(org.orgId, { type: 'login.failed', limit: 1 });
    expect(items[0]?.details.reason).toMatch(/nested too deeply/);
  });

  it('refuses 12,000 nested elements inside a forged assertion as malformed', async () => {
    const depth = 12_000;
    const nest = `<x:a xmlns:x="urn:x">${'<x:a>'.repeat(depth)}${'</x:a>'.repeat(depth + 1)}`;
    const xml = forged(xmlFor(org, { nameId: VICTIM })).replace('<saml:AuthnStatement', `<saml:Advice>${nest}</saml:Advice><saml:AuthnStatement`);

    const response = await post(xml);

    await expectRefused(response, 'SAML_MALFORMED');
  });

  it('refuses a body just over 256 KiB with 413', async () => {
    const padding = 'A'.repeat(260 * 1024);
    const response = await postAcs(service, org.orgId, { SAMLResponse: padding });
    expect(response.status).toBe(413);
  });
});

describe('what a refusal shows and records', () => {
  const htmlAccept = { accept: 'text/html' };

  it('escapes a role value full of markup on the HTML error page', async () => {
    const xml = sign(xmlFor(org, { nameId: 'xss@acme.test', attributes: { groups: '<img src=x onerror=alert(1)><script>alert(2)</script>' } }));
    const response = await post(xml, org, {}, htmlAccept);
    expect(response.status).toBe(403);
    expect(response.headers.get('content-type')).toMatch(/text\/html/);
    expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
    const page = await response.text();
    expect(page).toContain('ROLE_NOT_MAPPED');
    expect(page).not.toMatch(/<img|<script/i);
  });

  it('escapes and does not echo a RelayState with markup', async () => {
    const response = await post(sign(xmlFor(org)), org, { RelayState: '"><script>alert(1)</script>' }, htmlAccept);
    expect(response.status).toBe(400);
    const page = await response.text();
    expect(page).toContain('RELAY_STATE_INVALID');
    expect(page).not.toMatch(/<script|alert\(1\)/);
  });

  it('does not show unsigned, attacker-chosen status text on our error page (content injection)', async () => {
    // Anyone can post this: it is not signed, and IdP error responses usually are not.
    const lure = 'Your account is locked. Call +1-555-0100 and give your password to unlock it';
    const xml = xmlFor(org)
      .replace(
        /<samlp:StatusCode Value="[^"]+"\/>/,
        `<samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Responder"><samlp:StatusCode Value="${lure}"/></samlp:StatusCode><samlp:StatusMessage>${lure}</samlp:StatusMessage>`,
      )
      .replace(/<saml:Assertion[\s\S]*<\/saml:Assertion>/, '');
    const response = await post(xml, org, {}, htmlAccept);
    expect(response.status).toBe(401);
    const page = await response.text();
    expect(page).toContain('IDP_STATUS_ERROR');
    expect(page, 'the error page shows text chosen by whoever posted the unsigned response').not.toContain('Call +1-555-0100');
  });

  it('escapes markup in an unsigned status code on the HTML page', async () => {
    const xml = xmlFor(org).replace(/<samlp:StatusCode Value="[^"]+"\/>/, '<samlp:StatusCode Value="&lt;script&gt;alert(1)&lt;/script&gt;"/>');
    const response = await post(xml, org, {}, htmlAccept);
    const page = await response.text();
    expect(page).not.toMatch(/<script/i);
  });

  it('records in login.failed neither the raw response, the signature value nor a certificate', async () => {
    const xml = replaceOnce(mallorysResponse(), `>${MALLORY}<`, `>${VICTIM}<`);
    const response = await post(xml);
    await expectRefused(response, 'SIGNATURE_INVALID');
    const event = await lastFailure(org);
    const recorded = JSON.stringify(event);
    const signatureValue = /<ds:SignatureValue>([^<]+)</.exec(xml)![1]!;
    expect(recorded).not.toContain(signatureValue.slice(0, 40));
    expect(recorded).not.toContain(encodeSamlResponse(xml).slice(0, 60));
    expect(recorded).not.toContain(certificateBody(idp.certificatePem).slice(0, 60));
    expect(recorded).not.toMatch(/<saml:|<ds:/);
  });

  it('records the configured IdP, not an unsigned Issuer, as the issuer of a failed login', async () => {
    const xml = xmlFor(org)
      .replace(/<samlp:StatusCode Value="[^"]+"\/>/, '<samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Responder"/>')
      .replace(`<saml:Issuer>${idp.entityId}</saml:Issuer>`, '<saml:Issuer>https://blame-someone-else.test/idp</saml:Issuer>')
      .replace(/<saml:Assertion[\s\S]*<\/saml:Assertion>/, '');
    const response = await post(xml);
    expect((await errorOf(response)).code).toBe('IDP_STATUS_ERROR');
    const event = await lastFailure(org);
    expect(event?.code).toBe('IDP_STATUS_ERROR');
    expect(event?.actor.id).toBe(idp.entityId);
    expect((event?.details as Record<string, unknown>).issuer, 'details.issuer comes from the unsigned envelope').toBe(idp.entityId);
  });

  it.each([
    {
      name: 'a 60 KB Issuer',
      xml: () => xmlFor(org).replace(`<saml:Issuer>${idp.entityId}</saml:Issuer>`, `<saml:Issuer>https://${'i'.repeat(60_000)}</saml:Issuer>`),
    },
    {
      name: 'a 60 KB status code',
      xml: () =>
        xmlFor(org)
          .replace(/<samlp:StatusCode Value="[^"]+"\/>/, `<samlp:StatusCode Value="urn:${'s'.repeat(60_000)}"/>`)
          .replace(/<saml:Assertion[\s\S]*<\/saml:Assertion>/, ''),
    },
    {
      name: 'a 60 KB time value',
      xml: () => xmlFor(org).replace(/<samlp:Response /, `<samlp:Response NotOnOrAfter="${'9'.repeat(60_000)}" `),
    },
    {
      name: 'a 60 KB duplicated ID',
      xml: () => {
        const id = `_${'d'.repeat(60_000)}`;
        return afterResponseIssuer(xmlFor(org), `<samlp:Extensions><x:a xmlns:x="urn:x" ID="${id}"/><x:b xmlns:x="urn:x" ID="${id}"/></samlp:Extensions>`);
      },
    },
  ])('keeps the login.failed event small when an unauthenticated post carries $name', async ({ xml }) => {
    const response = await post(xml());
    expect(response.status).toBeGreaterThanOrEqual(400);
    const event = await lastFailure(org);
    expect(event).toBeDefined();
    expect(JSON.stringify(event).length, 'an unauthenticated post can write this much into the audit table').toBeLessThan(8 * 1024);
  });
});

describe('SSO switched off', () => {
  it('refuses a validly signed login at an org whose SSO is disabled', async () => {
    const target = await freshOrg({ sso: { enabled: false }, provisioning: { method: 'manual' } });
    const response = await post(sign(xmlFor(target, { nameId: target.adminEmail })), target);
    expect(await errorOf(response)).toMatchObject({ status: 403, code: 'SSO_NOT_ENABLED' });
  });
});
