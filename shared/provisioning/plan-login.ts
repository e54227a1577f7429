/**
 * The provisioning rules of API.md ("Provisioning rules the login routes apply") as a
 * pure function: from the org's settings, what the IdP asserted and the stored user,
 * decide what the login writes, or refuse it with the code that says why.
 */
import type { AuditEvent } from '../audit/model.js';
import type { IdGenerator } from '../clock.js';
import { LoginError } from '../errors.js';
import type { OrgSettings } from '../settings/model.js';
import type { LoginCommit, ReplayMarker } from '../users/ports.js';
import type { Assignment, User } from '../users/model.js';
import { extractNames, extractRoleValues } from './attributes.js';
import { recordableSubject, type AssertedIdentity } from './identity.js';
import { matchKey, resolveAssignments } from './role-mapping.js';

export interface LoginPlanInput {
  settings: OrgSettings;
  identity: AssertedIdentity;
  /** The email already extracted from `identity` (lowercased). */
  email: string;
  existing: User | undefined;
  now: Date;
  ids: IdGenerator;
  replay?: ReplayMarker;
}

export interface LoginPlan {
  user: User;
  created: boolean;
  commit: LoginCommit;
}

/** Refuses a login when the org's SSO connection is off or of the other protocol. */
export function requireSso(settings: OrgSettings, protocol: 'saml' | 'oidc'): void {
  const { sso } = settings;
  if (!sso.enabled || sso.protocol !== protocol || !sso[protocol]) {
    throw new LoginError(
      'SSO_NOT_ENABLED',
      `${protocol === 'saml' ? 'SAML' : 'OpenID Connect'} single sign-on is not enabled for this organization. Ask your administrator to enable it.`,
      { details: { expected: { enabled: true, protocol }, received: { enabled: sso.enabled, protocol: sso.protocol } } },
    );
  }
}

const MAX_RECORDED_ATTRIBUTE_NAMES = 100;
const MAX_ATTRIBUTE_NAME_CHARS = 256;

/**
 * The attribute (claim) names a login received, as its audit event records them (what
 * `GET …/settings/attribute-names` offers an admin to pick from). Bounded, so an IdP
 * that sends hundreds of attributes cannot make one event outgrow its item.
 */
export const recordedAttributeNames = (identity: Pick<AssertedIdentity, 'attributes'>): string[] =>
  [...identity.attributes.keys()].slice(0, MAX_RECORDED_ATTRIBUTE_NAMES).map((name) => name.slice(0, MAX_ATTRIBUTE_NAME_CHARS));

const sameAssignments = (a: readonly Assignment[], b: readonly Assignment[]) =>
  a.length === b.length && a.every((x, i) => x.groupId === b[i]?.groupId && x.roleId === b[i]?.roleId);

/**
 * Decides a login. Pure: no I/O, time and ids injected.
 * @throws LoginError `USER_BLOCKED`, `SUBJECT_MISMATCH`, `USER_NOT_PROVISIONED`,
 *   `ROLE_ATTRIBUTE_MISSING`, `ROLE_NOT_MAPPED`
 */
export function planLogin(input: LoginPlanInput): LoginPlan {
  const { settings, identity, email, existing, now, ids } = input;
  const { provisioning } = settings;
  const { jit } = provisioning;
  const at = now.toISOString();
  const subject = recordableSubject(identity);

  if (existing?.status === 'blocked') {
    throw new LoginError('USER_BLOCKED', 'Your account is blocked. Ask your administrator to unblock it.', {
      details: { userId: existing.id },
    });
  }
  // A user linked to a subject of this issuer signs in only as that subject: a transient
  // or email NameID carrying the same email is another identity until an admin unlinks.
  if (existing?.idpSubject && existing.idpSubject.issuer === identity.issuer && existing.idpSubject.subject !== subject) {
    throw new LoginError(
      'SUBJECT_MISMATCH',
      'This email address belongs to another identity at your identity provider. Ask your administrator to check the account link.',
      { details: { expected: existing.idpSubject.subject, received: subject ?? identity.subject, receivedFormat: identity.subjectFormat ?? null, userId: existing.id } },
    );
  }
  const jitOn = provisioning.method === 'jit';
  if (!existing && !jitOn) {
    throw new LoginError(
      'USER_NOT_PROVISIONED',
      'You do not have an account in this organization yet. Ask your administrator to create one.',
      { details: { expected: 'an existing user, or provisioning method "jit"', received: { method: provisioning.method } } },
    );
  }

  const idpSubject = subject ? { issuer: identity.issuer, subject } : existing?.idpSubject;
  /** An event of this login, by the IdP, about `user`. */
  const event = (type: AuditEvent['type'], user: User, details: Record<string, unknown>): AuditEvent => ({
    id: ids.newId(),
    orgId: settings.org.id,
    at,
    type,
    outcome: 'success',
    actor: { type: 'idp', id: identity.issuer },
    target: { type: 'user', id: user.id },
    details,
  });
  const loginEvent = (user: User, created: boolean) =>
    event('login.succeeded', user, { protocol: identity.protocol, subject: identity.subject, email, created, attributeNames: recordedAttributeNames(identity) });

  if (provisioning.method === 'scim' && existing && jit.roleSource === 'idp' && existing.assignments.length === 0) {
    // SCIM owns the roles: none of the user's SCIM groups matched a mapping ("deny").
    const groups = existing.scim?.groups?.map((group) => group.display) ?? [];
    throw new LoginError('ROLE_NOT_MAPPED', 'None of your groups is mapped to a role here. Group names must match the role mappings exactly; ask your administrator.', {
      details: { expected: settings.roleMappings.map((mapping) => matchKey(mapping, settings.roles)).filter((key) => key !== undefined), received: groups, userId: existing.id },
    });
  }
  if (!jitOn && existing) {
    // Provisioned elsewhere (manual or SCIM): the IdP only authenticates.
    const user: User = { ...existing, lastLoginAt: at, updatedAt: at, idpSubject };
    return { user, created: false, commit: { kind: 'update', user, events: [loginEvent(user, false)], replay: input.replay, settingsVersion: settings.version } };
  }

  const names = extractNames(identity, jit);
  const fromIdp = jit.roleSource === 'idp';
  const assignments = fromIdp
    ? resolveAssignments({ jit, roles: settings.roles, roleMappings: settings.roleMappings }, extractRoleValues(identity, jit))
    : (existing?.assignments ?? [{ groupId: jit.defaultGroupId, roleId: jit.defaultRoleId }]);

  if (!existing) {
    const user: User = {
      id: ids.newId(),
      orgId: settings.org.id,
      email,
      ...names,
      status: 'active',
      provisionedBy: 'jit',
      jitProvisioned: true,
      assignments,
      ...(idpSubject ? { idpSubject } : {}),
      createdAt: at,
      updatedAt: at,
      lastLoginAt: at,
    };
    const created = event('user.jit_created', user, { email, firstName: user.firstName ?? null, lastName: user.lastName ?? null, assignments });
    return { user, created: true, commit: { kind: 'create', user, events: [loginEvent(user, true), created], replay: input.replay, settingsVersion: settings.version } };
  }

  const user: User = {
    ...existing,
    firstName: names.firstName ?? existing.firstName,
    lastName: names.lastName ?? existing.lastName,
    assignments,
    idpSubject,
    updatedAt: at,
    lastLoginAt: at,
  };
  const changed: Record<string, { from: unknown; to: unknown }> = {};
  if (user.firstName !== existing.firstName) changed.firstName = { from: existing.firstName ?? null, to: user.firstName ?? null };
  if (user.lastName !== existing.lastName) changed.lastName = { from: existing.lastName ?? null, to: user.lastName ?? null };
  if (!sameAssignments(user.assignments, existing.assignments)) changed.assignments = { from: existing.assignments, to: user.assignments };
  if (user.idpSubject?.subject !== existing.idpSubject?.subject) changed.idpSubject = { from: existing.idpSubject ?? null, to: user.idpSubject ?? null };
  const events = [loginEvent(user, false)];
  if (Object.keys(changed).length > 0) events.push(event('user.jit_updated', user, { changed }));
  return { user, created: false, commit: { kind: 'update', user, replaceAssignments: fromIdp, events, replay: input.replay, settingsVersion: settings.version } };
}
