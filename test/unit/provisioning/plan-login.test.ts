/**
 * The provisioning rules of a login (API.md "Provisioning rules", "Subject"), decided
 * by a pure function from settings, asserted identity and stored user.
 */
import { describe, expect, it } from 'vitest';
import type { IdGenerator } from '../../../shared/clock.js';
import type { AppError } from '../../../shared/errors.js';
import type { AssertedIdentity } from '../../../shared/provisioning/identity.js';
import { planLogin, requireSso, type LoginPlanInput } from '../../../shared/provisioning/plan-login.js';
import {
  BUILT_IN_ROLES,
  DEFAULT_GROUP,
  provisioningSettingsSchema,
  ssoSettingsSchema,
  type OrgSettings,
} from '../../../shared/settings/model.js';
import type { User } from '../../../shared/users/model.js';

const ISSUER = 'https://idp.acme.com/metadata';
const PERSISTENT = 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent';
const TRANSIENT = 'urn:oasis:names:tc:SAML:2.0:nameid-format:transient';
const EMAIL_FORMAT = 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress';
const NOW = new Date('2025-03-01T12:00:00.000Z');
const EARLIER = '2025-01-01T00:00:00.000Z';
const CERT = '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----';

function settings(provisioning: unknown, sso: unknown = { enabled: true, protocol: 'saml', saml: { idpEntityId: ISSUER, certificates: [CERT] } }): OrgSettings {
  return {
    org: { id: 'acme', name: 'Acme', createdAt: EARLIER },
    sso: ssoSettingsSchema.parse(sso),
    provisioning: provisioningSettingsSchema.parse(provisioning),
    roles: [...BUILT_IN_ROLES],
    groups: [DEFAULT_GROUP, { id: 'eng', name: 'Engineering', isDefault: false }],
    roleMappings: [
      { id: 'm1', roleId: 'account-admin', groupIds: ['eng'], idpValue: 'IT Admins' },
      { id: 'm2', roleId: 'regular-user', groupIds: ['default'], idpValue: 'Staff' },
    ],
    version: 'v1',
  };
}

const JIT_IDP = { method: 'jit', jit: { roleSource: 'idp', roleAttribute: 'groups', onNoRoleMatch: 'deny' } };
const JIT_APP = { method: 'jit', jit: { roleSource: 'app' } };

function identity(overrides: Partial<AssertedIdentity> = {}, attributes: Record<string, string[]> = {}): AssertedIdentity {
  return {
    protocol: 'saml',
    issuer: ISSUER,
    subject: 'ada@acme.com',
    subjectFormat: EMAIL_FORMAT,
    attributes: new Map(Object.entries({ firstName: ['Ada'], lastName: ['Lovelace'], groups: ['IT Admins'], ...attributes })),
    ...overrides,
  };
}

function existingUser(overrides: Partial<User> = {}): User {
  return {
    id: 'user-1',
    orgId: 'acme',
    email: 'ada@acme.com',
    firstName: 'Ada',
    lastName: 'Lovelace',
    status: 'active',
    provisionedBy: 'jit',
    jitProvisioned: true,
    assignments: [{ groupId: 'eng', roleId: 'account-admin' }],
    createdAt: EARLIER,
    updatedAt: EARLIER,
    lastLoginAt: EARLIER,
    ...overrides,
  };
}

function sequentialIds(): IdGenerator {
  let n = 0;
  return { newId: () => `id-${++n}` };
}

function plan(overrides: Partial<LoginPlanInput> = {}) {
  return planLogin({
    settings: settings(JIT_IDP),
    identity: identity(),
    email: 'ada@acme.com',
    existing: undefined,
    now: NOW,
    ids: sequentialIds(),
    ...overrides,
  });
}

function caught(fn: () => unknown): AppError {
  try {
    fn();
  } catch (error) {
    return error as AppError;
  }
  throw new Error('expected a throw');
}

describe('planLogin', () => {
  describe('an unknown user under JIT', () => {
    it('is created as a JIT user with the asserted profile and mapped roles', () => {
      const result = plan();

      expect(result.created).toBe(true);
      expect(result.user).toEqual({
        id: 'id-1',
        orgId: 'acme',
        email: 'ada@acme.com',
        firstName: 'Ada',
        lastName: 'Lovelace',
        status: 'active',
        provisionedBy: 'jit',
        jitProvisioned: true,
        assignments: [{ groupId: 'eng', roleId: 'account-admin' }],
        createdAt: NOW.toISOString(),
        updatedAt: NOW.toISOString(),
        lastLoginAt: NOW.toISOString(),
      });
    });

    it('commits a create with a login.succeeded and a user.jit_created event', () => {
      const { commit, user } = plan();

      expect(commit.kind).toBe('create');
      expect(commit.user).toBe(user);
      expect(commit.events.map((event) => event.type)).toEqual(['login.succeeded', 'user.jit_created']);
      expect(commit.events.every((event) => event.target?.id === user.id && event.at === NOW.toISOString())).toBe(true);
      expect(commit.events.every((event) => event.actor.type === 'idp' && event.actor.id === ISSUER)).toBe(true);
    });

    it('passes the replay marker through to the commit', () => {
      const replay = { orgId: 'acme', id: 'assertion-1', expiresAt: NOW };

      expect(plan({ replay }).commit.replay).toBe(replay);
    });

    it('refuses unmatched role values with ROLE_NOT_MAPPED', () => {
      const error = caught(() => plan({ identity: identity({}, { groups: ['Marketing'] }) }));

      expect(error.code).toBe('ROLE_NOT_MAPPED');
      expect(error.details.received).toEqual(['Marketing']);
    });

    it('refuses an absent role attribute with ROLE_ATTRIBUTE_MISSING', () => {
      const attributes = new Map([['firstName', ['Ada']]]);

      expect(() => plan({ identity: identity({ attributes }) })).toThrow(expect.objectContaining({ code: 'ROLE_ATTRIBUTE_MISSING' }));
    });
  });

  describe('a known user under JIT', () => {
    it('is updated, not created', () => {
      const { created, commit, user } = plan({ existing: existingUser() });

      expect(created).toBe(false);
      expect(commit.kind).toBe('update');
      expect(user.id).toBe('user-1');
      expect(user.createdAt).toBe(EARLIER);
      expect(user.lastLoginAt).toBe(NOW.toISOString());
    });

    it('updates the names from the assertion at every login', () => {
      const { user } = plan({ existing: existingUser({ firstName: 'Augusta', lastName: 'Byron' }) });

      expect(user).toMatchObject({ firstName: 'Ada', lastName: 'Lovelace' });
    });

    it('writes user.jit_updated naming what changed when something changed', () => {
      const { commit } = plan({ existing: existingUser({ lastName: 'Byron' }) });

      expect(commit.events.map((event) => event.type)).toEqual(['login.succeeded', 'user.jit_updated']);
      expect(commit.events[1]!.details).toEqual({ changed: { lastName: { from: 'Byron', to: 'Lovelace' } } });
    });

    it('writes no user.jit_updated when nothing changed', () => {
      const { commit } = plan({ existing: existingUser() });

      expect(commit.events.map((event) => event.type)).toEqual(['login.succeeded']);
    });
  });

  describe('roleSource "idp"', () => {
    it('replaces the assignments with the mapped ones at every login', () => {
      const existing = existingUser({ assignments: [{ groupId: 'default', roleId: 'organization-admin' }] });

      const { user, commit } = plan({ existing, identity: identity({}, { groups: ['Staff'] }) });

      expect(user.assignments).toEqual([{ groupId: 'default', roleId: 'regular-user' }]);
      expect(commit.replaceAssignments).toBe(true);
      expect(commit.events.find((event) => event.type === 'user.jit_updated')?.details).toEqual({
        changed: {
          assignments: { from: [{ groupId: 'default', roleId: 'organization-admin' }], to: [{ groupId: 'default', roleId: 'regular-user' }] },
        },
      });
    });

    it('asks to replace the assignments even when they did not change', () => {
      expect(plan({ existing: existingUser() }).commit.replaceAssignments).toBe(true);
    });

    it('refuses a known user whose role values no longer match, under "deny"', () => {
      expect(() => plan({ existing: existingUser(), identity: identity({}, { groups: ['Marketing'] }) })).toThrow(
        expect.objectContaining({ code: 'ROLE_NOT_MAPPED' }),
      );
    });

    it('gives the default role in the default group under onNoRoleMatch "default"', () => {
      const provisioning = { method: 'jit', jit: { roleSource: 'idp', roleAttribute: 'groups', onNoRoleMatch: 'default' } };

      const { user } = plan({ settings: settings(provisioning), identity: identity({}, { groups: ['Marketing'] }) });

      expect(user.assignments).toEqual([{ groupId: 'default', roleId: 'regular-user' }]);
    });
  });

  describe('roleSource "app"', () => {
    it('gives a new user the default role in the default group, ignoring role values', () => {
      const provisioning = { method: 'jit', jit: { roleSource: 'app', defaultGroupId: 'eng', defaultRoleId: 'account-admin' } };

      const { user } = plan({ settings: settings(provisioning), identity: identity({}, { groups: ['Staff'] }) });

      expect(user.assignments).toEqual([{ groupId: 'eng', roleId: 'account-admin' }]);
    });

    it('keeps the assignments of a known user and does not ask to replace them', () => {
      const assignments = [{ groupId: 'default', roleId: 'organization-admin' }];

      const { user, commit } = plan({ settings: settings(JIT_APP), existing: existingUser({ assignments }) });

      expect(user.assignments).toEqual(assignments);
      expect(commit.replaceAssignments).toBeFalsy();
    });

    it('does not need the role attribute', () => {
      const attributes = new Map([['firstName', ['Ada']]]);

      expect(plan({ settings: settings(JIT_APP), identity: identity({ attributes }) }).created).toBe(true);
    });
  });

  describe('a blocked user', () => {
    it.each([
      ['jit', JIT_IDP],
      ['manual', { method: 'manual' }],
    ])('is refused with USER_BLOCKED under method %s', (_method, provisioning) => {
      const error = caught(() => plan({ settings: settings(provisioning), existing: existingUser({ status: 'blocked' }) }));

      expect(error.code).toBe('USER_BLOCKED');
    });
  });

  describe('methods other than JIT', () => {
    it.each(['manual', 'scim'])('refuses an unknown user with USER_NOT_PROVISIONED under method %s', (method) => {
      const error = caught(() => plan({ settings: settings({ method, jit: JIT_IDP.jit }) }));

      expect(error.code).toBe('USER_NOT_PROVISIONED');
      expect(error.details.received).toEqual({ method });
    });

    it.each(['manual', 'scim'])('lets a known active user in and leaves their profile and assignments alone under method %s', (method) => {
      const existing = existingUser({ provisionedBy: method as User['provisionedBy'], jitProvisioned: false, firstName: 'Augusta', assignments: [{ groupId: 'default', roleId: 'organization-admin' }] });

      const { user, created, commit } = plan({ settings: settings({ method, jit: JIT_IDP.jit }), existing, identity: identity({}, { groups: ['Marketing'] }) });

      expect(created).toBe(false);
      expect(commit.kind).toBe('update');
      expect(commit.replaceAssignments).toBeFalsy();
      expect(user.assignments).toEqual([{ groupId: 'default', roleId: 'organization-admin' }]);
      expect(user.firstName).toBe('Augusta');
      expect(user.provisionedBy).toBe(method);
      expect(user.lastLoginAt).toBe(NOW.toISOString());
      expect(commit.events.map((event) => event.type)).toEqual(['login.succeeded']);
    });
  });

  describe('the IdP subject', () => {
    it('records a persistent NameID as idpSubject with its issuer', () => {
      const { user } = plan({ identity: identity({ subject: 'pers-123', subjectFormat: PERSISTENT }) });

      expect(user.idpSubject).toEqual({ issuer: ISSUER, subject: 'pers-123' });
    });

    it('records the OIDC sub', () => {
      const oidc = identity({ protocol: 'oidc', issuer: 'https://login.acme.com', subject: 'sub-9', subjectFormat: undefined });
      const oidcSettings = settings(JIT_IDP, { enabled: true, protocol: 'oidc', oidc: { issuer: 'https://login.acme.com', clientId: 'c' } });

      const { user } = plan({ settings: oidcSettings, identity: oidc });

      expect(user.idpSubject).toEqual({ issuer: 'https://login.acme.com', subject: 'sub-9' });
    });

    it.each([
      ['transient', TRANSIENT, '_a1b2c3'],
      ['emailAddress', EMAIL_FORMAT, 'ada@acme.com'],
      ['absent', undefined, 'ada@acme.com'],
    ])('does not record a NameID whose Format is %s', (_label, subjectFormat, subject) => {
      const { user } = plan({ identity: identity({ subject, subjectFormat }) });

      expect(user).not.toHaveProperty('idpSubject');
    });

    it('refuses a user linked to a persistent subject who arrives with a transient NameID from the same issuer', () => {
      const idpSubject = { issuer: ISSUER, subject: 'pers-123' };

      const error = caught(() => plan({ existing: existingUser({ idpSubject }), identity: identity({ subject: '_t1', subjectFormat: TRANSIENT }) }));

      expect(error.code).toBe('SUBJECT_MISMATCH');
      expect(error.details).toMatchObject({ expected: 'pers-123', received: '_t1', receivedFormat: TRANSIENT });
    });

    it('keeps the recorded subject of another issuer when a login sends a transient NameID', () => {
      const idpSubject = { issuer: 'https://old-idp.example', subject: 'pers-123' };

      const { user } = plan({ existing: existingUser({ idpSubject }), identity: identity({ subject: '_t1', subjectFormat: TRANSIENT }) });

      expect(user.idpSubject).toEqual(idpSubject);
    });

    it('records the subject on a known user who had none, and reports it in user.jit_updated', () => {
      const { user, commit } = plan({ existing: existingUser(), identity: identity({ subject: 'pers-123', subjectFormat: PERSISTENT }) });

      expect(user.idpSubject).toEqual({ issuer: ISSUER, subject: 'pers-123' });
      expect(commit.events.map((event) => event.type)).toContain('user.jit_updated');
    });

    it('refuses the same issuer presenting the email under another persistent subject with SUBJECT_MISMATCH', () => {
      const existing = existingUser({ idpSubject: { issuer: ISSUER, subject: 'pers-123' } });

      const error = caught(() => plan({ existing, identity: identity({ subject: 'pers-999', subjectFormat: PERSISTENT }) }));

      expect(error.code).toBe('SUBJECT_MISMATCH');
      expect(error.details).toMatchObject({ expected: 'pers-123', received: 'pers-999' });
    });

    it('refuses a subject mismatch even when provisioning is not JIT', () => {
      const existing = existingUser({ idpSubject: { issuer: ISSUER, subject: 'pers-123' } });

      expect(() =>
        plan({ settings: settings({ method: 'manual' }), existing, identity: identity({ subject: 'pers-999', subjectFormat: PERSISTENT }) }),
      ).toThrow(expect.objectContaining({ code: 'SUBJECT_MISMATCH' }));
    });

    it('does not refuse another issuer presenting another subject', () => {
      const existing = existingUser({ idpSubject: { issuer: 'https://old-idp.acme.com', subject: 'pers-123' } });

      const { user } = plan({ existing, identity: identity({ subject: 'pers-999', subjectFormat: PERSISTENT }) });

      expect(user.idpSubject).toEqual({ issuer: ISSUER, subject: 'pers-999' });
    });

    it('accepts the same issuer presenting the same persistent subject', () => {
      const idpSubject = { issuer: ISSUER, subject: 'pers-123' };

      const { user } = plan({ existing: existingUser({ idpSubject }), identity: identity({ subject: 'pers-123', subjectFormat: PERSISTENT }) });

      expect(user.idpSubject).toEqual(idpSubject);
    });
  });
});

describe('requireSso', () => {
  const saml = { idpEntityId: ISSUER, certificates: [CERT] };
  const oidc = { issuer: 'https://login.acme.com', clientId: 'c' };

  it.each([
    ['SAML when SAML is enabled and configured', { enabled: true, protocol: 'saml', saml }, 'saml'],
    ['OIDC when OIDC is enabled and configured', { enabled: true, protocol: 'oidc', oidc }, 'oidc'],
  ] as const)('allows %s', (_label, sso, protocol) => {
    expect(() => requireSso(settings(JIT_IDP, sso), protocol)).not.toThrow();
  });

  it.each([
    ['SSO is disabled', { enabled: false, protocol: 'saml', saml }, 'saml'],
    ['the connection is OIDC and the login SAML', { enabled: true, protocol: 'oidc', oidc, saml }, 'saml'],
    ['the connection is SAML and the login OIDC', { enabled: true, protocol: 'saml', saml, oidc }, 'oidc'],
    ['the SAML configuration is missing', { enabled: true, protocol: 'saml' }, 'saml'],
    ['the OIDC configuration is missing', { enabled: true, protocol: 'oidc' }, 'oidc'],
  ] as const)('refuses with SSO_NOT_ENABLED when %s', (_label, sso, protocol) => {
    const error = caught(() => requireSso(settings(JIT_IDP, sso), protocol));

    expect(error.code).toBe('SSO_NOT_ENABLED');
    expect(error.details.expected).toEqual({ enabled: true, protocol });
  });
});
