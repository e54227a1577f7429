/**
 * SSO and provisioning settings as domain functions: validate, apply the cross-document
 * rules (JIT needs SSO, one provisioning method at a time, one SSO connection per org),
 * write atomically with an audit event naming the actor and what changed (never a
 * secret). The settings routes and the local stack's demo seeding both call these.
 */
import { z } from 'zod';
import type { AuditActor, AuditEvent } from '../audit/model.js';
import type { Clock, IdGenerator } from '../clock.js';
import { AppError } from '../errors.js';
import type { SecretSealer } from '../secrets/sealer.js';
import type { SettingsRepository } from './ports.js';
import { certificateInfo, fingerprintOf, normalizeCertificatePem } from './certificates.js';
import { domainStatusOf, verificationsFor, verifiedDomainsOf } from './domains.js';
import { checkIfMatch, etagOf } from './etag.js';
import { parseIdpMetadata, type IdpMetadata } from './idp-metadata.js';
import type { IdpMetadataFetcher } from './metadata-fetch.js';
import {
  jitSettingsSchema,
  oidcSettingsSchema,
  PERMISSIONS,
  provisioningSettingsSchema,
  samlSettingsSchema,
  ssoSettingsSchema,
  type OrgSettings,
  type Permission,
  type ProvisioningSettings,
  type Role,
  type SsoSettings,
} from './model.js';
import { orgUrls } from './urls.js';
import { parseInput } from './validation.js';

export interface SettingsDeps {
  settingsRepository: SettingsRepository;
  clock: Clock;
  ids: IdGenerator;
}

export interface SsoSettingsDeps extends SettingsDeps {
  sealer: SecretSealer;
  baseUrl: string;
  /** Fetches `saml.idpMetadataUrl` under the SSRF rules of metadata-fetch.ts. */
  fetchIdpMetadata: IdpMetadataFetcher;
}

/** Who is changing what, and on which version of it. */
export interface ChangeContext {
  orgId: string;
  actor: AuditActor;
  /**
   * The permissions the acting user holds. Nobody grants what they do not hold: a role,
   * an assignment or a role mapping may carry only these (absent: the CLI, which holds all).
   */
  actorPermissions?: ReadonlySet<Permission>;
  /** The `If-Match` the caller sent: a stale one is `412 PRECONDITION_FAILED`. */
  ifMatch?: string;
  /** The org's settings, when the caller has just read them (authorization does): not read again. */
  settings?: OrgSettings;
}

/** A document and its ETag. */
export interface Versioned<T> {
  body: T;
  etag: string;
}

const readOnly = z.unknown().optional();
const MAX_METADATA_BYTES = 1024 * 1024;

/** SAML settings as an admin writes them: read-only fields accepted and ignored; metadata XML as an alternative. */
export const samlSettingsInputSchema = samlSettingsSchema
  .omit({ expiryWarned: true })
  .extend({
    idpEntityId: samlSettingsSchema.shape.idpEntityId.optional(),
    certificates: z.array(z.string().min(1)).max(5).optional(),
    metadataXml: z.string().max(MAX_METADATA_BYTES).optional(),
    idpMetadataUrl: samlSettingsSchema.shape.idpMetadataUrl.describe('fetched on write (https, public addresses only): sets idpEntityId, ssoUrl, certificates and sloUrl'),
    metadataFetchedAt: readOnly,
    metadataError: readOnly,
    spEntityId: readOnly,
    acsUrl: readOnly,
    metadataUrl: readOnly,
    certificateInfo: readOnly,
  })
  .describe('SAML connection; `metadataXml` or `idpMetadataUrl` sets idpEntityId, ssoUrl, certificates and sloUrl');

/** OIDC settings as an admin writes them: `clientSecret` is write-only. */
export const oidcSettingsInputSchema = oidcSettingsSchema.omit({ clientSecretEncrypted: true }).extend({
  clientSecret: z.string().min(1).max(4096).optional().describe('write-only: stored encrypted, never returned'),
  redirectUri: readOnly,
  clientSecretSet: readOnly,
});

export const ssoSettingsInputSchema = ssoSettingsSchema.omit({ domainVerification: true }).extend({
  domainStatus: readOnly,
  saml: samlSettingsInputSchema.optional(),
  oidc: oidcSettingsInputSchema.optional(),
});

export const provisioningSettingsInputSchema = provisioningSettingsSchema.extend({
  jit: jitSettingsSchema.optional().describe('left out: the stored JIT configuration is kept'),
});

/** The settings a change starts from: the ones the caller already read, else a fresh read. */
export async function currentSettings(deps: Pick<SettingsDeps, 'settingsRepository'>, context: ChangeContext): Promise<OrgSettings> {
  return context.settings?.org.id === context.orgId ? context.settings : loadOrg(deps, context.orgId);
}

export async function loadOrg(deps: Pick<SettingsDeps, 'settingsRepository'>, orgId: string): Promise<OrgSettings> {
  const settings = await deps.settingsRepository.load(orgId);
  if (!settings) throw new AppError('ORG_NOT_FOUND', `Org ${orgId} does not exist.`);
  return settings;
}

export function auditEvent(
  deps: Pick<SettingsDeps, 'clock' | 'ids'>,
  context: ChangeContext,
  type: AuditEvent['type'],
  target: AuditEvent['target'],
  details: Record<string, unknown>,
): AuditEvent {
  return { id: deps.ids.newId(), orgId: context.orgId, at: deps.clock.now().toISOString(), type, outcome: 'success', actor: context.actor, target, details };
}

/** Names of the fields whose values differ, `prefix.`-qualified: what an audit event may say changed. */
export function changedFields(before: object, after: object, prefix = ''): string[] {
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  return keys
    .filter((key) => JSON.stringify((before as Record<string, unknown>)[key]) !== JSON.stringify((after as Record<string, unknown>)[key]))
    .map((key) => `${prefix}${key}`);
}

/**
 * What a sealed OIDC client secret is bound to: the org, the purpose, and the issuer and
 * client it was entered for, so it opens for nothing else.
 */
export const clientSecretContext = (orgId: string, oidc: { issuer: string; clientId: string }) => ({
  orgId,
  purpose: 'oidc-client-secret',
  issuer: oidc.issuer,
  clientId: oidc.clientId,
});

/**
 * Refuses a change that would give someone permissions the actor does not hold
 * (privilege escalation through roles, assignments or role mappings).
 * @throws AppError `FORBIDDEN`
 */
export function assertActorHolds(context: ChangeContext, permissions: Iterable<Permission>, what: string): void {
  if (!context.actorPermissions) return;
  const missing = [...new Set(permissions)].filter((permission) => !context.actorPermissions!.has(permission));
  if (missing.length > 0) {
    throw new AppError('FORBIDDEN', `You cannot ${what}: it carries permissions you do not hold (${missing.join(', ')}).`);
  }
}

/** The permissions of the roles named by `roleIds` in `roles`. */
export const permissionsOfRoles = (roles: readonly Role[], roleIds: Iterable<string>): Permission[] => {
  const wanted = new Set(roleIds);
  return roles.filter((role) => wanted.has(role.id)).flatMap((role) => role.permissions);
};

/** What decides who can sign in: the protocol and the IdP's identity and keys. */
const identityProviderOf = (sso: SsoSettings): string =>
  JSON.stringify([sso.protocol, sso.saml?.idpEntityId ?? null, [...(sso.saml?.certificates ?? [])].sort(), sso.oidc?.issuer ?? null, sso.oidc?.clientId ?? null]);

/** Whether the org's SSO connection can sign anyone in. */
export const ssoUsable = (sso: SsoSettings): boolean => sso.enabled && Boolean(sso[sso.protocol]);

/** The SSO document as an admin reads it: derived URLs, certificate details, no secret. */
export function ssoView(settings: OrgSettings, baseUrl: string, now: Date): Versioned<Record<string, unknown>> {
  const { sso } = settings;
  const urls = orgUrls(baseUrl, settings.org.id);
  const body = {
    enabled: sso.enabled,
    protocol: sso.protocol,
    forceSso: sso.forceSso,
    domains: sso.domains,
    domainStatus: domainStatusOf(sso),
    saml: {
      ...withoutServerKept(sso.saml),
      spEntityId: urls.spEntityId,
      acsUrl: urls.acsUrl,
      metadataUrl: urls.metadataUrl,
      certificateInfo: (sso.saml?.certificates ?? []).map((pem) => certificateInfo(pem, now)),
    },
    ...(sso.oidc
      ? {
          oidc: {
            issuer: sso.oidc.issuer,
            clientId: sso.oidc.clientId,
            scopes: sso.oidc.scopes,
            redirectUri: urls.oidcRedirectUri,
            clientSecretSet: sso.oidc.clientSecretEncrypted !== undefined,
          },
        }
      : { oidc: { redirectUri: urls.oidcRedirectUri } }),
  };
  return { body, etag: etagOf(sso) };
}

/**
 * The stored SAML settings from an admin's input: metadata (pasted, or fetched from the
 * metadata URL) wins over the three fields it sets.
 */
function samlFromInput(input: z.infer<typeof samlSettingsInputSchema>, fetched?: { metadata: IdpMetadata; at: string }): SsoSettings['saml'] {
  const { spEntityId: _a, acsUrl: _b, metadataUrl: _c, certificateInfo: _d, metadataFetchedAt: _e, metadataError: _f, metadataXml, ...fields } = input;
  const fromMetadata = fetched ? { ...fetched.metadata, metadataFetchedAt: fetched.at } : metadataXml === undefined ? {} : parseIdpMetadata(metadataXml);
  const merged = { ...fields, ...fromMetadata };
  const certificates = merged.certificates?.map((pem, index) => normalizeCertificatePem(pem, `saml.certificates[${index}]`));
  return parseInput(samlSettingsSchema, { ...merged, certificates }, 'saml');
}

/** The SAML settings without what only the server keeps. */
function withoutServerKept(saml: SsoSettings['saml']): Omit<NonNullable<SsoSettings['saml']>, 'expiryWarned'> | undefined {
  if (!saml) return saml;
  const { expiryWarned: _warned, ...shown } = saml;
  return shown;
}

/** Keeps the server-kept record of expiry warnings for the certificates still listed. */
function withExpiryWarnings(next: SsoSettings['saml'], current: SsoSettings['saml']): SsoSettings['saml'] {
  if (!next || !current?.expiryWarned) return next;
  const listed = new Set(next.certificates.map((pem) => fingerprintOf(pem)));
  const kept = current.expiryWarned.filter((fingerprint) => listed.has(fingerprint));
  return kept.length > 0 ? { ...next, expiryWarned: kept } : next;
}

/**
 * Fetches and reads the metadata at `saml.idpMetadataUrl`.
 * @throws AppError `METADATA_FETCH_FAILED` naming why (the fetch, or what came back)
 */
async function fetchMetadata(deps: SsoSettingsDeps, url: string): Promise<{ metadata: IdpMetadata; at: string }> {
  const xml = await deps.fetchIdpMetadata(url);
  try {
    return { metadata: parseIdpMetadata(xml), at: deps.clock.now().toISOString() };
  } catch (error) {
    if (!(error instanceof AppError && error.code === 'VALIDATION_FAILED')) throw error;
    const why = error.message.replace(/^saml\.metadataXml:\s*/, '');
    throw new AppError('METADATA_FETCH_FAILED', `saml.idpMetadataUrl: what it returned is not usable SAML IdP metadata: ${why}`, { cause: error });
  }
}

/**
 * A setup session sets up the connection (protocol, SAML, OIDC, `enabled`), nothing
 * else: `domains` and `forceSso` keep their stored values, and sending other values is
 * refused.
 * @throws AppError `FORBIDDEN`
 */
function keepOutsideSetupScope(input: unknown, parsed: z.infer<typeof ssoSettingsInputSchema>, current: SsoSettings): void {
  const sent = (input ?? {}) as Record<string, unknown>;
  const sameDomains = JSON.stringify([...new Set(parsed.domains)].sort()) === JSON.stringify([...current.domains].sort());
  const changed = [...(sent.domains !== undefined && !sameDomains ? ['domains'] : []), ...(sent.forceSso !== undefined && parsed.forceSso !== current.forceSso ? ['forceSso'] : [])];
  if (changed.length > 0) {
    throw new AppError('FORBIDDEN', `A setup session sets up the connection only: ${changed.join(' and ')} can be changed by an administrator of the organization.`);
  }
  parsed.domains = [...current.domains];
  parsed.forceSso = current.forceSso;
}

const READ_ONLY_SECTION_KEYS: Record<'saml' | 'oidc', readonly string[]> = {
  saml: ['spEntityId', 'acsUrl', 'metadataUrl', 'certificateInfo', 'metadataFetchedAt', 'metadataError'],
  oidc: ['redirectUri', 'clientSecretSet'],
};

/**
 * Drops a `saml` or `oidc` section that holds only read-only fields: what a GET shows
 * for the protocol an org does not use, so a GET body sent back whole is accepted.
 */
function withoutReadOnlySections(input: unknown): unknown {
  if (!input || typeof input !== 'object' || Array.isArray(input)) return input;
  const copy: Record<string, unknown> = { ...(input as Record<string, unknown>) };
  for (const section of ['saml', 'oidc'] as const) {
    const value = copy[section];
    if (value && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).every((key) => READ_ONLY_SECTION_KEYS[section].includes(key))) {
      delete copy[section];
    }
  }
  return copy;
}

/**
 * Replaces the org's SSO settings.
 * @throws AppError `VALIDATION_FAILED`, `SSO_REQUIRED_BY_JIT`, `PRECONDITION_FAILED`
 */
export async function updateSsoSettings(deps: SsoSettingsDeps, context: ChangeContext, input: unknown): Promise<Versioned<Record<string, unknown>>> {
  const parsed = parseInput(ssoSettingsInputSchema, withoutReadOnlySections(input));
  const current = await currentSettings(deps, context);
  checkIfMatch(context.ifMatch, current.sso);
  if (context.actor.type === 'setup_link') keepOutsideSetupScope(input, parsed, current.sso);
  const samlInput = parsed.saml;
  if (samlInput?.metadataXml !== undefined && samlInput.idpMetadataUrl !== undefined) {
    throw new AppError('VALIDATION_FAILED', 'saml: give either metadataXml or idpMetadataUrl, not both');
  }
  const fetched = samlInput?.idpMetadataUrl === undefined ? undefined : await fetchMetadata(deps, samlInput.idpMetadataUrl);
  const oidcInput = parsed.oidc;
  let oidc: SsoSettings['oidc'];
  if (oidcInput) {
    const { clientSecret, redirectUri: _r, clientSecretSet: _s, ...fields } = oidcInput;
    const parsedOidc = parseInput(oidcSettingsSchema, fields, 'oidc');
    // Write-only: left out keeps the stored one, but only for the IdP it was entered for.
    // Pointing the connection at another issuer or client must never send it there.
    const stored = current.sso.oidc;
    const sameClient = stored !== undefined && stored.issuer === parsedOidc.issuer && stored.clientId === parsedOidc.clientId;
    if (clientSecret === undefined && stored?.clientSecretEncrypted && !sameClient) {
      throw new AppError('VALIDATION_FAILED', 'oidc.clientSecret: required when the issuer or client id changes (the stored secret is never sent to another identity provider)');
    }
    oidc = {
      ...parsedOidc,
      clientSecretEncrypted:
        clientSecret === undefined ? stored?.clientSecretEncrypted : await deps.sealer.seal(clientSecret, clientSecretContext(context.orgId, parsedOidc)),
    };
  }
  const { domainStatus: _status, ...fields } = parsed;
  const domains = [...new Set(fields.domains)];
  const next: SsoSettings = {
    enabled: fields.enabled,
    protocol: fields.protocol,
    forceSso: fields.forceSso,
    domains,
    domainVerification: verificationsFor(domains, current.sso.domainVerification),
    saml: samlInput ? withExpiryWarnings(samlFromInput(samlInput, fetched), current.sso.saml) : undefined,
    oidc,
  };
  if (next.enabled && !next[next.protocol]) {
    throw new AppError('VALIDATION_FAILED', `${next.protocol}: required when SSO is enabled with protocol "${next.protocol}"`);
  }
  // Whoever chooses the IdP decides who signs in as anyone, so it takes every permission.
  if (identityProviderOf(next) !== identityProviderOf(current.sso)) assertActorHolds(context, PERMISSIONS, 'change the identity provider');
  if (current.provisioning.method === 'jit' && !ssoUsable(next)) {
    throw new AppError('SSO_REQUIRED_BY_JIT', 'SSO cannot be disabled while JIT provisioning is on: set the provisioning method to "manual" first.');
  }
  if (current.provisioning.method === 'jit' && next.protocol !== current.sso.protocol) {
    // One identity system provisions an org: switching protocol under JIT would hand it to another.
    throw new AppError('SSO_REQUIRED_BY_JIT', 'The SSO protocol cannot change while JIT provisioning is on: set the provisioning method to "manual" first.');
  }
  // A domain routes only once verified (domains.ts): listing one claims nothing; removing a
  // verified one ends its routing.
  const releaseDomains = verifiedDomainsOf(current.sso).filter((domain) => !domains.includes(domain));
  const changed = [
    ...changedFields({ ...current.sso, saml: undefined, oidc: undefined, domainVerification: undefined }, { ...next, saml: undefined, oidc: undefined, domainVerification: undefined }),
    ...changedFields(current.sso.saml ?? {}, next.saml ?? {}, 'saml.'),
    // The secret's ciphertext differs on every write: report that it was set, never its value.
    ...changedFields({ ...current.sso.oidc, clientSecretEncrypted: undefined }, { ...next.oidc, clientSecretEncrypted: undefined }, 'oidc.'),
    ...(oidcInput?.clientSecret !== undefined ? ['oidc.clientSecret'] : []),
  ];
  const event = auditEvent(deps, context, 'settings.sso.updated', { type: 'settings', id: 'sso' }, { changed });
  await deps.settingsRepository.apply(
    context.orgId,
    { sso: next, releaseDomains },
    [event],
    { ifVersion: current.version },
  );
  return ssoView({ ...current, sso: next }, deps.baseUrl, deps.clock.now());
}

export function provisioningView(settings: OrgSettings): Versioned<ProvisioningSettings> {
  return { body: settings.provisioning, etag: etagOf(settings.provisioning) };
}

/**
 * Replaces the provisioning settings. `jit` left out keeps the stored JIT configuration,
 * so `{"method":"manual"}` turns JIT off and keeps it.
 * @throws AppError `VALIDATION_FAILED`, `JIT_REQUIRES_SSO`, `PRECONDITION_FAILED`
 */
export async function updateProvisioningSettings(deps: SettingsDeps, context: ChangeContext, input: unknown): Promise<Versioned<ProvisioningSettings>> {
  const parsed = parseInput(provisioningSettingsInputSchema, input);
  const current = await currentSettings(deps, context);
  checkIfMatch(context.ifMatch, current.provisioning);
  const next: ProvisioningSettings = { method: parsed.method, jit: parsed.jit ?? current.provisioning.jit };
  if (next.method === 'jit' && !ssoUsable(current.sso)) {
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
  const event = auditEvent(deps, context, 'settings.provisioning.updated', { type: 'settings', id: 'provisioning' }, {
    changed: [...changedFields({ method: current.provisioning.method }, { method: next.method }), ...changedFields(current.provisioning.jit, next.jit, 'jit.')],
    method: next.method,
  });
  await deps.settingsRepository.apply(context.orgId, { provisioning: next }, [event], { ifVersion: current.version });
  return provisioningView({ ...current, provisioning: next });
}
