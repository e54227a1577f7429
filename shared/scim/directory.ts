/**
 * The SCIM Users and Groups operations (API.md "SCIM 2.0 provisioning routes"): the
 * decisions behind every SCIM route, on the same users, role-mapping rules, audit trail
 * and one-transaction writes as logins and admins. Translation lives in resources.ts and
 * patch.ts; persistence behind the `ScimDirectory` port.
 *
 * Every write is decided on the org's settings (the method gate, role mappings) and
 * lands only while they are still in force (the commit carries their version); a write
 * that lost a race (a stale read, settings changed) is decided again, twice at most.
 */
import type { AuditEvent } from '../audit/model.js';
import type { Clock, IdGenerator } from '../clock.js';
import { AppError } from '../errors.js';
import type { OrgSettings } from '../settings/model.js';
import type { SettingsCache } from '../settings/settings-cache.js';
import type { User } from '../users/model.js';
import type { UserRepository } from '../users/ports.js';
import { indexableEquality, matches, parseFilter, type CheckedFilter, type ScimResourceType } from './filter.js';
import { assignmentsForGroups, initialAssignments, sameAssignments } from './membership.js';
import { applyPatch, scimBadRequest } from './patch.js';
import { MAX_CHANGES_PER_COMMIT, ScimConflict, type ScimChange, type ScimDirectory, type ScimGroup } from './ports.js';
import {
  applyUserInput,
  groupInputOf,
  groupResource,
  nextUpdatedAt,
  notFound,
  parseGroupInput,
  parseUserInput,
  selectAttributes,
  userInputOf,
  userResource,
  weakEtag,
  type AttributeSelection,
  type GroupInput,
  type ScimResource,
  type UserInput,
} from './resources.js';
import { MAX_RESULTS, SCHEMA } from './schemas.js';

export interface ScimDeps {
  scim: ScimDirectory;
  users: UserRepository;
  settings: SettingsCache;
  clock: Clock;
  ids: IdGenerator;
}

/** Who writes (the token) to which org, and where its resources live (for `meta.location`). */
export interface ScimContext {
  orgId: string;
  tokenId: string;
  /** `{BASE_URL}/scim/v2/{orgId}` */
  base: string;
}

export interface ListQuery extends AttributeSelection {
  filter?: string;
  startIndex?: string | number;
  count?: string | number;
}

export interface ListResponse {
  schemas: string[];
  totalResults: number;
  startIndex: number;
  itemsPerPage: number;
  Resources: ScimResource[];
}

/** A write answered with the resource it left (and its ETag). */
export interface Written {
  resource: ScimResource;
  etag: string;
}

const conflict = (detail: string) => new AppError('CONFLICT', detail, { details: { scimType: 'uniqueness' } });

/**
 * The org's settings for a write, refusing unless the method is "scim". A refusal taken
 * on cached settings is re-read once before it is answered.
 * @throws AppError `FORBIDDEN` (detail starting `SCIM_NOT_ENABLED`)
 */
async function writableSettings(deps: ScimDeps, orgId: string, fresh: boolean): Promise<OrgSettings> {
  let { settings, cached } = fresh ? { settings: await deps.settings.reload(orgId), cached: false } : await deps.settings.lookup(orgId);
  if (settings.provisioning.method !== 'scim' && cached) settings = await deps.settings.reload(orgId);
  if (settings.provisioning.method !== 'scim') {
    throw new AppError('FORBIDDEN', `SCIM_NOT_ENABLED: this organization's provisioning method is "${settings.provisioning.method}"; an admin sets it to "scim" (PUT /orgs/${orgId}/settings/provisioning) before SCIM can write.`);
  }
  return settings;
}

/**
 * Decides and commits a write, deciding again (on fresh reads) when the commit lost a
 * race: the record changed since it was read, or the settings changed.
 */
async function decideAndCommit<T>(deps: ScimDeps, orgId: string, decide: (settings: OrgSettings) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    const settings = await writableSettings(deps, orgId, attempt > 1);
    try {
      return await decide(settings);
    } catch (error) {
      if (!(error instanceof ScimConflict)) throw error;
      if (error.reason === 'user-exists' || error.reason === 'user-name-taken') throw conflict('A user with this userName (or email address) already exists in this organization.');
      if (error.reason === 'group-name-taken') throw conflict('A group with this displayName already exists in this organization.');
      if (attempt === 3) throw new AppError('SERVICE_UNAVAILABLE', 'The resource kept changing while it was written: try again.', { retryAfterSeconds: 1, cause: error });
    }
  }
}

function requireMatch(ifMatch: string | undefined, updatedAt: string): void {
  if (ifMatch === undefined || ifMatch.trim() === '*') return;
  const current = weakEtag(updatedAt);
  const strip = (tag: string) => tag.trim().replace(/^W\//, '');
  if (!ifMatch.split(',').some((tag) => strip(tag) === strip(current))) {
    throw new AppError('PRECONDITION_FAILED', 'The resource changed since that version (If-Match): read it again.');
  }
}

function event(deps: ScimDeps, context: ScimContext, type: AuditEvent['type'], target: AuditEvent['target'], details: Record<string, unknown>): AuditEvent {
  return { id: deps.ids.newId(), orgId: context.orgId, at: deps.clock.now().toISOString(), type, outcome: 'success', actor: { type: 'scim', id: context.tokenId }, target, details };
}

// ---------------------------------------------------------------------------------------
// Users

async function readUser(deps: ScimDeps, orgId: string, userId: string): Promise<User> {
  const user = await deps.users.findById(orgId, userId);
  if (!user) throw notFound(`User ${userId}`);
  return user;
}

export async function getScimUser(deps: ScimDeps, context: ScimContext, userId: string, selection: AttributeSelection = {}): Promise<Written> {
  const user = await readUser(deps, context.orgId, userId);
  return { resource: selectAttributes(userResource(user, context.base), selection, 'User'), etag: weakEtag(user.updatedAt) };
}

/**
 * POST /Users: one transaction writes the user (by email, by id, its userName claim), its
 * assignments and `user.scim_created`.
 * @throws AppError 409 `uniqueness` (userName or email taken), 400, 403 `SCIM_NOT_ENABLED`
 */
export async function createScimUser(deps: ScimDeps, context: ScimContext, body: unknown, selection: AttributeSelection = {}): Promise<Written> {
  const input = parseUserInput(body);
  return decideAndCommit(deps, context.orgId, async (settings) => {
    const at = deps.clock.now().toISOString();
    const blank: User = {
      id: deps.ids.newId(),
      orgId: context.orgId,
      email: '',
      status: 'active',
      provisionedBy: 'scim',
      jitProvisioned: false,
      assignments: initialAssignments(settings),
      createdAt: at,
      updatedAt: at,
    };
    const user = applyUserInput(blank, input);
    if (user.status === 'blocked') user.sessionsValidAfter = at;
    const details = { userName: input.userName, email: user.scim?.emailless ? null : user.email, externalId: input.externalId ?? null, active: input.active, assignments: user.assignments };
    await deps.scim.commit({ orgId: context.orgId, changes: [{ kind: 'putUser', after: user }], events: [event(deps, context, 'user.scim_created', { type: 'user', id: user.id }, details)], settingsVersion: settings.version });
    return { resource: selectAttributes(userResource(user, context.base), selection, 'User'), etag: weakEtag(user.updatedAt) };
  });
}

/** What changed between two users, field by field, for `user.scim_updated`. */
function userChanges(before: User, after: User): Record<string, { from: unknown; to: unknown }> {
  const changed: Record<string, { from: unknown; to: unknown }> = {};
  const a = userResource(before, '');
  const b = userResource(after, '');
  for (const field of ['userName', 'externalId', 'name', 'displayName', 'active', 'emails'] as const) {
    if (JSON.stringify(a[field]) !== JSON.stringify(b[field])) changed[field] = { from: a[field] ?? null, to: b[field] ?? null };
  }
  if (!sameAssignments(before.assignments, after.assignments)) changed.assignments = { from: before.assignments, to: after.assignments };
  return changed;
}

/** Replaces (PUT) or patches (PATCH) a user: `change` turns the stored user's writable attributes into the new ones. */
async function writeUser(deps: ScimDeps, context: ScimContext, userId: string, ifMatch: string | undefined, change: (current: UserInput) => UserInput, selection: AttributeSelection): Promise<Written> {
  return decideAndCommit(deps, context.orgId, async (settings) => {
    const before = await readUser(deps, context.orgId, userId);
    requireMatch(ifMatch, before.updatedAt);
    const input = change(userInputOf(before));
    const now = deps.clock.now();
    const after: User = { ...applyUserInput(before, input), updatedAt: nextUpdatedAt(before.updatedAt, now) };
    const changed = userChanges(before, after);
    if (Object.keys(changed).length === 0) return { resource: selectAttributes(userResource(before, context.base), selection, 'User'), etag: weakEtag(before.updatedAt) };
    const events = [event(deps, context, 'user.scim_updated', { type: 'user', id: userId }, { changed })];
    if (before.status === 'active' && after.status === 'blocked') {
      // Deactivation ends every session issued until now, also past a later reactivation.
      const second = new Date(Math.floor(now.getTime() / 1000) * 1000).toISOString();
      after.sessionsValidAfter = second;
      events.push(event(deps, context, 'user.sessions_revoked', { type: 'user', id: userId }, { issuedUntil: second, reason: 'deactivated' }));
    }
    await deps.scim.commit({ orgId: context.orgId, changes: [{ kind: 'putUser', before, after }], events, settingsVersion: settings.version });
    return { resource: selectAttributes(userResource(after, context.base), selection, 'User'), etag: weakEtag(after.updatedAt) };
  });
}

/** PUT /Users/{id}: the whole user as sent (group memberships kept). */
export async function replaceScimUser(deps: ScimDeps, context: ScimContext, userId: string, body: unknown, ifMatch?: string, selection: AttributeSelection = {}): Promise<Written> {
  const input = parseUserInput(body);
  return writeUser(deps, context, userId, ifMatch, () => input, selection);
}

/** PATCH /Users/{id}. */
export async function patchScimUser(deps: ScimDeps, context: ScimContext, userId: string, body: unknown, ifMatch?: string, selection: AttributeSelection = {}): Promise<Written> {
  return writeUser(deps, context, userId, ifMatch, (current) => parseUserInput(applyPatch('User', current, body)), selection);
}

/** DELETE /Users/{id}: the user leaves their groups and is removed, in one transaction. */
export async function deleteScimUser(deps: ScimDeps, context: ScimContext, userId: string, ifMatch?: string): Promise<void> {
  await decideAndCommit(deps, context.orgId, async (settings) => {
    const before = await readUser(deps, context.orgId, userId);
    requireMatch(ifMatch, before.updatedAt);
    const now = deps.clock.now();
    const groups = await Promise.all((before.scim?.groups ?? []).map((group) => deps.scim.getGroup(context.orgId, group.value)));
    const changes: ScimChange[] = groups
      .filter((group): group is ScimGroup => group !== undefined && group.members.includes(userId))
      .map((group) => ({ kind: 'putGroup', before: group, after: { ...group, members: group.members.filter((id) => id !== userId), updatedAt: nextUpdatedAt(group.updatedAt, now) } }));
    changes.push({ kind: 'deleteUser', before });
    const details = { userName: before.scim?.userName ?? before.email, email: before.scim?.emailless ? null : before.email, provisionedBy: before.provisionedBy };
    await deps.scim.commit({ orgId: context.orgId, changes, events: [event(deps, context, 'user.scim_deleted', { type: 'user', id: userId }, details)], settingsVersion: settings.version });
  });
}

// ---------------------------------------------------------------------------------------
// Lists

function pageOf(query: ListQuery): { startIndex: number; count: number } {
  const number = (value: string | number | undefined, fallback: number) => {
    if (value === undefined || value === '') return fallback;
    const parsed = Number(value);
    if (!Number.isFinite(parsed)) throw scimBadRequest('invalidValue', 'startIndex and count must be numbers.');
    return Math.floor(parsed);
  };
  return { startIndex: Math.max(1, number(query.startIndex, 1)), count: Math.min(MAX_RESULTS, Math.max(0, number(query.count, MAX_RESULTS))) };
}

function listResponse(all: ScimResource[], query: ListQuery, type: ScimResourceType): ListResponse {
  const { startIndex, count } = pageOf(query);
  const page = all.slice(startIndex - 1, startIndex - 1 + count).map((resource) => selectAttributes(resource, query, type));
  return { schemas: [SCHEMA.listResponse], totalResults: all.length, startIndex, itemsPerPage: page.length, Resources: page };
}

const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * The users a filter can match, read the cheapest way: `id eq` is a read by id,
 * `userName eq` one indexed Query; anything else reads the org's users page by page.
 */
async function candidateUsers(deps: ScimDeps, orgId: string, filter: CheckedFilter | undefined): Promise<User[]> {
  const id = filter && indexableEquality(filter, 'id');
  if (id !== undefined) {
    const user = await deps.users.findById(orgId, id);
    return user ? [user] : [];
  }
  const userName = filter && indexableEquality(filter, 'userName');
  if (userName !== undefined) return deps.scim.findUsersByUserName(orgId, userName);
  return deps.scim.allUsers(orgId);
}

/** GET /Users (and POST /Users/.search): filtered, paged, attributes selected. */
export async function listScimUsers(deps: ScimDeps, context: ScimContext, query: ListQuery): Promise<ListResponse> {
  const filter = query.filter ? parseFilter(query.filter, 'User') : undefined;
  const users = await candidateUsers(deps, context.orgId, filter);
  const resources = users
    .sort(byId)
    .map((user) => userResource(user, context.base))
    .filter((resource) => !filter || matches(filter, resource));
  return listResponse(resources, query, 'User');
}

/** GET /Groups: every group of the org (a bounded partition range), filtered in memory. */
export async function listScimGroups(deps: ScimDeps, context: ScimContext, query: ListQuery): Promise<ListResponse> {
  const filter = query.filter ? parseFilter(query.filter, 'Group') : undefined;
  const id = filter && indexableEquality(filter, 'id');
  const groups = id !== undefined ? [await deps.scim.getGroup(context.orgId, id)].filter((group): group is ScimGroup => group !== undefined) : await deps.scim.allGroups(context.orgId);
  const resources = groups
    .sort(byId)
    .map((group) => groupResource(group, context.base))
    .filter((resource) => !filter || matches(filter, resource));
  return listResponse(resources, query, 'Group');
}

/** POST /.search at the root: Users and Groups together (RFC 7644 §3.4.3). */
export async function searchAll(deps: ScimDeps, context: ScimContext, query: ListQuery): Promise<ListResponse> {
  const everything = { ...query, startIndex: 1, count: Number.MAX_SAFE_INTEGER };
  const filterFor = (type: ScimResourceType) => {
    if (!query.filter) return undefined;
    try {
      return parseFilter(query.filter, type);
    } catch {
      return null; // a filter that names attributes of the other type only: none of this type match
    }
  };
  const parts: ScimResource[] = [];
  if (filterFor('User') !== null) parts.push(...(await listScimUsersAll(deps, context, { ...everything })));
  if (filterFor('Group') !== null) parts.push(...(await listScimGroups(deps, context, { ...everything, attributes: undefined, excludedAttributes: undefined })).Resources);
  if (query.filter && filterFor('User') === null && filterFor('Group') === null) parseFilter(query.filter, 'User');
  const { startIndex, count } = pageOf(query);
  const page = parts.slice(startIndex - 1, startIndex - 1 + count).map((resource) => selectAttributes(resource, query, (resource.meta as { resourceType: ScimResourceType }).resourceType));
  return { schemas: [SCHEMA.listResponse], totalResults: parts.length, startIndex, itemsPerPage: page.length, Resources: page };
}

async function listScimUsersAll(deps: ScimDeps, context: ScimContext, query: ListQuery): Promise<ScimResource[]> {
  const filter = query.filter ? parseFilter(query.filter, 'User') : undefined;
  const users = await candidateUsers(deps, context.orgId, filter);
  return users.sort(byId).map((user) => userResource(user, context.base)).filter((resource) => !filter || matches(filter, resource));
}

// ---------------------------------------------------------------------------------------
// Groups

async function readGroup(deps: ScimDeps, orgId: string, groupId: string): Promise<ScimGroup> {
  const group = await deps.scim.getGroup(orgId, groupId);
  if (!group) throw notFound(`Group ${groupId}`);
  return group;
}

export async function getScimGroup(deps: ScimDeps, context: ScimContext, groupId: string, selection: AttributeSelection = {}): Promise<Written> {
  const group = await readGroup(deps, context.orgId, groupId);
  return { resource: selectAttributes(groupResource(group, context.base), selection, 'Group'), etag: weakEtag(group.updatedAt) };
}

/** A member's user after the group (now `group`, or gone when undefined) changed: memberships and assignments recomputed. */
function memberAfter(settings: OrgSettings, user: User, groupId: string, group: ScimGroup | undefined, now: Date): User {
  const others = (user.scim?.groups ?? []).filter((entry) => entry.value !== groupId);
  const groups = group && group.members.includes(user.id) ? [...others, { value: groupId, display: group.displayName }] : others;
  const scim = user.scim ?? { userName: user.email, emails: [{ value: user.email, primary: true }] };
  const { groups: _old, ...rest } = scim;
  return {
    ...user,
    scim: { ...rest, ...(groups.length ? { groups } : {}) },
    assignments: assignmentsForGroups(settings, user, groups.map((entry) => entry.display)),
    updatedAt: nextUpdatedAt(user.updatedAt, now),
  };
}

/**
 * Writes a group change and what it does to its members (memberships, assignments) in
 * one transaction. A change touching more members than one transaction holds is written
 * in slices of members, each atomic with the group's state it leaves.
 */
async function writeGroup(deps: ScimDeps, context: ScimContext, settings: OrgSettings, before: ScimGroup | undefined, after: ScimGroup | undefined, type: AuditEvent['type']): Promise<void> {
  const groupId = (after ?? before)!.id;
  const now = deps.clock.now();
  const beforeMembers = new Set(before?.members ?? []);
  const afterMembers = new Set(after?.members ?? []);
  const renamed = before && after && before.displayName !== after.displayName;
  const affected = [...new Set([...beforeMembers, ...afterMembers])].filter((id) => renamed || beforeMembers.has(id) !== afterMembers.has(id));
  const users = await Promise.all(affected.map((id) => deps.users.findById(context.orgId, id)));
  const missing = affected.filter((id, index) => !users[index] && afterMembers.has(id) && !beforeMembers.has(id));
  if (missing.length > 0) throw scimBadRequest('invalidValue', `members: no user ${missing.slice(0, 5).join(', ')} in this organization.`);
  const present = users.filter((user): user is User => user !== undefined);
  const added = affected.filter((id) => afterMembers.has(id) && !beforeMembers.has(id));
  const removed = affected.filter((id) => beforeMembers.has(id) && !afterMembers.has(id));
  const assignmentChanges: Record<string, { from: unknown; to: unknown }> = {};
  const slices: User[][] = [];
  for (let i = 0; i < present.length; i += MAX_CHANGES_PER_COMMIT) slices.push(present.slice(i, i + MAX_CHANGES_PER_COMMIT));
  if (slices.length === 0) slices.push([]);
  let current = before;
  let members = [...(before?.members ?? [])];
  for (const [index, slice] of slices.entries()) {
    const last = index === slices.length - 1;
    // The group as this slice leaves it: the slice's members moved, the others not yet.
    for (const user of slice) {
      members = members.filter((id) => id !== user.id);
      if (afterMembers.has(user.id)) members.push(user.id);
    }
    const shape = after ?? before!;
    const next: ScimGroup | undefined = last
      ? after && { ...after, updatedAt: nextUpdatedAt(current?.updatedAt, now) }
      : { ...shape, members, updatedAt: nextUpdatedAt(current?.updatedAt, now) };
    const changes: ScimChange[] = [next ? { kind: 'putGroup', ...(current ? { before: current } : {}), after: next } : { kind: 'deleteGroup', before: current! }];
    for (const user of slice) {
      const updated = memberAfter(settings, user, groupId, next, now);
      if (!sameAssignments(user.assignments, updated.assignments)) assignmentChanges[user.id] = { from: user.assignments, to: updated.assignments };
      changes.push({ kind: 'putUser', before: user, after: updated });
    }
    const events = last
      ? [
          event(deps, context, type, { type: 'scim-group', id: groupId }, {
            displayName: (after ?? before)!.displayName,
            ...(renamed ? { renamed: { from: before!.displayName, to: after!.displayName } } : {}),
            added: added.slice(0, 100),
            removed: removed.slice(0, 100),
            addedCount: added.length,
            removedCount: removed.length,
            assignments: Object.fromEntries(Object.entries(assignmentChanges).slice(0, 100)),
          }),
        ]
      : [];
    await deps.scim.commit({ orgId: context.orgId, changes, events, settingsVersion: settings.version });
    current = next;
  }
}

/** POST /Groups. @throws AppError 409 `uniqueness` (displayName taken), 400 (unknown member) */
export async function createScimGroup(deps: ScimDeps, context: ScimContext, body: unknown, selection: AttributeSelection = {}): Promise<Written> {
  const input = parseGroupInput(body);
  return decideAndCommit(deps, context.orgId, async (settings) => {
    const at = deps.clock.now().toISOString();
    const group: ScimGroup = { id: deps.ids.newId(), orgId: context.orgId, displayName: input.displayName, ...(input.externalId === undefined ? {} : { externalId: input.externalId }), members: input.members, createdAt: at, updatedAt: at };
    await writeGroup(deps, context, settings, undefined, group, 'scim_group.created');
    const stored = (await deps.scim.getGroup(context.orgId, group.id)) ?? group;
    return { resource: selectAttributes(groupResource(stored, context.base), selection, 'Group'), etag: weakEtag(stored.updatedAt) };
  });
}

async function changeGroup(deps: ScimDeps, context: ScimContext, groupId: string, ifMatch: string | undefined, change: (current: GroupInput) => GroupInput, selection: AttributeSelection): Promise<Written> {
  return decideAndCommit(deps, context.orgId, async (settings) => {
    const before = await readGroup(deps, context.orgId, groupId);
    requireMatch(ifMatch, before.updatedAt);
    const input = change(groupInputOf(before));
    const { externalId: _x, ...rest } = before;
    const after: ScimGroup = { ...rest, displayName: input.displayName, ...(input.externalId === undefined ? {} : { externalId: input.externalId }), members: input.members };
    if (JSON.stringify(groupInputOf(after)) === JSON.stringify(groupInputOf(before))) {
      return { resource: selectAttributes(groupResource(before, context.base), selection, 'Group'), etag: weakEtag(before.updatedAt) };
    }
    await writeGroup(deps, context, settings, before, after, 'scim_group.updated');
    const stored = await readGroup(deps, context.orgId, groupId);
    return { resource: selectAttributes(groupResource(stored, context.base), selection, 'Group'), etag: weakEtag(stored.updatedAt) };
  });
}

export async function replaceScimGroup(deps: ScimDeps, context: ScimContext, groupId: string, body: unknown, ifMatch?: string, selection: AttributeSelection = {}): Promise<Written> {
  const input = parseGroupInput(body);
  return changeGroup(deps, context, groupId, ifMatch, () => input, selection);
}

export async function patchScimGroup(deps: ScimDeps, context: ScimContext, groupId: string, body: unknown, ifMatch?: string, selection: AttributeSelection = {}): Promise<Written> {
  return changeGroup(
    deps,
    context,
    groupId,
    ifMatch,
    (current) => {
      const resource = { displayName: current.displayName, ...(current.externalId === undefined ? {} : { externalId: current.externalId }), members: current.members.map((value) => ({ value })) };
      const patched = applyPatch('Group', resource, body) as Record<string, unknown>;
      return parseGroupInput({ ...patched, members: patched.members ?? [] });
    },
    selection,
  );
}

export async function deleteScimGroup(deps: ScimDeps, context: ScimContext, groupId: string, ifMatch?: string): Promise<void> {
  await decideAndCommit(deps, context.orgId, async (settings) => {
    const before = await readGroup(deps, context.orgId, groupId);
    requireMatch(ifMatch, before.updatedAt);
    await writeGroup(deps, context, settings, before, undefined, 'scim_group.deleted');
  });
}
