/**
 * One contract for the storage ports, run against the DynamoDB adapters (on DynamoDB
 * Local) and the in-memory adapters, so both keep the same semantics.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../shared/audit/model.js';
import { fixedClock } from '../../shared/clock.js';
import { AppError } from '../../shared/errors.js';
import { BUILT_IN_ROLES, DEFAULT_GROUP, defaultProvisioningSettings, defaultSsoSettings } from '../../shared/settings/model.js';
import {
  DynamoAuditRepository,
  DynamoLoginLinks,
  DynamoLoginStateRepository,
  DynamoSessionRevocations,
  DynamoSettingsRepository,
  DynamoSingleLogoutStore,
  DynamoSetupLinkRepository,
  DynamoSsoTestRepository,
  DynamoUserRepository,
} from '../../shared/storage/dynamo.js';
import type { LoginStateRepository, PendingLogin, SsoTest, SsoTestRepository } from '../../shared/login/ports.js';
import type { SetupLink, SetupLinkRepository } from '../../shared/setup/ports.js';
import { createMemoryRepositories } from '../../shared/storage/memory.js';
import type { AuditRepository } from '../../shared/audit/ports.js';
import type { LoginLinkStore, SessionRevocations, SingleLogoutStore } from '../../shared/sessions/ports.js';
import type { NewOrg, SettingsRepository } from '../../shared/settings/ports.js';
import { CommitConflict, type UserRepository } from '../../shared/users/ports.js';
import type { User } from '../../shared/users/model.js';
import { useTestTables } from '../support/dynamodb.js';
import { ScimConflict, type ScimDirectory, type ScimGroup, type ScimToken, type ScimTokenRepository } from '../../shared/scim/ports.js';
import { DynamoScimDirectory, DynamoScimTokenRepository } from '../../shared/storage/scim-dynamo.js';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { tableKey } from '../../shared/storage/tables.js';

interface Repositories {
  settings: SettingsRepository;
  users: UserRepository;
  audit: AuditRepository;
  loginLinks: LoginLinkStore;
  loginState: LoginStateRepository;
  ssoTests: SsoTestRepository;
  setupLinks: SetupLinkRepository;
  scim: ScimDirectory;
  scimTokens: ScimTokenRepository;
  revocations: SessionRevocations;
  singleLogout: SingleLogoutStore;
}

const clock = fixedClock('2026-01-01T00:00:00Z');
let n = 0;
const id = (prefix: string) => `${prefix}-${++n}`;

function user(orgId: string, email: string, extra: Partial<User> = {}): User {
  return {
    id: id('user'),
    orgId,
    email,
    status: 'active',
    provisionedBy: 'jit',
    jitProvisioned: true,
    assignments: [{ groupId: 'default', roleId: 'regular-user' }],
    createdAt: clock.now().toISOString(),
    updatedAt: clock.now().toISOString(),
    ...extra,
  };
}

function event(orgId: string, type: AuditEvent['type'], at = clock.now()): AuditEvent {
  return { id: id('evt'), orgId, at: at.toISOString(), type, outcome: 'success', actor: { type: 'cli', id: 'test' }, details: {} };
}

function newOrg(orgId: string): NewOrg {
  return {
    org: { id: orgId, name: `Org ${orgId}`, createdAt: clock.now().toISOString() },
    sso: defaultSsoSettings(),
    provisioning: defaultProvisioningSettings(),
    roles: [...BUILT_IN_ROLES],
    groups: [DEFAULT_GROUP],
    roleMappings: [{ id: 'm1', roleId: 'account-admin', groupIds: ['default'] }],
    firstUser: user(orgId, `admin@${orgId}.test`, { provisionedBy: 'manual', jitProvisioned: false }),
  };
}

const adapters: [string, () => Promise<Repositories>][] = [
  [
    'DynamoDB',
    async () => {
      const { client, names } = await useTestTables();
      const options = { client, tables: names, clock };
      return {
        settings: new DynamoSettingsRepository(options),
        users: new DynamoUserRepository(options),
        audit: new DynamoAuditRepository(options),
        loginLinks: new DynamoLoginLinks(options),
        loginState: new DynamoLoginStateRepository(options),
        ssoTests: new DynamoSsoTestRepository(options),
        setupLinks: new DynamoSetupLinkRepository(options),
        scim: new DynamoScimDirectory(options),
        scimTokens: new DynamoScimTokenRepository(options),
        revocations: new DynamoSessionRevocations(options),
        singleLogout: new DynamoSingleLogoutStore(options),
      };
    },
  ],
  ['in-memory', async () => createMemoryRepositories(clock)],
];

describe.each(adapters)('storage contract: %s', (_name, make) => {
  let repos: Repositories;
  let orgId: string;

  beforeEach(async () => {
    repos = await make();
    orgId = id('org');
    clock.set('2026-01-01T00:00:00Z');
  });

  describe('settings', () => {
    it('returns everything a login needs for a created org, and nothing for an unknown one', async () => {
      const input = newOrg(orgId);
      await repos.settings.createOrg(input, [event(orgId, 'org.created')]);

      const loaded = await repos.settings.load(orgId);

      expect(loaded).toMatchObject({ org: input.org, sso: input.sso, provisioning: input.provisioning, version: '1' });
      expect(loaded?.roles.map((role) => role.id).sort()).toEqual(['account-admin', 'organization-admin', 'regular-user']);
      expect(loaded?.groups).toEqual([DEFAULT_GROUP]);
      expect(loaded?.roleMappings).toEqual(input.roleMappings);
      expect(await repos.settings.load('no-such-org')).toBeUndefined();
      expect(await repos.users.findByEmail(orgId, input.firstUser.email)).toEqual(input.firstUser);
    });

    it('refuses to create an org whose id is taken', async () => {
      await repos.settings.createOrg(newOrg(orgId), []);

      await expect(repos.settings.createOrg(newOrg(orgId), [])).rejects.toMatchObject({ code: 'CONFLICT' });
    });

    it('applies a change atomically, bumps the version and puts and deletes role mappings', async () => {
      await repos.settings.createOrg(newOrg(orgId), []);
      const sso = { ...defaultSsoSettings(), enabled: true, forceSso: true };

      const version = await repos.settings.apply(
        orgId,
        { sso, putRoleMappings: [{ id: 'm2', roleId: 'regular-user', groupIds: ['default'], idpValue: 'Staff' }], deleteRoleMappingIds: ['m1'] },
        [event(orgId, 'settings.sso.updated')],
        { ifVersion: '1' },
      );

      const loaded = await repos.settings.load(orgId);
      expect(version).toBe('2');
      expect(loaded?.version).toBe('2');
      expect(loaded?.sso).toEqual(sso);
      expect(loaded?.roleMappings).toEqual([{ id: 'm2', roleId: 'regular-user', groupIds: ['default'], idpValue: 'Staff' }]);
      expect((await repos.audit.list(orgId, { limit: 10 })).items.map((e) => e.type)).toContain('settings.sso.updated');
    });

    it('refuses a change made against a stale version and writes nothing', async () => {
      await repos.settings.createOrg(newOrg(orgId), []);
      await repos.settings.apply(orgId, { putGroups: [{ id: 'g1', name: 'One', isDefault: false }] }, [], { ifVersion: '1' });

      const stale = repos.settings.apply(orgId, { putGroups: [{ id: 'g2', name: 'Two', isDefault: false }] }, [], { ifVersion: '1' });

      await expect(stale).rejects.toMatchObject({ code: 'PRECONDITION_FAILED' });
      expect((await repos.settings.load(orgId))?.groups.map((group) => group.id).sort()).toEqual(['default', 'g1']);
    });

    it('answers a change to an org that does not exist with ORG_NOT_FOUND', async () => {
      await expect(repos.settings.apply('no-such-org', { putGroups: [{ id: 'g', name: 'G', isDefault: false }] }, [], { ifVersion: '1' })).rejects.toMatchObject({
        code: 'ORG_NOT_FOUND',
      });
    });

    it('gives a verified email domain to at most one org', async () => {
      const other = id('org');
      const verifiedAt = new Date().toISOString();
      await repos.settings.createOrg(newOrg(orgId), []);
      await repos.settings.createOrg(newOrg(other), []);
      await repos.settings.apply(orgId, { claimDomains: [{ domain: 'acme.test', verifiedAt }] }, [], { ifVersion: '1' });

      const stolen = repos.settings.apply(other, { claimDomains: [{ domain: 'acme.test', verifiedAt }] }, [], { ifVersion: '1' });

      await expect(stolen).rejects.toMatchObject({ code: 'CONFLICT' });
      expect(await repos.settings.orgForDomain('acme.test')).toBe(orgId);
      await repos.settings.apply(orgId, { releaseDomains: ['acme.test'] }, [], { ifVersion: '2' });
      expect(await repos.settings.orgForDomain('acme.test')).toBeUndefined();
    });
  });

  describe('users and the login transaction', () => {
    // A login commit is conditional on the org's settings version: the org exists at version 1.
    beforeEach(async () => {
      await repos.settings.createOrg(newOrg(orgId), []);
    });

    it('creates a user with its events and finds it by email and by id', async () => {
      const created = user(orgId, 'ada@acme.test');

      await repos.users.commitLogin({ settingsVersion: '1', kind: 'create', user: created, events: [event(orgId, 'login.succeeded'), event(orgId, 'user.jit_created')] });

      expect(await repos.users.findByEmail(orgId, 'ada@acme.test')).toEqual(created);
      expect(await repos.users.findById(orgId, created.id)).toEqual(created);
      expect(await repos.users.findById('another-org', created.id)).toBeUndefined();
      expect((await repos.audit.list(orgId, { limit: 10 })).items).toHaveLength(2);
    });

    it("creates a user by an admin's hand with its events, found by email, by id and across orgs", async () => {
      const created = user(orgId, 'grace@acme.test', { provisionedBy: 'manual', jitProvisioned: false });

      await repos.users.create(created, [event(orgId, 'user.created')]);

      expect(await repos.users.findByEmail(orgId, 'grace@acme.test')).toEqual(created);
      expect(await repos.users.findById(orgId, created.id)).toEqual(created);
      expect(await repos.users.orgsForEmail('grace@acme.test')).toEqual([orgId]);
      expect((await repos.audit.list(orgId, { limit: 10 })).items.map((e) => e.type)).toEqual(['user.created']);
    });

    it("refuses an admin's creation of an email the org has, with CONFLICT, and writes none of it", async () => {
      const existing = user(orgId, 'grace@acme.test');
      await repos.users.commitLogin({ settingsVersion: '1', kind: 'create', user: existing, events: [] });

      const second = repos.users.create(user(orgId, 'grace@acme.test', { provisionedBy: 'manual', firstName: 'Other' }), [event(orgId, 'user.created')]);

      await expect(second).rejects.toMatchObject({ code: 'CONFLICT' });
      expect(await repos.users.findByEmail(orgId, 'grace@acme.test')).toEqual(existing);
      expect((await repos.audit.list(orgId, { limit: 10 })).items).toHaveLength(0);
    });

    it('refuses a second creation of the same email and writes none of its events', async () => {
      await repos.users.commitLogin({ settingsVersion: '1', kind: 'create', user: user(orgId, 'ada@acme.test'), events: [] });

      const second = repos.users.commitLogin({ settingsVersion: '1', kind: 'create', user: user(orgId, 'ada@acme.test'), events: [event(orgId, 'user.jit_created')] });

      await expect(second).rejects.toEqual(new CommitConflict('user-exists'));
      expect((await repos.audit.list(orgId, { limit: 10 })).items).toHaveLength(0);
    });

    it('updates only the login-managed fields, and replaces assignments only when asked', async () => {
      const created = user(orgId, 'ada@acme.test', { firstName: 'Ada' });
      await repos.users.commitLogin({ settingsVersion: '1', kind: 'create', user: created, events: [] });

      await repos.users.commitLogin({
        settingsVersion: '1',
        kind: 'update',
        user: { ...created, firstName: 'Augusta', assignments: [{ groupId: 'default', roleId: 'account-admin' }], lastLoginAt: '2026-01-02T00:00:00.000Z' },
        events: [],
      });

      expect(await repos.users.findByEmail(orgId, 'ada@acme.test')).toMatchObject({ firstName: 'Augusta', assignments: created.assignments, lastLoginAt: '2026-01-02T00:00:00.000Z' });
      await repos.users.commitLogin({ settingsVersion: '1', kind: 'update', user: { ...created, assignments: [{ groupId: 'default', roleId: 'account-admin' }] }, replaceAssignments: true, events: [] });
      expect((await repos.users.findByEmail(orgId, 'ada@acme.test'))?.assignments).toEqual([{ groupId: 'default', roleId: 'account-admin' }]);
    });

    it('refuses to update a user who was blocked or does not exist', async () => {
      const blocked = user(orgId, 'bob@acme.test', { status: 'blocked' });
      await repos.users.commitLogin({ settingsVersion: '1', kind: 'create', user: blocked, events: [] });

      await expect(repos.users.commitLogin({ settingsVersion: '1', kind: 'update', user: { ...blocked, status: 'active' }, events: [] })).rejects.toEqual(
        new CommitConflict('user-changed'),
      );
      await expect(repos.users.commitLogin({ settingsVersion: '1', kind: 'update', user: user(orgId, 'ghost@acme.test'), events: [] })).rejects.toEqual(
        new CommitConflict('user-changed'),
      );
      expect((await repos.users.findByEmail(orgId, 'bob@acme.test'))?.status).toBe('blocked');
    });

    it('refuses a login decided on settings that changed since, and writes none of it', async () => {
      await repos.settings.apply(orgId, { putGroups: [{ id: 'g', name: 'G', isDefault: false }] }, [], { ifVersion: '1' });

      const stale = repos.users.commitLogin({ settingsVersion: '1', kind: 'create', user: user(orgId, 'ada@acme.test'), events: [event(orgId, 'user.jit_created')] });

      await expect(stale).rejects.toEqual(new CommitConflict('settings-changed'));
      expect(await repos.users.findByEmail(orgId, 'ada@acme.test')).toBeUndefined();
      expect((await repos.audit.list(orgId, { limit: 10 })).items).toHaveLength(0);
      await expect(repos.users.commitLogin({ settingsVersion: '2', kind: 'create', user: user(orgId, 'ada@acme.test'), events: [] })).resolves.toBeUndefined();
    });

    it('accepts an assertion id once, and refuses it again until the marker expires', async () => {
      const replay = { orgId, id: 'assertion-1', expiresAt: new Date('2026-01-01T00:05:00Z') };
      const ada = user(orgId, 'ada@acme.test');
      await repos.users.commitLogin({ settingsVersion: '1', kind: 'create', user: ada, events: [], replay });

      const again = repos.users.commitLogin({ settingsVersion: '1', kind: 'update', user: ada, events: [event(orgId, 'login.succeeded')], replay });

      await expect(again).rejects.toEqual(new CommitConflict('replayed'));
      expect((await repos.audit.list(orgId, { limit: 10 })).items).toHaveLength(0);
      clock.set('2026-01-01T00:06:00Z');
      await expect(repos.users.commitLogin({ settingsVersion: '1', kind: 'update', user: ada, events: [], replay })).resolves.toBeUndefined();
    });

    it('keeps the same assertion id of another org apart', async () => {
      const expiresAt = new Date('2026-01-01T00:05:00Z');
      await repos.users.commitLogin({ settingsVersion: '1', kind: 'create', user: user(orgId, 'ada@acme.test'), events: [], replay: { orgId, id: 'a', expiresAt } });

      const other = id('org');
      await repos.settings.createOrg(newOrg(other), []);
      const elsewhere = repos.users.commitLogin({ settingsVersion: '1', kind: 'create', user: user(other, 'ada@acme.test'), events: [], replay: { orgId: other, id: 'a', expiresAt } });

      await expect(elsewhere).resolves.toBeUndefined();
    });

    it('lists users a page at a time, filtered by jit and email', async () => {
      for (const email of ['a@x.test', 'b@x.test', 'c@x.test']) await repos.users.commitLogin({ settingsVersion: '1', kind: 'create', user: user(orgId, email), events: [] });
      await repos.users.commitLogin({ settingsVersion: '1', kind: 'create', user: user(orgId, 'm@x.test', { jitProvisioned: false, provisionedBy: 'manual' }), events: [] });

      const first = await repos.users.list(orgId, { jit: true, limit: 2 });
      const second = await repos.users.list(orgId, { jit: true, limit: 2, cursor: first.cursor });

      expect(first.items.map((u) => u.email)).toEqual(['a@x.test', 'b@x.test']);
      expect(second.items.map((u) => u.email)).toEqual(['c@x.test']);
      expect((await repos.users.list(orgId, { email: 'm@x.test', limit: 10 })).items.map((u) => u.email)).toEqual(['m@x.test']);
      expect((await repos.users.list(orgId, { jit: false, limit: 10 })).items.map((u) => u.email)).toEqual([`admin@${orgId}.test`, 'm@x.test']);
    });

    it('refuses a cursor that is not one it returned', async () => {
      await expect(repos.users.list(orgId, { limit: 2, cursor: 'not-a-cursor!' })).rejects.toBeInstanceOf(AppError);
    });

    it('finds the orgs in which an email has a user', async () => {
      const other = id('org');
      await repos.settings.createOrg(newOrg(other), []);
      await repos.users.commitLogin({ settingsVersion: '1', kind: 'create', user: user(orgId, 'ada@acme.test'), events: [] });
      await repos.users.commitLogin({ settingsVersion: '1', kind: 'create', user: user(other, 'ada@acme.test'), events: [] });

      const orgs = await repos.users.orgsForEmail('ada@acme.test');

      expect(orgs.sort()).toEqual([orgId, other].sort());
    });
  });

  describe('session revocation and single logout', () => {
    const at = (iso: string) => Math.floor(Date.parse(iso) / 1000);
    const samlToken = (jti: string, nameId: string, sessionIndex?: string, iat = at('2026-01-01T00:00:00Z')) => ({
      jti,
      iat,
      org: orgId,
      idp: { protocol: 'saml', issuer: 'https://idp.test', nameId, ...(sessionIndex === undefined ? {} : { sessionIndex }) },
    });
    const keep = new Date('2026-01-01T08:00:00Z');

    it('refuses a revoked jti until its expiry, and only that one', async () => {
      await repos.revocations.revoke('jti-1', new Date('2026-01-01T01:00:00Z'));

      expect(await repos.revocations.isRevoked(samlToken('jti-1', 'ada'))).toBe(true);
      expect(await repos.revocations.isRevoked(samlToken('jti-2', 'ada'))).toBe(false);
      clock.set('2026-01-01T01:00:01Z');
      expect(await repos.revocations.isRevoked(samlToken('jti-1', 'ada'))).toBe(false);
    });

    it('ends the tokens of a SessionIndex issued until the logout, not another index, NameID, org or later token', async () => {
      await repos.revocations.revokeIdpSessions({ orgId, issuer: 'https://idp.test', nameId: 'ada', sessionIndexes: ['s1'] }, clock.now(), keep);

      expect(await repos.revocations.isRevoked(samlToken('a', 'ada', 's1'))).toBe(true);
      expect(await repos.revocations.isRevoked(samlToken('b', 'ada', 's2'))).toBe(false);
      expect(await repos.revocations.isRevoked(samlToken('c', 'bob', 's1'))).toBe(false);
      expect(await repos.revocations.isRevoked({ ...samlToken('d', 'ada', 's1'), org: 'another-org' })).toBe(false);
      expect(await repos.revocations.isRevoked(samlToken('e', 'ada', 's1', at('2026-01-01T00:00:01Z')))).toBe(false);
    });

    it('ends every token of a NameID when the logout names no SessionIndex, until the marker expires', async () => {
      await repos.revocations.revokeIdpSessions({ orgId, issuer: 'https://idp.test', nameId: 'ada', sessionIndexes: [] }, clock.now(), keep);

      expect(await repos.revocations.isRevoked(samlToken('a', 'ada', 's1'))).toBe(true);
      expect(await repos.revocations.isRevoked(samlToken('b', 'ada'))).toBe(true);
      expect(await repos.revocations.isRevoked({ ...samlToken('c', 'ada'), idp: { protocol: 'saml', issuer: 'https://other-idp.test', nameId: 'ada' } })).toBe(false);
      clock.set('2026-01-01T08:00:01Z');
      expect(await repos.revocations.isRevoked(samlToken('d', 'ada', 's1'))).toBe(false);
    });

    it('keeps a pending LogoutRequest for one taker, until it expires', async () => {
      await repos.singleLogout.savePending(orgId, '_req1', new Date('2026-01-01T00:10:00Z'));
      await repos.singleLogout.savePending(orgId, '_req2', new Date('2026-01-01T00:10:00Z'));

      expect(await repos.singleLogout.takePending('another-org', '_req1')).toBe(false);
      expect(await repos.singleLogout.takePending(orgId, '_req1')).toBe(true);
      expect(await repos.singleLogout.takePending(orgId, '_req1')).toBe(false);
      clock.set('2026-01-01T00:10:01Z');
      expect(await repos.singleLogout.takePending(orgId, '_req2')).toBe(false);
    });

    it('sees a LogoutRequest ID once until it expires', async () => {
      expect(await repos.singleLogout.markSeen(orgId, '_idp1', new Date('2026-01-01T00:05:00Z'))).toBe(true);
      expect(await repos.singleLogout.markSeen(orgId, '_idp1', new Date('2026-01-01T00:05:00Z'))).toBe(false);
      expect(await repos.singleLogout.markSeen('another-org', '_idp1', new Date('2026-01-01T00:05:00Z'))).toBe(true);
      clock.set('2026-01-01T00:05:01Z');
      expect(await repos.singleLogout.markSeen(orgId, '_idp1', new Date('2026-01-01T00:10:00Z'))).toBe(true);
    });

    it('forgets a seen ID on request (its logout could not be carried out)', async () => {
      expect(await repos.singleLogout.markSeen(orgId, '_idp2', new Date('2026-01-01T00:05:00Z'))).toBe(true);

      await repos.singleLogout.forgetSeen(orgId, '_idp2');

      expect(await repos.singleLogout.markSeen(orgId, '_idp2', new Date('2026-01-01T00:05:00Z'))).toBe(true);
    });
  });

  describe('login links', () => {
    const link = (tokenHash: string, expiresAt = new Date('2026-01-01T00:10:00Z')) => ({ tokenHash, orgId, userId: 'u1', email: 'ada@acme.test', expiresAt });

    it('gives a saved link to the first taker only', async () => {
      await repos.loginLinks.save(link('hash-once'));

      const first = await repos.loginLinks.take('hash-once');
      const second = await repos.loginLinks.take('hash-once');

      expect(first).toEqual(link('hash-once'));
      expect(second).toBeUndefined();
    });

    it('gives exactly one of two concurrent takers the link', async () => {
      await repos.loginLinks.save(link('hash-race'));

      const taken = await Promise.all([repos.loginLinks.take('hash-race'), repos.loginLinks.take('hash-race')]);

      expect(taken.filter((one) => one !== undefined)).toHaveLength(1);
    });

    it('does not give an expired link, even before the TTL removed it', async () => {
      await repos.loginLinks.save(link('hash-late', new Date('2026-01-01T00:10:00Z')));
      clock.set('2026-01-01T00:10:01Z');

      expect(await repos.loginLinks.take('hash-late')).toBeUndefined();
    });

    it('gives a link until the second it expires', async () => {
      await repos.loginLinks.save(link('hash-edge', new Date('2026-01-01T00:10:00Z')));
      clock.set('2026-01-01T00:10:00Z');

      expect(await repos.loginLinks.take('hash-edge')).toEqual(link('hash-edge'));
    });

    it('gives nothing for an unknown link', async () => {
      expect(await repos.loginLinks.take('hash-unknown')).toBeUndefined();
    });
  });

  describe('audit', () => {
    it('lists events newest first, by type, a page at a time', async () => {
      for (let minute = 0; minute < 5; minute += 1) {
        await repos.audit.record(event(orgId, minute % 2 ? 'login.failed' : 'login.succeeded', new Date(Date.UTC(2026, 0, 1, 0, minute))));
      }

      const first = await repos.audit.list(orgId, { limit: 2 });
      const rest = await repos.audit.list(orgId, { limit: 10, cursor: first.cursor });
      const failed = await repos.audit.list(orgId, { type: 'login.failed', limit: 10 });

      expect(first.items.map((e) => e.at)).toEqual(['2026-01-01T00:04:00.000Z', '2026-01-01T00:03:00.000Z']);
      expect(rest.items.map((e) => e.at)).toEqual(['2026-01-01T00:02:00.000Z', '2026-01-01T00:01:00.000Z', '2026-01-01T00:00:00.000Z']);
      expect(failed.items.map((e) => e.at)).toEqual(['2026-01-01T00:03:00.000Z', '2026-01-01T00:01:00.000Z']);
    });

    describe('folded events', () => {
      const fold = { key: 'fold-a', windowSeconds: 60 };
      const failure = (at: string, details: Record<string, unknown> = {}): AuditEvent => ({
        ...event(orgId, 'login.failed', new Date(at)),
        outcome: 'failure',
        code: 'SIGNATURE_INVALID',
        details: { reason: 'no signature', ...details },
      });
      const failures = async (org = orgId) => (await repos.audit.list(org, { type: 'login.failed', limit: 100 })).items;

      it('stores the first of a fold as given, with count 1 and firstAt = lastAt = its time', async () => {
        const first = failure('2026-01-01T00:00:10.000Z');

        await repos.audit.recordFolded(first, fold);

        expect(await failures()).toEqual([
          { ...first, details: { reason: 'no signature', count: 1, firstAt: first.at, lastAt: first.at } },
        ]);
      });

      it('counts repeats within the window into the first event, which keeps its own id, time and details', async () => {
        const first = failure('2026-01-01T00:00:10.000Z', { attempt: 1 });

        await repos.audit.recordFolded(first, fold);
        await repos.audit.recordFolded(failure('2026-01-01T00:00:30.000Z', { attempt: 2 }), fold);
        await repos.audit.recordFolded(failure('2026-01-01T00:01:09.999Z', { attempt: 3 }), fold);

        expect(await failures()).toEqual([
          { ...first, details: { reason: 'no signature', attempt: 1, count: 3, firstAt: first.at, lastAt: '2026-01-01T00:01:09.999Z' } },
        ]);
      });

      it('starts a new event once the window from firstAt has run out, however recent the last repeat', async () => {
        await repos.audit.recordFolded(failure('2026-01-01T00:00:00.000Z'), fold);
        await repos.audit.recordFolded(failure('2026-01-01T00:00:50.000Z'), fold);

        await repos.audit.recordFolded(failure('2026-01-01T00:01:00.000Z'), fold);
        await repos.audit.recordFolded(failure('2026-01-01T00:01:20.000Z'), fold);

        expect((await failures()).map((e) => e.details)).toEqual([
          expect.objectContaining({ count: 2, firstAt: '2026-01-01T00:01:00.000Z', lastAt: '2026-01-01T00:01:20.000Z' }),
          expect.objectContaining({ count: 2, firstAt: '2026-01-01T00:00:00.000Z', lastAt: '2026-01-01T00:00:50.000Z' }),
        ]);
      });

      it('keeps other keys and other orgs apart', async () => {
        const otherOrg = id('org');
        const at = '2026-01-01T00:00:00.000Z';

        await repos.audit.recordFolded(failure(at), fold);
        await repos.audit.recordFolded(failure(at), { ...fold, key: 'fold-b' });
        await repos.audit.recordFolded({ ...failure(at), orgId: otherOrg }, fold);
        await repos.audit.recordFolded(failure(at), fold);

        expect((await failures()).map((e) => e.details.count).sort()).toEqual([1, 2]);
        expect((await failures(otherOrg)).map((e) => e.details.count)).toEqual([1]);
      });

      it('never moves lastAt back when a repeat arrives late', async () => {
        await repos.audit.recordFolded(failure('2026-01-01T00:00:00.000Z'), fold);
        await repos.audit.recordFolded(failure('2026-01-01T00:00:20.000Z'), fold);

        await repos.audit.recordFolded(failure('2026-01-01T00:00:10.000Z'), fold);

        expect((await failures())[0]!.details).toMatchObject({ count: 3, lastAt: '2026-01-01T00:00:20.000Z' });
      });

      it('counts every one of many concurrent repeats into exactly one event', async () => {
        const attempts = Array.from({ length: 25 }, (_, i) => failure(`2026-01-01T00:00:${String(10 + (i % 20)).padStart(2, '0')}.000Z`));

        await Promise.all(attempts.map((attempt) => repos.audit.recordFolded(attempt, fold)));

        const [only, ...others] = await failures();
        expect(others).toEqual([]);
        expect(only!.details).toMatchObject({ count: 25, lastAt: '2026-01-01T00:00:29.000Z' });
        // Whichever caller opened the fold, the event is exactly that caller's, at its own time.
        const opener = attempts.find((attempt) => attempt.id === only!.id)!;
        expect(only).toEqual({ ...opener, details: { ...opener.details, count: 25, firstAt: opener.at, lastAt: '2026-01-01T00:00:29.000Z' } });
      });

      it('lists a folded event among the others by the time of its first occurrence', async () => {
        await repos.audit.record(event(orgId, 'login.succeeded', new Date('2026-01-01T00:00:05.000Z')));
        await repos.audit.recordFolded(failure('2026-01-01T00:00:10.000Z'), fold);
        await repos.audit.record(event(orgId, 'login.succeeded', new Date('2026-01-01T00:00:15.000Z')));
        await repos.audit.recordFolded(failure('2026-01-01T00:00:20.000Z'), fold);

        const { items } = await repos.audit.list(orgId, { limit: 10 });

        expect(items.map((e) => [e.type, e.at])).toEqual([
          ['login.succeeded', '2026-01-01T00:00:15.000Z'],
          ['login.failed', '2026-01-01T00:00:10.000Z'],
          ['login.succeeded', '2026-01-01T00:00:05.000Z'],
        ]);
      });
    });
  });

  describe('test sign-ins', () => {
    const pendingOf = (test: SsoTest): PendingLogin => ({
      orgId,
      protocol: 'saml',
      id: `_t${test.id}`,
      fwd: `/console/sso/tests/${test.id}`,
      expiresAt: new Date(clock.now().getTime() + 600_000),
      browserHash: 'hash',
      test: { id: test.id },
    });
    const newTest = (): SsoTest => ({
      id: id('test'),
      orgId,
      protocol: 'saml',
      startedBy: { type: 'user', id: 'admin-1' },
      startedAt: clock.now().toISOString(),
      status: 'pending',
      expiresAt: new Date(clock.now().getTime() + 600_000),
    });
    const done = (test: SsoTest): SsoTest => ({
      ...test,
      status: 'done',
      completedAt: clock.now().toISOString(),
      result: { outcome: 'success', nameId: 'ada@acme.test', attributes: [{ name: 'groups', values: ['Admins', ' x '] }], ssoEnabled: false, wouldDo: { action: 'create', email: 'ada@acme.test', assignments: [] } },
      expiresAt: new Date(clock.now().getTime() + 3_600_000),
    });

    it('starts a test with its pending login, and reads both back', async () => {
      const test = newTest();
      const pending = pendingOf(test);

      await repos.ssoTests.start(test, pending);

      expect(await repos.ssoTests.get(orgId, test.id)).toEqual(test);
      expect(await repos.ssoTests.get('another-org', test.id)).toBeUndefined();
      expect(await repos.loginState.peek(pending)).toEqual(pending);
    });

    it('completes a test once: result, consumed pending login, replay marker and events together', async () => {
      const test = newTest();
      const pending = pendingOf(test);
      await repos.ssoTests.start(test, pending);
      const replay = { orgId, id: 'assertion-1', expiresAt: new Date(clock.now().getTime() + 300_000) };

      await repos.ssoTests.complete(done(test), { consume: pending, replay, events: [event(orgId, 'login.tested')] });
      const again = repos.ssoTests.complete(done(test), { consume: pending, events: [event(orgId, 'login.tested')] });

      await expect(again).rejects.toEqual(new CommitConflict('pending-used'));
      expect(await repos.ssoTests.get(orgId, test.id)).toEqual(done(test));
      expect(await repos.loginState.peek(pending)).toBeUndefined();
      expect((await repos.audit.list(orgId, { limit: 10 })).items.map((e) => e.type)).toEqual(['login.tested']);
      // The marker is the one a login's commit checks: the assertion signs nobody in afterwards.
      await repos.settings.createOrg(newOrg(orgId), []);
      const login = repos.users.commitLogin({ settingsVersion: '1', kind: 'create', user: user(orgId, 'ada@acme.test'), events: [], replay });
      await expect(login).rejects.toEqual(new CommitConflict('replayed'));
    });

    it('refuses to complete with an assertion already used, writing nothing', async () => {
      const test = newTest();
      const pending = pendingOf(test);
      await repos.ssoTests.start(test, pending);
      const replay = { orgId, id: 'assertion-2', expiresAt: new Date(clock.now().getTime() + 300_000) };
      const other = newTest();
      await repos.ssoTests.start(other, pendingOf(other));
      await repos.ssoTests.complete(done(other), { consume: pendingOf(other), replay, events: [] });

      const second = repos.ssoTests.complete(done(test), { consume: pending, replay, events: [event(orgId, 'login.tested')] });

      await expect(second).rejects.toEqual(new CommitConflict('replayed'));
      expect((await repos.ssoTests.get(orgId, test.id))?.status).toBe('pending');
      expect(await repos.loginState.peek(pending)).toEqual(pending);
    });

    it('forgets a test once it expires', async () => {
      const test = newTest();
      await repos.ssoTests.start(test, pendingOf(test));

      clock.set(new Date(test.expiresAt.getTime() + 1000));

      expect(await repos.ssoTests.get(orgId, test.id)).toBeUndefined();
    });
  });

  describe('setup links', () => {
    const link = (extra: Partial<SetupLink> = {}): SetupLink => ({
      id: id('link'),
      orgId,
      createdBy: 'admin-1',
      createdAt: clock.now().toISOString(),
      expiresAt: new Date(clock.now().getTime() + 86_400_000).toISOString(),
      tokenHash: id('hash'),
      ...extra,
    });

    it('stores a link with its events and finds it by id and by token hash', async () => {
      const made = link({ note: 'for IT' });

      await repos.setupLinks.create(made, [event(orgId, 'setup_link.created')]);

      expect(await repos.setupLinks.get(orgId, made.id)).toEqual(made);
      expect(await repos.setupLinks.get('another-org', made.id)).toBeUndefined();
      expect(await repos.setupLinks.findByTokenHash(made.tokenHash)).toEqual(made);
      expect(await repos.setupLinks.findByTokenHash('unknown')).toBeUndefined();
      expect((await repos.audit.list(orgId, { limit: 10 })).items.map((e) => e.type)).toEqual(['setup_link.created']);
    });

    it("lists an org's links newest first, at most the limit", async () => {
      const older = link();
      clock.set('2026-01-01T00:01:00Z');
      const newer = link();
      await repos.setupLinks.create(older, []);
      await repos.setupLinks.create(newer, []);
      await repos.setupLinks.create({ ...link(), orgId: id('org') }, []);

      expect((await repos.setupLinks.list(orgId, 10)).map((l) => l.id)).toEqual([newer.id, older.id]);
      expect((await repos.setupLinks.list(orgId, 1)).map((l) => l.id)).toEqual([newer.id]);
    });

    it('records the first use once, and a revocation once', async () => {
      const made = link();
      await repos.setupLinks.create(made, []);

      const firstUse = await repos.setupLinks.markUsed(orgId, made.id, '2026-01-01T00:00:05.000Z', [event(orgId, 'setup_link.used')]);
      const secondUse = await repos.setupLinks.markUsed(orgId, made.id, '2026-01-01T00:00:06.000Z', [event(orgId, 'setup_link.used')]);
      const revoked = await repos.setupLinks.revoke(orgId, made.id, '2026-01-01T00:00:07.000Z', [event(orgId, 'setup_link.revoked')]);
      const again = await repos.setupLinks.revoke(orgId, made.id, '2026-01-01T00:00:08.000Z', [event(orgId, 'setup_link.revoked')]);

      expect([firstUse, secondUse, revoked, again]).toEqual([true, false, true, false]);
      expect(await repos.setupLinks.get(orgId, made.id)).toEqual({ ...made, usedAt: '2026-01-01T00:00:05.000Z', revokedAt: '2026-01-01T00:00:07.000Z' });
      expect((await repos.audit.list(orgId, { limit: 10 })).items.map((e) => e.type).sort()).toEqual(['setup_link.revoked', 'setup_link.used']);
    });

    it('refuses to revoke an unknown link with NOT_FOUND', async () => {
      await expect(repos.setupLinks.revoke(orgId, 'no-such-link', clock.now().toISOString(), [])).rejects.toMatchObject({ code: 'NOT_FOUND' });
    });
  });

  describe('SCIM (issue 14)', () => {
    const scimUser = (userName: string, email: string, extra: Partial<User> = {}) =>
      user(orgId, email, { provisionedBy: 'scim', jitProvisioned: false, assignments: [], scim: { userName }, ...extra });
    const group = (displayName: string, members: string[] = []): ScimGroup => ({
      id: id('group'),
      orgId,
      displayName,
      members,
      createdAt: clock.now().toISOString(),
      updatedAt: clock.now().toISOString(),
    });
    const versionOf = async () => (await repos.settings.load(orgId))!.version;

    beforeEach(async () => {
      await repos.settings.createOrg(newOrg(orgId), []);
    });

    it('creates a user with its events, finds it by userName case-insensitively and by id', async () => {
      const made = scimUser('Kate.Bush', 'kate@acme.test');
      await repos.scim.commit({ orgId, changes: [{ kind: 'putUser', after: made }], events: [event(orgId, 'user.scim_created')], settingsVersion: await versionOf() });

      expect(await repos.scim.findUsersByUserName(orgId, 'KATE.bush')).toEqual([made]);
      expect(await repos.scim.findUsersByUserName(orgId, `admin@${orgId}.test`)).toHaveLength(1);
      expect(await repos.scim.findUsersByUserName(id('org'), 'kate.bush')).toEqual([]);
      expect(await repos.users.findById(orgId, made.id)).toEqual(made);
      expect((await repos.scim.allUsers(orgId)).map((u) => u.email).sort()).toEqual([`admin@${orgId}.test`, 'kate@acme.test']);
      expect((await repos.audit.list(orgId, { limit: 10 })).items.map((e) => e.type)).toEqual(['user.scim_created']);
    });

    it('refuses a second user with the same userName (another email) or the same email', async () => {
      const version = await versionOf();
      await repos.scim.commit({ orgId, changes: [{ kind: 'putUser', after: scimUser('same', 'one@acme.test') }], events: [], settingsVersion: version });

      await expect(repos.scim.commit({ orgId, changes: [{ kind: 'putUser', after: scimUser('SAME', 'two@acme.test') }], events: [event(orgId, 'user.scim_created')], settingsVersion: version })).rejects.toMatchObject({
        reason: 'user-name-taken',
      });
      await expect(repos.scim.commit({ orgId, changes: [{ kind: 'putUser', after: scimUser('other', 'one@acme.test') }], events: [], settingsVersion: version })).rejects.toBeInstanceOf(ScimConflict);
      expect((await repos.audit.list(orgId, { limit: 10 })).items).toEqual([]);
    });

    it('moves a user to a new email and userName, freeing the old ones', async () => {
      const version = await versionOf();
      const before = scimUser('old', 'old@acme.test');
      await repos.scim.commit({ orgId, changes: [{ kind: 'putUser', after: before }], events: [], settingsVersion: version });
      const after = { ...before, email: 'new@acme.test', scim: { userName: 'new' }, updatedAt: '2026-01-01T00:00:01.000Z' };
      await repos.scim.commit({ orgId, changes: [{ kind: 'putUser', before, after }], events: [], settingsVersion: version });

      expect(await repos.users.findById(orgId, before.id)).toEqual(after);
      expect(await repos.users.findByEmail(orgId, 'old@acme.test')).toBeUndefined();
      expect(await repos.scim.findUsersByUserName(orgId, 'old')).toEqual([]);
      await repos.scim.commit({ orgId, changes: [{ kind: 'putUser', after: scimUser('old', 'old@acme.test') }], events: [], settingsVersion: version });
    });

    it('refuses a write from a stale read, and one decided on replaced settings', async () => {
      const version = await versionOf();
      const before = scimUser('stale', 'stale@acme.test');
      await repos.scim.commit({ orgId, changes: [{ kind: 'putUser', after: before }], events: [], settingsVersion: version });
      const first = { ...before, firstName: 'One', updatedAt: '2026-01-01T00:00:01.000Z' };
      await repos.scim.commit({ orgId, changes: [{ kind: 'putUser', before, after: first }], events: [], settingsVersion: version });

      await expect(repos.scim.commit({ orgId, changes: [{ kind: 'putUser', before, after: { ...before, firstName: 'Two', updatedAt: '2026-01-01T00:00:02.000Z' } }], events: [], settingsVersion: version })).rejects.toMatchObject({ reason: 'stale' });
      await expect(repos.scim.commit({ orgId, changes: [{ kind: 'deleteUser', before: first }], events: [], settingsVersion: 'not-the-version' })).rejects.toMatchObject({ reason: 'settings-changed' });
      expect(await repos.users.findById(orgId, before.id)).toEqual(first);
    });

    it('writes a group with its members and their users at once, and deletes both', async () => {
      const version = await versionOf();
      const member = scimUser('member', 'member@acme.test');
      await repos.scim.commit({ orgId, changes: [{ kind: 'putUser', after: member }], events: [], settingsVersion: version });
      const made = group('Admins', [member.id]);
      const joined = { ...member, scim: { userName: 'member', groups: [{ value: made.id, display: 'Admins' }] }, assignments: [{ groupId: 'default', roleId: 'account-admin' }], updatedAt: '2026-01-01T00:00:01.000Z' };
      await repos.scim.commit({ orgId, changes: [{ kind: 'putGroup', after: made }, { kind: 'putUser', before: member, after: joined }], events: [event(orgId, 'scim_group.created')], settingsVersion: version });

      expect(await repos.scim.getGroup(orgId, made.id)).toEqual(made);
      expect(await repos.scim.allGroups(orgId)).toEqual([made]);
      expect(await repos.users.findById(orgId, member.id)).toEqual(joined);
      await expect(repos.scim.commit({ orgId, changes: [{ kind: 'putGroup', after: group('Admins') }], events: [], settingsVersion: version })).rejects.toMatchObject({ reason: 'group-name-taken' });

      await repos.scim.commit({ orgId, changes: [{ kind: 'deleteGroup', before: made }, { kind: 'deleteUser', before: joined }], events: [], settingsVersion: version });
      expect(await repos.scim.getGroup(orgId, made.id)).toBeUndefined();
      expect(await repos.users.findById(orgId, member.id)).toBeUndefined();
      await repos.scim.commit({ orgId, changes: [{ kind: 'putGroup', after: group('Admins') }], events: [], settingsVersion: version });
    });

    it('keeps SCIM tokens by hash, lists them per org, touches lastUsedAt cheaply and revokes them', async () => {
      const token: ScimToken = { id: id('token'), orgId, tokenHash: 'a'.repeat(64), createdAt: clock.now().toISOString() };
      await repos.scimTokens.create(token, [event(orgId, 'scim_token.created')]);

      expect(await repos.scimTokens.findByHash(token.tokenHash)).toEqual(token);
      expect(await repos.scimTokens.list(orgId)).toEqual([token]);
      expect(await repos.scimTokens.list(id('org'))).toEqual([]);
      await repos.scimTokens.touch(token, '2026-01-01T01:00:00.000Z', '2026-01-01T00:00:00.000Z');
      await repos.scimTokens.touch(token, '2026-01-01T01:10:00.000Z', '2026-01-01T00:10:00.000Z');
      expect((await repos.scimTokens.findByHash(token.tokenHash))?.lastUsedAt).toBe('2026-01-01T01:00:00.000Z');
      expect((await repos.scimTokens.list(orgId))[0]?.lastUsedAt).toBe('2026-01-01T01:00:00.000Z');

      expect(await repos.scimTokens.revoke(orgId, token.id, [event(orgId, 'scim_token.revoked')])).toBe(true);
      expect(await repos.scimTokens.revoke(orgId, token.id, [])).toBe(false);
      expect(await repos.scimTokens.findByHash(token.tokenHash)).toBeUndefined();
      expect(await repos.scimTokens.list(orgId)).toEqual([]);
    });
  });
});

describe('SCIM userName lookups of users written before the byUserName index (DynamoDB)', () => {
  it('finds a user item without userNameKey by its email, and only such an item', async () => {
    const { client, names } = await useTestTables();
    const options = { client, tables: names, clock };
    const orgId = id('org');
    await new DynamoSettingsRepository(options).createOrg(newOrg(orgId), []);
    const legacy = user(orgId, 'legacy@acme.test');
    // As an earlier release wrote it: no userNameKey attribute.
    await client.send(new PutCommand({ TableName: names.users, Item: { pk: tableKey.org(orgId), sk: tableKey.userByEmail(legacy.email), ...legacy } }));
    const scim = new DynamoScimDirectory(options);

    expect(await scim.findUsersByUserName(orgId, 'Legacy@ACME.test')).toEqual([legacy]);
    expect(await scim.findUsersByUserName(orgId, 'legacy')).toEqual([]);
    expect(await scim.findUsersByUserName(id('org'), 'legacy@acme.test')).toEqual([]);

    // Once written again it carries userNameKey; a SCIM userName other than its email then stands.
    const renamed = { ...legacy, scim: { userName: 'kate' }, updatedAt: '2026-01-01T00:00:01.000Z' };
    await client.send(new PutCommand({ TableName: names.users, Item: { pk: tableKey.org(orgId), sk: tableKey.userByEmail(legacy.email), ...renamed, userNameKey: `${orgId}#kate` } }));
    expect(await scim.findUsersByUserName(orgId, 'legacy@acme.test')).toEqual([]);
    expect(await scim.findUsersByUserName(orgId, 'kate')).toEqual([renamed]);
  });
});
