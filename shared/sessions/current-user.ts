/**
 * Who is calling: the session token (cookie or bearer) verified, and the stored user
 * re-read, so a block or deletion takes effect at once. A token signed out with
 * `POST /logout` (its `jti`) or issued before "sign out everywhere" (the user's
 * `sessionsValidAfter`) is refused at once too. The revocation read runs beside the
 * user read: no extra sequential round trip.
 */
import { epochSeconds } from '../clock.js';
import { AppError } from '../errors.js';
import type { UserRepository } from '../users/ports.js';
import type { User } from '../users/model.js';
import type { SessionRevocations } from './ports.js';
import type { SessionClaims, SessionTokens } from './session-tokens.js';

export interface SessionDeps {
  sessions: SessionTokens;
  users: UserRepository;
  revocations: SessionRevocations;
}

export interface CurrentSession {
  user: User;
  claims: SessionClaims;
}

/** Whether a token issued at `iat` (epoch seconds) predates the user's "sign out everywhere". */
export const issuedBeforeRevocation = (user: Pick<User, 'sessionsValidAfter'>, iat: number): boolean =>
  user.sessionsValidAfter !== undefined && iat <= epochSeconds(new Date(user.sessionsValidAfter));

/**
 * @throws AppError `UNAUTHENTICATED` without a valid token, or when the token was revoked,
 *   or the user is gone or blocked
 */
export async function currentSession(deps: SessionDeps, token: string | undefined): Promise<CurrentSession> {
  if (!token) throw new AppError('UNAUTHENTICATED', 'Sign in first: no session cookie or bearer token was sent.');
  const claims = await deps.sessions.verify(token);
  const [user, revoked] = await Promise.all([deps.users.findById(claims.org, claims.sub), deps.revocations.isRevoked(claims)]);
  if (!user || user.status !== 'active' || revoked || issuedBeforeRevocation(user, claims.iat)) {
    throw new AppError('UNAUTHENTICATED', 'Your session is no longer valid. Sign in again.');
  }
  return { user, claims };
}

/** The signed-in user. @throws AppError `UNAUTHENTICATED` (see `currentSession`) */
export async function currentUser(deps: SessionDeps, token: string | undefined): Promise<User> {
  return (await currentSession(deps, token)).user;
}
