/**
 * SAML 2.0 single logout messages (SAML core 3.7, bindings 3.4 and 3.5): reading an
 * IdP's `LogoutRequest` or `LogoutResponse` from the HTTP-Redirect binding (deflated,
 * base64, detached signature over the query string, bindings 3.4.4.1) or the HTTP-POST
 * binding (base64, enveloped XML signature), and writing ours, always by HTTP-Redirect.
 *
 * Received messages go through the same guard as login responses (structure.ts's bounded,
 * DOCTYPE-free parse; one ID per element; signatures only on the root) and the same
 * verifier and allowlists (signature.ts, algorithms.ts), with the org's configured IdP
 * certificates only. Everything returned is read from the verified element.
 */
import { createSign } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { Document, Element } from '@xmldom/xmldom';
import { LoginError, type ErrorDetails } from '../errors.js';
import { ALLOWED_SIGNATURE_ALGORITHMS, assertAllowedAlgorithms } from './algorithms.js';
import { RSA_SHA256, type SpKeyPair } from './authn-request.js';
import { trustedKeys } from './idp-keys.js';
import { SIGNATURE_ALGORITHMS, SignatureRefused, verifies, verifyEnvelopedSignature } from './signature.js';
import { MAX_SAML_RESPONSE_BYTES, isDateTime, malformed, parseGuardedXml } from './structure.js';
import { NS, STATUS_SUCCESS, attr, childElements, descendantElements, elementPath, escapeXml, firstChildElement, textOnly } from './xml.js';

export const HTTP_REDIRECT_BINDING = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect';
export const HTTP_POST_BINDING = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST';

/** Which form field carried the message. */
export type SamlParameter = 'SAMLRequest' | 'SAMLResponse';

/** A logout message as it arrived, decoded but not verified. */
export interface ReceivedLogoutMessage {
  parameter: SamlParameter;
  binding: 'redirect' | 'post';
  xml: string;
  relayState?: string;
  /** HTTP-Redirect: the detached signature and the exact octets it covers. */
  detached?: { sigAlg: string; signature: Buffer; signedOctets: Buffer };
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const MAX_RELAY_STATE = 80 * 4; // bindings 3.4.3: at most 80 bytes; generous for encodings

function decodeBase64(value: string, what: string): Buffer {
  const compact = value.replace(/[\r\n\t ]/g, '');
  if (compact.length === 0 || compact.length > Math.ceil(MAX_SAML_RESPONSE_BYTES / 3) * 4 + 4 || compact.length % 4 !== 0 || !BASE64.test(compact)) {
    throw malformed(`the ${what} field is not base64 of at most ${MAX_SAML_RESPONSE_BYTES / 1024} KiB`);
  }
  return Buffer.from(compact, 'base64');
}

function utf8(bytes: Buffer, what: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw malformed(`the ${what} is not UTF-8 text`);
  }
}

/** `application/x-www-form-urlencoded` decoding of one raw query value. */
function formDecode(raw: string, name: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    throw malformed(`the ${name} parameter is not URL-encoded correctly`);
  }
}

/**
 * Reads the HTTP-Redirect binding from the raw query string, keeping each parameter's
 * octets exactly as sent: the signature covers `SAMLRequest=…&RelayState=…&SigAlg=…`
 * (or `SAMLResponse=…`) in that order, as the sender URL-encoded them.
 * @throws LoginError SAML_MALFORMED
 */
export function receiveRedirectBinding(rawQuery: string): ReceivedLogoutMessage {
  const raw = new Map<string, string>();
  for (const pair of rawQuery.split('&')) {
    if (pair === '') continue;
    const at = pair.indexOf('=');
    const name = formDecode(at === -1 ? pair : pair.slice(0, at), 'query');
    if (!['SAMLRequest', 'SAMLResponse', 'RelayState', 'SigAlg', 'Signature'].includes(name)) continue;
    if (raw.has(name)) throw malformed(`the ${name} parameter is given twice`);
    raw.set(name, at === -1 ? '' : pair.slice(at + 1));
  }
  const parameter: SamlParameter | undefined = raw.has('SAMLRequest') ? 'SAMLRequest' : raw.has('SAMLResponse') ? 'SAMLResponse' : undefined;
  if (parameter === undefined) throw malformed('the request carries neither SAMLRequest nor SAMLResponse');
  if (raw.has('SAMLRequest') && raw.has('SAMLResponse')) throw malformed('the request carries both SAMLRequest and SAMLResponse');
  const deflated = decodeBase64(formDecode(raw.get(parameter)!, parameter), parameter);
  let inflated: Buffer;
  try {
    inflated = inflateRawSync(deflated, { maxOutputLength: MAX_SAML_RESPONSE_BYTES });
  } catch {
    throw malformed(`the ${parameter} is not DEFLATE-compressed (HTTP-Redirect binding), or inflates to more than ${MAX_SAML_RESPONSE_BYTES / 1024} KiB`);
  }
  const relayState = raw.has('RelayState') ? formDecode(raw.get('RelayState')!, 'RelayState') : undefined;
  if (relayState !== undefined && relayState.length > MAX_RELAY_STATE) throw malformed('the RelayState is longer than SAML allows (80 bytes)');
  const message: ReceivedLogoutMessage = { parameter, binding: 'redirect', xml: utf8(inflated, parameter), ...(relayState === undefined ? {} : { relayState }) };
  if (raw.has('SigAlg') && raw.has('Signature')) {
    const signedOctets = [`${parameter}=${raw.get(parameter)}`, ...(raw.has('RelayState') ? [`RelayState=${raw.get('RelayState')}`] : []), `SigAlg=${raw.get('SigAlg')}`].join('&');
    message.detached = {
      sigAlg: formDecode(raw.get('SigAlg')!, 'SigAlg'),
      signature: decodeBase64(formDecode(raw.get('Signature')!, 'Signature'), 'Signature'),
      signedOctets: Buffer.from(signedOctets, 'utf8'),
    };
  }
  return message;
}

/** Reads the HTTP-POST binding's form fields. @throws LoginError SAML_MALFORMED */
export function receivePostBinding(form: Record<string, string | undefined>): ReceivedLogoutMessage {
  const parameter: SamlParameter | undefined = form.SAMLRequest !== undefined ? 'SAMLRequest' : form.SAMLResponse !== undefined ? 'SAMLResponse' : undefined;
  if (parameter === undefined) throw malformed('the form carries neither SAMLRequest nor SAMLResponse');
  if (form.SAMLRequest !== undefined && form.SAMLResponse !== undefined) throw malformed('the form carries both SAMLRequest and SAMLResponse');
  const relayState = form.RelayState;
  if (relayState !== undefined && relayState.length > MAX_RELAY_STATE) throw malformed('the RelayState is longer than SAML allows (80 bytes)');
  return { parameter, binding: 'post', xml: utf8(decodeBase64(form[parameter]!, parameter), parameter), ...(relayState === undefined ? {} : { relayState }) };
}

/** A logout message after the guard: its document and root (LogoutRequest or LogoutResponse). */
export interface ParsedLogoutMessage {
  doc: Document;
  root: Element;
  kind: 'LogoutRequest' | 'LogoutResponse';
  ids: Map<string, Element[]>;
}

const TIME_ATTRIBUTES = new Set(['IssueInstant', 'NotOnOrAfter']);

/**
 * The guard of structure.ts for single logout: bounded safe parse, root `samlp:LogoutRequest`
 * (for a SAMLRequest) or `samlp:LogoutResponse` (for a SAMLResponse), SAML 2.0, one carrier
 * per ID, a Signature only as the root's child, valid times, no encrypted NameID.
 * @throws LoginError SAML_MALFORMED
 */
export function parseLogoutMessage(message: ReceivedLogoutMessage): ParsedLogoutMessage {
  const doc = parseGuardedXml(message.xml);
  const root = childElements(doc)[0]!;
  const kind = message.parameter === 'SAMLRequest' ? 'LogoutRequest' : 'LogoutResponse';
  if (root.localName !== kind || root.namespaceURI !== NS.protocol) {
    throw malformed(`its root element is not a SAML 2.0 ${kind}`, { expected: `{${NS.protocol}}${kind}`, received: `{${root.namespaceURI ?? ''}}${root.localName ?? ''}` });
  }
  if (attr(root, 'Version') !== '2.0') throw malformed('it is not SAML version 2.0', { expected: '2.0', received: attr(root, 'Version') ?? null });
  const ids = new Map<string, Element[]>();
  for (const element of descendantElements(doc)) {
    if (element.localName === 'EncryptedID') throw malformed('its NameID is encrypted, which is not supported; turn off NameID encryption for logout at the identity provider');
    if (element.localName === 'Signature' && (element.parentNode !== root || element.namespaceURI !== NS.dsig)) {
      throw malformed('it contains a Signature in an unexpected place', { expected: `/${kind}/Signature`, received: elementPath(element) });
    }
    const attributes = element.attributes;
    for (let i = 0; i < attributes.length; i++) {
      const attribute = attributes.item(i)!;
      const name = attribute.localName ?? attribute.name;
      if (name === 'ID' || name === 'Id' || name === 'id') {
        if (ids.has(attribute.value)) throw malformed('two elements have the same ID', { id: attribute.value.slice(0, 120) });
        ids.set(attribute.value, [element]);
      }
      if (TIME_ATTRIBUTES.has(name) && !isDateTime(attribute.value)) throw malformed(`the ${name} time is not a valid date and time`, { received: attribute.value.slice(0, 64) });
    }
  }
  if (childElements(root, NS.dsig, 'Signature').length > 1) throw malformed('it carries more than one Signature');
  return { doc, root, kind, ids };
}

/** The root's Issuer as the document states it (unverified until {@link verifyLogoutMessage}). */
export function issuerOf(root: Element): string | undefined {
  const issuers = childElements(root, NS.assertion, 'Issuer');
  if (issuers.length !== 1) return undefined;
  return textOnly(issuers[0]!)?.trim();
}

const signatureInvalid = (message: string, details: ErrorDetails): LoginError => new LoginError('SIGNATURE_INVALID', message, { details });

/**
 * Verifies the message's signature with the org's IdP certificates: the detached one of
 * the HTTP-Redirect binding, or the root's enveloped one of the HTTP-POST binding. An
 * unsigned message is refused either way.
 * @throws LoginError SIGNATURE_INVALID, ALGORITHM_NOT_ALLOWED
 */
export function verifyLogoutMessage(message: ReceivedLogoutMessage, parsed: ParsedLogoutMessage, certificates: readonly string[], context: ErrorDetails): void {
  const keys = trustedKeys(certificates as string[]);
  const what = parsed.kind;
  if (keys.length === 0) throw signatureInvalid(`No IdP signing certificate is configured for this organization, so the ${what} cannot be verified. Ask your administrator to add one in the SSO settings.`, { ...context, reason: 'no certificate configured' });
  if (message.binding === 'redirect') {
    const detached = message.detached;
    if (detached === undefined) {
      throw signatureInvalid(`The ${what} is not signed. Ask your administrator to configure the identity provider to sign logout messages.`, { ...context, reason: 'no signature', binding: 'HTTP-Redirect' });
    }
    const algorithm = SIGNATURE_ALGORITHMS.get(detached.sigAlg);
    if (!ALLOWED_SIGNATURE_ALGORITHMS.has(detached.sigAlg) || algorithm === undefined) {
      throw new LoginError('ALGORITHM_NOT_ALLOWED', `The ${what} is signed with an algorithm that is not allowed (${detached.sigAlg.slice(0, 100)}). Ask your administrator to configure the identity provider to sign with RSA-SHA256.`, {
        details: { ...context, reason: 'signature algorithm not allowed', received: detached.sigAlg.slice(0, 200), expected: [...ALLOWED_SIGNATURE_ALGORITHMS] },
      });
    }
    if (!keys.some((trusted) => verifies(algorithm, trusted.key, detached.signedOctets, detached.signature))) {
      throw signatureInvalid(`The signature of the ${what} could not be verified with the certificates configured for this organization. Ask your administrator to check the identity provider's signing certificate in the SSO settings.`, {
        ...context,
        reason: 'signature does not verify',
        binding: 'HTTP-Redirect',
        certificatesTried: keys.length,
      });
    }
    return;
  }
  assertAllowedAlgorithms(parsed.doc);
  const signature = firstChildElement(parsed.root, NS.dsig, 'Signature');
  if (signature === undefined) {
    throw signatureInvalid(`The ${what} is not signed. Ask your administrator to configure the identity provider to sign logout messages.`, { ...context, reason: 'no signature', binding: 'HTTP-POST' });
  }
  try {
    verifyEnvelopedSignature(parsed.root, signature, parsed.ids, keys);
  } catch (error) {
    if (!(error instanceof SignatureRefused)) throw error;
    throw signatureInvalid(`The signature of the ${what} could not be verified with the certificates configured for this organization. Ask your administrator to check the identity provider's signing certificate in the SSO settings.`, {
      ...context,
      reason: error.reason,
      binding: 'HTTP-POST',
      ...error.details,
    });
  }
}

/** What a verified LogoutRequest says (SAML core 3.7.1). */
export interface LogoutRequestFields {
  id: string;
  issuer?: string;
  destination?: string;
  issueInstant?: Date;
  notOnOrAfter?: Date;
  nameId: string;
  nameIdFormat?: string;
  sessionIndexes: string[];
}

function requiredId(root: Element): string {
  const id = attr(root, 'ID');
  if (id === undefined || id === '' || id.length > 256) throw malformed(`its ${root.localName} has no usable ID`);
  return id;
}

const timeOf = (element: Element, name: string): Date | undefined => {
  const value = attr(element, name);
  return value === undefined ? undefined : new Date(Date.parse(value));
};

/** Reads a (verified) LogoutRequest. @throws LoginError SAML_MALFORMED */
export function readLogoutRequest(root: Element, context: ErrorDetails = {}): LogoutRequestFields {
  const nameIds = childElements(root, NS.assertion, 'NameID');
  if (nameIds.length !== 1) throw malformed('its LogoutRequest must name exactly one NameID', context);
  const nameId = textOnly(nameIds[0]!)?.trim();
  if (nameId === undefined || nameId === '') throw malformed('its NameID is empty or contains markup', context);
  const format = attr(nameIds[0]!, 'Format');
  const sessionIndexes = childElements(root, NS.protocol, 'SessionIndex').map((element) => {
    const value = textOnly(element)?.trim();
    if (value === undefined || value === '') throw malformed('a SessionIndex is empty or contains markup', context);
    return value;
  });
  if (sessionIndexes.length > 20) throw malformed('it names more than 20 SessionIndexes', context);
  const issuer = issuerOf(root);
  const destination = attr(root, 'Destination');
  const issueInstant = timeOf(root, 'IssueInstant');
  const notOnOrAfter = timeOf(root, 'NotOnOrAfter');
  return {
    id: requiredId(root),
    ...(issuer === undefined ? {} : { issuer }),
    ...(destination === undefined ? {} : { destination }),
    ...(issueInstant === undefined ? {} : { issueInstant }),
    ...(notOnOrAfter === undefined ? {} : { notOnOrAfter }),
    nameId,
    ...(format === undefined ? {} : { nameIdFormat: format }),
    sessionIndexes,
  };
}

/** What a verified LogoutResponse says. */
export interface LogoutResponseFields {
  id: string;
  issuer?: string;
  destination?: string;
  inResponseTo?: string;
  /** The top-level StatusCode value. */
  status: string;
}

/** Reads a (verified) LogoutResponse. @throws LoginError SAML_MALFORMED */
export function readLogoutResponse(root: Element, context: ErrorDetails = {}): LogoutResponseFields {
  const statuses = childElements(root, NS.protocol, 'Status');
  if (statuses.length !== 1) throw malformed('its LogoutResponse must contain exactly one Status', context);
  const code = firstChildElement(statuses[0]!, NS.protocol, 'StatusCode');
  const status = code === undefined ? undefined : attr(code, 'Value');
  if (status === undefined) throw malformed('its Status has no StatusCode', context);
  const issuer = issuerOf(root);
  const destination = attr(root, 'Destination');
  const inResponseTo = attr(root, 'InResponseTo');
  return {
    id: requiredId(root),
    ...(issuer === undefined ? {} : { issuer }),
    ...(destination === undefined ? {} : { destination }),
    ...(inResponseTo === undefined ? {} : { inResponseTo }),
    status,
  };
}

export const isSuccess = (status: string): boolean => status === STATUS_SUCCESS;

/**
 * `application/x-www-form-urlencoded` encoding, as Python's `quote_plus` and PHP's
 * `urlencode` do it: receivers that rebuild the signed octets from decoded values
 * (pysaml2, OneLogin's toolkits) rebuild exactly what was signed.
 */
const formEncode = (value: string): string =>
  encodeURIComponent(value)
    .replace(/[!'()*]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+');

/** Our LogoutRequest (SP-initiated single logout), naming the IdP session of the session that ends. */
export interface LogoutRequestInput {
  id: string;
  now: Date;
  /** Our SP entity ID. */
  issuer: string;
  /** The IdP's SingleLogoutService (`sloUrl`). */
  destination: string;
  /** How long the IdP may act on it. */
  notOnOrAfter: Date;
  nameId: string;
  nameIdFormat?: string;
  sessionIndex?: string;
}

export function logoutRequestXml(input: LogoutRequestInput): string {
  const format = input.nameIdFormat === undefined ? '' : ` Format="${escapeXml(input.nameIdFormat)}"`;
  return (
    `<samlp:LogoutRequest xmlns:samlp="${NS.protocol}" xmlns:saml="${NS.assertion}" ID="${escapeXml(input.id)}" Version="2.0"` +
    ` IssueInstant="${input.now.toISOString()}" Destination="${escapeXml(input.destination)}" NotOnOrAfter="${input.notOnOrAfter.toISOString()}">` +
    `<saml:Issuer>${escapeXml(input.issuer)}</saml:Issuer>` +
    `<saml:NameID${format}>${escapeXml(input.nameId)}</saml:NameID>` +
    (input.sessionIndex === undefined ? '' : `<samlp:SessionIndex>${escapeXml(input.sessionIndex)}</samlp:SessionIndex>`) +
    `</samlp:LogoutRequest>`
  );
}

/** Our LogoutResponse to an IdP's LogoutRequest. */
export interface LogoutResponseInput {
  id: string;
  now: Date;
  issuer: string;
  destination: string;
  inResponseTo: string;
  status?: string;
}

export function logoutResponseXml(input: LogoutResponseInput): string {
  return (
    `<samlp:LogoutResponse xmlns:samlp="${NS.protocol}" xmlns:saml="${NS.assertion}" ID="${escapeXml(input.id)}" Version="2.0"` +
    ` IssueInstant="${input.now.toISOString()}" Destination="${escapeXml(input.destination)}" InResponseTo="${escapeXml(input.inResponseTo)}">` +
    `<saml:Issuer>${escapeXml(input.issuer)}</saml:Issuer>` +
    `<samlp:Status><samlp:StatusCode Value="${escapeXml(input.status ?? STATUS_SUCCESS)}"/></samlp:Status>` +
    `</samlp:LogoutResponse>`
  );
}

/**
 * The URL that carries `xml` to `target` by the HTTP-Redirect binding: deflated, base64,
 * with RelayState when given, signed with the SP key over
 * `{parameter}=…&RelayState=…&SigAlg=…` exactly as sent (bindings 3.4.4.1). Unsigned
 * only when the deployment has no SP key yet.
 */
export function redirectBindingUrl(target: string, parameter: SamlParameter, xml: string, relayState: string | undefined, signingKey: SpKeyPair | undefined): string {
  let query = `${parameter}=${formEncode(deflateRawSync(Buffer.from(xml, 'utf8')).toString('base64'))}`;
  if (relayState !== undefined && relayState !== '') query += `&RelayState=${formEncode(relayState)}`;
  if (signingKey) {
    query += `&SigAlg=${formEncode(RSA_SHA256)}`;
    const signature = createSign('RSA-SHA256').update(query).sign(signingKey.privateKeyPem, 'base64');
    query += `&Signature=${encodeURIComponent(signature)}`;
  }
  const url = new URL(target);
  url.search = url.search ? `${url.search.slice(1)}&${query}` : query;
  return url.toString();
}
