/**
 * The User Provisioning form's state: the provisioning document and the role mapping
 * rows, and the `PUT` bodies made from them. Like the SSO form, the provisioning body
 * starts from the document as read, so fields the form does not show are kept. Pure.
 */
import type { JitSettings, ProvisioningMethod, ProvisioningSettings, RoleMapping, RoleMappingInput } from '../api/types.js';

export interface ProvisioningDraft {
  method: ProvisioningMethod;
  roleSource: JitSettings['roleSource'];
  roleAttribute: string;
  onNoRoleMatch: JitSettings['onNoRoleMatch'];
  /** One attribute name per line, tried in that order; empty: the server's defaults. */
  emailAttributes: string;
  firstNameAttribute: string;
  lastNameAttribute: string;
  defaultGroupId: string;
  defaultRoleId: string;
}

/** One row of the mapping editor. `key` is the console's own, stable across edits (for focus and rendering). */
export interface MappingRow {
  key: string;
  roleId: string;
  groupIds: string[];
  /** Empty: the role's name is the match key. */
  idpValue: string;
}

let rowCounter = 0;
/** A key no other row of this page has. */
export const newRowKey = (): string => `row-${(rowCounter += 1)}`;

export function draftFromSettings(settings: ProvisioningSettings): ProvisioningDraft {
  const { jit } = settings;
  return {
    method: settings.method,
    roleSource: jit.roleSource,
    roleAttribute: jit.roleAttribute ?? '',
    onNoRoleMatch: jit.onNoRoleMatch,
    emailAttributes: (jit.attributes.email ?? []).join('\n'),
    firstNameAttribute: jit.attributes.firstName ?? '',
    lastNameAttribute: jit.attributes.lastName ?? '',
    defaultGroupId: jit.defaultGroupId,
    defaultRoleId: jit.defaultRoleId,
  };
}

function setOrDelete(target: Record<string, unknown>, key: string, value: string | string[]): void {
  if (value === '' || (Array.isArray(value) && value.length === 0)) delete target[key];
  else target[key] = value;
}

/** The `PUT settings/provisioning` body. Attribute names are trimmed: an IdP never sends a name with spaces around it. */
export function provisioningBody(settings: ProvisioningSettings, draft: ProvisioningDraft): ProvisioningSettings {
  const attributes: Record<string, unknown> = { ...settings.jit.attributes };
  setOrDelete(
    attributes,
    'email',
    draft.emailAttributes
      .split('\n')
      .map((name) => name.trim())
      .filter(Boolean),
  );
  setOrDelete(attributes, 'firstName', draft.firstNameAttribute.trim());
  setOrDelete(attributes, 'lastName', draft.lastNameAttribute.trim());
  const jit: Record<string, unknown> = {
    ...settings.jit,
    roleSource: draft.roleSource,
    onNoRoleMatch: draft.onNoRoleMatch,
    attributes,
    defaultGroupId: draft.defaultGroupId,
    defaultRoleId: draft.defaultRoleId,
  };
  setOrDelete(jit, 'roleAttribute', draft.roleAttribute.trim());
  return { ...settings, method: draft.method, jit: jit as unknown as JitSettings };
}

export const rowsFromMappings = (items: readonly RoleMapping[]): MappingRow[] =>
  items.map((mapping) => ({ key: newRowKey(), roleId: mapping.roleId, groupIds: [...mapping.groupIds], idpValue: mapping.idpValue ?? '' }));

export const emptyRow = (): MappingRow => ({ key: newRowKey(), roleId: '', groupIds: [], idpValue: '' });

/**
 * The `PUT settings/role-mappings` items. The IdP value is sent as typed (matching is
 * exact, so spaces count); an empty one is left out (the role's name is the key).
 */
export const mappingsBody = (rows: readonly MappingRow[]): RoleMappingInput[] =>
  rows.map((row) => ({ roleId: row.roleId, groupIds: [...row.groupIds], ...(row.idpValue === '' ? {} : { idpValue: row.idpValue }) }));

export const provisioningChanged = (settings: ProvisioningSettings, draft: ProvisioningDraft): boolean =>
  JSON.stringify(provisioningBody(settings, draft)) !== JSON.stringify(provisioningBody(settings, draftFromSettings(settings)));

export const mappingsChanged = (items: readonly RoleMapping[], rows: readonly MappingRow[]): boolean =>
  JSON.stringify(mappingsBody(rows)) !== JSON.stringify(mappingsBody(rowsFromMappings(items)));

/** The row's field keys as the API names them in `VALIDATION_FAILED` (`items.0.roleId`). */
export const rowFields = (index: number): string[] => [`items.${index}`, `items.${index}.roleId`, `items.${index}.groupIds`, `items.${index}.idpValue`];
