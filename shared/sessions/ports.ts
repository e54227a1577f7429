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
