/**
 * Ending sessions: one token (`POST /logout`), or every token of a user issued until
 * now ("sign out everywhere", by the user or an admin). Block, delete and SCIM
 * deactivation end sessions without this: every request re-reads the user.
 */
import type { AuditActor, AuditEvent } from '../audit/model.js';
import type { Clock, IdGenerator } from '../clock.js';
import type { UserRepository } from '../users/ports.js';
import type { User } from '../users/model.js';
import type { SessionRevocations } from './ports.js';
import type { SessionClaims, SessionTokens } from './session-tokens.js';

/**
 * Revokes the presented token until its expiry, and returns its claims (single logout
 * reads its IdP session). A token that does not verify is not a session: there is
 * nothing to end, nothing is written, and undefined comes back.
 */
export async function endSession(deps: { sessions: SessionTokens; revocations: SessionRevocations }, token: string | undefined): Promise<SessionClaims | undefined> {
  if (!token) return undefined;
  const claims = await deps.sessions.verify(token).catch(() => undefined);
  if (claims) await deps.revocations.revoke(claims.jti, new Date(claims.exp * 1000));
  return claims;
}

/**
 * "Sign out everywhere": every session token of `user` issued until now (its `iat` not
 * after this second) is refused from now on; tokens issued later work. Writes
 * `user.sessions_revoked` with the change.
 */
export async function endAllSessions(deps: { users: UserRepository; clock: Clock; ids: IdGenerator }, user: User, actor: AuditActor): Promise<void> {
  const now = deps.clock.now();
  const second = new Date(Math.floor(now.getTime() / 1000) * 1000).toISOString();
  const event: AuditEvent = {
    id: deps.ids.newId(),
    orgId: user.orgId,
    at: now.toISOString(),
    type: 'user.sessions_revoked',
    outcome: 'success',
    actor,
    target: { type: 'user', id: user.id },
    details: { issuedUntil: second },
  };
  await deps.users.update(user, { set: { sessionsValidAfter: second, updatedAt: now.toISOString() }, remove: [] }, [event]);
}
