/**
 * Role mapping (API.md "Provisioning rules", "No role"): asserted role values to
 * assignments, as a table of rules.
 */
import { describe, expect, it } from 'vitest';
import type { AppError } from '../../../shared/errors.js';
import { matchKey, resolveAssignments, type RoleMappingInput } from '../../../shared/provisioning/role-mapping.js';
import { BUILT_IN_ROLES, type Role, type RoleMapping } from '../../../shared/settings/model.js';

const ENGINEER: Role = { id: 'engineer', name: 'Engineer', builtIn: false, permissions: ['users:view'] };
const ROLES: Role[] = [...BUILT_IN_ROLES, ENGINEER];

const MAPPINGS: RoleMapping[] = [
  { id: 'm1', roleId: 'account-admin', groupIds: ['default', 'ops'], idpValue: 'IT Admins' },
  { id: 'm2', roleId: 'engineer', groupIds: ['eng'] },
  { id: 'm3', roleId: 'regular-user', groupIds: ['default'], idpValue: 'Staff' },
  { id: 'm4', roleId: 'account-admin', groupIds: ['ops'], idpValue: 'Ops' },
];

function input(overrides: Partial<RoleMappingInput['jit']> = {}, roleMappings: RoleMapping[] = MAPPINGS, roles: Role[] = ROLES): RoleMappingInput {
  return {
    jit: { roleAttribute: 'department', onNoRoleMatch: 'deny', defaultGroupId: 'default', defaultRoleId: 'regular-user', ...overrides },
    roles,
    roleMappings,
  };
}

function caught(fn: () => unknown): AppError {
  try {
    fn();
  } catch (error) {
    return error as AppError;
  }
  throw new Error('expected a throw');
}

describe('matchKey', () => {
  it('uses the idpValue when the mapping has one', () => {
    expect(matchKey(MAPPINGS[0]!, ROLES)).toBe('IT Admins');
  });

  it("uses the mapped role's name when idpValue is absent", () => {
    expect(matchKey(MAPPINGS[1]!, ROLES)).toBe('Engineer');
  });

  it('answers undefined for a mapping without idpValue whose role no longer exists', () => {
    const orphan: RoleMapping = { id: 'x', roleId: 'deleted-role', groupIds: ['default'] };

    expect(matchKey(orphan, ROLES)).toBeUndefined();
  });

  it('answers undefined for a mapping with an idpValue whose role no longer exists', () => {
    const orphan: RoleMapping = { id: 'x', roleId: 'deleted-role', groupIds: ['default'], idpValue: 'Ghosts' };

    expect(matchKey(orphan, ROLES)).toBeUndefined();
  });
});

describe('resolveAssignments', () => {
  describe('matching is exact', () => {
    it.each([
      ['the exact idpValue', ['IT Admins'], [{ groupId: 'default', roleId: 'account-admin' }, { groupId: 'ops', roleId: 'account-admin' }]],
      ["the exact role name when idpValue is absent", ['Engineer'], [{ groupId: 'eng', roleId: 'engineer' }]],
    ])('grants a mapping matched by %s', (_label, values, expected) => {
      expect(resolveAssignments(input(), values)).toEqual(expected);
    });

    it.each([
      ['another case', 'it admins'],
      ['upper case', 'IT ADMINS'],
      ['a trailing space', 'IT Admins '],
      ['a leading space', ' IT Admins'],
      ['a doubled inner space', 'IT  Admins'],
      ['added punctuation', 'IT-Admins'],
      ['added trailing punctuation', 'IT Admins.'],
      ['the role name instead of the idpValue', 'Account Admin'],
      ['the role id instead of its name', 'engineer'],
      ['an upper-case role name', 'ENGINEER'],
    ])('does not match a value that differs by %s', (_label, value) => {
      expect(() => resolveAssignments(input(), [value])).toThrow(expect.objectContaining({ code: 'ROLE_NOT_MAPPED' }));
    });
  });

  describe('multi-valued attributes', () => {
    it('grants the union of every matched mapping in mapping order, whatever the order of the values', () => {
      const assignments = resolveAssignments(input(), ['Staff', 'Engineer', 'IT Admins']);

      expect(assignments).toEqual([
        { groupId: 'default', roleId: 'account-admin' },
        { groupId: 'ops', roleId: 'account-admin' },
        { groupId: 'eng', roleId: 'engineer' },
        { groupId: 'default', roleId: 'regular-user' },
      ]);
    });

    it('lists an assignment granted by two mappings only once', () => {
      const assignments = resolveAssignments(input(), ['IT Admins', 'Ops']);

      expect(assignments).toEqual([
        { groupId: 'default', roleId: 'account-admin' },
        { groupId: 'ops', roleId: 'account-admin' },
      ]);
    });

    it('lists an assignment only once when the same value is asserted twice', () => {
      expect(resolveAssignments(input(), ['Engineer', 'Engineer'])).toEqual([{ groupId: 'eng', roleId: 'engineer' }]);
    });

    it('ignores unmatched values next to a matched one', () => {
      expect(resolveAssignments(input(), ['Nobody', 'Engineer', 'Marketing'])).toEqual([{ groupId: 'eng', roleId: 'engineer' }]);
    });
  });

  describe('with onNoRoleMatch "deny"', () => {
    it('refuses present but unmatched values with ROLE_NOT_MAPPED naming the match keys and the values received', () => {
      const error = caught(() => resolveAssignments(input(), ['Marketing', 'it admins']));

      expect(error.code).toBe('ROLE_NOT_MAPPED');
      expect(error.details.expected).toEqual(['IT Admins', 'Engineer', 'Staff', 'Ops']);
      expect(error.details.received).toEqual(['Marketing', 'it admins']);
    });

    it.each([
      ['undefined (attribute absent)', undefined],
      ['an empty list', [] as string[]],
    ])('refuses a role attribute that is %s with ROLE_ATTRIBUTE_MISSING', (_label, values) => {
      const error = caught(() => resolveAssignments(input(), values));

      expect(error.code).toBe('ROLE_ATTRIBUTE_MISSING');
      expect(error.details.expected).toBe('department');
    });

    it('refuses with ROLE_NOT_MAPPED when there are no mappings at all', () => {
      const error = caught(() => resolveAssignments(input({}, []), ['Engineer']));

      expect(error.code).toBe('ROLE_NOT_MAPPED');
      expect(error.details.expected).toEqual([]);
      expect(error.details.received).toEqual(['Engineer']);
    });
  });

  describe('with onNoRoleMatch "default"', () => {
    it.each([
      ['absent', undefined],
      ['empty', [] as string[]],
      ['present but unmatched', ['Marketing']],
    ])('grants the default role in the default group when the attribute is %s', (_label, values) => {
      const assignments = resolveAssignments(input({ onNoRoleMatch: 'default', defaultGroupId: 'lobby', defaultRoleId: 'engineer' }), values);

      expect(assignments).toEqual([{ groupId: 'lobby', roleId: 'engineer' }]);
    });

    it('grants the matched mappings, not the default, when a value matches', () => {
      expect(resolveAssignments(input({ onNoRoleMatch: 'default' }), ['Engineer'])).toEqual([{ groupId: 'eng', roleId: 'engineer' }]);
    });
  });

  describe('a mapping whose role was deleted', () => {
    const rolesWithoutEngineer = [...BUILT_IN_ROLES];

    it('is ignored when it has no idpValue (its role name cannot be matched)', () => {
      expect(() => resolveAssignments(input({}, MAPPINGS, rolesWithoutEngineer), ['Engineer'])).toThrow(
        expect.objectContaining({ code: 'ROLE_NOT_MAPPED' }),
      );
    });

    it('is ignored when it has an idpValue, so no assignment names the deleted role', () => {
      const mappings: RoleMapping[] = [
        { id: 'gone', roleId: 'engineer', groupIds: ['eng'], idpValue: 'Developers' },
        { id: 'kept', roleId: 'regular-user', groupIds: ['default'], idpValue: 'Developers' },
      ];

      const assignments = resolveAssignments(input({}, mappings, rolesWithoutEngineer), ['Developers']);

      expect(assignments).toEqual([{ groupId: 'default', roleId: 'regular-user' }]);
    });

    it('is left out of ROLE_NOT_MAPPED details.expected', () => {
      const error = caught(() => resolveAssignments(input({}, MAPPINGS, rolesWithoutEngineer), ['Marketing']));

      expect(error.details.expected).toEqual(['IT Admins', 'Staff', 'Ops']);
    });
  });
});
