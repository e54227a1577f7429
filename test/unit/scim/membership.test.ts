/**
 * SCIM groups → assignments (shared/scim/membership.ts): exact matching as at login,
 * `onNoRoleMatch` and `roleSource`.
 */
import { describe, expect, it } from 'vitest';
import { assignmentsForGroups, initialAssignments } from '../../../shared/scim/membership.js';
import { BUILT_IN_ROLES, provisioningSettingsSchema } from '../../../shared/settings/model.js';

const settings = (jit: Record<string, unknown>) => ({
  provisioning: provisioningSettingsSchema.parse({ method: 'scim', jit: { roleAttribute: 'groups', ...jit } }),
  roles: [...BUILT_IN_ROLES],
  roleMappings: [
    { id: 'm1', roleId: 'account-admin', groupIds: ['default', 'ops'], idpValue: 'Admins' },
    { id: 'm2', roleId: 'regular-user', groupIds: ['default'] }, // matched by the role's name
  ],
});
const kept = [{ groupId: 'default', roleId: 'organization-admin' }];

describe('assignmentsForGroups', () => {
  it.each([
    ['idp', 'deny', ['Admins'], [{ groupId: 'default', roleId: 'account-admin' }, { groupId: 'ops', roleId: 'account-admin' }]],
    ['idp', 'deny', ['Admins', 'Regular User'], [{ groupId: 'default', roleId: 'account-admin' }, { groupId: 'ops', roleId: 'account-admin' }, { groupId: 'default', roleId: 'regular-user' }]],
    ['idp', 'deny', ['admins'], []],
    ['idp', 'deny', [], []],
    ['idp', 'default', ['Nothing'], [{ groupId: 'default', roleId: 'regular-user' }]],
    ['idp', 'default', [], [{ groupId: 'default', roleId: 'regular-user' }]],
    ['app', 'deny', ['Admins'], kept],
  ])('roleSource %s, onNoRoleMatch %s, groups %j', (roleSource, onNoRoleMatch, groups, expected) => {
    expect(assignmentsForGroups(settings({ roleSource, onNoRoleMatch }), { assignments: kept }, groups)).toEqual(expected);
  });
});

describe('initialAssignments', () => {
  it.each([
    ['app', 'deny', [{ groupId: 'default', roleId: 'regular-user' }]],
    ['idp', 'default', [{ groupId: 'default', roleId: 'regular-user' }]],
    ['idp', 'deny', []],
  ])('roleSource %s, onNoRoleMatch %s', (roleSource, onNoRoleMatch, expected) => {
    expect(initialAssignments(settings({ roleSource, onNoRoleMatch }))).toEqual(expected);
  });
});
