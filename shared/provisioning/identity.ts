/**
 * What an IdP asserted about a person, once its message has been verified: the
 * protocol-neutral input of the provisioning rules.
 */

export interface AssertedIdentity {
  protocol: 'saml' | 'oidc';
  /** SAML Issuer or OIDC `iss`. */
  issuer: string;
  /** SAML NameID value or OIDC `sub`. */
  subject: string;
  /** SAML NameID Format (full URN) when given. */
  subjectFormat?: string;
  /** SAML: the AuthnStatement's SessionIndex (single logout names the session by it). */
  sessionIndex?: string;
  /** Every value of every attribute or claim, by name. */
  attributes: ReadonlyMap<string, readonly string[]>;
}

const PERSISTENT = 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent';

/**
 * The subject worth recording on the user (API.md "Subject"): a persistent NameID or
 * an OIDC `sub`. Transient and email NameIDs identify nobody for long, so they are not.
 */
export function recordableSubject(identity: AssertedIdentity): string | undefined {
  if (identity.protocol === 'oidc') return identity.subject;
  return identity.subjectFormat === PERSISTENT && identity.subject ? identity.subject : undefined;
}
