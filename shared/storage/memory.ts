/**
 * In-memory adapters for the storage ports, with the same semantics as the DynamoDB
 * ones (the contract suite runs against both). For unit tests and benchmarks only:
 * never what `npm start` or a deployment uses.
 */
import type { AuditEvent } from '../audit/model.js';
import { epochSeconds, type Clock } from '../clock.js';
import { AppError } from '../errors.js';
import type { OrgSettings } from '../settings/model.js';
import type { User } from '../users/model.js';
import { CommitConflict, type LoginCommit, type UserChange, type UserRepository } from '../users/ports.js';
import type { AuditRepository, FoldRule } from '../audit/ports.js';
import type { LoginStateRepository, PendingLogin, PendingLoginRef, SsoTest, SsoTestRepository } from '../login/ports.js';
import type { SetupLink, SetupLinkRepository } from '../setup/ports.js';
import type { IdpSessionScope, LoginLink, LoginLinkStore, RevocationSubject, SessionRevocations, SingleLogoutStore } from '../sessions/ports.js';
import { markerKeysFor, markerKeysOf } from './idp-session-keys.js';
import type { NewOrg, SettingsChange, SettingsRepository } from '../settings/ports.js';
import { type Page } from '../paging.js';
import { MemoryScimDirectory, MemoryScimTokenRepository } from './scim-memory.js';

const clone = <T>(value: T): T => structuredClone(value);

function paginate<T>(all: T[], limit: number, cursor: string | undefined): Page<T> {
  const start = cursor ? Number(Buffer.from(cursor, 'base64url').toString('utf8')) : 0;
  if (!Number.isInteger(start) || start < 0) throw new AppError('VALIDATION_FAILED', 'cursor: not a cursor returned by this endpoint');
  const items = all.slice(start, start + limit);
  const next = start + limit < all.length ? Buffer.from(String(start + limit)).toString('base64url') : undefined;
  return { items, cursor: next };
}

/** All in-memory state in one place, shared by the repositories built on it. */
export class MemoryStore {
  readonly settings = new Map<string, OrgSettings>();
  readonly domains = new Map<string, string>();
  readonly users = new Map<string, User>(); // key: orgId + '\n' + email
  readonly audit: AuditEvent[] = [];
  /** Open folds of `AuditRepository.recordFolded`, by orgId + '\n' + key: the event counted into and when its window ends. */
  readonly folds = new Map<string, { event: AuditEvent; windowEndsAt: number }>();
  readonly replay = new Map<string, Date>();
  readonly pending = new Map<string, PendingLogin>();
  /** Revoked session token ids, each until the token's expiry. */
  readonly revoked = new Map<string, Date>();
  /** Single logout: IdP session markers, and pending/seen logout messages, by their login-state keys. */
  readonly idpSessions = new Map<string, { revokedAt: number; expiresAt: Date }>();
  readonly logoutState = new Map<string, Date>();
  /** One-time console sign-in links, by the SHA-256 of their token. */
  readonly loginLinks = new Map<string, LoginLink>();
  /** Test sign-ins, by org and id. */
  readonly ssoTests = new Map<string, SsoTest>();
  /** Setup links, by org and id. */
  readonly setupLinks = new Map<string, SetupLink>();
  constructor(readonly clock: Clock) {}
}

/** `role.*` matches by prefix, anything else by equality (as the DynamoDB adapter). */
const matchesType = (type: string, filter: string | undefined) =>
  filter === undefined || (filter.endsWith('.*') ? type.startsWith(filter.slice(0, -1)) : type === filter);

const userKey = (orgId: string, email: string) => `${orgId}\n${email}`;
/** As the DynamoDB key: an AuthnRequest is found only in its org, an OIDC state by itself. */
const pendingKey = (ref: PendingLoginRef) => (ref.protocol === 'saml' ? `saml\n${ref.orgId}\n${ref.id}` : `oidc\n${ref.id}`);

export class MemoryUserRepository implements UserRepository {
  constructor(private readonly store: MemoryStore) {}

  async findByEmail(orgId: string, email: string): Promise<User | undefined> {
    const user = this.store.users.get(userKey(orgId, email));
    return user && clone(user);
  }

  async findById(orgId: string, userId: string): Promise<User | undefined> {
    const user = [...this.store.users.values()].find((candidate) => candidate.orgId === orgId && candidate.id === userId);
    return user && clone(user);
  }

  async create(user: User, events: AuditEvent[]): Promise<void> {
    const key = userKey(user.orgId, user.email);
    if (this.store.users.has(key)) throw new AppError('CONFLICT', `A user with the email ${user.email} already exists in this org.`);
    this.store.users.set(key, clone(user));
    this.store.audit.push(...events.map(clone));
  }

  async commitLogin(commit: LoginCommit): Promise<void> {
    const { user } = commit;
    const key = userKey(user.orgId, user.email);
    const existing = this.store.users.get(key);
    if (commit.kind === 'create' && existing) throw new CommitConflict('user-exists');
    if (commit.kind === 'update' && (!existing || existing.status !== 'active' || existing.id !== user.id)) {
      throw new CommitConflict('user-changed');
    }
    if (this.store.settings.get(user.orgId)?.version !== commit.settingsVersion) throw new CommitConflict('settings-changed');
    if (commit.replay) {
      const expires = this.store.replay.get(`${commit.replay.orgId}\n${commit.replay.id}`);
      if (expires && expires.getTime() > this.store.clock.now().getTime()) throw new CommitConflict('replayed');
    }
    if (commit.consume) {
      const pending = this.store.pending.get(pendingKey(commit.consume));
      if (!pending || pending.expiresAt.getTime() < this.store.clock.now().getTime()) throw new CommitConflict('pending-used');
    }
    if (commit.replay) this.store.replay.set(`${commit.replay.orgId}\n${commit.replay.id}`, commit.replay.expiresAt);
    if (commit.consume) this.store.pending.delete(pendingKey(commit.consume));
    if (commit.kind === 'create' || !existing) this.store.users.set(key, clone(user));
    else {
      const { firstName, lastName, updatedAt, lastLoginAt, idpSubject, jitProvisioned } = user;
      const next: User = { ...existing, firstName, lastName, updatedAt, lastLoginAt, idpSubject, jitProvisioned };
      if (commit.replaceAssignments) next.assignments = clone(user.assignments);
      this.store.users.set(key, next);
    }
    this.store.audit.push(...commit.events.map(clone));
  }

  async update(user: Pick<User, 'orgId' | 'email' | 'id'>, change: UserChange, events: AuditEvent[]): Promise<User> {
    const key = userKey(user.orgId, user.email);
    const existing = this.store.users.get(key);
    if (!existing || existing.id !== user.id) throw new AppError('NOT_FOUND', 'No such user.');
    const next: User = { ...existing };
    for (const [field, value] of Object.entries(change.set)) if (value !== undefined) Object.assign(next, { [field]: clone(value) });
    for (const field of change.remove) delete next[field];
    this.store.users.set(key, next);
    this.store.audit.push(...events.map(clone));
    return clone(next);
  }

  async remove(user: Pick<User, 'orgId' | 'email' | 'id'>, events: AuditEvent[]): Promise<void> {
    const key = userKey(user.orgId, user.email);
    if (this.store.users.get(key)?.id !== user.id) throw new AppError('NOT_FOUND', 'No such user.');
    this.store.users.delete(key);
    this.store.audit.push(...events.map(clone));
  }

  async list(orgId: string, options: { email?: string; jit?: boolean; limit: number; cursor?: string }): Promise<Page<User>> {
    const all = [...this.store.users.values()]
      .filter((user) => user.orgId === orgId)
      .filter((user) => options.email === undefined || user.email === options.email)
      .filter((user) => options.jit === undefined || user.jitProvisioned === options.jit)
      .sort((a, b) => a.email.localeCompare(b.email))
      .map(clone);
    return paginate(all, options.limit, options.cursor);
  }

  async orgsForEmail(email: string): Promise<string[]> {
    return [...new Set([...this.store.users.values()].filter((user) => user.email === email).map((user) => user.orgId))];
  }
}

export class MemoryAuditRepository implements AuditRepository {
  constructor(private readonly store: MemoryStore) {}

  async record(event: AuditEvent): Promise<void> {
    this.store.audit.push(clone(event));
  }

  /** No await between reading the open fold and writing it: concurrent calls cannot interleave. */
  async recordFolded(event: AuditEvent, fold: FoldRule): Promise<void> {
    const key = `${event.orgId}\n${fold.key}`;
    const at = Date.parse(event.at);
    const open = this.store.folds.get(key);
    if (open === undefined || open.windowEndsAt <= at) {
      const first = clone({ ...event, details: { ...event.details, count: 1, firstAt: event.at, lastAt: event.at } });
      this.store.audit.push(first);
      this.store.folds.set(key, { event: first, windowEndsAt: at + fold.windowSeconds * 1000 });
      return;
    }
    const { details } = open.event;
    details.count = Number(details.count) + 1;
    if (event.at > String(details.lastAt)) details.lastAt = event.at;
  }

  async list(orgId: string, options: { type?: string; limit: number; cursor?: string }): Promise<Page<AuditEvent>> {
    const all = this.store.audit
      .filter((event) => event.orgId === orgId && matchesType(event.type, options.type))
      .sort((a, b) => (`${b.at}#${b.id}` > `${a.at}#${a.id}` ? 1 : -1))
      .map(clone);
    return paginate(all, options.limit, options.cursor);
  }
}

export class MemorySettingsRepository implements SettingsRepository {
  constructor(private readonly store: MemoryStore) {}

  async load(orgId: string): Promise<OrgSettings | undefined> {
    const settings = this.store.settings.get(orgId);
    return settings && clone(settings);
  }

  async createOrg(input: NewOrg, events: AuditEvent[]): Promise<void> {
    if (this.store.settings.has(input.org.id)) throw new AppError('CONFLICT', `org ${input.org.id} already exists`);
    const { firstUser, ...settings } = input;
    this.store.settings.set(input.org.id, clone({ ...settings, version: '1' }));
    this.store.users.set(userKey(firstUser.orgId, firstUser.email), clone(firstUser));
    this.store.audit.push(...events.map(clone));
  }

  async apply(orgId: string, change: SettingsChange, events: AuditEvent[], options: { ifVersion: string }): Promise<string> {
    const current = this.store.settings.get(orgId);
    if (!current) throw new AppError('ORG_NOT_FOUND', `org ${orgId} does not exist`);
    if (options.ifVersion !== current.version) {
      throw new AppError('PRECONDITION_FAILED', 'the settings changed since they were read: read them again and retry');
    }
    const taken = (change.claimDomains ?? []).map(({ domain }) => domain).filter((domain) => {
      const owner = this.store.domains.get(domain);
      return owner !== undefined && owner !== orgId;
    });
    if (taken.length > 0) throw new AppError('CONFLICT', `${taken.join(', ')}: already verified by another organization, which it keeps routing to`);
    const next = clone(current);
    if (change.sso) next.sso = clone(change.sso);
    if (change.provisioning) next.provisioning = clone(change.provisioning);
    const upsert = <T extends { id: string }>(list: T[], put: T[] = [], remove: string[] = []) =>
      [...list.filter((item) => !remove.includes(item.id) && !put.some((p) => p.id === item.id)), ...clone(put)];
    next.roleMappings = upsert(next.roleMappings, change.putRoleMappings, change.deleteRoleMappingIds);
    next.roles = upsert(next.roles, change.putRoles, change.deleteRoleIds);
    next.groups = upsert(next.groups, change.putGroups, change.deleteGroupIds);
    next.version = String(Number(current.version) + 1);
    for (const domain of change.releaseDomains ?? []) if (this.store.domains.get(domain) === orgId) this.store.domains.delete(domain);
    for (const { domain } of change.claimDomains ?? []) this.store.domains.set(domain, orgId);
    this.store.settings.set(orgId, next);
    this.store.audit.push(...events.map(clone));
    return next.version;
  }

  async orgsForIdp(idpKey: string): Promise<string[]> {
    return [...this.store.settings.values()]
      .filter(({ sso }) => (sso.protocol === 'oidc' ? sso.oidc?.issuer : sso.saml?.idpEntityId) === idpKey)
      .map(({ org }) => org.id);
  }

  async *orgIds(): AsyncIterable<string> {
    yield* [...this.store.settings.keys()];
  }

  async orgForDomain(domain: string): Promise<string | undefined> {
    return this.store.domains.get(domain);
  }
}

export class MemoryLoginStateRepository implements LoginStateRepository {
  constructor(private readonly store: MemoryStore) {}

  async save(pending: PendingLogin): Promise<void> {
    const key = pendingKey(pending);
    if (this.store.pending.has(key)) throw new Error(`pending login ${key} exists`);
    this.store.pending.set(key, clone(pending));
  }

  async peek(ref: PendingLoginRef): Promise<PendingLogin | undefined> {
    const pending = this.store.pending.get(pendingKey(ref));
    return pending && pending.expiresAt.getTime() >= this.store.clock.now().getTime() ? clone(pending) : undefined;
  }

  async take(ref: PendingLoginRef): Promise<PendingLogin | undefined> {
    const pending = await this.peek(ref);
    this.store.pending.delete(pendingKey(ref));
    return pending;
  }
}

export class MemorySessionRevocations implements SessionRevocations {
  constructor(private readonly store: MemoryStore) {}

  async revoke(jti: string, expiresAt: Date): Promise<void> {
    this.store.revoked.set(jti, expiresAt);
  }

  async revokeIdpSessions(scope: IdpSessionScope, at: Date, keepUntil: Date): Promise<void> {
    for (const key of markerKeysOf(scope)) this.store.idpSessions.set(key, { revokedAt: epochSeconds(at), expiresAt: keepUntil });
  }

  async isRevoked(token: RevocationSubject): Promise<boolean> {
    const now = this.store.clock.now().getTime();
    const expiresAt = this.store.revoked.get(token.jti);
    if (expiresAt !== undefined && expiresAt.getTime() >= now) return true;
    return markerKeysFor(token).some((key) => {
      const marker = this.store.idpSessions.get(key);
      return marker !== undefined && marker.expiresAt.getTime() >= now && token.iat <= marker.revokedAt;
    });
  }
}

export class MemorySingleLogoutStore implements SingleLogoutStore {
  constructor(private readonly store: MemoryStore) {}

  async savePending(orgId: string, requestId: string, expiresAt: Date): Promise<void> {
    this.store.logoutState.set(`LOGOUTREQ#${orgId}#${requestId}`, expiresAt);
  }

  async takePending(orgId: string, requestId: string): Promise<boolean> {
    const key = `LOGOUTREQ#${orgId}#${requestId}`;
    const expiresAt = this.store.logoutState.get(key);
    this.store.logoutState.delete(key);
    return expiresAt !== undefined && expiresAt.getTime() >= this.store.clock.now().getTime();
  }

  async markSeen(orgId: string, messageId: string, expiresAt: Date): Promise<boolean> {
    const key = `LOGOUTSEEN#${orgId}#${messageId}`;
    const seen = this.store.logoutState.get(key);
    if (seen !== undefined && seen.getTime() >= this.store.clock.now().getTime()) return false;
    this.store.logoutState.set(key, expiresAt);
    return true;
  }

  async forgetSeen(orgId: string, messageId: string): Promise<void> {
    this.store.logoutState.delete(`LOGOUTSEEN#${orgId}#${messageId}`);
  }
}

export class MemoryLoginLinks implements LoginLinkStore {
  constructor(private readonly store: MemoryStore) {}

  async save(link: LoginLink): Promise<void> {
    if (this.store.loginLinks.has(link.tokenHash)) throw new Error('login link exists');
    this.store.loginLinks.set(link.tokenHash, clone(link));
  }

  async take(tokenHash: string): Promise<LoginLink | undefined> {
    const link = this.store.loginLinks.get(tokenHash);
    // As the DynamoDB condition: an expired link is not taken (its TTL removes it).
    if (!link || epochSeconds(link.expiresAt) < epochSeconds(this.store.clock.now())) return undefined;
    this.store.loginLinks.delete(tokenHash);
    return clone(link);
  }
}

export class MemorySsoTestRepository implements SsoTestRepository {
  constructor(private readonly store: MemoryStore) {}

  async start(test: SsoTest, pending: PendingLogin): Promise<void> {
    const key = `${test.orgId}\n${test.id}`;
    if (this.store.ssoTests.has(key) || this.store.pending.has(pendingKey(pending))) throw new Error(`test ${key} exists`);
    this.store.ssoTests.set(key, clone(test));
    this.store.pending.set(pendingKey(pending), clone(pending));
  }

  async get(orgId: string, id: string): Promise<SsoTest | undefined> {
    const test = this.store.ssoTests.get(`${orgId}\n${id}`);
    return test && test.expiresAt.getTime() >= this.store.clock.now().getTime() ? clone(test) : undefined;
  }

  async complete(test: SsoTest, options: { consume?: PendingLoginRef; replay?: { orgId: string; id: string; expiresAt: Date }; events: AuditEvent[] }): Promise<void> {
    const now = this.store.clock.now().getTime();
    if (options.consume) {
      const pending = this.store.pending.get(pendingKey(options.consume));
      if (!pending || pending.expiresAt.getTime() < now) throw new CommitConflict('pending-used');
    }
    const replayKey = options.replay && `${options.replay.orgId}\n${options.replay.id}`;
    if (replayKey) {
      const expires = this.store.replay.get(replayKey);
      if (expires && expires.getTime() > now) throw new CommitConflict('replayed');
    }
    if (options.consume) this.store.pending.delete(pendingKey(options.consume));
    if (replayKey) this.store.replay.set(replayKey, options.replay!.expiresAt);
    this.store.ssoTests.set(`${test.orgId}\n${test.id}`, clone(test));
    this.store.audit.push(...options.events.map(clone));
  }
}

export class MemorySetupLinkRepository implements SetupLinkRepository {
  constructor(private readonly store: MemoryStore) {}

  async create(link: SetupLink, events: AuditEvent[]): Promise<void> {
    const key = `${link.orgId}\n${link.id}`;
    if (this.store.setupLinks.has(key) || [...this.store.setupLinks.values()].some((other) => other.tokenHash === link.tokenHash)) {
      throw new Error(`setup link ${key} exists`);
    }
    this.store.setupLinks.set(key, clone(link));
    this.store.audit.push(...events.map(clone));
  }

  async get(orgId: string, id: string): Promise<SetupLink | undefined> {
    const link = this.store.setupLinks.get(`${orgId}\n${id}`);
    return link && clone(link);
  }

  async findByTokenHash(tokenHash: string): Promise<SetupLink | undefined> {
    const link = [...this.store.setupLinks.values()].find((candidate) => candidate.tokenHash === tokenHash);
    return link && clone(link);
  }

  async list(orgId: string, limit: number): Promise<SetupLink[]> {
    return [...this.store.setupLinks.values()]
      .filter((link) => link.orgId === orgId)
      .sort((a, b) => (`${b.createdAt}#${b.id}` > `${a.createdAt}#${a.id}` ? 1 : -1))
      .slice(0, limit)
      .map(clone);
  }

  async revoke(orgId: string, id: string, at: string, events: AuditEvent[]): Promise<boolean> {
    const link = this.store.setupLinks.get(`${orgId}\n${id}`);
    if (!link) throw new AppError('NOT_FOUND', 'No such setup link.');
    if (link.revokedAt !== undefined) return false;
    link.revokedAt = at;
    this.store.audit.push(...events.map(clone));
    return true;
  }

  async markUsed(orgId: string, id: string, at: string, events: AuditEvent[]): Promise<boolean> {
    const link = this.store.setupLinks.get(`${orgId}\n${id}`);
    if (!link || link.usedAt !== undefined) return false;
    link.usedAt = at;
    this.store.audit.push(...events.map(clone));
    return true;
  }
}

/** The repositories over one fresh in-memory store. */
export function createMemoryRepositories(clock: Clock) {
  const store = new MemoryStore(clock);
  return {
    store,
    settings: new MemorySettingsRepository(store),
    users: new MemoryUserRepository(store),
    audit: new MemoryAuditRepository(store),
    loginState: new MemoryLoginStateRepository(store),
    revocations: new MemorySessionRevocations(store),
    singleLogout: new MemorySingleLogoutStore(store),
    loginLinks: new MemoryLoginLinks(store),
    ssoTests: new MemorySsoTestRepository(store),
    setupLinks: new MemorySetupLinkRepository(store),
    // SCIM (issue 14)
    scim: new MemoryScimDirectory(store),
    scimTokens: new MemoryScimTokenRepository(store),
  };
}
