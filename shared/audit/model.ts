/**
 * Audit events: one for every login success and failure and every change an admin
 * makes. Never carries a secret, a token or a whole assertion.
 */
import type { ErrorCode } from '../errors.js';

export type AuditEventType =
  | 'login.succeeded'
  | 'login.failed'
  | 'user.jit_created'
  | 'user.jit_updated'
  | 'user.created'
  | 'user.updated'
  | 'user.deleted'
  | 'user.sessions_revoked'
  // Single logout: POST /logout of a session (and where it sent the browser), and every
  // LogoutRequest or LogoutResponse an IdP sent to /sso/{orgId}/saml/slo.
  | 'user.logout'
  | 'sso.slo'
  | 'user.console_link_used'
  | 'org.created'
  | 'settings.sso.updated'
  | 'settings.provisioning.updated'
  | 'settings.sso.domain_verified'
  | 'settings.sso.domain_unverified'
  | 'settings.sso.metadata_refreshed'
  | 'settings.sso.certificate_expiring'
  | 'role_mapping.created'
  | 'role_mapping.deleted'
  | 'role_mapping.replaced'
  | 'role.created'
  | 'role.updated'
  | 'role.deleted'
  | 'group.created'
  | 'group.updated'
  | 'group.deleted'
  | 'login.tested'
  | 'setup_link.created'
  | 'setup_link.revoked'
  | 'setup_link.used'
  // SCIM (shared/scim/): writes by a SCIM client, and its tokens.
  | 'user.scim_created'
  | 'user.scim_updated'
  | 'user.scim_deleted'
  | 'scim_group.created'
  | 'scim_group.updated'
  | 'scim_group.deleted'
  | 'scim_token.created'
  | 'scim_token.revoked';

/**
 * Who acted: an IdP (logins), a user, the CLI, a setup session (`id`: the setup link's
 * id), or the service's own scheduled checks (`system`, `id`: which one).
 */
export interface AuditActor {
  type: 'idp' | 'user' | 'cli' | 'setup_link' | 'system' | 'scim';
  id: string;
}

export interface AuditTarget {
  type: 'user' | 'settings' | 'role-mapping' | 'role' | 'group' | 'org' | 'setup-link' | 'sso-test' | 'scim-group' | 'scim-token';
  id: string;
}

export interface AuditEvent {
  id: string;
  orgId: string;
  at: string;
  type: AuditEventType;
  outcome: 'success' | 'failure';
  code?: ErrorCode;
  actor: AuditActor;
  target?: AuditTarget;
  details: Record<string, unknown>;
}

/** How long audit events are kept before DynamoDB's TTL removes them. */
export const AUDIT_RETENTION_DAYS = 400;

/** A new event of `type` for `orgId`, now, with a fresh id. */
export function newAuditEvent(
  deps: { clock: { now(): Date }; ids: { newId(): string } },
  fields: Pick<AuditEvent, 'orgId' | 'type' | 'actor' | 'details'> & Partial<Pick<AuditEvent, 'outcome' | 'code' | 'target'>>,
): AuditEvent {
  return { id: deps.ids.newId(), at: deps.clock.now().toISOString(), outcome: 'success', ...fields };
}
