/**
 * The attacks a hand-rolled XML-DSig reference lookup invites (issue 12), posted through
 * the local API Gateway adapter to the real ACS on DynamoDB Local. Mallory holds a
 * genuinely signed response for her own account, or is a hostile IdP signing with the
 * org's real key in shapes a friendly IdP never sends. Each must be refused with its code,
 * audited, and sign nobody in: not the victim, not Mallory.
 */
import { SignedXml } from 'xml-crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildLoginResponseXml, createSamlIdpKeys, encodeSamlResponse, signLoginResponseXml, type LoginResponseInput, type SamlIdpKeys } from '../../local/saml-idp.js';
import { assertionOf, replaceOnce, withoutSignature } from '../support/saml-edits.js';
import { createSamlOrg, postAcs, sessionCookieOf, startTestService, type SamlOrg, type TestService } from '../support/service.js';

const VICTIM = 'ceo@acme.test';
const MALLORY = 'mallory@acme.test';
const RSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';
const SHA256 = 'http://www.w3.org/2001/04/xmlenc#sha256';
const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
const ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';
const RESPONSE_XPATH = "/*[local-name(.)='Response']";
const ASSERTION_XPATH = `${RESPONSE_XPATH}/*[local-name(.)='Assertion']`;

let service: TestService;
let idp: SamlIdpKeys;
let org: SamlOrg;

beforeAll(async () => {
  service = await startTestService();
  idp = await createSamlIdpKeys('https://idp.acme.test/metadata');
  org = await createSamlOrg(service, { idp });
});
afterAll(() => service?.close());
// A minute apart: no unsigned attempt folds into the audit event of an earlier one.
beforeEach(() => service.clock.advance(60_000));

const xmlFor = (overrides: Partial<LoginResponseInput> = {}) =>
  buildLoginResponseXml({ idp, spEntityId: org.urls.spEntityId, acsUrl: org.urls.acsUrl, nameId: MALLORY, attributes: { groups: 'Admins' }, now: service.clock.now(), ...overrides });
const mallorysResponse = () => signLoginResponseXml(xmlFor(), idp, 'assertion');
const victimAssertion = () => withoutSignature(assertionOf(xmlFor({ nameId: VICTIM })));
const idOf = (fragment: string) => / ID="([^"]+)"/.exec(fragment)![1]!;
const afterResponseIssuer = (xml: string, insert: string) => xml.replace(/(<samlp:Response[^>]*><saml:Issuer>[^<]*<\/saml:Issuer>)/, `$1${insert}`);

/** A signature by the org's real key over `xpath`, placed after `after`: the hostile-IdP signer. */
function hostileSign(xml: string, xpath: string, after: string, isEmptyUri = false): string {
  const signer = new SignedXml({ privateKey: idp.privateKeyPem, publicCert: idp.certificatePem, signatureAlgorithm: RSA_SHA256, canonicalizationAlgorithm: EXC_C14N });
  signer.addReference({ xpath, transforms: [ENVELOPED, EXC_C14N], digestAlgorithm: SHA256, isEmptyUri });
  signer.computeSignature(xml, { prefix: 'ds', location: { reference: after, action: 'after' } });
  return signer.getSignedXml();
}

const attacks: { name: string; code: string; xml: () => string }[] = [
  {
    name: "duplicate IDs: a decoy beside the signed assertion carries its ID",
    code: 'SAML_MALFORMED',
    xml: () => {
      const xml = mallorysResponse();
      return afterResponseIssuer(xml, `<samlp:Extensions><x:Decoy xmlns:x="urn:x" ID="${idOf(assertionOf(xml))}"/></samlp:Extensions>`);
    },
  },
  {
    name: "an ID attribute in another namespace: the victim's assertion carries the signed ID as x:ID, the signed one moved aside",
    code: 'SAML_MALFORMED',
    xml: () => {
      const xml = mallorysResponse();
      const signed = assertionOf(xml);
      const evil = victimAssertion().replace(/ ID="[^"]+"/, ` ID="_evil" xmlns:x="urn:x" x:ID="${idOf(signed)}"`);
      return afterResponseIssuer(replaceOnce(xml, signed, evil), `<samlp:Extensions>${signed}</samlp:Extensions>`);
    },
  },
  {
    name: "an ID attribute in another namespace: the signed assertion's ID moved to x:ID",
    code: 'SIGNATURE_INVALID',
    xml: () => {
      const xml = mallorysResponse();
      const id = idOf(assertionOf(xml));
      return replaceOnce(xml, ` ID="${id}" Version="2.0"`, ` xmlns:x="urn:x" x:ID="${id}" Version="2.0"`);
    },
  },
  {
    name: 'a Reference URI="" (the whole document) genuinely signed by the IdP key, on the assertion',
    code: 'SIGNATURE_INVALID',
    xml: () => hostileSign(xmlFor({ nameId: VICTIM }), ASSERTION_XPATH, `${ASSERTION_XPATH}/*[local-name(.)='Issuer']`, true),
  },
  {
    name: 'a Response signature over an inner element (Status) while the Assertion beside it is read',
    code: 'SIGNATURE_INVALID',
    xml: () => hostileSign(xmlFor({ nameId: VICTIM }).replace('<samlp:Status>', '<samlp:Status ID="_status">'), `${RESPONSE_XPATH}/*[local-name(.)='Status']`, `${RESPONSE_XPATH}/*[local-name(.)='Issuer']`),
  },
  {
    name: "Mallory's signed Response nested in an attacker Response whose own Assertion names the victim",
    code: 'SAML_MALFORMED',
    xml: () => afterResponseIssuer(xmlFor({ nameId: VICTIM }), `<samlp:Extensions>${signLoginResponseXml(xmlFor(), idp, 'response')}</samlp:Extensions>`),
  },
  {
    name: "the signed assertion moved into an unsigned Advice of the victim's assertion",
    code: 'SAML_MALFORMED',
    xml: () => {
      const xml = mallorysResponse();
      const signed = assertionOf(xml);
      return replaceOnce(xml, signed, victimAssertion().replace('<saml:Conditions', `<saml:Advice>${signed}</saml:Advice><saml:Conditions`));
    },
  },
];

describe('the ACS refuses the attacks a hand-rolled reference lookup invites', () => {
  it.each(attacks)('refuses $name with $code and signs nobody in', async ({ xml, code }) => {
    const response = await postAcs(service, org.orgId, { SAMLResponse: encodeSamlResponse(xml()) });

    const body = (await response.json()) as { error: { code: string } };
    expect({ status: response.status, code: body.error.code }).toEqual({ status: code === 'SAML_MALFORMED' ? 400 : 401, code });
    expect(sessionCookieOf(response)).toBeUndefined();
    const emails = (await service.rt.users.list(org.orgId, { limit: 100 })).items.map((user) => user.email);
    expect(emails).not.toContain(VICTIM);
    expect(emails).not.toContain(MALLORY);
    const { items } = await service.rt.audit.list(org.orgId, { type: 'login.failed', limit: 1 });
    expect(items[0]?.code).toBe(code);
  });

  it("still signs Mallory's untouched response in as Mallory", async () => {
    const response = await postAcs(service, org.orgId, { SAMLResponse: encodeSamlResponse(mallorysResponse()) });

    expect(response.status).toBe(302);
    expect((await service.rt.users.list(org.orgId, { limit: 100 })).items.map((user) => user.email)).toContain(MALLORY);
  });
});
