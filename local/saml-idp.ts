/**
 * A small, real SAML 2.0 identity provider signer: keys and a self-signed certificate
 * made at run time, login responses built as XML and signed with xml-crypto.
 *
 * Used by the unit tests (which tamper with the XML between building and signing, and
 * after signing) and by the development IdP page of `npm start`. Never used in AWS.
 */
import { randomBytes } from 'node:crypto';
import { generate } from 'selfsigned';
import { SignedXml } from 'xml-crypto';
import { escapeXml } from '../shared/saml/xml.js';

export const SAML_PROTOCOL_NS = 'urn:oasis:names:tc:SAML:2.0:protocol';
export const SAML_ASSERTION_NS = 'urn:oasis:names:tc:SAML:2.0:assertion';
export const NAMEID_EMAIL = 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress';
export const NAMEID_PERSISTENT = 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent';
export const STATUS_SUCCESS = 'urn:oasis:names:tc:SAML:2.0:status:Success';

export const SIGNATURE_ALGORITHMS = {
  rsaSha1: 'http://www.w3.org/2000/09/xmldsig#rsa-sha1',
  rsaSha256: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
  rsaSha512: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512',
} as const;

export const DIGEST_ALGORITHMS = {
  sha1: 'http://www.w3.org/2000/09/xmldsig#sha1',
  sha256: 'http://www.w3.org/2001/04/xmlenc#sha256',
  sha512: 'http://www.w3.org/2001/04/xmlenc#sha512',
} as const;

const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
const ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';

export interface SamlIdpKeys {
  entityId: string;
  certificatePem: string;
  privateKeyPem: string;
}

export interface SamlIdpKeyOptions {
  /** When the certificate starts to be valid; default: a day ago. */
  notBefore?: Date;
  /** When it expires; default: ten years after `notBefore` (as Okta's and Entra ID's are), so fixed test clocks years ahead still fall inside it. */
  notAfter?: Date;
}

const DAY_MS = 86_400_000;

/** A fresh RSA 2048 key and a self-signed certificate (SHA-256) for `entityId`. */
export async function createSamlIdpKeys(entityId: string, options: SamlIdpKeyOptions = {}): Promise<SamlIdpKeys> {
  const notBefore = options.notBefore ?? new Date(Date.now() - DAY_MS);
  const pems = await generate([{ name: 'commonName', value: 'sso-jit development IdP' }], {
    keyType: 'rsa',
    keySize: 2048,
    algorithm: 'sha256',
    notBeforeDate: notBefore,
    notAfterDate: options.notAfter ?? new Date(notBefore.getTime() + 3652 * DAY_MS),
  });
  return { entityId, certificatePem: pems.cert, privateKeyPem: pems.private };
}

export interface LoginResponseInput {
  idp: SamlIdpKeys;
  spEntityId: string;
  acsUrl: string;
  nameId: string;
  /** Defaults to the emailAddress format. */
  nameIdFormat?: string;
  /** Attribute name to one value or several (each becomes its own AttributeValue). */
  attributes?: Record<string, string | string[]>;
  /** Defaults to the current time. */
  now?: Date;
  /** How long the assertion stays valid; defaults to 300 seconds. */
  lifetimeSeconds?: number;
  inResponseTo?: string;
  sessionIndex?: string;
  /** Which element(s) to sign; defaults to 'assertion'. */
  sign?: SignMode;
}

export type SignMode = 'assertion' | 'response' | 'both' | 'none';

export interface SignOptions {
  signatureAlgorithm?: string;
  digestAlgorithm?: string;
  /** Put the signing certificate in KeyInfo (default true, as most IdPs do). */
  includeKeyInfo?: boolean;
}

const newSamlId = (): string => `_${randomBytes(16).toString('hex')}`;

/** xs:dateTime in UTC, as IdPs send it. */
const samlInstant = (date: Date): string => date.toISOString();

/**
 * An unsigned SAML 2.0 Response with one Assertion, compact (no whitespace between
 * elements) so tests can find and replace fragments of it.
 */
export function buildLoginResponseXml(input: LoginResponseInput): string {
  const now = input.now ?? new Date();
  const notOnOrAfter = new Date(now.getTime() + (input.lifetimeSeconds ?? 300) * 1000);
  const issuer = escapeXml(input.idp.entityId);
  const acsUrl = escapeXml(input.acsUrl);
  const inResponseTo = input.inResponseTo === undefined ? '' : ` InResponseTo="${escapeXml(input.inResponseTo)}"`;
  const sessionIndex = escapeXml(input.sessionIndex ?? newSamlId());

  const attributes = Object.entries(input.attributes ?? {})
    .map(([name, value]) => {
      const values = (Array.isArray(value) ? value : [value])
        .map((one) => `<saml:AttributeValue xsi:type="xs:string">${escapeXml(one)}</saml:AttributeValue>`)
        .join('');
      const nameFormat = name.includes(':')
        ? 'urn:oasis:names:tc:SAML:2.0:attrname-format:uri'
        : 'urn:oasis:names:tc:SAML:2.0:attrname-format:basic';
      return `<saml:Attribute Name="${escapeXml(name)}" NameFormat="${nameFormat}">${values}</saml:Attribute>`;
    })
    .join('');
  const attributeStatement = attributes === '' ? '' : `<saml:AttributeStatement>${attributes}</saml:AttributeStatement>`;

  return (
    `<samlp:Response xmlns:samlp="${SAML_PROTOCOL_NS}" xmlns:saml="${SAML_ASSERTION_NS}" ID="${newSamlId()}" Version="2.0" IssueInstant="${samlInstant(now)}" Destination="${acsUrl}"${inResponseTo}>` +
    `<saml:Issuer>${issuer}</saml:Issuer>` +
    `<samlp:Status><samlp:StatusCode Value="${STATUS_SUCCESS}"/></samlp:Status>` +
    `<saml:Assertion xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xs="http://www.w3.org/2001/XMLSchema" ID="${newSamlId()}" Version="2.0" IssueInstant="${samlInstant(now)}">` +
    `<saml:Issuer>${issuer}</saml:Issuer>` +
    `<saml:Subject>` +
    `<saml:NameID Format="${escapeXml(input.nameIdFormat ?? NAMEID_EMAIL)}">${escapeXml(input.nameId)}</saml:NameID>` +
    `<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">` +
    `<saml:SubjectConfirmationData NotOnOrAfter="${samlInstant(notOnOrAfter)}" Recipient="${acsUrl}"${inResponseTo}/>` +
    `</saml:SubjectConfirmation>` +
    `</saml:Subject>` +
    `<saml:Conditions NotBefore="${samlInstant(now)}" NotOnOrAfter="${samlInstant(notOnOrAfter)}">` +
    `<saml:AudienceRestriction><saml:Audience>${escapeXml(input.spEntityId)}</saml:Audience></saml:AudienceRestriction>` +
    `</saml:Conditions>` +
    `<saml:AuthnStatement AuthnInstant="${samlInstant(now)}" SessionIndex="${sessionIndex}">` +
    `<saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext>` +
    `</saml:AuthnStatement>` +
    attributeStatement +
    `</saml:Assertion>` +
    `</samlp:Response>`
  );
}

const RESPONSE_XPATH = "/*[local-name(.)='Response']";
const ASSERTION_XPATH = `${RESPONSE_XPATH}/*[local-name(.)='Assertion']`;

/** Enveloped signature of the element at `xpath`, placed right after its Issuer (SAML schema order). */
function signElement(xml: string, xpath: string, idp: SamlIdpKeys, options: SignOptions): string {
  const signer = new SignedXml({
    privateKey: idp.privateKeyPem,
    publicCert: options.includeKeyInfo === false ? undefined : idp.certificatePem,
    signatureAlgorithm: options.signatureAlgorithm ?? SIGNATURE_ALGORITHMS.rsaSha256,
    canonicalizationAlgorithm: EXC_C14N,
  });
  signer.addReference({
    xpath,
    transforms: [ENVELOPED, EXC_C14N],
    digestAlgorithm: options.digestAlgorithm ?? DIGEST_ALGORITHMS.sha256,
  });
  signer.computeSignature(xml, {
    prefix: 'ds',
    location: { reference: `${xpath}/*[local-name(.)='Issuer']`, action: 'after' },
  });
  return signer.getSignedXml();
}

/**
 * Signs a Response built by {@link buildLoginResponseXml}: exclusive c14n, rsa-sha256 and
 * sha256 unless told otherwise. 'both' signs the Assertion first, then the Response
 * (whose signature then covers the Assertion's).
 */
export function signLoginResponseXml(xml: string, idp: SamlIdpKeys, sign: SignMode, options: SignOptions = {}): string {
  let signed = xml;
  if (sign === 'assertion' || sign === 'both') signed = signElement(signed, ASSERTION_XPATH, idp, options);
  if (sign === 'response' || sign === 'both') signed = signElement(signed, RESPONSE_XPATH, idp, options);
  return signed;
}

/** The form value an IdP would POST to the ACS. */
export const encodeSamlResponse = (xml: string): string => Buffer.from(xml, 'utf8').toString('base64');

/** Build, sign (default: the assertion) and base64-encode: a SAMLResponse ready to POST. */
export function buildSignedLoginResponse(input: LoginResponseInput): string {
  return encodeSamlResponse(signLoginResponseXml(buildLoginResponseXml(input), input.idp, input.sign ?? 'assertion'));
}
