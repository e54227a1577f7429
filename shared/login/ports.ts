/**
 * The pending-login storage port: logins started here and not finished yet. The
 * domain names a pending login by (org, protocol, id); how that becomes a key is the
 * adapter's business (`shared/storage/`).
 */

/** Which pending login: the AuthnRequest ID (SAML) or the `state` (OIDC) of an org. */
export interface PendingLoginRef {
  orgId: string;
  protocol: 'saml' | 'oidc';
  /** SAML: the AuthnRequest ID the answer's InResponseTo names. OIDC: the `state`. */
  id: string;
}

/**
 * A login started here and not finished yet: an SP-initiated AuthnRequest, or an OIDC
 * authorization request with its state, nonce and PKCE verifier. Single use, with a TTL.
 */
export interface PendingLogin extends PendingLoginRef {
  /** Where to send the person afterwards: an already checked relative path. */
  fwd: string;
  expiresAt: Date;
  /** SHA-256 of the browser binding cookie of the browser that started the login (login CSRF defence). */
  browserHash?: string;
  /** OIDC: the issuer the state was made for (mix-up defence), the nonce and the PKCE verifier. */
  issuer?: string;
  nonce?: string;
  codeVerifier?: string;
}

export interface LoginStateRepository {
  save(pending: PendingLogin): Promise<void>;
  /** Reads without consuming: undefined when missing or expired. */
  peek(ref: PendingLoginRef): Promise<PendingLogin | undefined>;
  /** Consumes atomically, once: undefined when missing, expired or already taken. */
  take(ref: PendingLoginRef): Promise<PendingLogin | undefined>;
}
