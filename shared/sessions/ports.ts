/**
 * The session revocation port: the `jti` of each token that was signed out, kept until
 * that token would have expired anyway. `shared/storage/` implements it.
 */

export interface SessionRevocations {
  /** Revokes one token until `expiresAt` (its `exp`). Revoking twice is harmless. */
  revoke(jti: string, expiresAt: Date): Promise<void>;
  /** Whether the token was revoked (and has not expired since). */
  isRevoked(jti: string): Promise<boolean>;
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
