/**
 * SCIM groups → role assignments, as a pure function: a SCIM group's `displayName` is a
 * role value, matched exactly against the role mappings as at login (API.md). With
 * `roleSource: "idp"` a user's assignments are exactly the union of the mappings matched
 * by the displayNames of their groups; none matched gives the default role in the
 * default group with `onNoRoleMatch: "default"` and no assignment with `"deny"` (their
 * sign-in is then refused `ROLE_NOT_MAPPED`). With `roleSource: "app"` groups change no
 * assignment.
 */
import { LoginError } from '../errors.js';
import { resolveAssignments } from '../provisioning/role-mapping.js';
import type { OrgSettings } from '../settings/model.js';
import type { Assignment, User } from '../users/model.js';

/**
 * The assignments `user` has after a change of their groups to `groupNames`.
 * @example assignmentsForGroups(settings, user, ['Engineering']) // [{ groupId: 'default', roleId: 'account-admin' }]
 */
export function assignmentsForGroups(settings: Pick<OrgSettings, 'provisioning' | 'roles' | 'roleMappings'>, user: Pick<User, 'assignments'>, groupNames: readonly string[]): Assignment[] {
  const { jit } = settings.provisioning;
  if (jit.roleSource !== 'idp') return user.assignments;
  try {
    return resolveAssignments({ jit, roles: settings.roles, roleMappings: settings.roleMappings }, groupNames);
  } catch (error) {
    // "deny": nothing matched, so nothing is assigned (the login refuses ROLE_NOT_MAPPED).
    if (error instanceof LoginError) return [];
    throw error;
  }
}

/** The assignments a user SCIM creates starts with (no groups yet). */
export function initialAssignments(settings: Pick<OrgSettings, 'provisioning' | 'roles' | 'roleMappings'>): Assignment[] {
  const { jit } = settings.provisioning;
  if (jit.roleSource === 'app') return [{ groupId: jit.defaultGroupId, roleId: jit.defaultRoleId }];
  return assignmentsForGroups(settings, { assignments: [] }, []);
}

export const sameAssignments = (a: readonly Assignment[], b: readonly Assignment[]): boolean =>
  a.length === b.length && a.every((x, i) => x.groupId === b[i]?.groupId && x.roleId === b[i]?.roleId);
