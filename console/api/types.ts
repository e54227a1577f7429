/**
 * The shapes of the admin API as the console reads and writes them (shared/API.md
 * "Objects", docs/console.md "Routes the console adds"). `contract-check.ts` holds these
 * against the server's own zod models at type-check time, so drift fails the build.
 * Fields the console does not know are kept by round-tripping the documents it edits.
 */

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

export type Protocol = 'saml' | 'oidc';

/** The body of every error answer (API.md "Errors"). */
export interface ErrorBody {
  error: { code: string; message: string };
}

export interface Assignment {
  groupId: string;
  roleId: string;
}

export interface User {
  id: string;
  email: string;
  firstName?: string;
  lastName?: string;
  status: 'active' | 'blocked';
  provisionedBy: 'jit' | 'manual' | 'scim';
  jitProvisioned: boolean;
  assignments: Assignment[];
  idpSubject?: { issuer: string; subject: string };
  createdAt: string;
  updatedAt: string;
  lastLoginAt?: string;
}

/** `GET /me`: a user of an org, or a setup session opened by a setup link. */
export type Me = (User & { orgId: string; scope?: undefined }) | { scope: 'setup'; orgId: string };

export interface Role {
  id: string;
  name: string;
  builtIn: boolean;
  permissions: Permission[];
}

export interface Group {
  id: string;
  name: string;
  isDefault: boolean;
}

export interface RoleMapping {
  id: string;
  roleId: string;
  groupIds: string[];
  idpValue?: string;
}

export type RoleMappingInput = Omit<RoleMapping, 'id'>;

export interface CertificateInfo {
  subject: string;
  fingerprintSha256: string;
  notAfter: string;
  expiresSoon: boolean;
}

export interface SamlSettingsView {
  idpEntityId?: string;
  ssoUrl?: string;
  certificates?: string[];
  allowIdpInitiated?: boolean;
  signAuthnRequests?: boolean;
  clockSkewSeconds?: number;
  requireEncryptedAssertions?: boolean;
  allowSha1?: boolean;
  sloUrl?: string;
  idpMetadataUrl?: string;
  metadataRefresh?: { enabled: boolean; applyCertificateChanges: boolean };
  /** Read-only. */
  metadataFetchedAt?: string;
  metadataError?: string;
  spEntityId: string;
  acsUrl: string;
  metadataUrl: string;
  certificateInfo: CertificateInfo[];
  [key: string]: unknown;
}

export interface OidcSettingsView {
  issuer?: string;
  clientId?: string;
  scopes?: string[];
  /** Read-only, derived. */
  redirectUri: string;
  /** Read-only: whether a client secret is stored (the secret itself is never returned). */
  clientSecretSet?: boolean;
  [key: string]: unknown;
}

export interface DomainStatus {
  domain: string;
  verified: boolean;
  txtName: string;
  txtValue: string;
  verifiedAt: string | null;
}

/** `GET settings/sso`. */
export interface SsoSettingsView {
  enabled: boolean;
  protocol: Protocol;
  forceSso: boolean;
  domains?: string[];
  domainStatus?: DomainStatus[];
  saml: SamlSettingsView;
  oidc: OidcSettingsView;
  [key: string]: unknown;
}

/** `PUT settings/sso`: read-only fields left out, write-only ones only when typed. */
export interface SsoSettingsInput {
  enabled: boolean;
  protocol: Protocol;
  forceSso: boolean;
  domains?: string[];
  saml?: Record<string, unknown>;
  oidc?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface JitSettings {
  roleSource: 'idp' | 'app';
  roleAttribute?: string;
  onNoRoleMatch: 'deny' | 'default';
  attributes: { email?: string[]; firstName?: string; lastName?: string };
  defaultGroupId: string;
  defaultRoleId: string;
}

export type ProvisioningMethod = 'manual' | 'jit' | 'scim';

export interface ProvisioningSettings {
  method: ProvisioningMethod;
  jit: JitSettings;
}

export interface AttributeName {
  name: string;
  lastSeenAt: string;
}

export type PreviewResult = { assignments: Assignment[]; error?: undefined } | { error: { code: string; message: string }; assignments?: undefined };

export interface AuditEvent {
  id: string;
  at: string;
  type: string;
  outcome: 'success' | 'failure';
  code?: string;
  actor: { type: string; id: string };
  target?: { type: string; id: string };
  details: Record<string, unknown>;
}

export interface Page<T> {
  items: T[];
  cursor: string | null;
}

export interface TestSignInStart {
  id: string;
  loginUrl: string;
}

export interface TestResult {
  outcome: 'success' | 'failure';
  issuer?: string;
  nameId?: string;
  nameIdFormat?: string;
  /** OIDC: the subject. */
  sub?: string;
  attributes?: { name: string; values: unknown[] }[];
  session?: { authnInstant?: string; notBefore?: string; notOnOrAfter?: string; sessionIndex?: string; [key: string]: unknown };
  wouldDo?: { action: 'create' | 'update'; email: string; assignments: Assignment[] };
  error?: { code: string; message: string; expected?: unknown; received?: unknown };
}

export interface TestSignIn {
  id: string;
  status: 'pending' | 'done';
  startedAt: string;
  completedAt?: string;
  protocol: Protocol;
  result?: TestResult;
}

export interface SetupLinkCreated {
  id: string;
  url: string;
  createdAt: string;
  expiresAt: string;
}

export interface SetupLink {
  id: string;
  note?: string | null;
  createdAt: string;
  expiresAt: string;
  usedAt?: string | null;
  revokedAt?: string | null;
}

export interface UserInput {
  email: string;
  firstName?: string;
  lastName?: string;
  assignments: Assignment[];
}

export type UserPatch = Partial<Pick<User, 'firstName' | 'lastName' | 'status' | 'assignments'>> & { idpSubject?: null };
