/**
 * The settings an org's admins control, as stored and as validated (zod, strict:
 * unknown fields are refused). These schemas are the single source for handler
 * validation and the OpenAPI document.
 */
import { z } from 'zod';

export const PERMISSIONS = [
  'security:view',
  'security:edit',
  'users:view',
  'users:edit',
  'roles:view',
  'roles:edit',
  'groups:view',
  'groups:edit',
  'audit:view',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

export const DEFAULT_GROUP_ID = 'default';
export const BUILT_IN_ROLE_IDS = ['organization-admin', 'account-admin', 'regular-user'] as const;

/** Org ids appear in URLs and keys: lowercase letters, digits and dashes. */
export const orgIdSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{1,62}$/, 'must be 2-63 lowercase letters, digits or dashes, starting with a letter or digit');

const LOOPBACK_HOST = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])$/;

/** An IdP URL: https, or http on a loopback host for development (API.md "IdP URLs"). */
export const idpUrlSchema = z.string().refine(
  (value) => {
    try {
      const url = new URL(value);
      return url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK_HOST.test(url.hostname));
    } catch {
      return false;
    }
  },
  { message: 'must be an https URL (http only on localhost, 127.0.0.0/8 or [::1])' },
);

const PEM_CERTIFICATE = /^-----BEGIN CERTIFICATE-----\r?\n[A-Za-z0-9+/=\r\n]+-----END CERTIFICATE-----\s*$/;

export const samlSettingsSchema = z.strictObject({
  /** Must equal the Issuer of every response; also how `/login/sso?idp=` finds the org. */
  idpEntityId: z.string().min(1).max(1024),
  ssoUrl: idpUrlSchema.optional(),
  /** PEM certificates of the IdP's signing keys: more than one during a rollover. */
  certificates: z
    .array(z.string().trim().regex(PEM_CERTIFICATE, 'must be a PEM certificate (-----BEGIN CERTIFICATE-----)'))
    .min(1)
    .max(5),
  allowIdpInitiated: z.boolean().default(true),
  signAuthnRequests: z.boolean().default(false),
  clockSkewSeconds: z.number().int().min(0).max(300).default(60),
  /** A plain (unencrypted) assertion is refused with ASSERTION_NOT_ENCRYPTED. */
  requireEncryptedAssertions: z.boolean().default(false),
  /** RSA-SHA1 signatures and SHA-1 reference digests verify (else ALGORITHM_NOT_ALLOWED). */
  allowSha1: z.boolean().default(false),
  /** The IdP's SingleLogoutService (HTTP-Redirect): where SP-initiated logout and our LogoutResponses go. */
  sloUrl: idpUrlSchema.optional(),
  /** Where the IdP publishes its metadata: fetched on write, it sets idpEntityId, ssoUrl, certificates and sloUrl. */
  idpMetadataUrl: z.string().min(1).max(2048).optional(),
  /** Read-only: when the metadata was last fetched from `idpMetadataUrl`. */
  metadataFetchedAt: z.string().optional(),
  /** Re-fetch `idpMetadataUrl` daily (opt-in); changes of trust (certificates, entity ID) only with `applyCertificateChanges`. */
  metadataRefresh: z
    .strictObject({ enabled: z.boolean().default(false), applyCertificateChanges: z.boolean().default(false) })
    .optional(),
  /** Read-only: why the last scheduled fetch failed; absent after a success. */
  metadataError: z.string().optional(),
  /** Server-kept: SHA-256 fingerprints of the certificates already warned about (one `certificate_expiring` event each). */
  expiryWarned: z.array(z.string()).optional(),
});
export type SamlSettings = z.infer<typeof samlSettingsSchema>;

export const oidcSettingsSchema = z.strictObject({
  issuer: idpUrlSchema,
  clientId: z.string().min(1).max(512),
  /** Encrypted at rest; never returned. */
  clientSecretEncrypted: z.string().optional(),
  scopes: z.array(z.string().min(1)).default(['openid', 'email', 'profile']),
});
export type OidcSettings = z.infer<typeof oidcSettingsSchema>;

export const domainSchema = z
  .string()
  .toLowerCase()
  .regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, 'must be a domain name such as acme.com');

/** How an org proves it owns a domain: the TXT record's token, and when it was proved. */
export const domainVerificationSchema = z.strictObject({
  token: z.string().min(1),
  verifiedAt: z.string().optional(),
  /** The last time the scheduled check found the record (or first found it missing). */
  checkedAt: z.string().optional(),
});
export type DomainVerification = z.infer<typeof domainVerificationSchema>;

export const ssoSettingsSchema = z.strictObject({
  enabled: z.boolean().default(false),
  protocol: z.enum(['saml', 'oidc']).default('saml'),
  forceSso: z.boolean().default(false),
  domains: z.array(domainSchema).max(50).default([]),
  /** Server-kept, per domain of `domains`: its DNS challenge and proof (API.md "Verified domains"). */
  domainVerification: z.record(z.string(), domainVerificationSchema).optional(),
  saml: samlSettingsSchema.optional(),
  oidc: oidcSettingsSchema.optional(),
});
export type SsoSettings = z.infer<typeof ssoSettingsSchema>;

/** Where the email may come from when the NameID is not one (API.md "Fine points"). */
export const DEFAULT_EMAIL_ATTRIBUTES = [
  'emailAddress',
  'name',
  'Email',
  'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress',
  'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name',
] as const;

export const jitSettingsSchema = z.strictObject({
  roleSource: z.enum(['idp', 'app']).default('app'),
  roleAttribute: z.string().min(1).max(512).optional(),
  onNoRoleMatch: z.enum(['deny', 'default']).default('deny'),
  attributes: z
    .strictObject({
      email: z.array(z.string().min(1)).min(1).optional(),
      firstName: z.string().min(1).optional(),
      lastName: z.string().min(1).optional(),
    })
    .default({}),
  defaultGroupId: z.string().min(1).default(DEFAULT_GROUP_ID),
  defaultRoleId: z.string().min(1).default('regular-user'),
});
export type JitSettings = z.infer<typeof jitSettingsSchema>;

export const provisioningSettingsSchema = z.strictObject({
  method: z.enum(['manual', 'jit', 'scim']).default('manual'),
  jit: jitSettingsSchema.default(() => jitSettingsSchema.parse({})),
});
export type ProvisioningSettings = z.infer<typeof provisioningSettingsSchema>;

export const roleSchema = z.strictObject({
  id: z.string().min(1).max(128),
  name: z.string().min(1).max(256),
  builtIn: z.boolean().default(false),
  permissions: z.array(z.enum(PERMISSIONS)),
});
export type Role = z.infer<typeof roleSchema>;

export const groupSchema = z.strictObject({
  id: z.string().min(1).max(128),
  name: z.string().min(1).max(256),
  isDefault: z.boolean().default(false),
});
export type Group = z.infer<typeof groupSchema>;

export const roleMappingSchema = z.strictObject({
  id: z.string().min(1),
  roleId: z.string().min(1),
  groupIds: z.array(z.string().min(1)).min(1),
  /** Exact match key; absent means the role's name is the key. */
  idpValue: z.string().min(1).optional(),
});
export type RoleMapping = z.infer<typeof roleMappingSchema>;

export interface Org {
  id: string;
  name: string;
  createdAt: string;
}

/**
 * Everything a login needs about one org, read in one Query. `version` changes on
 * every settings write: caches (settings, parsed certificates) key on it.
 */
export interface OrgSettings {
  org: Org;
  sso: SsoSettings;
  provisioning: ProvisioningSettings;
  roles: Role[];
  groups: Group[];
  roleMappings: RoleMapping[];
  version: string;
}

export const BUILT_IN_ROLES: readonly Role[] = [
  { id: 'organization-admin', name: 'Organization Admin', builtIn: true, permissions: [...PERMISSIONS] },
  {
    id: 'account-admin',
    name: 'Account Admin',
    builtIn: true,
    permissions: ['security:view', 'users:view', 'users:edit', 'roles:view', 'groups:view', 'audit:view'],
  },
  { id: 'regular-user', name: 'Regular User', builtIn: true, permissions: [] },
];

export const DEFAULT_GROUP: Group = { id: DEFAULT_GROUP_ID, name: 'Default', isDefault: true };

export const defaultSsoSettings = (): SsoSettings => ssoSettingsSchema.parse({});
export const defaultProvisioningSettings = (): ProvisioningSettings => provisioningSettingsSchema.parse({});
