/**
 * The org's IdP signing certificates as public `KeyObject`s, parsed once and kept.
 *
 * A login used to hand PEM strings to the verifier, which parsed them again for every
 * signature. Here each certificate is parsed the first time a settings object is used
 * (keyed by the identity of its `certificates` array, which a settings version owns) and,
 * behind that, by the certificate's own text (so a settings reload of the same version,
 * or another org trusting the same IdP, reuses the parse). Keys never come from the
 * message: `KeyInfo` is not read for verification at all (shared/saml/signature.ts).
 */
import { X509Certificate, type KeyObject } from 'node:crypto';
import { certificateBody } from './xml.js';

/** One configured certificate, ready to verify with. */
export interface TrustedKey {
  key: KeyObject;
  /** The base64 DER, as `<ds:X509Certificate>` would carry it (to explain a refusal, never to choose a key). */
  certificateBody: string;
  /** SHA-256 fingerprint, `AB:CD:…`, for the admin-facing details of a refusal. */
  fingerprintSha256: string;
  /** The certificate's `notAfter`: past it the key no longer verifies (CERTIFICATE_EXPIRED). */
  notAfter: Date;
}

const MAX_CACHED_CERTIFICATES = 1_000;

const bySettings = new WeakMap<readonly string[], { pems: readonly string[]; keys: readonly TrustedKey[] }>();
const byPem = new Map<string, TrustedKey | null>();

function parse(pem: string): TrustedKey | null {
  const cached = byPem.get(pem);
  if (cached !== undefined) return cached;
  let trusted: TrustedKey | null;
  try {
    const certificate = new X509Certificate(pem);
    trusted = { key: certificate.publicKey, certificateBody: certificateBody(pem), fingerprintSha256: certificate.fingerprint256, notAfter: new Date(certificate.validTo) };
  } catch {
    // Settings validation stores only certificates that parse; one that does not vouches for nothing.
    trusted = null;
  }
  if (byPem.size >= MAX_CACHED_CERTIFICATES) byPem.delete(byPem.keys().next().value!);
  byPem.set(pem, trusted);
  return trusted;
}

/**
 * The keys of the configured certificates, in configuration order; a certificate that
 * does not parse is left out.
 *
 * @param certificates the org's `saml.certificates` (canonical PEM), the very array of
 *   the settings object in use, so a warm login finds its keys with one WeakMap lookup
 * @example const keys = trustedKeys(settings.sso.saml.certificates);
 */
export function trustedKeys(certificates: readonly string[]): readonly TrustedKey[] {
  const known = bySettings.get(certificates);
  // The copy guards against an array edited in place: its keys are never those of other certificates.
  if (known !== undefined && known.pems.length === certificates.length && known.pems.every((pem, i) => pem === certificates[i])) return known.keys;
  const keys = certificates.map(parse).filter((key): key is TrustedKey => key !== null);
  bySettings.set(certificates, { pems: [...certificates], keys });
  return keys;
}
