/**
 * The cheap structural guard every SAML response passes before anything reads it:
 * size, base64, UTF-8, then a lexical and DOM check that refuses what SAML never needs
 * and attacks rely on (DOCTYPE/ENTITY, processing instructions, comments, CDATA,
 * several roots, several Responses or Assertions (plain or encrypted), duplicate IDs,
 * misplaced Signatures). A decrypted assertion is checked the same way when it is spliced in.
 *
 * The signature verifier (signature.ts) works on the very document this guard accepted,
 * with the index of IDs built on the same walk. It is deliberately not an XSD
 * validation (node-xmllint is slow and leaks listeners): it checks exactly what the rest
 * of the validation relies on, in well under a millisecond.
 */
import type { Document, Element } from '@xmldom/xmldom';
import { LoginError, type ErrorDetails } from '../errors.js';
import { ID_ATTRIBUTE_NAMES, type IdIndex } from './signature.js';
import { NS, UnsafeXmlError, attr, childElements, descendantElements, elementPath, isElement, parseXmlSafely } from './xml.js';

/** The largest decoded SAMLResponse accepted: 256 KiB, the API's body limit. */
export const MAX_SAML_RESPONSE_BYTES = 256 * 1024;

/** The largest decoded SAMLResponse accepted, in bytes (256 KiB). */
export function maxSamlResponseBytes(): number {
  return MAX_SAML_RESPONSE_BYTES;
}

const MAX_BASE64_CHARS = Math.ceil(MAX_SAML_RESPONSE_BYTES / 3) * 4;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const TIME_ATTRIBUTES = new Set(['IssueInstant', 'NotBefore', 'NotOnOrAfter', 'AuthnInstant', 'SessionNotOnOrAfter']);

const FIX_AT_IDP = 'Ask your administrator to check the SAML configuration at the identity provider.';

/** A SAML_MALFORMED LoginError whose message names the problem in admin terms. */
export function malformed(reason: string, details: ErrorDetails = {}): LoginError {
  return new LoginError('SAML_MALFORMED', `The SAML response from the identity provider was refused: ${reason}. ${FIX_AT_IDP}`, {
    details: { reason, ...details },
  });
}

/**
 * Decodes the posted SAMLResponse form value: base64 (line breaks allowed), at most
 * {@link MAX_SAML_RESPONSE_BYTES} decoded, valid UTF-8. Throws SAML_MALFORMED.
 */
export function decodeSamlResponse(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) throw malformed('the SAMLResponse field is missing');
  // Cheap bound before any copying: base64 plus generous room for line breaks.
  if (value.length > MAX_BASE64_CHARS * 2) throw tooLarge(`${value.length} characters of base64`);
  const compact = value.replace(/[\r\n\t ]/g, '');
  if (compact.length > MAX_BASE64_CHARS) throw tooLarge(`about ${Math.floor((compact.length * 3) / 4)} bytes`);
  if (compact.length % 4 !== 0 || !BASE64.test(compact)) throw malformed('the SAMLResponse field is not base64');
  const bytes = Buffer.from(compact, 'base64');
  if (bytes.length > MAX_SAML_RESPONSE_BYTES) throw tooLarge(`${bytes.length} bytes`);
  let xml: string;
  try {
    xml = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw malformed('the SAMLResponse is not UTF-8 text');
  }
  return xml;
}

const tooLarge = (received: string): LoginError =>
  malformed(`the SAMLResponse is larger than ${MAX_SAML_RESPONSE_BYTES / 1024} KiB`, {
    expected: `at most ${MAX_SAML_RESPONSE_BYTES} bytes`,
    received,
  });

/**
 * Bounds on what parsing and canonicalization cost, checked on the text before either
 * runs: a real response has a few hundred elements, a handful of namespace declarations
 * and little depth.
 */
function assertBounded(xml: string): void {
  const elements = count(xml, '<');
  if (elements > MAX_ELEMENTS) throw malformed('it has too many elements', { expected: `at most ${MAX_ELEMENTS}`, received: elements });
  const namespaces = count(xml, 'xmlns');
  if (namespaces > MAX_NAMESPACE_DECLARATIONS) {
    throw malformed('it declares too many namespaces', { expected: `at most ${MAX_NAMESPACE_DECLARATIONS}`, received: namespaces });
  }
}

/** Elements (tags), namespace declarations and nesting depth a response may have. */
const MAX_ELEMENTS = 5000;
const MAX_NAMESPACE_DECLARATIONS = 64;
const MAX_DEPTH = 32;

function count(text: string, needle: string): number {
  let found = 0;
  for (let at = text.indexOf(needle); at !== -1; at = text.indexOf(needle, at + needle.length)) found += 1;
  return found;
}

/**
 * The document, parsed without DOCTYPE, entities, processing instructions, comments or
 * CDATA (shared/saml/xml.ts), within the same bounds as a response: what every other
 * SAML protocol message (single logout's) is parsed with too. Throws SAML_MALFORMED.
 */
export function parseGuardedXml(xml: string): Document {
  return parseXml(xml);
}

function parseXml(xml: string): Document {
  assertBounded(xml);
  try {
    return parseXmlSafely(xml, { maxDepth: MAX_DEPTH });
  } catch (error) {
    if (error instanceof UnsafeXmlError) throw malformed(`it ${error.reason}`, error.parserMessage === undefined ? {} : { parserMessage: error.parserMessage });
    throw error;
  }
}

/** A response as the guard accepted it: the one parse every later check reads. */
export interface ParsedResponse {
  doc: Document;
  /** The root, the one samlp:Response. */
  response: Element;
  /** Every ID-like attribute value (ID, Id, id in any namespace) to its one carrier: duplicates were refused. */
  ids: IdIndex;
}

/**
 * Parses a decoded SAML response and checks its structure (see the module header).
 * Returns the document, whose root is the one samlp:Response and which holds at most
 * one saml:Assertion or saml:EncryptedAssertion, as a direct child of the Response.
 * Throws SAML_MALFORMED.
 */
export function parseSamlResponseXml(xml: string): Document {
  return parseSamlResponse(xml).doc;
}

/**
 * {@link parseSamlResponseXml}, with the index of IDs the signature verifier resolves
 * its Reference in (built on the same walk, so nothing searches the document again).
 */
export function parseSamlResponse(xml: string): ParsedResponse {
  const doc = parseXml(xml);
  const root = childElements(doc)[0]!;
  if (root.localName !== 'Response' || root.namespaceURI !== NS.protocol) {
    throw malformed('its root element is not a SAML 2.0 protocol Response', {
      expected: `{${NS.protocol}}Response`,
      received: `{${root.namespaceURI ?? ''}}${root.localName ?? ''}`,
    });
  }
  if (attr(root, 'Version') !== '2.0') throw malformed('it is not SAML version 2.0', { expected: '2.0', received: attr(root, 'Version') ?? null });

  const ids = new Map<string, Element[]>();
  const found: Found = { assertions: [], encrypted: [] };
  for (const element of descendantElements(doc)) checkElement(element, root, ids, found);

  const assertions = [...found.assertions, ...found.encrypted];
  if (assertions.length > 1) throw malformed('it contains more than one Assertion', { received: assertions.map(elementPath) });
  const assertion = assertions[0];
  if (assertion !== undefined && (assertion.parentNode !== root || assertion.namespaceURI !== NS.assertion)) {
    throw malformed(`its ${assertion.localName} is not where SAML 2.0 puts it`, { expected: `/Response/${assertion.localName}`, received: elementPath(assertion) });
  }
  return { doc, response: root, ids };
}

interface Found {
  assertions: Element[];
  encrypted: Element[];
}

/** The guard's check of one element: what it may be, where, its IDs (into `ids`) and its times. */
function checkElement(element: Element, root: Element, ids: Map<string, Element[]>, found: Found): void {
  const name = element.localName;
  // By local name in any namespace: XML-DSig tooling and XSW attacks select by local-name().
  if (name === 'Response' && element !== root) throw malformed('it contains more than one Response element', { element: elementPath(element) });
  if (name === 'EncryptedAssertion') found.encrypted.push(element);
  if (name === 'Assertion') found.assertions.push(element);
  if (name === 'Signature') assertSignaturePlacement(element, root);

  const attributes = element.attributes;
  for (let i = 0; i < attributes.length; i++) {
    const attribute = attributes.item(i)!;
    const attributeName = attribute.localName ?? attribute.name;
    if (ID_ATTRIBUTE_NAMES.has(attributeName)) {
      const carriers = ids.get(attribute.value);
      if (carriers === undefined) ids.set(attribute.value, [element]);
      // pysaml2 (xmlsec1) gives both of its Signatures Id="Signature1". Nothing resolves a
      // Signature's own Id; both stay carriers, so a Reference to it never verifies.
      else if (isSignature(element) && carriers.every(isSignature)) carriers.push(element);
      else throw malformed('two elements have the same ID', { id: attribute.value, element: elementPath(element) });
    }
    if (TIME_ATTRIBUTES.has(attributeName) && !isDateTime(attribute.value)) {
      throw malformed(`the ${attributeName} time is not a valid date and time`, { element: elementPath(element), received: attribute.value });
    }
  }
}

/**
 * Parses the plaintext of an EncryptedAssertion with the guard's own bounds (no DOCTYPE,
 * entities, comments, CDATA; element, namespace and depth limits). Throws SAML_MALFORMED
 * (the decryptor turns any failure into DECRYPTION_FAILED).
 */
export function parseDecryptedXml(xml: string): Document {
  return parseXml(xml);
}

/**
 * Puts a decrypted Assertion (imported into `parsed.doc`) in place of the
 * EncryptedAssertion it came from, and checks it as the guard checked the rest: no
 * Response, Assertion or EncryptedAssertion inside it, Signatures only its own, IDs
 * unique in the whole document (added to `parsed.ids`), valid times. Throws SAML_MALFORMED.
 */
export function spliceDecryptedAssertion(parsed: ParsedResponse, encrypted: Element, assertion: Element): void {
  if (encrypted.parentNode !== parsed.response) throw malformed('its EncryptedAssertion is not where SAML 2.0 puts it', { expected: '/Response/EncryptedAssertion' });
  parsed.response.replaceChild(assertion, encrypted);
  const ids = parsed.ids as Map<string, Element[]>;
  const found: Found = { assertions: [], encrypted: [] };
  for (const element of descendantElements(assertion)) checkElement(element, parsed.response, ids, found);
  if (found.assertions.length !== 1 || found.encrypted.length > 0) throw malformed('its encrypted assertion contains another Assertion', { received: found.assertions.map(elementPath) });
}

const isSignature = (element: Element): boolean => element.localName === 'Signature' && element.namespaceURI === NS.dsig;

/** Signatures may only be the Response's own or the Assertion's own, one each, in the XML-DSig namespace. */
function assertSignaturePlacement(signature: Element, root: Element): void {
  const parent = signature.parentNode;
  const allowed =
    signature.namespaceURI === NS.dsig &&
    isElement(parent) &&
    (parent === root || (parent.parentNode === root && parent.localName === 'Assertion' && parent.namespaceURI === NS.assertion));
  if (!allowed) {
    throw malformed('it contains a Signature in an unexpected place', {
      expected: ['/Response/Signature', '/Response/Assertion/Signature'],
      received: elementPath(signature),
    });
  }
  if (childElements(parent, NS.dsig, 'Signature').length > 1) {
    throw malformed('an element carries more than one Signature', { element: elementPath(parent) });
  }
}

export function isDateTime(value: string): boolean {
  return DATE_TIME.test(value) && !Number.isNaN(Date.parse(value));
}
