/**
 * Who is calling: the session token (cookie or bearer) verified, and the stored user
 * re-read, so a block or deletion takes effect at once.
 */
import { AppError } from '../errors.js';
import type { UserRepository } from '../users/ports.js';
import type { User } from '../users/model.js';
import type { SessionTokens } from './session-tokens.js';

/**
 * @throws AppError `UNAUTHENTICATED` without a valid token, or when the user is gone or blocked
 */
export async function currentUser(deps: { sessions: SessionTokens; users: UserRepository }, token: string | undefined): Promise<User> {
  if (!token) throw new AppError('UNAUTHENTICATED', 'Sign in first: no session cookie or bearer token was sent.');
  const claims = await deps.sessions.verify(token);
  const user = await deps.users.findById(claims.org, claims.sub);
  if (!user || user.status !== 'active') {
    throw new AppError('UNAUTHENTICATED', 'Your session is no longer valid. Sign in again.');
  }
  return user;
}
