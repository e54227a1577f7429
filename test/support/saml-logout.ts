/**
 * The IdP side of SAML single logout, for tests: LogoutRequests and LogoutResponses built
 * as XML and signed at test time with a test IdP's key (local/saml-idp.ts), by the
 * HTTP-Redirect binding (detached signature over the query string) or the HTTP-POST
 * binding (enveloped XML signature); and the reading of what the service sends back.
 */
import { createSign, createVerify, randomBytes } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { SignedXml } from 'xml-crypto';
import type { SamlIdpKeys } from '../../local/saml-idp.js';
import { escapeXml } from '../../shared/saml/xml.js';

export const PROTOCOL = 'urn:oasis:names:tc:SAML:2.0:protocol';
export const ASSERTION = 'urn:oasis:names:tc:SAML:2.0:assertion';
export const RSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';
export const RSA_SHA1 = 'http://www.w3.org/2000/09/xmldsig#rsa-sha1';
const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
const ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';

export const newMessageId = (): string => `_${randomBytes(16).toString('hex')}`;

export interface LogoutRequestOptions {
  issuer: string;
  nameId: string;
  nameIdFormat?: string;
  sessionIndexes?: string[];
  destination?: string;
  now: Date;
  /** Seconds from `now`; null leaves NotOnOrAfter out. Default 300. */
  lifetimeSeconds?: number | null;
  id?: string;
}

export function logoutRequestXml(options: LogoutRequestOptions): string {
  const lifetime = options.lifetimeSeconds === undefined ? 300 : options.lifetimeSeconds;
  const notOnOrAfter = lifetime === null ? '' : ` NotOnOrAfter="${new Date(options.now.getTime() + lifetime * 1000).toISOString()}"`;
  const destination = options.destination === undefined ? '' : ` Destination="${escapeXml(options.destination)}"`;
  const format = options.nameIdFormat === undefined ? '' : ` Format="${escapeXml(options.nameIdFormat)}"`;
  return (
    `<samlp:LogoutRequest xmlns:samlp="${PROTOCOL}" xmlns:saml="${ASSERTION}" ID="${options.id ?? newMessageId()}" Version="2.0" IssueInstant="${options.now.toISOString()}"${destination}${notOnOrAfter}>` +
    `<saml:Issuer>${escapeXml(options.issuer)}</saml:Issuer>` +
    `<saml:NameID${format}>${escapeXml(options.nameId)}</saml:NameID>` +
    (options.sessionIndexes ?? []).map((index) => `<samlp:SessionIndex>${escapeXml(index)}</samlp:SessionIndex>`).join('') +
    `</samlp:LogoutRequest>`
  );
}

export interface LogoutResponseOptions {
  issuer: string;
  inResponseTo?: string;
  destination?: string;
  now: Date;
  status?: string;
}

export function logoutResponseXml(options: LogoutResponseOptions): string {
  const destination = options.destination === undefined ? '' : ` Destination="${escapeXml(options.destination)}"`;
  const inResponseTo = options.inResponseTo === undefined ? '' : ` InResponseTo="${escapeXml(options.inResponseTo)}"`;
  return (
    `<samlp:LogoutResponse xmlns:samlp="${PROTOCOL}" xmlns:saml="${ASSERTION}" ID="${newMessageId()}" Version="2.0" IssueInstant="${options.now.toISOString()}"${destination}${inResponseTo}>` +
    `<saml:Issuer>${escapeXml(options.issuer)}</saml:Issuer>` +
    `<samlp:Status><samlp:StatusCode Value="${options.status ?? 'urn:oasis:names:tc:SAML:2.0:status:Success'}"/></samlp:Status>` +
    `</samlp:LogoutResponse>`
  );
}

export interface RedirectOptions {
  relayState?: string;
  /** Leave the signature off. */
  unsigned?: boolean;
  sigAlg?: string;
}

/**
 * The query string of the HTTP-Redirect binding: `{parameter}=…[&RelayState=…]&SigAlg=…&Signature=…`,
 * the signature over the encoded octets before `&Signature` (bindings 3.4.4.1).
 */
export function redirectQuery(parameter: 'SAMLRequest' | 'SAMLResponse', xml: string, key: Pick<SamlIdpKeys, 'privateKeyPem'>, options: RedirectOptions = {}): string {
  let query = `${parameter}=${encodeURIComponent(deflateRawSync(Buffer.from(xml, 'utf8')).toString('base64'))}`;
  if (options.relayState !== undefined) query += `&RelayState=${encodeURIComponent(options.relayState)}`;
  if (options.unsigned) return query;
  const sigAlg = options.sigAlg ?? RSA_SHA256;
  query += `&SigAlg=${encodeURIComponent(sigAlg)}`;
  const signature = createSign(sigAlg === RSA_SHA1 ? 'RSA-SHA1' : 'RSA-SHA256').update(query).sign(key.privateKeyPem, 'base64');
  return `${query}&Signature=${encodeURIComponent(signature)}`;
}

/** Signs the root element of a logout message (enveloped, placed after its Issuer), for the HTTP-POST binding. */
export function signRootXml(xml: string, idp: SamlIdpKeys): string {
  const root = xml.startsWith('<samlp:LogoutRequest') ? 'LogoutRequest' : 'LogoutResponse';
  const xpath = `/*[local-name(.)='${root}']`;
  const signer = new SignedXml({ privateKey: idp.privateKeyPem, publicCert: idp.certificatePem, signatureAlgorithm: RSA_SHA256, canonicalizationAlgorithm: EXC_C14N });
  signer.addReference({ xpath, transforms: [ENVELOPED, EXC_C14N], digestAlgorithm: 'http://www.w3.org/2001/04/xmlenc#sha256' });
  signer.computeSignature(xml, { prefix: 'ds', location: { reference: `${xpath}/*[local-name(.)='Issuer']`, action: 'after' } });
  return signer.getSignedXml();
}

/** What the service sent by HTTP-Redirect: the inflated XML, RelayState, and whether its signature verifies with `certificatePem`. */
export function readRedirect(location: string, certificatePem: string): { url: URL; parameter: string; xml: string; relayState?: string; sigAlg?: string; signatureValid: boolean } {
  const url = new URL(location);
  const raw = url.search.slice(1);
  const parts = new Map(raw.split('&').map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)] as const));
  const parameter = parts.has('SAMLRequest') ? 'SAMLRequest' : 'SAMLResponse';
  const xml = inflateRawSync(Buffer.from(decodeURIComponent(parts.get(parameter)!), 'base64')).toString('utf8');
  const relayState = parts.has('RelayState') ? decodeURIComponent(parts.get('RelayState')!) : undefined;
  const sigAlg = parts.has('SigAlg') ? decodeURIComponent(parts.get('SigAlg')!) : undefined;
  let signatureValid = false;
  if (sigAlg !== undefined && parts.has('Signature')) {
    const signed = [`${parameter}=${parts.get(parameter)}`, ...(parts.has('RelayState') ? [`RelayState=${parts.get('RelayState')}`] : []), `SigAlg=${parts.get('SigAlg')}`].join('&');
    signatureValid = createVerify('RSA-SHA256').update(signed).verify(certificatePem, Buffer.from(decodeURIComponent(parts.get('Signature')!), 'base64'));
  }
  return { url, parameter, xml, ...(relayState === undefined ? {} : { relayState }), ...(sigAlg === undefined ? {} : { sigAlg }), signatureValid };
}

/** An attribute of the root element of `xml`. */
export const rootAttribute = (xml: string, name: string): string | undefined => new RegExp(`^<[^>]*\\s${name}="([^"]*)"`).exec(xml)?.[1];
