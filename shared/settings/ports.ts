/**
 * The org settings' storage port: the shapes it stores and the operations the domain
 * needs. `shared/storage/` implements it; the domain depends on this interface only.
 */
import type { AuditEvent } from '../audit/model.js';
import type { User } from '../users/model.js';
import type { Group, Org, OrgSettings, ProvisioningSettings, Role, RoleMapping, SsoSettings } from './model.js';

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
  /**
   * Email domains the org has just proved it owns (DNS), to route discovery to it: each
   * to at most one org (`CONFLICT` when another org verified it first); and domains whose
   * routing to this org ends (removed from `domains`, or their proof is gone).
   */
  claimDomains?: { domain: string; verifiedAt: string }[];
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
  /** The org that verified an email domain (an unverified claim routes nothing). */
  orgForDomain(domain: string): Promise<string | undefined>;
  /** Every org id, a page at a time (the daily check's walk; a Scan of org items in DynamoDB). */
  orgIds(): AsyncIterable<string>;
  /** The orgs whose SSO connection names this SAML IdP entity ID or OIDC issuer. */
  orgsForIdp(idpKey: string): Promise<string[]>;
}
