/**
 * The session revocation port: the `jti` of each token that was signed out, kept until
 * that token would have expired anyway; and the IdP sessions a single logout ended, by
 * (org, IdP, NameID[, SessionIndex]), kept as long as a session token lives. A session
 * token made by a SAML login carries its IdP session (`SessionClaims.idp`), so nothing is
 * written per login: the check reads the markers that could apply to the token, in one
 * batch beside the user read. `shared/storage/` implements it.
 */

/** Which IdP sessions a SAML single logout ends (SAML core 3.7.1). */
export interface IdpSessionScope {
  orgId: string;
  /** The IdP's entity ID (the org's `idpEntityId` when the logout came). */
  issuer: string;
  nameId: string;
  /** The sessions of those indexes; empty: every session of that NameID from that IdP. */
  sessionIndexes: readonly string[];
}

/** What the revocation check needs of a verified token. */
export interface RevocationSubject {
  jti: string;
  /** Issued at, epoch seconds: an IdP session marker ends tokens issued until its second. */
  iat: number;
  org: string;
  /** The IdP session the token was made from (SAML logins). */
  idp?: { protocol: string; issuer: string; nameId?: string; sessionIndex?: string };
}

export interface SessionRevocations {
  /** Revokes one token until `expiresAt` (its `exp`). Revoking twice is harmless. */
  revoke(jti: string, expiresAt: Date): Promise<void>;
  /**
   * Ends the IdP sessions in `scope`: every token made from them and issued until `at`
   * (to the second) is refused. The markers are kept until `keepUntil` (the longest a
   * session token lives). Revoking again moves `at` forward.
   */
  revokeIdpSessions(scope: IdpSessionScope, at: Date, keepUntil: Date): Promise<void>;
  /** Whether the token was revoked, itself or through its IdP session (and has not expired since). */
  isRevoked(token: RevocationSubject): Promise<boolean>;
}

/**
 * Single logout's single-use records (login-state, with a TTL): the LogoutRequests we
 * sent and wait an answer for, and the LogoutRequest IDs an IdP already used (replay).
 */
export interface SingleLogoutStore {
  /** Remembers a LogoutRequest we sent, until `expiresAt`. */
  savePending(orgId: string, requestId: string, expiresAt: Date): Promise<void>;
  /** Consumes it, once: false when unknown, expired or already answered. */
  takePending(orgId: string, requestId: string): Promise<boolean>;
  /** Records an IdP's LogoutRequest ID until `expiresAt`: false when it was seen before (a replay). */
  markSeen(orgId: string, messageId: string, expiresAt: Date): Promise<boolean>;
  /** Forgets a seen ID again: the request it marked could not be carried out, so its retry must not count as a replay. */
  forgetSeen(orgId: string, messageId: string): Promise<void>;
}

/**
 * A one-time console sign-in link as stored: never the token itself, only its SHA-256,
 * so whoever reads the table cannot sign in with what they read.
 */
export interface LoginLink {
  /** SHA-256 of the token, hex. */
  tokenHash: string;
  orgId: string;
  userId: string;
  /** The user's email when the link was made: the user is read by it (one GetItem). */
  email: string;
  expiresAt: Date;
}

/** The login-link storage port (single-use records with a TTL). `shared/storage/` implements it. */
export interface LoginLinkStore {
  save(link: LoginLink): Promise<void>;
  /** Consumes the link atomically, once: undefined when missing, expired or already taken. */
  take(tokenHash: string): Promise<LoginLink | undefined>;
}
