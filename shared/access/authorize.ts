/**
 * Who may do what: a session token names a user; the user's permissions are read from
 * their stored role assignments and the org's roles on every call, so a role change or
 * a block takes effect at once. Another org's id is answered exactly like an unknown one.
 */
import { AppError } from '../errors.js';
import type { OrgSettings, Permission, Role } from '../settings/model.js';
import { currentSession, type SessionDeps } from '../sessions/current-user.js';
import type { SettingsRepository } from '../settings/ports.js';
import type { User } from '../users/model.js';

export interface Principal {
  user: User;
  settings: OrgSettings;
  permissions: ReadonlySet<Permission>;
}

export interface AuthorizeDeps extends SessionDeps {
  settingsRepository: SettingsRepository;
}

/** The union of the permissions of every role the user is assigned, in any group. */
export function permissionsOf(user: Pick<User, 'assignments'>, roles: readonly Role[]): Set<Permission> {
  const byId = new Map(roles.map((role) => [role.id, role]));
  return new Set(user.assignments.flatMap((assignment) => byId.get(assignment.roleId)?.permissions ?? []));
}

const forbidden = () => new AppError('FORBIDDEN', 'You do not have permission to do this in this organization.');

/**
 * Authenticates the token and checks that its user, in `orgId`, holds every permission in `required`.
 * @throws AppError `UNAUTHENTICATED` (no, invalid or expired token; user gone or blocked),
 *   `FORBIDDEN` (missing permission, or `orgId` is not the token's org, existing or not)
 */
export async function authorize(deps: AuthorizeDeps, token: string | undefined, orgId: string, required: readonly Permission[]): Promise<Principal> {
  if (!token) throw new AppError('UNAUTHENTICATED', 'Sign in first: send Authorization: Bearer <token>, or sign in to the console for a session cookie.');
  const { user, claims } = await currentSession(deps, token);
  // Checked after authentication, before any read of `orgId`: another org looks the same whether it exists or not.
  if (claims.org !== orgId) throw forbidden();
  const settings = await deps.settingsRepository.load(orgId);
  if (!settings) throw forbidden();
  const permissions = permissionsOf(user, settings.roles);
  if (!required.every((permission) => permissions.has(permission))) throw forbidden();
  return { user, settings, permissions };
}
