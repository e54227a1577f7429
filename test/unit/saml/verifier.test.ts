/**
 * The XML-DSig verifier (shared/saml/signature.ts) on the guard's DOM: the attacks a
 * hand-rolled reference lookup invites, each refused by the whole validation and, where
 * the structural guard would stop it first, by the verifier alone too (defence in depth).
 * Hostile-IdP cases are signed for real with the configured key, so only the rule under
 * test can refuse them.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { SignedXml } from 'xml-crypto';
import { createSamlIdpKeys, type SamlIdpKeys } from '../../../local/saml-idp.js';
import { trustedKeys } from '../../../shared/saml/idp-keys.js';
import { SignatureRefused, canonicalize, indexIds, verifyEnvelopedSignature } from '../../../shared/saml/signature.js';
import { NS, childElements, parseXmlSafely } from '../../../shared/saml/xml.js';
import { assertionOf, certificateBody, signatureOf, withoutSignature } from '../../support/saml-edits.js';
import { IDP_ENTITY_ID, expectRefusal, replaceOnce, signedXml, unsignedXml, validate } from './fixtures.js';

const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
const EXC_C14N_WITH_COMMENTS = 'http://www.w3.org/2001/10/xml-exc-c14n#WithComments';
const C14N = 'http://www.w3.org/TR/2001/REC-xml-c14n-20010315';
const ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';
const RSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';
const ECDSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256';
const SHA256 = 'http://www.w3.org/2001/04/xmlenc#sha256';
const RESPONSE_XPATH = "/*[local-name(.)='Response']";
const ASSERTION_XPATH = `${RESPONSE_XPATH}/*[local-name(.)='Assertion']`;

let idp: SamlIdpKeys;
let attacker: SamlIdpKeys;

beforeAll(async () => {
  [idp, attacker] = await Promise.all([createSamlIdpKeys(IDP_ENTITY_ID), createSamlIdpKeys(IDP_ENTITY_ID)]);
});

const idOf = (fragment: string): string => / ID="([^"]+)"/.exec(fragment)![1]!;
const afterResponseIssuer = (xml: string, insert: string): string => xml.replace(/(<samlp:Response[^>]*><saml:Issuer>[^<]*<\/saml:Issuer>)/, `$1${insert}`);

interface HostileSignOptions {
  xpath?: string;
  transforms?: string[];
  canonicalization?: string;
  signatureAlgorithm?: string;
  inclusivePrefixes?: string[];
  objects?: { content: string }[];
  isEmptyUri?: boolean;
  /** XPath of the element the Signature goes after (default: the signed element's Issuer). */
  after?: string;
}

/** A real signature by `keys` (the configured IdP key unless told) in shapes a friendly IdP never sends. */
function hostileSign(xml: string, options: HostileSignOptions = {}, keys = idp): string {
  const xpath = options.xpath ?? ASSERTION_XPATH;
  const signer = new SignedXml({
    privateKey: keys.privateKeyPem,
    publicCert: keys.certificatePem,
    signatureAlgorithm: options.signatureAlgorithm ?? RSA_SHA256,
    canonicalizationAlgorithm: options.canonicalization ?? EXC_C14N,
    ...(options.objects ? { objects: options.objects } : {}),
  });
  signer.addReference({
    xpath,
    transforms: options.transforms ?? [ENVELOPED, EXC_C14N],
    digestAlgorithm: SHA256,
    isEmptyUri: options.isEmptyUri ?? false,
    ...(options.inclusivePrefixes ? { inclusiveNamespacesPrefixList: options.inclusivePrefixes } : {}),
  });
  signer.computeSignature(xml, { prefix: 'ds', location: { reference: options.after ?? `${xpath}/*[local-name(.)='Issuer']`, action: 'after' } });
  return signer.getSignedXml();
}

/** The verifier alone on a document the guard never vetted: the signature inside `signedPath` elements. */
function verifyAlone(xml: string, pick: (root: ReturnType<typeof parseXmlSafely>['documentElement'] & object) => { signed: unknown; signature: unknown }) {
  const doc = parseXmlSafely(xml);
  const { signed, signature } = pick(doc.documentElement!);
  return verifyEnvelopedSignature(signed as never, signature as never, indexIds(doc), trustedKeys([idp.certificatePem]));
}

function refusedAlone(run: () => unknown): SignatureRefused {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(SignatureRefused);
    return error as SignatureRefused;
  }
  return expect.fail('the verifier accepted it');
}

const assertionElement = (root: { childNodes: unknown }) => childElements(root as never, NS.assertion, 'Assertion')[0]!;
const signatureIn = (element: unknown) => childElements(element as never, NS.dsig, 'Signature')[0]!;

describe('the verifier accepts what real IdPs send', () => {
  it('verifies an assertion signed with an InclusiveNamespaces PrefixList (Okta, Shibboleth)', async () => {
    const xml = hostileSign(unsignedXml(idp), { inclusivePrefixes: ['xs', 'xsi'] });
    expect(xml).toContain('PrefixList="xs xsi"');

    const assertion = await validate(idp, xml);

    expect(assertion.nameId).toBe('ada@acme.com');
  });

  it('canonicalizes with inherited inclusive prefixes without leaving them on the DOM later checks read', () => {
    const doc = parseXmlSafely('<r xmlns:xs="urn:xs" xmlns:x="urn:x"><x:a ID="_1"><x:b/></x:a></r>');
    const element = childElements(doc.documentElement!)[0]!;
    const before = element.toString();

    const canonical = canonicalize(element, ['xs']);

    expect(canonical).toBe('<x:a xmlns:x="urn:x" xmlns:xs="urn:xs" ID="_1"><x:b></x:b></x:a>');
    expect(element.toString()).toBe(before);
  });

  it('refuses a PrefixList-signed assertion whose inherited xs binding was changed on the unsigned Response', async () => {
    // Move xs to the Response, sign with xs included, then rebind it on the envelope.
    const moved = unsignedXml(idp).replace(' xmlns:xs="http://www.w3.org/2001/XMLSchema"', '').replace('<samlp:Response ', '<samlp:Response xmlns:xs="http://www.w3.org/2001/XMLSchema" ');
    const signed = hostileSign(moved, { inclusivePrefixes: ['xs'] });
    await validate(idp, signed);

    const rebound = replaceOnce(signed, '<samlp:Response xmlns:xs="http://www.w3.org/2001/XMLSchema" ', '<samlp:Response xmlns:xs="urn:evil" ');

    const error = await expectRefusal(validate(idp, rebound), 'SIGNATURE_INVALID');
    expect(error.details.reason).toMatch(/digest/);
  });

  it('verifies a signature whose base64 values are wrapped over several lines', async () => {
    const xml = signedXml(idp).replace(/<ds:SignatureValue>([^<]+)</, (_m, value: string) => `<ds:SignatureValue>\n${value.replace(/.{64}/g, '$&\n')}\n<`);

    await expect(validate(idp, xml)).resolves.toMatchObject({ nameId: 'ada@acme.com' });
  });

  it("ignores KeyInfo: a genuine signature whose KeyInfo names the attacker's certificate still signs in only the signed identity", async () => {
    const xml = replaceOnce(signedXml(idp), certificateBody(idp.certificatePem), certificateBody(attacker.certificatePem));

    const assertion = await validate(idp, xml);

    expect(assertion.nameId).toBe('ada@acme.com');
  });

  it('verifies with the second configured certificate during a rollover, whatever KeyInfo says', async () => {
    const xml = replaceOnce(signedXml(idp), certificateBody(idp.certificatePem), certificateBody(attacker.certificatePem));

    await expect(validate(idp, xml, { idp: { entityId: IDP_ENTITY_ID, certificates: [attacker.certificatePem, idp.certificatePem] } })).resolves.toMatchObject({
      nameId: 'ada@acme.com',
    });
  });
});

describe('IDs: the Reference resolves by the verified ID, to its only carrier', () => {
  it('refuses a document where another element carries the signed assertion ID', async () => {
    const xml = signedXml(idp);
    const id = idOf(assertionOf(xml));
    const wrapped = afterResponseIssuer(xml, `<samlp:Extensions><x:Decoy xmlns:x="urn:x" ID="${id}"/></samlp:Extensions>`);

    const error = await expectRefusal(validate(idp, wrapped), 'SAML_MALFORMED');
    expect(error.details.reason).toMatch(/same ID/);
  });

  it('refuses, in the verifier alone, a signed element whose ID another element also carries', () => {
    const xml = signedXml(idp);
    const duplicated = afterResponseIssuer(xml, `<samlp:Extensions><x:Decoy xmlns:x="urn:x" ID="${idOf(assertionOf(xml))}"/></samlp:Extensions>`);

    const refused = refusedAlone(() => verifyAlone(duplicated, (root) => ({ signed: assertionElement(root), signature: signatureIn(assertionElement(root)) })));

    expect(refused.reason).toBe('signed element is not the only one with its ID');
  });

  it('refuses the signed ID carried by an attribute in another namespace elsewhere (x:ID, xml:id, wsu:Id)', async () => {
    const xml = signedXml(idp);
    const id = idOf(assertionOf(xml));
    for (const attribute of [`x:ID="${id}"`, `xml:id="${id}"`, `x:Id="${id}"`]) {
      const wrapped = afterResponseIssuer(xml, `<samlp:Extensions><x:Decoy xmlns:x="urn:x" ${attribute}/></samlp:Extensions>`);
      await expectRefusal(validate(idp, wrapped), 'SAML_MALFORMED');
      const refused = refusedAlone(() => verifyAlone(wrapped, (root) => ({ signed: assertionElement(root), signature: signatureIn(assertionElement(root)) })));
      expect(refused.reason).toBe('signed element is not the only one with its ID');
    }
  });

  it('refuses an assertion whose ID moved to an attribute in another namespace (the Reference names no SAML ID)', async () => {
    const xml = signedXml(idp);
    const id = idOf(assertionOf(xml));
    const moved = replaceOnce(xml, ` ID="${id}" Version="2.0"`, ` xmlns:x="urn:x" x:ID="${id}" Version="2.0"`);

    const error = await expectRefusal(validate(idp, moved), 'SIGNATURE_INVALID');
    expect(error.details.reason).toMatch(/reference/);
  });

  it('refuses an empty ID referenced as URI="#"', async () => {
    const xml = signedXml(idp);
    const id = idOf(assertionOf(xml));
    const emptied = replaceOnce(replaceOnce(xml, ` ID="${id}" Version="2.0"`, ' ID="" Version="2.0"'), `URI="#${id}"`, 'URI="#"');

    await expectRefusal(validate(idp, emptied), 'SIGNATURE_INVALID');
  });
});

describe('the Reference must be the signed element itself', () => {
  it('refuses a genuinely signed Reference URI="" (whole document) in the verifier alone', () => {
    const xml = hostileSign(unsignedXml(idp), { isEmptyUri: true });
    expect(xml).toContain('URI=""');

    const refused = refusedAlone(() => verifyAlone(xml, (root) => ({ signed: assertionElement(root), signature: signatureIn(assertionElement(root)) })));

    expect(refused.reason).toBe('signature reference is not its parent element');
  });

  it.each(["#xpointer(/)", "#xpointer(id('ID'))"])('refuses an XPointer Reference URI %s', async (uri) => {
    const xml = signedXml(idp);
    const pointed = replaceOnce(xml, /URI="#[^"]+"/, `URI="${uri.replace('ID', idOf(assertionOf(xml)))}"`);

    await expectRefusal(validate(idp, pointed), 'SIGNATURE_INVALID');
  });

  it("refuses an assertion Signature whose Reference names the Response (a signature over an ancestor)", async () => {
    // A genuine signature over the Response, placed inside the Assertion by the hostile IdP.
    const moved = hostileSign(unsignedXml(idp), { xpath: RESPONSE_XPATH, after: `${ASSERTION_XPATH}/*[local-name(.)='Issuer']` });
    expect(signatureOf(assertionOf(moved))).toContain(`URI="#${idOf(moved)}"`);

    const error = await expectRefusal(validate(idp, moved), 'SIGNATURE_INVALID');
    expect(error.details.reason).toMatch(/reference/);
  });

  it("refuses a Response signature whose Reference names an inner element while the Assertion beside it is read", async () => {
    // A hostile IdP signs only the Status (given an ID), and places the signature on the Response.
    const xml = unsignedXml(idp, { nameId: 'mallory@evil.com' }).replace('<samlp:Status>', '<samlp:Status ID="_status">');
    const onResponse = hostileSign(xml, { xpath: `${RESPONSE_XPATH}/*[local-name(.)='Status']`, after: `${RESPONSE_XPATH}/*[local-name(.)='Issuer']` });
    expect(onResponse).toContain('URI="#_status"');

    const error = await expectRefusal(validate(idp, onResponse), 'SIGNATURE_INVALID');
    expect(error.details.reason).toMatch(/reference/);
  });

  it('refuses the genuinely signed Response nested in an attacker Response whose own Assertion would be read', async () => {
    const signedResponse = signedXml(idp, {}, 'response');
    const evil = afterResponseIssuer(unsignedXml(idp, { nameId: 'mallory@evil.com' }), `<samlp:Extensions>${signedResponse}</samlp:Extensions>`);

    await expectRefusal(validate(idp, evil), 'SAML_MALFORMED');
  });

  it('refuses a signed assertion moved into the Advice of an unsigned one, and the verifier alone refuses its signature for the outer one', async () => {
    const xml = signedXml(idp);
    const signed = assertionOf(xml);
    const outer = withoutSignature(assertionOf(unsignedXml(idp, { nameId: 'mallory@evil.com' }))).replace('<saml:Conditions', `<saml:Advice>${signed}</saml:Advice><saml:Conditions`);
    const moved = replaceOnce(xml, signed, outer);

    await expectRefusal(validate(idp, moved), 'SAML_MALFORMED');
    const refused = refusedAlone(() =>
      verifyAlone(moved, (root) => {
        const outerAssertion = assertionElement(root);
        const advice = childElements(outerAssertion, NS.assertion, 'Advice')[0]!;
        return { signed: outerAssertion, signature: signatureIn(assertionElement(advice)) };
      }),
    );
    expect(refused.reason).toBe('signature reference is not its parent element');
  });
});

describe('exactly one enveloped Signature, exclusive c14n, the allowlist, no Object', () => {
  it.each([
    { name: 'exclusive c14n only (no enveloped-signature)', transforms: [EXC_C14N] },
    { name: 'enveloped-signature then inclusive c14n', transforms: [ENVELOPED, C14N] },
    { name: 'the two transforms reversed', transforms: [EXC_C14N, ENVELOPED] },
    { name: 'enveloped, exclusive c14n with comments', transforms: [ENVELOPED, EXC_C14N_WITH_COMMENTS] },
    { name: 'a third transform', transforms: [ENVELOPED, EXC_C14N, EXC_C14N] },
  ])('refuses a genuine signature whose Reference has $name', async ({ transforms }) => {
    const xml = hostileSign(unsignedXml(idp), { transforms });

    const error = await expectRefusal(validate(idp, xml), 'SIGNATURE_INVALID');
    expect(error.details.reason).toMatch(/shape/);
  });

  it.each([C14N, EXC_C14N_WITH_COMMENTS])('refuses a genuine signature whose SignedInfo is canonicalized with %s', async (canonicalization) => {
    const xml = hostileSign(unsignedXml(idp), { canonicalization });

    const error = await expectRefusal(validate(idp, xml), 'SIGNATURE_INVALID');
    expect(error.details.reason).toMatch(/shape/);
  });

  it('refuses a genuine signature that carries an Object', async () => {
    const xml = hostileSign(unsignedXml(idp), { objects: [{ content: '<x:Note xmlns:x="urn:x">hello</x:Note>' }] });
    expect(xml).toContain('Object');

    const error = await expectRefusal(validate(idp, xml), 'SIGNATURE_INVALID');
    expect(error.details.reason).toMatch(/shape/);
  });

  it('refuses an ECDSA SignatureMethod over an RSA signature (algorithm confusion)', async () => {
    const xml = replaceOnce(signedXml(idp), RSA_SHA256, ECDSA_SHA256);

    await expectRefusal(validate(idp, xml), 'SIGNATURE_INVALID');
  });

  it('refuses an HMAC SignatureMethod', async () => {
    const xml = replaceOnce(signedXml(idp), RSA_SHA256, 'http://www.w3.org/2001/04/xmldsig-more#hmac-sha256');

    await expectRefusal(validate(idp, xml), 'ALGORITHM_NOT_ALLOWED');
  });

  it('refuses a DigestValue that is not base64', async () => {
    const xml = signedXml(idp).replace(/<ds:DigestValue>[^<]+</, '<ds:DigestValue>not*base64<');

    await expectRefusal(validate(idp, xml), 'SIGNATURE_INVALID');
  });

  it('refuses a both-signed response whose assertion signature is by another key, although the Response signature verifies', async () => {
    const byAttacker = hostileSign(unsignedXml(idp), {}, attacker);
    const xml = hostileSign(byAttacker, { xpath: RESPONSE_XPATH });

    await expectRefusal(validate(idp, xml), 'SIGNATURE_INVALID');
  });

  it('refuses in the verifier alone a second Signature on the signed element', () => {
    const xml = signedXml(idp);
    const doubled = replaceOnce(xml, signatureOf(xml), signatureOf(xml) + signatureOf(xml));

    const refused = refusedAlone(() => verifyAlone(doubled, (root) => ({ signed: assertionElement(root), signature: signatureIn(assertionElement(root)) })));

    expect(refused.reason).toMatch(/shape/);
  });
});
