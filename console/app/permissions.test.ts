import { describe, expect, it } from 'vitest';
import { allows, permissionsOf } from './permissions.js';

describe('permissionsOf', () => {
  it('unions the permissions of every assigned role', () => {
    const roles = [
      { id: 'viewer', name: 'Viewer', builtIn: false, permissions: ['audit:view' as const] },
      { id: 'editor', name: 'Editor', builtIn: false, permissions: ['users:edit' as const] },
    ];
    const result = permissionsOf([{ groupId: 'a', roleId: 'viewer' }, { groupId: 'b', roleId: 'editor' }], roles);
    expect([...result.held].sort()).toEqual(['audit:view', 'users:edit']);
    expect(result.known).toBe(true);
  });

  it('knows the built-in roles when the roles cannot be read', () => {
    const result = permissionsOf([{ groupId: 'default', roleId: 'account-admin' }], undefined);
    expect(allows(result, 'users:edit')).toBe(true);
    expect(allows(result, 'security:edit')).toBe(false);
  });

  it('lets the server decide when an assigned role is unknown', () => {
    const result = permissionsOf([{ groupId: 'default', roleId: 'custom' }], undefined);
    expect(result.known).toBe(false);
    expect(allows(result, 'security:edit')).toBe(true);
  });

  it('gives a user without assignments nothing', () => {
    expect(allows(permissionsOf([], []), 'users:view')).toBe(false);
  });
});
