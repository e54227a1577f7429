/**
 * Role mapping: a pure function from (settings, asserted role values) to assignments.
 * Matching is exact (case, spacing and punctuation count) against each mapping's
 * match key: `idpValue`, or the mapped role's `name` when `idpValue` is absent.
 */
import { LoginError } from '../errors.js';
import type { JitSettings, Role, RoleMapping } from '../settings/model.js';
import type { Assignment } from '../users/model.js';

export interface RoleMappingInput {
  jit: Pick<JitSettings, 'roleAttribute' | 'onNoRoleMatch' | 'defaultGroupId' | 'defaultRoleId'>;
  roles: readonly Role[];
  roleMappings: readonly RoleMapping[];
}

/** The match key of a mapping, or undefined when it names a role that no longer exists. */
export function matchKey(mapping: RoleMapping, roles: readonly Role[]): string | undefined {
  const role = roles.find((candidate) => candidate.id === mapping.roleId);
  return role && (mapping.idpValue ?? role.name);
}

const defaultAssignment = (jit: RoleMappingInput['jit']): Assignment[] => [{ groupId: jit.defaultGroupId, roleId: jit.defaultRoleId }];

/**
 * The assignments a login asserting `values` gets: the union of every matched mapping
 * (each mapped role in each of its groups), in mapping order, without duplicates.
 * `values` undefined means the role attribute was absent.
 * @throws LoginError `ROLE_ATTRIBUTE_MISSING` (absent, `onNoRoleMatch: "deny"`),
 *   `ROLE_NOT_MAPPED` (present but nothing matched, `"deny"`)
 * @example resolveAssignments(settings, ['Engineering']) // [{ groupId: 'default', roleId: 'account-admin' }]
 */
export function resolveAssignments(input: RoleMappingInput, values: readonly string[] | undefined): Assignment[] {
  const { jit, roles, roleMappings } = input;
  const asserted = new Set(values ?? []);
  const assignments: Assignment[] = [];
  const seen = new Set<string>();
  for (const mapping of roleMappings) {
    const key = matchKey(mapping, roles);
    if (key === undefined || !asserted.has(key)) continue;
    for (const groupId of mapping.groupIds) {
      const id = `${groupId}\n${mapping.roleId}`;
      if (seen.has(id)) continue;
      seen.add(id);
      assignments.push({ groupId, roleId: mapping.roleId });
    }
  }
  if (assignments.length > 0) return assignments;
  if (jit.onNoRoleMatch === 'default') return defaultAssignment(jit);
  if (values === undefined || values.length === 0) {
    throw new LoginError(
      'ROLE_ATTRIBUTE_MISSING',
      `Your identity provider did not send the role attribute "${jit.roleAttribute ?? '(not configured)'}". Ask your administrator to release it.`,
      { details: { expected: jit.roleAttribute ?? null, received: null } },
    );
  }
  const expected = roleMappings.map((mapping) => matchKey(mapping, roles)).filter((key): key is string => key !== undefined);
  throw new LoginError(
    'ROLE_NOT_MAPPED',
    `None of your roles (${[...asserted].map((value) => JSON.stringify(value)).join(', ')}) is mapped. Role names must match exactly, including case and spacing; ask your administrator to add a role mapping.`,
    { details: { expected, received: [...asserted] } },
  );
}
