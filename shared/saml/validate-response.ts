/**
 * Validation of a SAML 2.0 login response posted to an org's ACS (DESIGN.md "Security
 * requirements"). Cheap structural checks first (the one parse), then status, issuer,
 * algorithms and the signatures (signature.ts: XML-DSig on that same DOM, configured keys
 * only), then everything read from the signed Assertion: Destination, Audience,
 * Conditions and times with the injected clock, bearer SubjectConfirmation,
 * InResponseTo consistency.
 *
 * Not done here: matching InResponseTo to a pending AuthnRequest, and the replay marker
 * (the caller records `assertionId` until `notOnOrAfter`).
 */
import type { KeyObject } from 'node:crypto';
import type { Element } from '@xmldom/xmldom';
import { LoginError, type ErrorDetails } from '../errors.js';
import { assertAllowedAlgorithms, type AlgorithmPolicy } from './algorithms.js';
import { assertContentAuthenticated, decryptAssertion } from './decrypt.js';
import { trustedKeys, type TrustedKey } from './idp-keys.js';
import { SignatureRefused, signatureError, verifyEnvelopedSignature, type IdIndex } from './signature.js';
import { decodeSamlResponse, isDateTime, malformed, parseDecryptedXml, parseSamlResponse, spliceDecryptedAssertion, type ParsedResponse } from './structure.js';
import { BEARER_METHOD, NS, STATUS_SUCCESS, attr, childElements, firstChildElement, textOnly } from './xml.js';

export { MAX_SAML_RESPONSE_BYTES, maxSamlResponseBytes } from './structure.js';

export interface SamlValidationInput {
  /** The base64 form value as posted. */
  samlResponse: string;
  sp: { entityId: string; acsUrl: string };
  /** From the org in the ROUTE, never from the message. */
  idp: { entityId: string; certificates: string[] };
  clockSkewSeconds: number;
  now: Date;
  /** The org's algorithm policy (`saml.allowSha1`). */
  algorithms?: AlgorithmPolicy;
  /** The org in the route (kept for callers and logs; keys are cached by certificate). */
  orgId?: string;
  /** Filled in as validation goes, so a caller recording a failure knows how far it got; optional. */
  progress?: SamlValidationProgress;
  /** Refuse a plain (unencrypted) assertion with ASSERTION_NOT_ENCRYPTED (`saml.requireEncryptedAssertions`). */
  requireEncryptedAssertions?: boolean;
  /**
   * The SP's decryption keys, current first (sp-keys.ts `spDecryptionKeys`): asked for only
   * when the response holds an EncryptedAssertion. None: every one is DECRYPTION_FAILED.
   */
  decryptionKeys?: () => Promise<readonly KeyObject[]>;
}

/**
 * How far validation got. A failure before `signatureVerified` proves nothing about the
 * org's IdP: anyone could have sent it (the caller folds such failures in the audit trail).
 */
export interface SamlValidationProgress {
  /** The Issuer and NameID the document states, read before anything is verified: to tell attempts apart, never to trust. */
  claimed?: { issuer?: string; nameId?: string };
  /** Set once a signature by one of the org's IdP certificates has verified. */
  signatureVerified?: boolean;
}

export interface ValidatedAssertion {
  issuer: string;
  responseId: string;
  assertionId: string;
  /** From the signed SubjectConfirmationData (and consistent with the Response's). */
  inResponseTo?: string;
  nameId: string;
  nameIdFormat?: string;
  sessionIndex?: string;
  /** Latest instant the assertion may still be accepted, skew included (for the replay marker TTL). */
  notOnOrAfter: Date;
  /** Every value of every attribute, in document order. */
  attributes: ReadonlyMap<string, string[]>;
  attributeNames: string[];
  /**
   * Every Attribute element as the IdP sent it, in document order: not merged by name,
   * values untrimmed (what a test sign-in shows the admin).
   */
  attributeList: AssertedAttribute[];
  /** The AuthnStatement's AuthnInstant, when present. */
  authnInstant?: Date;
  /** The Conditions' own validity window, as the IdP stated it (no skew). */
  conditions: { notBefore?: Date; notOnOrAfter: Date };
}

/** One Attribute element of an assertion. */
export interface AssertedAttribute {
  name: string;
  nameFormat?: string;
  values: string[];
}

const STATUS_MESSAGE_MAX = 300;
const ISSUER_MISMATCH_MESSAGE =
  'The SAML response comes from a different identity provider than the one configured for this organization. Ask your administrator to check the IdP entity ID (issuer) in the SSO settings.';

/**
 * Validates a posted SAMLResponse for one org and returns what the signed assertion says.
 *
 * @throws LoginError with the API's codes: SAML_MALFORMED, IDP_STATUS_ERROR,
 *   IDP_ISSUER_MISMATCH, SIGNATURE_INVALID, DESTINATION_MISMATCH, AUDIENCE_MISMATCH,
 *   ASSERTION_EXPIRED, ASSERTION_NOT_YET_VALID, IN_RESPONSE_TO_INVALID,
 *   ASSERTION_NOT_ENCRYPTED, ALGORITHM_NOT_ALLOWED, CERTIFICATE_EXPIRED, DECRYPTION_FAILED. `details` carry
 *   the expected and received values for the admin; messages say what to fix.
 * @example
 * const assertion = await validateSamlResponse({
 *   samlResponse: form.SAMLResponse,
 *   sp: { entityId: spEntityId, acsUrl },
 *   idp: { entityId: saml.idpEntityId, certificates: saml.certificates },
 *   clockSkewSeconds: saml.clockSkewSeconds,
 *   now: clock.now(),
 * });
 */
export async function validateSamlResponse(input: SamlValidationInput): Promise<ValidatedAssertion> {
  // 1. Structure: size, base64, XML, and nothing SAML does not need. The one parse.
  const xml = decodeSamlResponse(input.samlResponse);
  const parsed = parseSamlResponse(xml);
  const { doc, response, ids } = parsed;
  if (input.progress) input.progress.claimed = claimedSender(response);

  // 2. Status: an IdP that refused the login usually sends no assertion, often unsigned.
  assertStatusSuccess(response);
  const encryptedAssertion = childElements(response, NS.assertion, 'EncryptedAssertion')[0];
  let documentAssertion = childElements(response, NS.assertion, 'Assertion')[0];
  if (documentAssertion === undefined && encryptedAssertion === undefined) throw malformed('it contains no Assertion');
  if (encryptedAssertion === undefined && input.requireEncryptedAssertions) {
    throw new LoginError(
      'ASSERTION_NOT_ENCRYPTED',
      "The SAML assertion is not encrypted, and this organization requires encrypted assertions. Ask your administrator to turn on assertion encryption at the identity provider, with the encryption certificate from this organization's SP metadata.",
      { details: { reason: 'plain assertion refused', expected: 'EncryptedAssertion', received: 'Assertion' } },
    );
  }

  // 3. Issuer, before the signature: tells the admin that another IdP answered (the
  // Response's only, while the Assertion is encrypted). Then the allowed algorithms
  // anywhere (signatures and encryption), before any key is used.
  if (documentAssertion !== undefined) assertIssuers(response, documentAssertion, input.idp.entityId);
  assertAllowedAlgorithms(doc, input.algorithms);
  const responseSignature = firstChildElement(response, NS.dsig, 'Signature');
  const keys = trustedKeys(input.idp.certificates);
  // Keys past their certificate's notAfter do not verify (CERTIFICATE_EXPIRED); SHA-1 only under allowSha1.
  const check: SignatureCheck = { ids, keys, policy: input.algorithms ?? {}, now: input.now };

  // 3a. Encrypted: a Response signature covers the EncryptedAssertion as sent, so it is
  // verified before anything is decrypted; then the Assertion takes its place and is
  // checked exactly like a plain one (its own signature verifies on its own).
  let responseVerified = false;
  if (encryptedAssertion !== undefined) {
    const issuer = assertIssuers(response, undefined, input.idp.entityId);
    if (responseSignature !== undefined) {
      requireKeys(keys, { issuer });
      if (verifiedResponse(response, responseSignature, check, { issuer }, false) !== encryptedAssertion) {
        throw malformed('its signed Response does not contain the EncryptedAssertion', { issuer });
      }
      responseVerified = true;
      if (input.progress) input.progress.signatureVerified = true;
    }
    // AES-CBC is malleable: only a ciphertext the verified Response signature covers is decrypted.
    assertContentAuthenticated(encryptedAssertion, responseVerified, { issuer });
    documentAssertion = await decrypted(parsed, encryptedAssertion, input, { issuer });
    // What the decrypted assertion claims (unverified still): tells repeated attempts apart.
    if (input.progress) input.progress.claimed = claimedSender(response);
  }
  const plainAssertion = documentAssertion!;

  const issuer = assertIssuers(response, plainAssertion, input.idp.entityId);
  const context: ErrorDetails = { issuer };

  // 4. Signatures: each present signature verified on this DOM with the configured keys
  // (signature.ts). Both must verify when both are there.
  const assertionSignature = firstChildElement(plainAssertion, NS.dsig, 'Signature');
  if (responseSignature === undefined && assertionSignature === undefined) {
    throw new LoginError(
      'SIGNATURE_INVALID',
      'The SAML response is not signed. Ask your administrator to configure the identity provider to sign the assertion or the response.',
      { details: { ...context, reason: 'no signature' } },
    );
  }
  requireKeys(keys, context);
  const assertion = verifiedAssertion(response, responseVerified ? 'verified' : responseSignature, plainAssertion, assertionSignature, check, context);
  if (input.progress) input.progress.signatureVerified = true;

  // 5. From here on every value is read from `assertion`: the element a verified Reference
  // points to (or the one Assertion inside the verified Response), found by the verified ID.
  const subject = readSubject(assertion, context);
  if (issuerText(assertion) !== input.idp.entityId) {
    throw new LoginError('IDP_ISSUER_MISMATCH', ISSUER_MISMATCH_MESSAGE, {
      details: { expected: input.idp.entityId, received: issuerText(assertion) ?? null, issuer: issuerText(assertion) ?? null },
    });
  }
  context.nameId = subject.nameId;

  // 6. Destination: required when the Response itself is signed (SAML bindings 3.5.5.2).
  const destination = attr(response, 'Destination');
  if (destination !== input.sp.acsUrl && (destination !== undefined || responseSignature !== undefined)) {
    throw destinationMismatch('Destination', input.sp.acsUrl, destination, context);
  }

  // 7. Conditions and Audience.
  const conditions = readConditions(assertion, context);
  assertAudience(conditions.element, input.sp.entityId, context);

  // 8. Times, with the injected clock.
  const now = input.now.getTime();
  const skewMs = input.clockSkewSeconds * 1000;
  assertTimeWindow('Conditions', conditions.notBefore, conditions.notOnOrAfter, now, skewMs, context);

  // 9. Bearer SubjectConfirmation: Recipient, NotOnOrAfter, InResponseTo.
  const confirmation = acceptBearerConfirmation(subject.confirmations, input.sp.acsUrl, now, skewMs, context);
  const responseInResponseTo = attr(response, 'InResponseTo');
  if (confirmation.inResponseTo !== undefined && responseInResponseTo !== undefined && confirmation.inResponseTo !== responseInResponseTo) {
    throw new LoginError(
      'IN_RESPONSE_TO_INVALID',
      'The SAML response does not consistently say which sign-in request it answers. Start the sign-in again; if it keeps happening, ask your administrator to check the identity provider.',
      { details: { ...context, expected: confirmation.inResponseTo, received: responseInResponseTo, reason: 'Response and SubjectConfirmationData InResponseTo differ' } },
    );
  }

  // An AuthnStatement's SessionNotOnOrAfter bounds the IdP session: honour it too.
  const authnStatement = firstChildElement(assertion, NS.assertion, 'AuthnStatement');
  const sessionNotOnOrAfter = authnStatement === undefined ? undefined : timeAttr(authnStatement, 'SessionNotOnOrAfter');
  if (sessionNotOnOrAfter !== undefined) assertTimeWindow('AuthnStatement', undefined, sessionNotOnOrAfter, now, skewMs, context);

  const sessionIndex = authnStatement === undefined ? undefined : attr(authnStatement, 'SessionIndex');
  // Reported only (a test sign-in shows it), never checked: an odd AuthnInstant refuses nothing.
  const authnInstantText = authnStatement === undefined ? undefined : attr(authnStatement, 'AuthnInstant');
  const authnInstant = authnInstantText !== undefined && isDateTime(authnInstantText) ? Date.parse(authnInstantText) : undefined;
  const attributeList = readAttributeList(assertion);
  const attributes = mergeAttributes(attributeList);
  return {
    issuer,
    responseId: requiredId(response, 'Response'),
    assertionId: requiredId(assertion, 'Assertion'),
    ...(confirmation.inResponseTo === undefined ? {} : { inResponseTo: confirmation.inResponseTo }),
    nameId: subject.nameId,
    ...(subject.nameIdFormat === undefined ? {} : { nameIdFormat: subject.nameIdFormat }),
    ...(sessionIndex === undefined ? {} : { sessionIndex }),
    notOnOrAfter: new Date(Math.min(conditions.notOnOrAfter, confirmation.notOnOrAfter) + skewMs),
    attributes,
    attributeNames: [...attributes.keys()],
    attributeList,
    ...(authnInstant === undefined ? {} : { authnInstant: new Date(authnInstant) }),
    conditions: { ...(conditions.notBefore === undefined ? {} : { notBefore: new Date(conditions.notBefore) }), notOnOrAfter: new Date(conditions.notOnOrAfter) },
  };
}

const STATUS_PREFIX = 'urn:oasis:names:tc:SAML:2.0:status:';
const KNOWN_STATUS =
  /^urn:oasis:names:tc:SAML:2\.0:status:(Success|Requester|Responder|VersionMismatch|AuthnFailed|InvalidAttrNameOrValue|InvalidNameIDPolicy|NoAuthnContext|NoAvailableIDP|NoPassive|NoSupportedIDP|PartialLogout|ProxyCountExceeded|RequestDenied|RequestUnsupported|RequestVersionDeprecated|RequestVersionTooHigh|RequestVersionTooLow|ResourceNotRecognized|TooManyResponses|UnknownAttrProfile|UnknownPrincipal|UnsupportedBinding)$/;

function assertStatusSuccess(response: Element): void {
  const statuses = childElements(response, NS.protocol, 'Status');
  if (statuses.length !== 1) throw malformed('it must contain exactly one Status');
  const status = statuses[0]!;
  const codes: string[] = [];
  for (let code = firstChildElement(status, NS.protocol, 'StatusCode'); code !== undefined; code = firstChildElement(code, NS.protocol, 'StatusCode')) {
    codes.push(attr(code, 'Value') ?? '');
  }
  if (codes.length === 0) throw malformed('its Status has no StatusCode');
  if (codes[0] === STATUS_SUCCESS) return;

  const messageElement = firstChildElement(status, NS.protocol, 'StatusMessage');
  const statusMessage = messageElement === undefined ? undefined : (messageElement.textContent ?? '').trim().slice(0, STATUS_MESSAGE_MAX);
  // The status is unsigned: only SAML's own status codes may reach our page; the raw values go to the audit trail.
  const shortCodes = codes.map((code) => (KNOWN_STATUS.test(code) ? code.slice(STATUS_PREFIX.length) : 'unrecognized')).join('/');
  throw new LoginError(
    'IDP_STATUS_ERROR',
    `The identity provider did not sign you in (status ${shortCodes}). Ask your administrator to check that you are assigned to this application at the identity provider and that its SAML settings match this organization's.`,
    {
      details: {
        receivedIssuer: issuerText(response),
        statusCode: codes[0],
        subStatusCodes: codes.slice(1),
        ...(statusMessage === undefined ? {} : { statusMessage }),
      },
    },
  );
}

const issuerText = (parent: Element): string | undefined => {
  const issuer = firstChildElement(parent, NS.assertion, 'Issuer');
  return issuer === undefined ? undefined : (textOnly(issuer) ?? undefined);
};

/** The Assertion's (else the Response's) Issuer and the NameID, as the unverified document states them. */
function claimedSender(response: Element): { issuer?: string; nameId?: string } {
  const assertion = childElements(response, NS.assertion, 'Assertion')[0];
  const issuer = (assertion === undefined ? undefined : issuerText(assertion)) ?? issuerText(response);
  const subject = assertion === undefined ? undefined : childElements(assertion, NS.assertion, 'Subject')[0];
  const nameIdElement = subject === undefined ? undefined : childElements(subject, NS.assertion, 'NameID')[0];
  const nameId = nameIdElement === undefined ? undefined : textOnly(nameIdElement)?.trim();
  return { ...(issuer ? { issuer } : {}), ...(nameId ? { nameId } : {}) };
}

/** The Assertion's Issuer is required, the Response's optional; both must be the configured entity (the Response's only, before decryption). */
function assertIssuers(response: Element, assertion: Element | undefined, expected: string): string {
  const received: string[] = [];
  const parents: [Element, boolean][] = [[response, false]];
  if (assertion !== undefined) parents.push([assertion, true]);
  for (const [parent, required] of parents) {
    const issuers = childElements(parent, NS.assertion, 'Issuer');
    if (issuers.length > 1) throw malformed(`its ${parent.localName} has more than one Issuer`);
    if (issuers.length === 0) {
      if (required) throw malformed('its Assertion has no Issuer');
      continue;
    }
    const value = textOnly(issuers[0]!);
    if (value === undefined) throw malformed('an Issuer contains markup instead of text');
    received.push(value);
  }
  const wrong = received.find((value) => value !== expected);
  if (wrong !== undefined) {
    throw new LoginError('IDP_ISSUER_MISMATCH', ISSUER_MISMATCH_MESSAGE, { details: { expected, received: wrong, issuer: wrong } });
  }
  return expected;
}

function requireKeys(keys: readonly TrustedKey[], context: ErrorDetails): void {
  if (keys.length > 0) return;
  throw new LoginError('SIGNATURE_INVALID', 'No IdP signing certificate is configured for this organization. Ask your administrator to add one in the SSO settings.', {
    details: { ...context, reason: 'no certificate configured' },
  });
}

/**
 * What every signature of one response is checked against: the document's ID index, the
 * org's keys, its algorithm policy and the time certificates are judged at.
 */
interface SignatureCheck {
  ids: IdIndex;
  keys: readonly TrustedKey[];
  policy: AlgorithmPolicy;
  now: Date;
}

function verifySignature(signed: Element, signature: Element, check: SignatureCheck, context: ErrorDetails, bothSigned: boolean): Element {
  try {
    return verifyEnvelopedSignature(signed, signature, check.ids, check.keys, check);
  } catch (error) {
    if (error instanceof SignatureRefused) throw signatureError(error, context, bothSigned);
    throw error;
  }
}

/** The verified Response's one Assertion or EncryptedAssertion child, found inside the element the Reference points to. */
function verifiedResponse(response: Element, signature: Element, check: SignatureCheck, context: ErrorDetails, bothSigned: boolean): Element {
  const signedResponse = verifySignature(response, signature, check, context, bothSigned);
  const inside = [...childElements(signedResponse, NS.assertion, 'Assertion'), ...childElements(signedResponse, NS.assertion, 'EncryptedAssertion')];
  if (inside.length !== 1) throw malformed('its signed Response does not contain exactly one Assertion', context);
  return inside[0]!;
}

/** Decrypts the EncryptedAssertion with the SP's keys and splices the Assertion in its place. */
async function decrypted(parsed: ParsedResponse, encrypted: Element, input: SamlValidationInput, context: ErrorDetails): Promise<Element> {
  const keys = input.decryptionKeys ? await input.decryptionKeys() : [];
  const assertion = decryptAssertion(parsed.doc, encrypted, keys, context, parseDecryptedXml);
  spliceDecryptedAssertion(parsed, encrypted, assertion);
  // What was encrypted is held to the same algorithms as the rest.
  assertAllowedAlgorithms(assertion, input.algorithms);
  return assertion;
}

/**
 * Verifies every signature the response carries and returns the signed Assertion: the
 * Assertion's own Reference target when it is signed, else the one Assertion child of the
 * Response the Response's Reference points to. Either way found by the verified ID, and
 * where SAML puts it (a direct child of the root Response, never inside an Advice or any
 * other wrapper), so the element read is the element signed. A Response signature
 * already verified before decryption is passed as 'verified': the Assertion then is the
 * one spliced in place of the EncryptedAssertion it covered ('verified').
 */
function verifiedAssertion(
  response: Element,
  responseSignature: Element | 'verified' | undefined,
  documentAssertion: Element,
  assertionSignature: Element | undefined,
  check: SignatureCheck,
  context: ErrorDetails,
): Element {
  // Both present: both must verify, and a refused Response signature is explained as such.
  const bothSigned = responseSignature !== undefined && assertionSignature !== undefined;
  let assertion: Element | undefined;
  // 'verified': the Response signature covered the EncryptedAssertion this Assertion was decrypted from.
  if (responseSignature === 'verified') assertion = documentAssertion;
  else if (responseSignature !== undefined) assertion = verifiedResponse(response, responseSignature, check, context, bothSigned);
  if (assertionSignature !== undefined) {
    const signedAssertion = verifySignature(documentAssertion, assertionSignature, check, context, bothSigned);
    if (assertion !== undefined && assertion !== signedAssertion) throw malformed('the signed Response and the signed Assertion disagree', context);
    assertion = signedAssertion;
  }
  if (assertion === undefined || assertion !== documentAssertion || assertion.parentNode !== response) {
    throw malformed('its signed Assertion is not where SAML 2.0 puts it', { ...context, expected: '/Response/Assertion' });
  }
  return assertion;
}

interface SubjectFields {
  rawNameId: string;
  nameId: string;
  nameIdFormat?: string;
  confirmations: Element[];
}

function readSubject(assertion: Element, context: ErrorDetails): SubjectFields {
  const subjects = childElements(assertion, NS.assertion, 'Subject');
  if (subjects.length !== 1) throw malformed('its Assertion must contain exactly one Subject', context);
  const subject = subjects[0]!;
  if (childElements(subject, NS.assertion, 'EncryptedID').length > 0) {
    throw malformed('its NameID is encrypted, which is not supported yet; turn off NameID encryption at the identity provider', context);
  }
  const nameIds = childElements(subject, NS.assertion, 'NameID');
  if (nameIds.length !== 1) throw malformed('its Subject must contain exactly one NameID', context);
  const rawNameId = textOnly(nameIds[0]!);
  if (rawNameId === undefined) throw malformed('its NameID contains markup instead of text', context);
  const nameId = rawNameId.trim();
  if (nameId === '') throw malformed('its NameID is empty', context);
  const format = attr(nameIds[0]!, 'Format');
  return {
    rawNameId,
    nameId,
    ...(format === undefined ? {} : { nameIdFormat: format }),
    confirmations: childElements(subject, NS.assertion, 'SubjectConfirmation'),
  };
}

interface ConditionsFields {
  element: Element;
  notBefore?: number;
  notOnOrAfter: number;
}

function readConditions(assertion: Element, context: ErrorDetails): ConditionsFields {
  const all = childElements(assertion, NS.assertion, 'Conditions');
  if (all.length === 0) throw malformed('its Assertion has no Conditions (validity period and audience)', context);
  if (all.length > 1) throw malformed('its Assertion has more than one Conditions', context);
  const element = all[0]!;
  const notOnOrAfter = timeAttr(element, 'NotOnOrAfter');
  if (notOnOrAfter === undefined) throw malformed('its Conditions have no NotOnOrAfter (end of validity)', context);
  const notBefore = timeAttr(element, 'NotBefore');
  return { element, notOnOrAfter, ...(notBefore === undefined ? {} : { notBefore }) };
}

/** Every AudienceRestriction must name this SP (they are ANDed, SAML core 2.5.1.4). */
function assertAudience(conditions: Element, spEntityId: string, context: ErrorDetails): void {
  const restrictions = childElements(conditions, NS.assertion, 'AudienceRestriction');
  const received = restrictions.flatMap((restriction) =>
    childElements(restriction, NS.assertion, 'Audience').map((audience) => textOnly(audience) ?? ''),
  );
  const ok =
    restrictions.length > 0 &&
    restrictions.every((restriction) => childElements(restriction, NS.assertion, 'Audience').some((audience) => textOnly(audience) === spEntityId));
  if (!ok) {
    throw new LoginError(
      'AUDIENCE_MISMATCH',
      'The SAML assertion is meant for a different application. Ask your administrator to set the audience (SP entity ID / identifier) at the identity provider to this organization\'s SP entity ID.',
      { details: { ...context, expected: spEntityId, received } },
    );
  }
}

function assertTimeWindow(
  where: string,
  notBefore: number | undefined,
  notOnOrAfter: number | undefined,
  now: number,
  skewMs: number,
  context: ErrorDetails,
): void {
  const times = {
    ...(notBefore === undefined ? {} : { notBefore: new Date(notBefore).toISOString() }),
    ...(notOnOrAfter === undefined ? {} : { notOnOrAfter: new Date(notOnOrAfter).toISOString() }),
    now: new Date(now).toISOString(),
    clockSkewSeconds: skewMs / 1000,
  };
  if (notBefore !== undefined && now + skewMs < notBefore) {
    throw new LoginError(
      'ASSERTION_NOT_YET_VALID',
      'The SAML assertion is not valid yet. The identity provider\'s clock may be ahead of ours; ask your administrator to check it or to allow more clock skew in the SSO settings.',
      { details: { ...context, where, ...times } },
    );
  }
  if (notOnOrAfter !== undefined && now - skewMs >= notOnOrAfter) {
    throw new LoginError(
      'ASSERTION_EXPIRED',
      'The SAML assertion has expired. Sign in again; if it keeps happening, ask your administrator to check the identity provider\'s clock and assertion lifetime.',
      { details: { ...context, where, ...times } },
    );
  }
}

interface AcceptedConfirmation {
  notOnOrAfter: number;
  inResponseTo?: string;
}

/**
 * SAML Web SSO profile 4.1.4.2: at least one bearer SubjectConfirmation whose data names
 * this ACS as Recipient and is still valid. The first bearer confirmation that passes is
 * used; when none does, the first one's error is reported.
 */
function acceptBearerConfirmation(confirmations: Element[], acsUrl: string, now: number, skewMs: number, context: ErrorDetails): AcceptedConfirmation {
  const bearers = confirmations.filter((confirmation) => attr(confirmation, 'Method') === BEARER_METHOD);
  if (bearers.length === 0) {
    throw malformed('its Subject has no bearer SubjectConfirmation', {
      ...context,
      expected: BEARER_METHOD,
      received: confirmations.map((confirmation) => attr(confirmation, 'Method') ?? null),
    });
  }
  let firstError: unknown;
  for (const bearer of bearers) {
    try {
      return checkBearer(bearer, acsUrl, now, skewMs, context);
    } catch (error) {
      firstError ??= error;
    }
  }
  throw firstError;
}

function checkBearer(bearer: Element, acsUrl: string, now: number, skewMs: number, context: ErrorDetails): AcceptedConfirmation {
  const all = childElements(bearer, NS.assertion, 'SubjectConfirmationData');
  if (all.length !== 1) throw malformed('its bearer SubjectConfirmation must have exactly one SubjectConfirmationData', context);
  const data = all[0]!;
  const recipient = attr(data, 'Recipient');
  if (recipient !== acsUrl) throw destinationMismatch('Recipient', acsUrl, recipient, context);
  const notOnOrAfter = timeAttr(data, 'NotOnOrAfter');
  if (notOnOrAfter === undefined) throw malformed('its SubjectConfirmationData has no NotOnOrAfter', context);
  assertTimeWindow('SubjectConfirmationData', timeAttr(data, 'NotBefore'), notOnOrAfter, now, skewMs, context);
  const inResponseTo = attr(data, 'InResponseTo');
  return { notOnOrAfter, ...(inResponseTo === undefined ? {} : { inResponseTo }) };
}

function destinationMismatch(where: 'Destination' | 'Recipient', expected: string, received: string | undefined, context: ErrorDetails): LoginError {
  return new LoginError(
    'DESTINATION_MISMATCH',
    'The SAML response was sent for a different address than this organization\'s ACS URL. Ask your administrator to set the ACS (reply) URL at the identity provider to this organization\'s ACS URL.',
    { details: { ...context, where, expected, received: received ?? null } },
  );
}

/** An xs:dateTime attribute as epoch milliseconds; absent stays undefined. */
function timeAttr(element: Element, name: string): number | undefined {
  const value = attr(element, name);
  if (value === undefined) return undefined;
  if (!isDateTime(value)) throw malformed(`the ${name} time is not a valid date and time`, { received: value });
  return Date.parse(value);
}

function requiredId(element: Element, name: string): string {
  const id = attr(element, 'ID');
  if (id === undefined || id === '') throw malformed(`its ${name} has no ID`);
  return id;
}

/**
 * Every Attribute of every AttributeStatement, in document order, each with all of its
 * values (an `xsi:nil` value is no value).
 */
function readAttributeList(assertion: Element): AssertedAttribute[] {
  const list: AssertedAttribute[] = [];
  for (const statement of childElements(assertion, NS.assertion, 'AttributeStatement')) {
    for (const attribute of childElements(statement, NS.assertion, 'Attribute')) {
      const name = attr(attribute, 'Name');
      if (name === undefined || name === '') continue;
      const nameFormat = attr(attribute, 'NameFormat');
      const values = childElements(attribute, NS.assertion, 'AttributeValue')
        .filter((value) => value.getAttributeNS('http://www.w3.org/2001/XMLSchema-instance', 'nil') !== 'true')
        .map((value) => value.textContent ?? '');
      list.push({ name, ...(nameFormat === undefined ? {} : { nameFormat }), values });
    }
  }
  return list;
}

/**
 * The attributes by name, in document order, with all of their values (an attribute
 * repeated under the same Name accumulates). A Map, so names such as `__proto__` or
 * `constructor` are data, never properties.
 */
function mergeAttributes(list: readonly AssertedAttribute[]): Map<string, string[]> {
  const attributes = new Map<string, string[]>();
  for (const { name, values } of list) {
    const existing = attributes.get(name);
    if (existing === undefined) attributes.set(name, [...values]);
    else existing.push(...values);
  }
  return attributes;
}
