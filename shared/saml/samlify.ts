/**
 * samlify, used for one thing: verifying the XML signature of a login response against
 * the org's configured IdP certificates and handing back the signed assertion (the
 * signed reference itself, so nothing outside the signature is ever read as the
 * assertion).
 *
 * Why `SamlLib.verifySignature` and not `sp.parseLoginResponse`: the latter wraps the
 * same verifier in a flow that re-parses the document about a dozen times for its own
 * extraction, status, issuer and time checks. All of those are done here anyway (time
 * with the injected clock, which samlify cannot take: it reads `new Date()`), and the
 * flow doubled the CPU cost of a login, over the budget of DESIGN.md "Performance
 * budgets". Calling the verifier directly also means samlify's global clock, its schema
 * validator hook and its time checks never take part in a decision.
 *
 * Verifier metadata are cached per org and configuration in a size-bounded map:
 * building them renders and re-parses XML, which costs as much as a verification.
 */
import { createHash } from 'node:crypto';
import samlify from 'samlify';
import { LoginError } from '../errors.js';
import { certificateBody } from './xml.js';

const HTTP_REDIRECT = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect';
const MAX_CACHED_CONFIGURATIONS = 500;

export interface SamlifyConfig {
  /** Cache namespace; the key also hashes the entity and certificates, so a settings change never reuses stale entries. */
  orgId?: string;
  idpEntityId: string;
  certificates: readonly string[];
}

type IdpMetadata = ReturnType<typeof samlify.IdPMetadata>;

/** One verifier per configured certificate, in configuration order (see verifySignedAssertion). */
type Verifiers = { certificateBody: string; metadata: IdpMetadata }[];

const cache = new Map<string, Verifiers>();

function verifiersFor(config: SamlifyConfig): Verifiers {
  const hash = createHash('sha256').update(JSON.stringify([config.idpEntityId, config.certificates])).digest('base64url');
  const key = `${config.orgId ?? ''}\u0000${hash}`;
  const cached = cache.get(key);
  if (cached !== undefined) {
    // Refresh recency: a Map iterates in insertion order, so the first key is the least recently used.
    cache.delete(key);
    cache.set(key, cached);
    return cached;
  }
  const verifiers = config.certificates.map((pem) => ({
    certificateBody: certificateBody(pem),
    metadata: samlify.IdPMetadata({
      entityID: config.idpEntityId,
      signingCert: pem,
      // samlify's IdP metadata wants endpoints (it throws, or warns on the console, without
      // them). This metadata only verifies signatures; nothing is ever sent there.
      singleSignOnService: [{ Binding: HTTP_REDIRECT, Location: 'https://idp.invalid/unused' }],
      singleLogoutService: [{ Binding: HTTP_REDIRECT, Location: 'https://idp.invalid/unused' }],
    }),
  }));
  cache.set(key, verifiers);
  if (cache.size > MAX_CACHED_CONFIGURATIONS) cache.delete(cache.keys().next().value!);
  return verifiers;
}

/**
 * Verifies the response's signature(s) with samlify against the configured
 * certificates and returns the signed Assertion as samlify extracted it from the
 * signed reference (the Assertion itself, or the one Assertion of a signed Response).
 *
 * samlify uses the certificate in the message's KeyInfo only when it equals a
 * configured one (and refuses the message otherwise); without KeyInfo it uses the FIRST
 * configured certificate. During a rollover (several certificates) that would refuse
 * signatures by the second key, so each configured certificate gets its own verifier
 * and they are tried in turn, the one named in KeyInfo first. A certificate that arrives
 * in the message is never trusted by itself.
 *
 * @param xml the response, exactly as the structural guard accepted it
 * @param keyInfoCertificates the X509Certificate bodies found in the message (only to order the attempts)
 * @throws LoginError SIGNATURE_INVALID
 */
export function verifySignedAssertion(xml: string, config: SamlifyConfig, keyInfoCertificates: readonly string[]): string {
  const verifiers = verifiersFor(config);
  const named = new Set(keyInfoCertificates);
  const ordered = [...verifiers.filter((one) => named.has(one.certificateBody)), ...verifiers.filter((one) => !named.has(one.certificateBody))];

  const failures: string[] = [];
  for (const { metadata } of ordered) {
    try {
      const [verified, assertionXml] = samlify.SamlLib.verifySignature(xml, { metadata });
      if (verified && typeof assertionXml === 'string') return assertionXml;
      failures.push(verified ? 'signed content holds no assertion' : 'FAILED_TO_VERIFY_SIGNATURE');
    } catch (error) {
      failures.push(error instanceof Error ? error.message : String(error));
    }
  }
  throw signatureError(failures, config);
}

function signatureError(failures: string[], config: SamlifyConfig): LoginError {
  const unknownCertificate = failures.some((failure) => failure.includes('ERROR_UNMATCH_CERTIFICATE_DECLARATION_IN_METADATA'));
  const message = unknownCertificate
    ? "The SAML response is signed with a certificate that is not configured for this organization. Ask your administrator to add the identity provider's current signing certificate to the SSO settings."
    : "The signature of the SAML response could not be verified with the certificates configured for this organization. Ask your administrator to check the identity provider's signing certificate in the SSO settings.";
  return new LoginError('SIGNATURE_INVALID', message, {
    details: {
      issuer: config.idpEntityId,
      reason: unknownCertificate ? 'signed by a certificate that is not configured' : 'signature does not verify',
      certificatesTried: config.certificates.length,
      // samlify's errors are short codes; xml-crypto's quote the signature value, which helps nobody.
      verifierErrors: failures.map((failure) => failure.replace(/the signature value \S+/, 'the signature value').slice(0, 120)),
    },
  });
}
