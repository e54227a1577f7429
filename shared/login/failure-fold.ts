/**
 * Which refused logins fold into one audit event, and what makes two of them the same
 * (API.md "Provisioning rules the login routes apply"; DESIGN.md "Proof-less failures fold").
 *
 * A failure proves nothing when nothing in the request was verified as coming from the
 * org's IdP: no SAML signature by one of its certificates verified, and no OIDC ID token
 * signature verified. Anyone on the internet can send such requests at will; if each
 * earned its own event, they could grow an org's audit trail and bury the events an
 * admin is looking for. So repeats of one such failure (same org, protocol, code, claimed
 * issuer and NameID, source address) within 60 s of the first are one `login.failed`
 * event with `details.count`, `firstAt` and `lastAt`.
 *
 * Proof-less, as the login paths raise them:
 * - SAML: `RELAY_STATE_INVALID`, `SSO_NOT_ENABLED`, `SAML_MALFORMED` found before the
 *   signature (size, base64, XML, structure, no SAMLResponse), `IDP_STATUS_ERROR` (the
 *   Status is read before any signature), `IDP_ISSUER_MISMATCH` of the envelope,
 *   `SIGNATURE_INVALID` (unsigned, signed by a key that is not configured, signature that
 *   does not verify or does not cover its element), `ALGORITHM_NOT_ALLOWED`,
 *   `CERTIFICATE_EXPIRED` (a key the org no longer trusts vouches for nothing),
 *   `ASSERTION_NOT_ENCRYPTED`, and `DECRYPTION_FAILED` of an encrypted assertion whose
 *   Response is not signed (anyone can encrypt to the SP's public certificate).
 * - OIDC: `STATE_INVALID`, `SSO_NOT_ENABLED`, `IDP_STATUS_ERROR` (the redirect's `error`),
 *   `OIDC_TOKEN_EXCHANGE_FAILED`, `ID_TOKEN_INVALID` before its signature verified
 *   (signature, unknown key, algorithm, JWKS, malformed token).
 *
 * Never folded: everything after a verified signature, whatever its code, because the
 * IdP vouched for it and each attempt is evidence: `AUDIENCE_MISMATCH`,
 * `DESTINATION_MISMATCH`, `ASSERTION_EXPIRED`, `ASSERTION_NOT_YET_VALID`,
 * `IN_RESPONSE_TO_INVALID`, `IDP_INITIATED_DISABLED`, `ASSERTION_REPLAYED`, a signed
 * assertion's `SAML_MALFORMED` or `SIGNATURE_INVALID` (a wrapped envelope), an ID token's
 * claim failures (`ID_TOKEN_INVALID`: `iss`, `aud`, `exp`, `iat`, `azp`, `sub`),
 * `NONCE_MISMATCH`, and every provisioning refusal (`EMAIL_MISSING`, `ROLE_NOT_MAPPED`,
 * `USER_BLOCKED`, `SUBJECT_MISMATCH`, …).
 */
import { createHash } from 'node:crypto';
import type { FoldRule } from '../audit/ports.js';
import type { ErrorCode } from '../errors.js';
import type { FailureContext } from './complete-login.js';

/** Repeats within this many seconds of the first fold into its event (the window runs from `firstAt`). */
export const FAILURE_FOLD_WINDOW_SECONDS = 60;

/** True when nothing the failed request carried was verified as the org's IdP's (see the module header). */
export function isProofLess(context: FailureContext): boolean {
  return context.identity === undefined && context.signatureVerified !== true;
}

/**
 * The fold a refused login belongs to, or `undefined` when it must stay its own event.
 * The key is a SHA-256 over (org, protocol, code, claimed issuer, claimed NameID, source
 * address), each absent part as `null`: bounded in size whatever the request sent.
 *
 * @example
 * failureFold('acme', 'SIGNATURE_INVALID', { protocol: 'saml', sourceIp: '203.0.113.7' })
 * // → { key: 'Xq3…', windowSeconds: 60 }
 */
export function failureFold(orgId: string, code: ErrorCode, context: FailureContext): FoldRule | undefined {
  if (!isProofLess(context)) return undefined;
  const parts = [orgId, context.protocol, code, context.claimed?.issuer ?? null, context.claimed?.nameId ?? null, context.sourceIp ?? null];
  return {
    key: createHash('sha256').update(JSON.stringify(parts)).digest('base64url'),
    windowSeconds: FAILURE_FOLD_WINDOW_SECONDS,
  };
}
