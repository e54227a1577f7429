/**
 * XML-DSig verification of a SAML response's enveloped signatures, on the one DOM the
 * structural guard parsed (DESIGN.md "Decisions of 2026-12-03"). xml-crypto's exclusive
 * canonicalizer produces the octets; node:crypto digests them and checks the signature
 * with the org's configured keys (`KeyObject`s, shared/saml/idp-keys.ts).
 *
 * The one shape accepted is the one SAML IdPs produce, and nothing else:
 * - a Signature is a child of the element it signs, one per element;
 * - its SignedInfo has exclusive c14n, an allowed signature algorithm and exactly one
 *   Reference, whose URI is `#` + the `ID` of that very element;
 * - the element is found by that ID in the index of every ID-like attribute of the
 *   document (`ID`, `Id`, `id` in any namespace, `xml:id` included), and must be its only
 *   carrier: two elements with the verified ID refuse the document;
 * - the Reference's transforms are exactly enveloped-signature then exclusive c14n; its
 *   digest algorithm is allowed;
 * - `KeyInfo` is never read to choose a key (only to explain a refusal), `Object` is refused.
 *
 * What is returned is the element the verified Reference points to, found by the
 * verified ID: the caller reads values from it and from nothing else.
 */
import { constants, createHash, timingSafeEqual, verify, type KeyObject } from 'node:crypto';
import type { Element, Node } from '@xmldom/xmldom';
import { ExclusiveCanonicalization } from 'xml-crypto/lib/exclusive-canonicalization.js';
import { LoginError, type ErrorDetails } from '../errors.js';
import { digestAlgorithmsFor, signatureAlgorithmsFor, type AlgorithmPolicy } from './algorithms.js';
import type { TrustedKey } from './idp-keys.js';
import { NS, attr, certificateBody, childElements, isElement, textOnly } from './xml.js';

export const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
export const ENVELOPED_SIGNATURE = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';
const XMLNS = 'http://www.w3.org/2000/xmlns/';

/** The attribute local names (in any namespace) that XML-DSig resolvers treat as IDs. */
export const ID_ATTRIBUTE_NAMES: ReadonlySet<string> = new Set(['ID', 'Id', 'id']);

/** Every carrier of every ID-like value in a document, in document order. */
export type IdIndex = ReadonlyMap<string, readonly Element[]>;

/** Adds `element`'s ID-like attributes (any namespace) to `index`; the guard calls it on its walk. */
export function noteIds(element: Element, index: Map<string, Element[]>): void {
  const attributes = element.attributes;
  for (let i = 0; i < attributes.length; i++) {
    const attribute = attributes.item(i)!;
    if (!ID_ATTRIBUTE_NAMES.has(attribute.localName ?? attribute.name)) continue;
    const carriers = index.get(attribute.value);
    if (carriers === undefined) index.set(attribute.value, [element]);
    else if (!carriers.includes(element)) carriers.push(element);
  }
}

/** The index of a whole subtree (tests, and callers without the guard's walk). */
export function indexIds(root: Node): IdIndex {
  const index = new Map<string, Element[]>();
  const stack: Node[] = [root];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (isElement(node)) noteIds(node, index);
    for (let child = node.lastChild; child !== null; child = child.previousSibling) stack.push(child);
  }
  return index;
}

export interface SignatureAlgorithm {
  hash: string;
  keyType: 'rsa' | 'ec';
  options?: { padding?: number; saltLength?: number; dsaEncoding?: 'ieee-p1363' };
}

/** The signature algorithms of algorithms.ts's allowlist (RSA-SHA1 only under `allowSha1`), as node:crypto runs them. */
export const SIGNATURE_ALGORITHMS: ReadonlyMap<string, SignatureAlgorithm> = new Map([
  ['http://www.w3.org/2000/09/xmldsig#rsa-sha1', { hash: 'sha1', keyType: 'rsa' }],
  ['http://www.w3.org/2001/04/xmldsig-more#rsa-sha256', { hash: 'sha256', keyType: 'rsa' }],
  ['http://www.w3.org/2001/04/xmldsig-more#rsa-sha384', { hash: 'sha384', keyType: 'rsa' }],
  ['http://www.w3.org/2001/04/xmldsig-more#rsa-sha512', { hash: 'sha512', keyType: 'rsa' }],
  // XML-DSig ECDSA values are r || s (RFC 4050 / xmldsig-core1 §6.4.3), not DER.
  ['http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256', { hash: 'sha256', keyType: 'ec', options: { dsaEncoding: 'ieee-p1363' } }],
  ['http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384', { hash: 'sha384', keyType: 'ec', options: { dsaEncoding: 'ieee-p1363' } }],
  ['http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512', { hash: 'sha512', keyType: 'ec', options: { dsaEncoding: 'ieee-p1363' } }],
  // RFC 6931 §2.3.10: RSASSA-PSS, MGF1 with the same hash, salt as long as the hash.
  ['http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1', { hash: 'sha256', keyType: 'rsa', options: { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 } }],
] as [string, SignatureAlgorithm][]);

/** The digest algorithms of algorithms.ts's allowlist (SHA-1 only under `allowSha1`). */
export const DIGEST_ALGORITHMS: ReadonlyMap<string, string> = new Map([
  ['http://www.w3.org/2000/09/xmldsig#sha1', 'sha1'],
  ['http://www.w3.org/2001/04/xmlenc#sha256', 'sha256'],
  ['http://www.w3.org/2001/04/xmldsig-more#sha384', 'sha384'],
  ['http://www.w3.org/2001/04/xmlenc#sha512', 'sha512'],
]);

/** Why a signature was refused, in admin terms (`details.reason` of SIGNATURE_INVALID). */
export type SignatureFailure =
  | 'signature reference is not its parent element'
  | 'signature is not in the shape SAML signatures have'
  | 'signed element is not the only one with its ID'
  | 'digest does not match: the signed content was altered'
  | 'signed by a certificate that is not configured'
  | 'signed by an expired certificate'
  | 'signature does not verify';

export class SignatureRefused extends Error {
  constructor(
    readonly reason: SignatureFailure,
    readonly details: ErrorDetails = {},
  ) {
    super(reason);
    this.name = 'SignatureRefused';
  }
}

/** An element that is exactly the one child of `parent` in the XML-DSig namespace with this name. */
function onlyChild(parent: Element, localName: string, what: string): Element {
  const found = childElements(parent, NS.dsig, localName);
  if (found.length !== 1) throw shape(`${what} must have exactly one ${localName}`);
  return found[0]!;
}

const shape = (problem: string): SignatureRefused => new SignatureRefused('signature is not in the shape SAML signatures have', { problem });

/** The element children of `parent` must be exactly these XML-DSig names, in this order (`?` optional). */
function assertChildren(parent: Element, expected: readonly string[], what: string): void {
  const names = childElements(parent).map((child) => (child.namespaceURI === NS.dsig ? child.localName : `{${child.namespaceURI ?? ''}}${child.localName}`));
  let at = 0;
  for (const name of expected) {
    const optional = name.endsWith('?');
    const wanted = optional ? name.slice(0, -1) : name;
    if (names[at] === wanted) at += 1;
    else if (!optional) throw shape(`${what} must contain ${expected.map((n) => n.replace('?', ' (optional)')).join(', ')}; found ${names.join(', ') || 'nothing'}`);
  }
  if (at !== names.length) throw shape(`${what} contains ${names.slice(at).join(', ')}, which SAML signatures do not use`);
}

/** The PrefixList of an `ec:InclusiveNamespaces` child, if any (exclusive c14n's one parameter). */
function inclusivePrefixes(method: Element): string[] {
  const children = childElements(method);
  if (children.length === 0) return [];
  const only = children[0]!;
  if (children.length > 1 || only.namespaceURI !== EXC_C14N || only.localName !== 'InclusiveNamespaces') {
    throw shape('a canonicalization method carries something other than one InclusiveNamespaces');
  }
  return (attr(only, 'PrefixList') ?? '').split(/[ \t\r\n]+/).filter((prefix) => prefix !== '');
}

function algorithmOf(element: Element, allowed: ReadonlySet<string>, what: string): string {
  const algorithm = attr(element, 'Algorithm');
  // algorithms.ts refused anything outside the allowlists with its own message already; this is the verifier's own guarantee.
  if (algorithm === undefined || !allowed.has(algorithm)) throw shape(`${what} algorithm ${algorithm ?? '(none)'} is not allowed`);
  return algorithm;
}

/** Exclusive c14n (xml-crypto) that leaves one node out: the enveloped-signature transform, without cloning or editing the DOM. */
class ExclusiveCanonicalizationWithout extends ExclusiveCanonicalization {
  constructor(private readonly omitted: Node | undefined) {
    super();
  }

  override processInner(node: Node, prefixesInScope: unknown, defaultNs: unknown, defaultNsForPrefix: unknown, prefixes: string[]): string {
    return node === this.omitted ? '' : super.processInner(node, prefixesInScope, defaultNs, defaultNsForPrefix, prefixes);
  }
}

/** The in-scope `xmlns:p` bindings of `element`'s ancestors, nearest first wins, for the inclusive prefixes. */
function ancestorBindings(element: Element, prefixes: readonly string[]): { prefix: string; namespaceURI: string }[] {
  const found = new Map<string, string>();
  for (let node = element.parentNode; isElement(node); node = node.parentNode) {
    for (const prefix of prefixes) {
      if (!found.has(prefix) && node.hasAttributeNS(XMLNS, prefix)) found.set(prefix, node.getAttributeNS(XMLNS, prefix) ?? '');
    }
  }
  return [...found].filter(([prefix, uri]) => uri !== '' && !element.hasAttributeNS(XMLNS, prefix)).map(([prefix, namespaceURI]) => ({ prefix, namespaceURI }));
}

/**
 * Exclusive XML canonicalization of `element` (without `omitted`). xml-crypto renders the
 * inclusive prefixes declared on ancestors by declaring them on `element` for the time of
 * the call; they are removed again, so the DOM every later check reads is unchanged.
 */
export function canonicalize(element: Element, prefixes: readonly string[], omitted?: Node): string {
  const borrowed = prefixes.length === 0 ? [] : ancestorBindings(element, prefixes);
  try {
    return new ExclusiveCanonicalizationWithout(omitted).process(element as never, {
      inclusiveNamespacesPrefixList: [...prefixes],
      ancestorNamespaces: borrowed,
    }) as string;
  } finally {
    for (const { prefix } of borrowed) element.removeAttributeNS(XMLNS, prefix);
  }
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function base64Of(element: Element, what: string): Buffer {
  const text = (textOnly(element) ?? '').replace(/[ \t\r\n]+/g, '');
  if (text === '' || text.length % 4 !== 0 || !BASE64.test(text)) throw shape(`${what} is not base64`);
  return Buffer.from(text, 'base64');
}

/** Whether `signature` over `data` verifies with `key` under `algorithm` (also the HTTP-Redirect binding's detached signature). */
export function verifies(algorithm: SignatureAlgorithm, key: KeyObject, data: Buffer, signature: Buffer): boolean {
  const type = key.asymmetricKeyType;
  if (algorithm.keyType === 'rsa' ? type !== 'rsa' && type !== 'rsa-pss' : type !== algorithm.keyType) return false;
  try {
    return verify(algorithm.hash, data, algorithm.options ? { key, ...algorithm.options } : key, signature);
  } catch {
    return false;
  }
}

/**
 * Verifies the enveloped Signature that is a child of `signed` and returns the element
 * its Reference points to, found by the verified ID (it is `signed` itself).
 *
 * @param ids every carrier of every ID-like attribute of the document
 * @param keys the org's configured keys, tried in order; nothing from the message is
 * @param options `policy`: the org's algorithm policy (`allowSha1`); `now`: keys whose
 *   certificate expired before it do not verify (a signature only they verify is refused
 *   as `signed by an expired certificate`, naming it)
 * @throws SignatureRefused with the reason an admin can act on
 */
export function verifyEnvelopedSignature(
  signed: Element,
  signature: Element,
  ids: IdIndex,
  keys: readonly TrustedKey[],
  options: { policy?: AlgorithmPolicy; now?: Date } = {},
): Element {
  if (signature.parentNode !== signed || signature.namespaceURI !== NS.dsig || signature.localName !== 'Signature') {
    throw new SignatureRefused('signature reference is not its parent element', { element: signed.localName });
  }
  if (childElements(signed, NS.dsig, 'Signature').length !== 1) throw shape(`${signed.localName} carries more than one Signature`);

  // 1. The shape, and the one Reference that must name the signed element.
  assertChildren(signature, ['SignedInfo', 'SignatureValue', 'KeyInfo?'], 'Signature');
  const signedInfo = onlyChild(signature, 'SignedInfo', 'Signature');
  assertChildren(signedInfo, ['CanonicalizationMethod', 'SignatureMethod', 'Reference'], 'SignedInfo');
  const c14nMethod = onlyChild(signedInfo, 'CanonicalizationMethod', 'SignedInfo');
  if (attr(c14nMethod, 'Algorithm') !== EXC_C14N) throw shape(`SignedInfo must be canonicalized with exclusive c14n (${EXC_C14N})`);
  const signatureAlgorithm = SIGNATURE_ALGORITHMS.get(algorithmOf(onlyChild(signedInfo, 'SignatureMethod', 'SignedInfo'), signatureAlgorithmsFor(options.policy), 'signature'))!;
  const reference = onlyChild(signedInfo, 'Reference', 'SignedInfo');

  const id = attr(signed, 'ID');
  const uri = attr(reference, 'URI');
  if (id === undefined || id === '' || uri !== `#${id}`) {
    throw new SignatureRefused('signature reference is not its parent element', {
      element: signed.localName,
      expected: id === undefined ? null : `#${id}`,
      received: uri ?? null,
    });
  }
  // Found by the verified ID, never by a search: the index holds every element carrying it.
  const carriers = ids.get(id) ?? [];
  if (carriers.length !== 1 || carriers[0] !== signed) {
    throw new SignatureRefused('signed element is not the only one with its ID', { id: id.slice(0, 120), carriers: carriers.length });
  }
  const target = carriers[0];

  assertChildren(reference, ['Transforms', 'DigestMethod', 'DigestValue'], 'Reference');
  const transforms = childElements(onlyChild(reference, 'Transforms', 'Reference'));
  if (
    transforms.length !== 2 ||
    transforms.some((transform) => transform.namespaceURI !== NS.dsig || transform.localName !== 'Transform') ||
    attr(transforms[0]!, 'Algorithm') !== ENVELOPED_SIGNATURE ||
    // enveloped-signature has no parameters; xml-crypto's signer copies the c14n's InclusiveNamespaces here too.
    childElements(transforms[0]!).some((child) => child.localName !== 'InclusiveNamespaces') ||
    attr(transforms[1]!, 'Algorithm') !== EXC_C14N
  ) {
    throw shape('the Reference must have exactly the enveloped-signature and exclusive c14n transforms, in that order');
  }
  const digestAlgorithm = DIGEST_ALGORITHMS.get(algorithmOf(onlyChild(reference, 'DigestMethod', 'Reference'), digestAlgorithmsFor(options.policy), 'digest'))!;
  const expectedDigest = base64Of(onlyChild(reference, 'DigestValue', 'Reference'), 'DigestValue');
  const signatureValue = base64Of(onlyChild(signature, 'SignatureValue', 'Signature'), 'SignatureValue');

  // 2. The digest of the referenced element, its own Signature left out (enveloped-signature).
  const digest = createHash(digestAlgorithm).update(canonicalize(target, inclusivePrefixes(transforms[1]!), signature)).digest();
  if (digest.length !== expectedDigest.length || !timingSafeEqual(digest, expectedDigest)) {
    throw new SignatureRefused('digest does not match: the signed content was altered', { element: signed.localName });
  }

  // 3. The signature over the canonical SignedInfo, by one of the configured keys.
  const signedInfoOctets = Buffer.from(canonicalize(signedInfo, inclusivePrefixes(c14nMethod)), 'utf8');
  const now = options.now;
  const inDate = now === undefined ? keys : keys.filter((trusted) => trusted.notAfter > now);
  if (inDate.some((trusted) => verifies(signatureAlgorithm, trusted.key, signedInfoOctets, signatureValue))) return target;
  // A certificate past its notAfter never verifies; the admin is told which one it was.
  const expired = now === undefined ? undefined : keys.find((trusted) => trusted.notAfter <= now && verifies(signatureAlgorithm, trusted.key, signedInfoOctets, signatureValue));
  if (expired !== undefined) {
    throw new SignatureRefused('signed by an expired certificate', {
      element: signed.localName,
      fingerprintSha256: expired.fingerprintSha256,
      notAfter: expired.notAfter.toISOString(),
    });
  }

  // Explains the refusal only: a certificate in the message never chooses a key.
  const named = childElements(signature, NS.dsig, 'KeyInfo').flatMap(keyInfoCertificates);
  const configured = new Set(keys.map((trusted) => trusted.certificateBody));
  throw new SignatureRefused(named.length > 0 && !named.some((body) => configured.has(body)) ? 'signed by a certificate that is not configured' : 'signature does not verify', {
    element: signed.localName,
    certificatesTried: keys.length,
  });
}

function keyInfoCertificates(keyInfo: Element): string[] {
  return childElements(keyInfo, NS.dsig, 'X509Data')
    .flatMap((data) => childElements(data, NS.dsig, 'X509Certificate'))
    .map((certificate) => certificateBody(textOnly(certificate) ?? ''));
}

/** A LoginError SIGNATURE_INVALID for a refused signature, with the admin's message. */
export function signatureError(refused: SignatureRefused, context: ErrorDetails, bothSigned: boolean): LoginError {
  const altered = refused.reason === 'digest does not match: the signed content was altered' || refused.reason === 'signature does not verify';
  if (bothSigned && refused.details.element === 'Response' && altered) {
    return new LoginError(
      'SIGNATURE_INVALID',
      "The signature of the SAML response does not verify: the response was altered after the identity provider signed it. Ask your administrator to check the identity provider's signing settings.",
      { details: { ...context, reason: 'Response signature does not verify', ...refused.details } },
    );
  }
  if (refused.reason === 'signed by an expired certificate') {
    return new LoginError(
      'CERTIFICATE_EXPIRED',
      `The SAML response is signed with an identity provider certificate that expired on ${String(refused.details.notAfter).slice(0, 10)}. Ask your administrator to add the identity provider's new signing certificate to the SSO settings.`,
      { details: { ...context, reason: refused.reason, ...refused.details } },
    );
  }
  const message =
    refused.reason === 'signed by a certificate that is not configured'
      ? "The SAML response is signed with a certificate that is not configured for this organization. Ask your administrator to add the identity provider's current signing certificate to the SSO settings."
      : refused.reason === 'signature reference is not its parent element'
        ? "The signature of the SAML response does not cover the element it is attached to. Ask your administrator to check the identity provider's signing settings."
        : "The signature of the SAML response could not be verified with the certificates configured for this organization. Ask your administrator to check the identity provider's signing certificate in the SSO settings.";
  return new LoginError('SIGNATURE_INVALID', message, { details: { ...context, reason: refused.reason, ...refused.details } });
}
