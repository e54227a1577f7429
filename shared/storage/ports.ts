/**
 * Storage ports: the interfaces the domain depends on. The DynamoDB adapters
 * (`dynamo.ts`) and in-memory adapters (`memory.ts`) in this folder implement them;
 * one contract suite (test/integration/storage-contract.test.ts) runs against both.
 */
import type { AuditEvent } from '../audit/model.js';
import type { Group, Org, OrgSettings, ProvisioningSettings, Role, RoleMapping, SsoSettings } from '../settings/model.js';
import type { User } from '../users/model.js';

export interface Page<T> {
  items: T[];
  cursor?: string;
}

export interface NewOrg {
  org: Org;
  sso: SsoSettings;
  provisioning: ProvisioningSettings;
  roles: Role[];
  groups: Group[];
  roleMappings: RoleMapping[];
  firstUser: User;
}

/** One settings write: the documents it replaces, applied atomically with its audit events. */
export interface SettingsChange {
  sso?: SsoSettings;
  provisioning?: ProvisioningSettings;
  /** Upserts these role mappings; deletes the ids listed. */
  putRoleMappings?: RoleMapping[];
  deleteRoleMappingIds?: string[];
  /** Upserts these roles / groups; deletes the ids listed. */
  putRoles?: Role[];
  deleteRoleIds?: string[];
  putGroups?: Group[];
  deleteGroupIds?: string[];
  /** Email domains to claim for the org (each at most one org) and to release. */
  claimDomains?: string[];
  releaseDomains?: string[];
}

export interface SettingsRepository {
  /** Everything a login needs, in one Query. `undefined` when the org does not exist. */
  load(orgId: string): Promise<OrgSettings | undefined>;
  /** Creates an org with its first user. `CONFLICT` when the org id is taken. */
  createOrg(input: NewOrg, events: AuditEvent[]): Promise<void>;
  /**
   * Applies a change made to the settings at version `ifVersion`, atomically, and returns
   * the new version. Refuses (`PRECONDITION_FAILED`) when the stored version differs (a
   * change landed in between), `ORG_NOT_FOUND` for an unknown org, and `CONFLICT` for a
   * domain claimed by another org.
   */
  apply(orgId: string, change: SettingsChange, events: AuditEvent[], options: { ifVersion: string }): Promise<string>;
  /** The org that owns an email domain. */
  orgForDomain(domain: string): Promise<string | undefined>;
  /** The orgs whose SSO connection names this SAML IdP entity ID or OIDC issuer. */
  orgsForIdp(idpKey: string): Promise<string[]>;
}

/** A replay marker: the assertion (or state) id is consumed until `expiresAt`. */
export interface ReplayMarker {
  orgId: string;
  id: string;
  expiresAt: Date;
}

/**
 * A login started here and not finished yet: an SP-initiated AuthnRequest, or an OIDC
 * authorization request with its state, nonce and PKCE verifier. Single use, with a TTL.
 */
export interface PendingLogin {
  /** `tableKey.authnRequest(orgId, requestId)` or `tableKey.oidcState(state)`. */
  key: string;
  orgId: string;
  protocol: 'saml' | 'oidc';
  /** Where to send the person afterwards: an already checked relative path. */
  fwd: string;
  expiresAt: Date;
  /** SHA-256 of the browser binding cookie of the browser that started the login (login CSRF defence). */
  browserHash?: string;
  /** SAML: the AuthnRequest ID the answer's InResponseTo must name. */
  requestId?: string;
  /** OIDC: the issuer the state was made for (mix-up defence), the nonce and the PKCE verifier. */
  issuer?: string;
  nonce?: string;
  codeVerifier?: string;
}

export interface LoginStateRepository {
  save(pending: PendingLogin): Promise<void>;
  /** Reads without consuming: undefined when missing or expired. */
  peek(key: string): Promise<PendingLogin | undefined>;
  /** Consumes atomically, once: undefined when missing, expired or already taken. */
  take(key: string): Promise<PendingLogin | undefined>;
}

/** What a successful login writes, all or nothing. */
export interface LoginCommit {
  /** `create`: the user must not exist yet. `update`: the user must exist and still be active. */
  kind: 'create' | 'update';
  user: User;
  /** On update, whether the login also replaces the user's assignments (`roleSource: "idp"`). */
  replaceAssignments?: boolean;
  events: AuditEvent[];
  replay?: ReplayMarker;
  /** A pending login (login-state key) this login answers: consumed in the same transaction, once. */
  consume?: string;
}

/** Why a login commit was refused by a condition. */
export class CommitConflict extends Error {
  constructor(readonly reason: 'user-exists' | 'user-changed' | 'replayed' | 'pending-used') {
    super(`login commit refused: ${reason}`);
    this.name = 'CommitConflict';
  }
}

/** Fields an admin may change on a user. */
export interface UserChange {
  set: Partial<Pick<User, 'firstName' | 'lastName' | 'status' | 'assignments' | 'updatedAt'>>;
  remove: ('firstName' | 'lastName' | 'idpSubject')[];
}

export interface UserRepository {
  findByEmail(orgId: string, email: string): Promise<User | undefined>;
  findById(orgId: string, userId: string): Promise<User | undefined>;
  /** Writes the user, the audit events and the replay marker in one transaction; throws `CommitConflict`. */
  commitLogin(commit: LoginCommit): Promise<void>;
  /**
   * An admin's change: sets `set`, removes `remove`, writes `events`, all at once.
   * @throws AppError `NOT_FOUND` when the user no longer exists
   */
  update(user: Pick<User, 'orgId' | 'email' | 'id'>, change: UserChange, events: AuditEvent[]): Promise<User>;
  /** Removes the user (manual removal) with its audit event. @throws AppError `NOT_FOUND` */
  remove(user: Pick<User, 'orgId' | 'email' | 'id'>, events: AuditEvent[]): Promise<void>;
  list(orgId: string, options: { email?: string; jit?: boolean; limit: number; cursor?: string }): Promise<Page<User>>;
  /** Orgs in which a user with this email exists (discovery). */
  orgsForEmail(email: string): Promise<string[]>;
}

export interface AuditRepository {
  record(event: AuditEvent): Promise<void>;
  /** Newest first. */
  list(orgId: string, options: { type?: string; limit: number; cursor?: string }): Promise<Page<AuditEvent>>;
}
