/**
 * What the signed-in user may do, computed as the server does: the union of the
 * permissions of the roles of their assignments (API.md "Role"). The console uses it
 * only to show what the user may not change as read-only; the server enforces anyway.
 */
import { PERMISSIONS, type Assignment, type Permission, type Role } from '../api/types.js';

/** The built-in roles' permissions (API.md "Role"): known even when the roles cannot be read. */
export const BUILT_IN_ROLE_PERMISSIONS: Readonly<Record<string, readonly Permission[]>> = {
  'organization-admin': PERMISSIONS,
  'account-admin': ['security:view', 'users:view', 'users:edit', 'roles:view', 'groups:view', 'audit:view'],
  'regular-user': [],
};

export interface Permissions {
  held: ReadonlySet<Permission>;
  /**
   * False when some assigned role could not be read (no `roles:view`, custom role): the
   * console then shows every control and lets the server decide.
   */
  known: boolean;
}

/**
 * @param roles the org's roles, or undefined when they could not be read
 * @example permissionsOf([{ groupId: 'default', roleId: 'account-admin' }], undefined).held.has('users:edit') // true
 */
export function permissionsOf(assignments: readonly Assignment[], roles: readonly Role[] | undefined): Permissions {
  const held = new Set<Permission>();
  let known = true;
  for (const { roleId } of assignments) {
    const permissions = roles?.find((role) => role.id === roleId)?.permissions ?? BUILT_IN_ROLE_PERMISSIONS[roleId];
    if (permissions) permissions.forEach((permission) => held.add(permission));
    else known = false;
  }
  return { held, known };
}

/** Whether the user may, as far as the console can tell. */
export const allows = (permissions: Permissions, ...wanted: Permission[]): boolean =>
  !permissions.known || wanted.every((permission) => permissions.held.has(permission));

/** Plain-language names of the permissions (issue 13, area 5). */
export const PERMISSION_NAMES: Readonly<Record<Permission, string>> = {
  'security:view': 'View security settings',
  'security:edit': 'Edit security settings',
  'users:view': 'View users',
  'users:edit': 'Edit users',
  'roles:view': 'View roles',
  'roles:edit': 'Edit roles',
  'groups:view': 'View account groups',
  'groups:edit': 'Edit account groups',
  'audit:view': 'View audit log',
};
