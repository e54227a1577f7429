/**
 * Who is signed in, as every screen reads it: a user of an org (with the permissions
 * their roles give), or a setup session opened by a setup link (the setup wizard only).
 */
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { Permission, Role, User } from '../api/types.js';
import { allows, type Permissions } from './permissions.js';

export interface UserSession {
  kind: 'user';
  orgId: string;
  user: User;
  permissions: Permissions;
  /** The org's roles, when the user may read them. */
  roles: Role[] | undefined;
}

export interface SetupSession {
  kind: 'setup';
  orgId: string;
}

export type Session = UserSession | SetupSession;

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside a signed-in page');
  return session;
}

/** Whether the session may, as far as the console can tell (a setup session: only security settings). */
export function sessionAllows(session: Session, ...wanted: Permission[]): boolean {
  if (session.kind === 'setup') return wanted.every((permission) => permission === 'security:view' || permission === 'security:edit');
  return allows(session.permissions, ...wanted);
}

/** `can('security:edit')` for the signed-in session. */
export function useCan(): (...wanted: Permission[]) => boolean {
  const session = useSession();
  return (...wanted) => sessionAllows(session, ...wanted);
}
