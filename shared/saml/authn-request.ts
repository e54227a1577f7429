/**
 * SP-initiated SAML: the AuthnRequest we send an org's IdP, by the HTTP-Redirect
 * binding (deflated, base64, in the query string), signed with the deployment's SP key
 * when the org asks for signed requests (SAML bindings 3.4.4.1: the signature covers
 * `SAMLRequest=…&RelayState=…&SigAlg=…` exactly as sent).
 */
import { createSign, randomBytes } from 'node:crypto';
import { deflateRawSync } from 'node:zlib';
import { escapeXml } from './xml.js';

export const RSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';

/** One private key and its certificate (PEM). */
export interface SpKeyMaterial {
  privateKeyPem: string;
  certificatePem: string;
}

/**
 * The deployment's SP key pair: signs AuthnRequests; its certificate is in the SP
 * metadata. `encryption` is the key IdPs encrypt assertions to (`use="encryption"` in the
 * metadata) and `previousEncryption` the one it replaced at the last rotation, which still
 * decrypts until the next. A pair stored before encryption existed has neither: its
 * signing key then serves for encryption too (sp-keys.ts).
 */
export interface SpKeyPair extends SpKeyMaterial {
  encryption?: SpKeyMaterial;
  previousEncryption?: SpKeyMaterial;
}

export interface AuthnRequestInput {
  sp: { entityId: string; acsUrl: string };
  /** The IdP's SingleSignOnService URL (HTTP-Redirect). */
  ssoUrl: string;
  now: Date;
  /** Opaque reference to the pending login; comes back with the response. */
  relayState: string;
  /** Signs the request when given. */
  signingKey?: SpKeyPair;
}

/** A fresh AuthnRequest ID: starts with a letter (xs:ID), 160 bits of randomness. */
export const newRequestId = (): string => `_${randomBytes(20).toString('hex')}`;

/** Whether a value has the form of our request ids (as they come back in RelayState). */
export const isRequestId = (value: string): boolean => /^_[0-9a-f]{40}$/.test(value);

/**
 * The URL that sends the browser to the IdP with an AuthnRequest.
 * @example authnRequestRedirect({ sp, ssoUrl: 'https://idp.example.com/sso', now, relayState: ref }, '_abc')
 */
export function authnRequestRedirect(input: AuthnRequestInput, requestId: string): string {
  const xml =
    `<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"` +
    ` ID="${escapeXml(requestId)}" Version="2.0" IssueInstant="${input.now.toISOString()}" Destination="${escapeXml(input.ssoUrl)}"` +
    ` AssertionConsumerServiceURL="${escapeXml(input.sp.acsUrl)}" ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST">` +
    `<saml:Issuer>${escapeXml(input.sp.entityId)}</saml:Issuer>` +
    `<samlp:NameIDPolicy Format="urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified" AllowCreate="true"/>` +
    `</samlp:AuthnRequest>`;
  let query = `SAMLRequest=${encodeURIComponent(deflateRawSync(Buffer.from(xml, 'utf8')).toString('base64'))}&RelayState=${encodeURIComponent(input.relayState)}`;
  if (input.signingKey) {
    query += `&SigAlg=${encodeURIComponent(RSA_SHA256)}`;
    const signature = createSign('RSA-SHA256').update(query).sign(input.signingKey.privateKeyPem, 'base64');
    query += `&Signature=${encodeURIComponent(signature)}`;
  }
  const url = new URL(input.ssoUrl);
  url.search = url.search ? `${url.search.slice(1)}&${query}` : query;
  return url.toString();
}
