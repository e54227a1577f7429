/**
 * Which XML-DSig and XML-Enc algorithms a SAML response may use. SHA-1 and MD5 are
 * collision-broken and RSA-1_5 / 3DES encryption are attackable (saml-sec-consider,
 * xmldsig-core §6): a signature or digest algorithm outside the allowlists is refused with
 * `ALGORITHM_NOT_ALLOWED`, except RSA-SHA1 signatures and SHA-1 reference digests for an
 * org that turned on `saml.allowSha1` (API.md "SAML as enterprises run it"), and so is any
 * EncryptionMethod outside decrypt.ts's allowlist. The digest of RSA-OAEP key transport
 * is not a signature: SHA-1 is allowed there (decrypt.ts checks it with the rest of the
 * key transport).
 */
import type { Document, Element } from '@xmldom/xmldom';
import { LoginError } from '../errors.js';
import { ALLOWED_ENCRYPTION_ALGORITHMS, encryptionAlgorithmNotAllowed } from './decrypt.js';
import { NS, attr, descendantElements, elementPath } from './xml.js';

/** What an org's settings allow beyond the default allowlists. */
export interface AlgorithmPolicy {
  /** `saml.allowSha1`: RSA-SHA1 signatures and SHA-1 reference digests verify. */
  allowSha1?: boolean;
}

export const RSA_SHA1 = 'http://www.w3.org/2000/09/xmldsig#rsa-sha1';
export const SHA1_DIGEST = 'http://www.w3.org/2000/09/xmldsig#sha1';

export const ALLOWED_SIGNATURE_ALGORITHMS: ReadonlySet<string> = new Set([
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha384',
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512',
  'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256',
  'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384',
  'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512',
  // RSASSA-PSS with SHA-256 (RFC 6931); signature.ts verifies it with node:crypto.
  'http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1',
]);

export const ALLOWED_DIGEST_ALGORITHMS: ReadonlySet<string> = new Set([
  'http://www.w3.org/2001/04/xmlenc#sha256',
  'http://www.w3.org/2001/04/xmldsig-more#sha384',
  'http://www.w3.org/2001/04/xmlenc#sha512',
]);

/** Canonicalization and transforms: no XPath or XSLT transforms, which can select or rewrite what is signed. */
export const ALLOWED_TRANSFORMS: ReadonlySet<string> = new Set([
  'http://www.w3.org/2001/10/xml-exc-c14n#',
  'http://www.w3.org/2001/10/xml-exc-c14n#WithComments',
  'http://www.w3.org/TR/2001/REC-xml-c14n-20010315',
  'http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments',
  'http://www.w3.org/2006/12/xml-c14n11',
  'http://www.w3.org/2000/09/xmldsig#enveloped-signature',
]);

/** Named here for readers: outside {@link ALLOWED_ENCRYPTION_ALGORITHMS}, so refused wherever they appear. */
export const REFUSED_ENCRYPTION_ALGORITHMS: ReadonlySet<string> = new Set([
  'http://www.w3.org/2001/04/xmlenc#rsa-1_5',
  'http://www.w3.org/2001/04/xmlenc#tripledes-cbc',
]);

const WEAK_HASH = /sha1(?![0-9])|md5/i;

/** The signature algorithms an org's policy accepts. */
export function signatureAlgorithmsFor(policy: AlgorithmPolicy = {}): ReadonlySet<string> {
  return policy.allowSha1 ? new Set([...ALLOWED_SIGNATURE_ALGORITHMS, RSA_SHA1]) : ALLOWED_SIGNATURE_ALGORITHMS;
}

/** The reference digest algorithms an org's policy accepts. */
export function digestAlgorithmsFor(policy: AlgorithmPolicy = {}): ReadonlySet<string> {
  return policy.allowSha1 ? new Set([...ALLOWED_DIGEST_ALGORITHMS, SHA1_DIGEST]) : ALLOWED_DIGEST_ALGORITHMS;
}

function refuse(kind: string, element: string, algorithm: string | undefined, policy: AlgorithmPolicy): never {
  const sha1 = algorithm === RSA_SHA1 || algorithm === SHA1_DIGEST;
  const weak = algorithm !== undefined && WEAK_HASH.test(algorithm);
  const fix = sha1
    ? ' Ask your administrator to configure the identity provider to sign with RSA-SHA256 and a SHA-256 digest (or, if it cannot, to turn on "Allow SHA-1" in the SSO settings).'
    : ' Ask your administrator to configure the identity provider to sign with RSA-SHA256 and a SHA-256 digest.';
  const message =
    kind === 'transform'
      ? `The SAML response uses a ${kind} algorithm that is not allowed.${fix}`
      : weak
        ? `The SAML response is signed with a weak algorithm (${kind} ${algorithm}).${fix}`
        : `The SAML response uses a ${kind} algorithm that is not allowed.${fix}`;
  const allowed = kind === 'signature' ? signatureAlgorithmsFor(policy) : kind === 'digest' ? digestAlgorithmsFor(policy) : undefined;
  // A transform outside the list is a signature of a shape SAML does not use; the rest name an algorithm.
  throw new LoginError(kind === 'transform' ? 'SIGNATURE_INVALID' : 'ALGORITHM_NOT_ALLOWED', message, {
    details: {
      reason: `${kind} algorithm not allowed`,
      received: algorithm ?? null,
      element,
      ...(allowed === undefined ? {} : { expected: [...allowed] }),
    },
  });
}

/**
 * Refuses (`ALGORITHM_NOT_ALLOWED`) any signature or digest algorithm outside the org's
 * allowlists and any encryption algorithm outside decrypt.ts's, and (`SIGNATURE_INVALID`)
 * any canonicalization or transform outside its list, wherever it appears in the subtree:
 * a weak algorithm in an element nobody verifies today is still refused, so nothing
 * downstream ever has to decide.
 */
export function assertAllowedAlgorithms(root: Document | Element, policy: AlgorithmPolicy = {}): void {
  const signatureAlgorithms = signatureAlgorithmsFor(policy);
  const digestAlgorithms = digestAlgorithmsFor(policy);
  for (const element of descendantElements(root)) {
    const algorithm = attr(element, 'Algorithm');
    const parent = element.parentNode as Element | null;
    // RSA-OAEP's DigestMethod (ds namespace, inside an xenc EncryptionMethod): decrypt.ts checks it.
    const inEncryptionMethod = parent?.localName === 'EncryptionMethod' && (parent.namespaceURI === NS.xenc || parent.namespaceURI === NS.xenc11);
    if (element.namespaceURI === NS.dsig) {
      switch (element.localName) {
        case 'SignatureMethod':
          if (algorithm === undefined || !signatureAlgorithms.has(algorithm)) refuse('signature', elementPath(element), algorithm, policy);
          break;
        case 'DigestMethod':
          if (inEncryptionMethod) break;
          if (algorithm === undefined || !digestAlgorithms.has(algorithm)) refuse('digest', elementPath(element), algorithm, policy);
          break;
        case 'CanonicalizationMethod':
        case 'Transform':
          if (algorithm === undefined || !ALLOWED_TRANSFORMS.has(algorithm)) refuse('transform', elementPath(element), algorithm, policy);
          break;
      }
    } else if (element.localName === 'EncryptionMethod' && algorithm !== undefined) {
      if (!ALLOWED_ENCRYPTION_ALGORITHMS.has(algorithm)) throw encryptionAlgorithmNotAllowed(element, algorithm, [...ALLOWED_ENCRYPTION_ALGORITHMS]);
    }
  }
}
