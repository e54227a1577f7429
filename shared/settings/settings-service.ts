/**
 * Settings changes as domain functions: validate, apply the cross-document rules
 * (JIT needs SSO, one provisioning method at a time, mappings reference real roles
 * and groups), write atomically with an audit event naming the actor and what changed.
 * The settings routes and the local stack's demo seeding both call these.
 */
import { z } from 'zod';
import type { AuditActor, AuditEvent } from '../audit/model.js';
import type { Clock, IdGenerator } from '../clock.js';
import { AppError } from '../errors.js';
import type { SettingsRepository } from '../storage/ports.js';
import {
  jitSettingsSchema,
  oidcSettingsSchema,
  provisioningSettingsSchema,
  roleMappingSchema,
  samlSettingsSchema,
  ssoSettingsSchema,
  type OrgSettings,
  type ProvisioningSettings,
  type RoleMapping,
  type SsoSettings,
} from './model.js';
import { parseInput } from './validation.js';

export interface SettingsDeps {
  settingsRepository: SettingsRepository;
  clock: Clock;
  ids: IdGenerator;
}

export interface WriteOptions {
  /** The version the caller read (`If-Match`); a stale one is `412 PRECONDITION_FAILED`. */
  ifVersion?: string;
}

const readOnlySaml = { spEntityId: z.unknown().optional(), acsUrl: z.unknown().optional(), metadataUrl: z.unknown().optional(), certificateInfo: z.unknown().optional() };

/** The SSO document as an admin writes it: read-only fields accepted and ignored. */
export const ssoSettingsInputSchema = ssoSettingsSchema.extend({
  saml: samlSettingsSchema.extend(readOnlySaml).optional(),
  oidc: oidcSettingsSchema.omit({ clientSecretEncrypted: true }).extend({ redirectUri: z.unknown().optional() }).optional(),
});

export const provisioningSettingsInputSchema = provisioningSettingsSchema.extend({ jit: jitSettingsSchema.optional() });

export const roleMappingInputSchema = roleMappingSchema.omit({ id: true });

async function load(deps: SettingsDeps, orgId: string): Promise<OrgSettings> {
  const settings = await deps.settingsRepository.load(orgId);
  if (!settings) throw new AppError('ORG_NOT_FOUND', `Org ${orgId} does not exist.`);
  return settings;
}

function auditEvent(deps: SettingsDeps, orgId: string, actor: AuditActor, type: AuditEvent['type'], target: AuditEvent['target'], details: Record<string, unknown>): AuditEvent {
  return { id: deps.ids.newId(), orgId, at: deps.clock.now().toISOString(), type, outcome: 'success', actor, target, details };
}

/** Names of the top-level fields whose values differ (what an audit event may say changed). */
function changedFields(before: object, after: object): string[] {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...keys].filter((key) => JSON.stringify((before as Record<string, unknown>)[key]) !== JSON.stringify((after as Record<string, unknown>)[key]));
}

/**
 * Replaces the org's SSO settings.
 * @throws AppError `VALIDATION_FAILED`, `SSO_REQUIRED_BY_JIT`, `CONFLICT` (domain of another org), `PRECONDITION_FAILED`
 */
export async function updateSsoSettings(deps: SettingsDeps, orgId: string, input: unknown, actor: AuditActor, options: WriteOptions = {}): Promise<SsoSettings> {
  const parsed = parseInput(ssoSettingsInputSchema, input);
  const current = await load(deps, orgId);
  const { spEntityId: _a, acsUrl: _b, metadataUrl: _c, certificateInfo: _d, ...saml } = parsed.saml ?? {};
  const { redirectUri: _e, ...oidc } = parsed.oidc ?? {};
  const next: SsoSettings = {
    ...parsed,
    domains: [...new Set(parsed.domains)],
    saml: parsed.saml ? samlSettingsSchema.parse(saml) : undefined,
    oidc: parsed.oidc ? { ...oidcSettingsSchema.parse(oidc), clientSecretEncrypted: current.sso.oidc?.clientSecretEncrypted } : undefined,
  };
  if (next.enabled && !next[next.protocol]) {
    throw new AppError('VALIDATION_FAILED', `${next.protocol}: required when SSO is enabled with protocol "${next.protocol}"`);
  }
  const ssoUsable = next.enabled && Boolean(next[next.protocol]);
  if (!ssoUsable && current.provisioning.method === 'jit') {
    throw new AppError('SSO_REQUIRED_BY_JIT', 'SSO cannot be disabled while JIT provisioning is on: set the provisioning method to "manual" first.');
  }
  if (next.protocol !== current.sso.protocol && current.provisioning.method === 'jit' && current.sso.enabled) {
    // One identity system provisions an org: switching protocol under JIT would hand it to another.
    throw new AppError('SSO_REQUIRED_BY_JIT', 'The SSO protocol cannot change while JIT provisioning is on: set the provisioning method to "manual" first.');
  }
  const before = new Set(current.sso.domains);
  const after = new Set(next.domains);
  const event = auditEvent(deps, orgId, actor, 'settings.sso.updated', { type: 'settings', id: 'sso' }, { changed: changedFields(current.sso, next) });
  await deps.settingsRepository.apply(
    orgId,
    {
      sso: next,
      claimDomains: [...after].filter((domain) => !before.has(domain)),
      releaseDomains: [...before].filter((domain) => !after.has(domain)),
    },
    [event],
    options,
  );
  return next;
}

/**
 * Replaces the provisioning settings. `jit` left out keeps the stored JIT configuration.
 * @throws AppError `VALIDATION_FAILED`, `JIT_REQUIRES_SSO`, `PRECONDITION_FAILED`
 */
export async function updateProvisioningSettings(deps: SettingsDeps, orgId: string, input: unknown, actor: AuditActor, options: WriteOptions = {}): Promise<ProvisioningSettings> {
  const parsed = parseInput(provisioningSettingsInputSchema, input);
  const current = await load(deps, orgId);
  const next: ProvisioningSettings = { method: parsed.method, jit: parsed.jit ?? current.provisioning.jit };
  if (next.method === 'jit' && !(current.sso.enabled && current.sso[current.sso.protocol])) {
    throw new AppError('JIT_REQUIRES_SSO', 'JIT provisioning needs SSO: enable SAML or OIDC single sign-on first.');
  }
  const { jit } = next;
  if (!current.roles.some((role) => role.id === jit.defaultRoleId)) {
    throw new AppError('VALIDATION_FAILED', `jit.defaultRoleId: no role "${jit.defaultRoleId}" exists in this org`);
  }
  if (!current.groups.some((group) => group.id === jit.defaultGroupId)) {
    throw new AppError('VALIDATION_FAILED', `jit.defaultGroupId: no group "${jit.defaultGroupId}" exists in this org`);
  }
  if (jit.roleSource === 'idp' && !jit.roleAttribute) {
    throw new AppError('VALIDATION_FAILED', 'jit.roleAttribute: required when jit.roleSource is "idp"');
  }
  const event = auditEvent(deps, orgId, actor, 'settings.provisioning.updated', { type: 'settings', id: 'provisioning' }, {
    changed: [...changedFields({ method: current.provisioning.method }, { method: next.method }), ...changedFields(current.provisioning.jit, next.jit).map((field) => `jit.${field}`)],
    method: next.method,
  });
  await deps.settingsRepository.apply(orgId, { provisioning: next }, [event], options);
  return next;
}

function checkReferences(settings: OrgSettings, mapping: Omit<RoleMapping, 'id'>, field: string): void {
  if (!settings.roles.some((role) => role.id === mapping.roleId)) {
    throw new AppError('VALIDATION_FAILED', `${field}roleId: no role "${mapping.roleId}" exists in this org`);
  }
  const unknown = mapping.groupIds.filter((groupId) => !settings.groups.some((group) => group.id === groupId));
  if (unknown.length > 0) throw new AppError('VALIDATION_FAILED', `${field}groupIds: no group ${unknown.map((id) => `"${id}"`).join(', ')} exists in this org`);
}

/**
 * Adds one role mapping.
 * @throws AppError `VALIDATION_FAILED` (unknown role or group)
 */
export async function addRoleMapping(deps: SettingsDeps, orgId: string, input: unknown, actor: AuditActor): Promise<RoleMapping> {
  const parsed = parseInput(roleMappingInputSchema, input);
  const current = await load(deps, orgId);
  checkReferences(current, parsed, '');
  const mapping: RoleMapping = { id: deps.ids.newId(), ...parsed };
  const event = auditEvent(deps, orgId, actor, 'role_mapping.created', { type: 'role-mapping', id: mapping.id }, { mapping });
  await deps.settingsRepository.apply(orgId, { roleMappings: [...current.roleMappings, mapping] }, [event], { ifVersion: current.version });
  return mapping;
}
