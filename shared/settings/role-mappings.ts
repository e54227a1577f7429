/**
 * Role mappings as an admin manages them: list, add, replace all, delete, preview.
 * Every mapping references real roles and groups; while roles come from the IdP, no
 * change may leave the org without a mapping that grants administration
 * (`LAST_ADMIN_MAPPING`), unless forced.
 */
import { z } from 'zod';
import { AppError, isAppError } from '../errors.js';
import { resolveAssignments } from '../provisioning/role-mapping.js';
import type { Assignment } from '../users/model.js';
import { checkIfMatch, etagOf } from './etag.js';
import { roleMappingSchema, type OrgSettings, type Role, type RoleMapping } from './model.js';
import { assertActorHolds, auditEvent, currentSettings, loadOrg, permissionsOfRoles, type ChangeContext, type SettingsDeps, type Versioned } from './settings-service.js';
import { parseInput } from './validation.js';

/** A mapping as an admin writes it: `id` is read-only (ignored). */
export const roleMappingInputSchema = roleMappingSchema.extend({ id: z.unknown().optional() });
export const roleMappingsReplaceSchema = z.strictObject({ items: z.array(roleMappingInputSchema).max(200) });
export const rolePreviewSchema = z.strictObject({ values: z.array(z.string()).max(100) });

export interface ForceOption {
  /** `?force=true`: allow leaving no administrative mapping. */
  force?: boolean;
}

/** A role that can administer the org: it may edit both security settings and users. */
export const isAdminRole = (role: Role | undefined): boolean =>
  Boolean(role?.permissions.includes('security:edit') && role.permissions.includes('users:edit'));

function adminMappings(mappings: readonly RoleMapping[], roles: readonly Role[]): number {
  return mappings.filter((mapping) => isAdminRole(roles.find((role) => role.id === mapping.roleId))).length;
}

/**
 * Refuses a change that leaves no mapping granting an admin role while roles come
 * from the IdP: nobody could administer the org through SSO any more.
 * @throws AppError `LAST_ADMIN_MAPPING`
 */
export function guardLastAdminMapping(
  current: OrgSettings,
  next: { roleMappings?: readonly RoleMapping[]; roles?: readonly Role[] },
  options: ForceOption,
): void {
  if (options.force || current.provisioning.jit.roleSource !== 'idp') return;
  const before = adminMappings(current.roleMappings, current.roles);
  const after = adminMappings(next.roleMappings ?? current.roleMappings, next.roles ?? current.roles);
  if (before > 0 && after === 0) {
    throw new AppError(
      'LAST_ADMIN_MAPPING',
      'This change would leave no role mapping that grants a role with both security:edit and users:edit, so no one could administer the org through SSO. Add another such mapping first, or repeat with ?force=true.',
    );
  }
}

function checkReferences(settings: OrgSettings, mapping: Omit<RoleMapping, 'id'>, field: string): void {
  if (!settings.roles.some((role) => role.id === mapping.roleId)) {
    throw new AppError('VALIDATION_FAILED', `${field}roleId: no role "${mapping.roleId}" exists in this org`);
  }
  const unknown = mapping.groupIds.filter((groupId) => !settings.groups.some((group) => group.id === groupId));
  if (unknown.length > 0) throw new AppError('VALIDATION_FAILED', `${field}groupIds: no group ${unknown.map((id) => `"${id}"`).join(', ')} exists in this org`);
}

const sorted = (mappings: readonly RoleMapping[]) => [...mappings].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

export function roleMappingsView(settings: OrgSettings): Versioned<{ items: RoleMapping[] }> {
  const items = sorted(settings.roleMappings);
  return { body: { items }, etag: etagOf(items) };
}

const mappingKey = (mapping: Omit<RoleMapping, 'id'>) => JSON.stringify([mapping.roleId, [...mapping.groupIds].sort(), mapping.idpValue ?? null]);

function toMapping(deps: SettingsDeps, input: z.infer<typeof roleMappingInputSchema>): RoleMapping {
  const { id: _ignored, ...fields } = input;
  return { id: deps.ids.newId(), ...fields, groupIds: [...new Set(fields.groupIds)] };
}

/**
 * Adds one role mapping.
 * @throws AppError `VALIDATION_FAILED` (unknown role or group)
 */
export async function addRoleMapping(deps: SettingsDeps, context: ChangeContext, input: unknown): Promise<RoleMapping> {
  const mapping = toMapping(deps, parseInput(roleMappingInputSchema, input));
  const current = await currentSettings(deps, context);
  checkReferences(current, mapping, '');
  // A mapping hands its role to whoever the IdP says: nobody maps a role they could not hold.
  assertActorHolds(context, permissionsOfRoles(current.roles, [mapping.roleId]), 'map this role');
  const event = auditEvent(deps, context, 'role_mapping.created', { type: 'role-mapping', id: mapping.id }, { mapping });
  await deps.settingsRepository.apply(context.orgId, { putRoleMappings: [mapping] }, [event], { ifVersion: current.version });
  return mapping;
}

/**
 * Replaces every role mapping of the org.
 * @throws AppError `VALIDATION_FAILED`, `LAST_ADMIN_MAPPING`, `PRECONDITION_FAILED`
 */
export async function replaceRoleMappings(deps: SettingsDeps, context: ChangeContext, input: unknown, options: ForceOption = {}): Promise<Versioned<{ items: RoleMapping[] }>> {
  const parsed = parseInput(roleMappingsReplaceSchema, input);
  const current = await currentSettings(deps, context);
  checkIfMatch(context.ifMatch, sorted(current.roleMappings));
  // A mapping that is already there keeps its id: PUTting back what GET showed changes nothing.
  const unchanged = new Map(current.roleMappings.map((mapping) => [mappingKey(mapping), mapping.id]));
  const mappings = parsed.items.map((item) => {
    const mapping = toMapping(deps, item);
    const id = unchanged.get(mappingKey(mapping));
    if (id) unchanged.delete(mappingKey(mapping));
    return id ? { ...mapping, id } : mapping;
  });
  mappings.forEach((mapping, index) => checkReferences(current, mapping, `items[${index}].`));
  const existingIds = new Set(current.roleMappings.map((mapping) => mapping.id));
  const added = mappings.filter((mapping) => !existingIds.has(mapping.id));
  assertActorHolds(context, permissionsOfRoles(current.roles, added.map((mapping) => mapping.roleId)), 'map these roles');
  guardLastAdminMapping(current, { roleMappings: mappings }, options);
  const event = auditEvent(deps, context, 'role_mapping.replaced', { type: 'role-mapping', id: '*' }, {
    before: current.roleMappings.length,
    after: mappings.length,
    mappings: mappings.map(({ roleId, groupIds, idpValue }) => ({ roleId, groupIds, idpValue })),
    forced: Boolean(options.force),
  });
  const kept = new Set(mappings.map((mapping) => mapping.id));
  await deps.settingsRepository.apply(
    context.orgId,
    { putRoleMappings: mappings, deleteRoleMappingIds: current.roleMappings.filter((mapping) => !kept.has(mapping.id)).map((mapping) => mapping.id) },
    [event],
    { ifVersion: current.version },
  );
  return roleMappingsView({ ...current, roleMappings: mappings });
}

/**
 * Deletes one role mapping.
 * @throws AppError `NOT_FOUND`, `LAST_ADMIN_MAPPING`
 */
export async function deleteRoleMapping(deps: SettingsDeps, context: ChangeContext, mappingId: string, options: ForceOption = {}): Promise<void> {
  const current = await currentSettings(deps, context);
  const mapping = current.roleMappings.find((candidate) => candidate.id === mappingId);
  if (!mapping) throw new AppError('NOT_FOUND', `No role mapping ${mappingId} in this org.`);
  const remaining = current.roleMappings.filter((candidate) => candidate.id !== mappingId);
  assertActorHolds(context, permissionsOfRoles(current.roles, [mapping.roleId]), 'delete this mapping');
  guardLastAdminMapping(current, { roleMappings: remaining }, options);
  const event = auditEvent(deps, context, 'role_mapping.deleted', { type: 'role-mapping', id: mappingId }, { mapping, forced: Boolean(options.force) });
  await deps.settingsRepository.apply(context.orgId, { deleteRoleMappingIds: [mappingId] }, [event], { ifVersion: current.version });
}

export type PreviewResult = { assignments: Assignment[] } | { error: { code: string; message: string } };

/**
 * What a login asserting `values` in the role attribute would get, under the current
 * settings, or the error it would fail with. `[]` answers as an absent attribute.
 */
export async function previewRoleMapping(deps: SettingsDeps, orgId: string, input: unknown): Promise<PreviewResult> {
  const { values } = parseInput(rolePreviewSchema, input);
  const { provisioning, roles, roleMappings } = await loadOrg(deps, orgId);
  try {
    return { assignments: resolveAssignments({ jit: provisioning.jit, roles, roleMappings }, values.length === 0 ? undefined : values) };
  } catch (error) {
    if (isAppError(error)) return { error: { code: error.code, message: error.message } };
    throw error;
  }
}
