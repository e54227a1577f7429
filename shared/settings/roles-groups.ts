/**
 * Roles and groups as an admin manages them. Built-in roles and the default group are
 * protected; names are unique (a mapping without `idpValue` matches by role name); a
 * role or group still referenced by a mapping or the JIT defaults cannot be deleted.
 */
import { z } from 'zod';
import { AppError } from '../errors.js';
import { groupSchema, PERMISSIONS, roleSchema, type Group, type OrgSettings, type Role } from './model.js';
import { guardLastAdminMapping, type ForceOption } from './role-mappings.js';
import { assertActorHolds, auditEvent, changedFields, currentSettings, type ChangeContext, type SettingsDeps } from './settings-service.js';
import { parseInput } from './validation.js';

const slug = z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'must be 1-64 lowercase letters, digits or dashes');

/** A role as an admin writes it: `id` optional on create (generated), `builtIn` read-only. */
export const roleInputSchema = roleSchema.extend({
  id: slug.optional(),
  builtIn: z.unknown().optional(),
  permissions: z.array(z.enum(PERMISSIONS)).transform((permissions) => [...new Set(permissions)]),
});
export const groupInputSchema = groupSchema.extend({ id: slug.optional(), isDefault: z.unknown().optional() });

function findRole(settings: OrgSettings, roleId: string): Role {
  const role = settings.roles.find((candidate) => candidate.id === roleId);
  if (!role) throw new AppError('NOT_FOUND', `No role ${roleId} in this org.`);
  return role;
}

function findGroup(settings: OrgSettings, groupId: string): Group {
  const group = settings.groups.find((candidate) => candidate.id === groupId);
  if (!group) throw new AppError('NOT_FOUND', `No group ${groupId} in this org.`);
  return group;
}

function uniqueName<T extends { id: string; name: string }>(items: readonly T[], candidate: T, kind: string): void {
  if (items.some((item) => item.id !== candidate.id && item.name === candidate.name)) {
    throw new AppError('CONFLICT', `A ${kind} named "${candidate.name}" already exists in this org.`);
  }
}


/** @throws AppError `VALIDATION_FAILED`, `CONFLICT` (id or name taken) */
export async function createRole(deps: SettingsDeps, context: ChangeContext, input: unknown): Promise<Role> {
  const { id, name, permissions } = parseInput(roleInputSchema, input);
  const current = await currentSettings(deps, context);
  const role: Role = { id: id ?? deps.ids.newId(), name, builtIn: false, permissions };
  assertActorHolds(context, permissions, 'create this role');
  if (current.roles.some((existing) => existing.id === role.id)) throw new AppError('CONFLICT', `A role with id ${role.id} already exists.`);
  uniqueName(current.roles, role, 'role');
  await deps.settingsRepository.apply(context.orgId, { putRoles: [role] }, [auditEvent(deps, context, 'role.created', { type: 'role', id: role.id }, { role })], {
    ifVersion: current.version,
  });
  return role;
}

/** @throws AppError `NOT_FOUND`, `CONFLICT` (built-in, or name taken), `LAST_ADMIN_MAPPING` */
export async function updateRole(deps: SettingsDeps, context: ChangeContext, roleId: string, input: unknown, options: ForceOption = {}): Promise<Role> {
  const { name, permissions } = parseInput(roleInputSchema, input);
  const current = await currentSettings(deps, context);
  const existing = findRole(current, roleId);
  if (existing.builtIn) throw new AppError('CONFLICT', `${existing.name} is a built-in role: it cannot be changed.`);
  const role: Role = { id: roleId, name, builtIn: false, permissions };
  // Both what the role gains and what it had: someone who could not hold it cannot reshape it.
  assertActorHolds(context, [...permissions, ...existing.permissions], 'change this role');
  uniqueName(current.roles, role, 'role');
  guardLastAdminMapping(current, { roles: current.roles.map((candidate) => (candidate.id === roleId ? role : candidate)) }, options);
  const event = auditEvent(deps, context, 'role.updated', { type: 'role', id: roleId }, { changed: changedFields(existing, role), role });
  await deps.settingsRepository.apply(context.orgId, { putRoles: [role] }, [event], { ifVersion: current.version });
  return role;
}

/** @throws AppError `NOT_FOUND`, `CONFLICT` (built-in, or still used by a mapping or the JIT default) */
export async function deleteRole(deps: SettingsDeps, context: ChangeContext, roleId: string): Promise<void> {
  const current = await currentSettings(deps, context);
  const role = findRole(current, roleId);
  if (role.builtIn) throw new AppError('CONFLICT', `${role.name} is a built-in role: it cannot be deleted.`);
  assertActorHolds(context, role.permissions, 'delete this role');
  if (current.roleMappings.some((mapping) => mapping.roleId === roleId)) {
    throw new AppError('CONFLICT', `Role ${role.name} is used by a role mapping: delete or change that mapping first.`);
  }
  if (current.provisioning.jit.defaultRoleId === roleId) throw new AppError('CONFLICT', `Role ${role.name} is the JIT default role: change jit.defaultRoleId first.`);
  await deps.settingsRepository.apply(context.orgId, { deleteRoleIds: [roleId] }, [auditEvent(deps, context, 'role.deleted', { type: 'role', id: roleId }, { role })], {
    ifVersion: current.version,
  });
}

/** @throws AppError `VALIDATION_FAILED`, `CONFLICT` (id or name taken) */
export async function createGroup(deps: SettingsDeps, context: ChangeContext, input: unknown): Promise<Group> {
  const { id, name } = parseInput(groupInputSchema, input);
  const current = await currentSettings(deps, context);
  const group: Group = { id: id ?? deps.ids.newId(), name, isDefault: false };
  if (current.groups.some((existing) => existing.id === group.id)) throw new AppError('CONFLICT', `A group with id ${group.id} already exists.`);
  uniqueName(current.groups, group, 'group');
  await deps.settingsRepository.apply(context.orgId, { putGroups: [group] }, [auditEvent(deps, context, 'group.created', { type: 'group', id: group.id }, { group })], {
    ifVersion: current.version,
  });
  return group;
}

/** Renames a group. @throws AppError `NOT_FOUND`, `CONFLICT` (name taken) */
export async function updateGroup(deps: SettingsDeps, context: ChangeContext, groupId: string, input: unknown): Promise<Group> {
  const { name } = parseInput(groupInputSchema, input);
  const current = await currentSettings(deps, context);
  const existing = findGroup(current, groupId);
  const group: Group = { ...existing, name };
  uniqueName(current.groups, group, 'group');
  const event = auditEvent(deps, context, 'group.updated', { type: 'group', id: groupId }, { changed: changedFields(existing, group), group });
  await deps.settingsRepository.apply(context.orgId, { putGroups: [group] }, [event], { ifVersion: current.version });
  return group;
}

/** @throws AppError `NOT_FOUND`, `CONFLICT` (the default group, or still used by a mapping or the JIT default) */
export async function deleteGroup(deps: SettingsDeps, context: ChangeContext, groupId: string): Promise<void> {
  const current = await currentSettings(deps, context);
  const group = findGroup(current, groupId);
  if (group.isDefault) throw new AppError('CONFLICT', 'The default group cannot be deleted.');
  if (current.roleMappings.some((mapping) => mapping.groupIds.includes(groupId))) {
    throw new AppError('CONFLICT', `Group ${group.name} is used by a role mapping: delete or change that mapping first.`);
  }
  if (current.provisioning.jit.defaultGroupId === groupId) throw new AppError('CONFLICT', `Group ${group.name} is the JIT default group: change jit.defaultGroupId first.`);
  await deps.settingsRepository.apply(context.orgId, { deleteGroupIds: [groupId] }, [auditEvent(deps, context, 'group.deleted', { type: 'group', id: groupId }, { group })], {
    ifVersion: current.version,
  });
}
