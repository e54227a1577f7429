/**
 * In-memory adapters of the SCIM ports, with the DynamoDB ones' semantics (the storage
 * contract suite runs against both). For unit tests and benchmarks only. They share the
 * users and audit trail of a `MemoryStore`; SCIM's own records live beside it.
 */
import type { AuditEvent } from '../audit/model.js';
import { ScimConflict, type ScimCommit, type ScimDirectory, type ScimGroup, type ScimToken, type ScimTokenRepository } from '../scim/ports.js';
import type { User } from '../users/model.js';
import type { MemoryStore } from './memory.js';

const clone = <T>(value: T): T => structuredClone(value);
const userKey = (orgId: string, email: string) => `${orgId}\n${email}`;
const nameOf = (user: User) => (user.scim?.userName ?? user.email).trim().toLowerCase();

/** SCIM's records of one `MemoryStore`, shared by the adapters built on it. */
const scimState = new WeakMap<MemoryStore, { groups: Map<string, ScimGroup>; groupNames: Map<string, string>; tokens: Map<string, ScimToken> }>();

function stateOf(store: MemoryStore) {
  let state = scimState.get(store);
  if (!state) {
    state = { groups: new Map(), groupNames: new Map(), tokens: new Map() };
    scimState.set(store, state);
  }
  return state;
}

export class MemoryScimDirectory implements ScimDirectory {
  constructor(private readonly store: MemoryStore) {}

  async findUsersByUserName(orgId: string, userName: string): Promise<User[]> {
    const key = userName.trim().toLowerCase();
    return [...this.store.users.values()].filter((user) => user.orgId === orgId && nameOf(user) === key).map(clone);
  }

  async allUsers(orgId: string): Promise<User[]> {
    return [...this.store.users.values()].filter((user) => user.orgId === orgId).map(clone);
  }

  async getGroup(orgId: string, groupId: string): Promise<ScimGroup | undefined> {
    const group = stateOf(this.store).groups.get(`${orgId}\n${groupId}`);
    return group && clone(group);
  }

  async allGroups(orgId: string): Promise<ScimGroup[]> {
    return [...stateOf(this.store).groups.values()].filter((group) => group.orgId === orgId).map(clone);
  }

  /** Checks every condition first, then applies everything: no await in between, so it is atomic. */
  async commit(commit: ScimCommit): Promise<void> {
    const { users } = this.store;
    const state = stateOf(this.store);
    const { orgId } = commit;
    if (this.store.settings.get(orgId)?.version !== commit.settingsVersion) throw new ScimConflict('settings-changed');
    const unchanged = (stored: { id: string; updatedAt: string } | undefined, before: { id: string; updatedAt: string }) =>
      stored !== undefined && stored.id === before.id && stored.updatedAt === before.updatedAt;
    const nameKey = (name: string) => `${orgId}\n${name}`;
    for (const change of commit.changes) {
      switch (change.kind) {
        case 'putUser': {
          const { before, after } = change;
          if (before && !unchanged(users.get(userKey(orgId, before.email)), before)) throw new ScimConflict('stale');
          if ((!before || before.email !== after.email) && users.has(userKey(orgId, after.email))) throw new ScimConflict('user-exists');
          if (!before && [...users.values()].some((user) => user.orgId === orgId && user.id === after.id)) throw new ScimConflict('user-exists');
          if (after.scim) {
            const name = after.scim.userName.trim().toLowerCase();
            const taken = [...users.values()].some((other) => other.orgId === orgId && other.id !== after.id && other.scim && other.scim.userName.trim().toLowerCase() === name);
            if (taken) throw new ScimConflict('user-name-taken');
          }
          break;
        }
        case 'deleteUser':
          if (!unchanged(users.get(userKey(orgId, change.before.email)), change.before)) throw new ScimConflict('stale');
          break;
        case 'putGroup': {
          const { before, after } = change;
          if (before && !unchanged(state.groups.get(nameKey(before.id)), before)) throw new ScimConflict('stale');
          const owner = state.groupNames.get(nameKey(after.displayName));
          if (owner !== undefined && owner !== after.id) throw new ScimConflict('group-name-taken');
          break;
        }
        case 'deleteGroup':
          if (!unchanged(state.groups.get(nameKey(change.before.id)), change.before)) throw new ScimConflict('stale');
          break;
      }
    }
    for (const change of commit.changes) {
      switch (change.kind) {
        case 'putUser': {
          const { before, after } = change;
          if (before) users.delete(userKey(orgId, before.email));
          users.set(userKey(orgId, after.email), clone(after));
          break;
        }
        case 'deleteUser':
          users.delete(userKey(orgId, change.before.email));
          break;
        case 'putGroup':
          if (change.before) state.groupNames.delete(nameKey(change.before.displayName));
          state.groups.set(nameKey(change.after.id), clone(change.after));
          state.groupNames.set(nameKey(change.after.displayName), change.after.id);
          break;
        case 'deleteGroup':
          state.groups.delete(nameKey(change.before.id));
          state.groupNames.delete(nameKey(change.before.displayName));
          break;
      }
    }
    this.store.audit.push(...commit.events.map(clone));
  }
}

export class MemoryScimTokenRepository implements ScimTokenRepository {
  constructor(private readonly store: MemoryStore) {}

  async create(token: ScimToken, events: AuditEvent[]): Promise<void> {
    stateOf(this.store).tokens.set(token.tokenHash, clone(token));
    this.store.audit.push(...events.map(clone));
  }

  async findByHash(tokenHash: string): Promise<ScimToken | undefined> {
    const token = stateOf(this.store).tokens.get(tokenHash);
    return token && clone(token);
  }

  async list(orgId: string): Promise<ScimToken[]> {
    return [...stateOf(this.store).tokens.values()].filter((token) => token.orgId === orgId).map(clone);
  }

  async revoke(orgId: string, tokenId: string, events: AuditEvent[]): Promise<boolean> {
    const { tokens } = stateOf(this.store);
    const found = [...tokens.values()].find((token) => token.orgId === orgId && token.id === tokenId);
    if (!found) return false;
    tokens.delete(found.tokenHash);
    this.store.audit.push(...events.map(clone));
    return true;
  }

  async touch(token: Pick<ScimToken, 'orgId' | 'id' | 'tokenHash'>, at: string, notBefore: string): Promise<void> {
    const stored = stateOf(this.store).tokens.get(token.tokenHash);
    if (stored && (stored.lastUsedAt === undefined || stored.lastUsedAt < notBefore)) stored.lastUsedAt = at;
  }
}
