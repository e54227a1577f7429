/**
 * Users as an admin manages them: create (manual provisioning), list (filtered,
 * paginated), read, change, remove. Removing a user at the IdP never removes them here:
 * removal is this manual step.
 */
import { z } from 'zod';
import type { AuditEvent } from '../audit/model.js';
import type { Clock, IdGenerator } from '../clock.js';
import { AppError } from '../errors.js';
import { assertActorHolds, currentSettings, permissionsOfRoles, type ChangeContext } from '../settings/settings-service.js';
import { endAllSessions } from '../sessions/sign-out.js';
import { parseInput } from '../settings/validation.js';
import type { Page } from '../paging.js';
import type { SettingsRepository } from '../settings/ports.js';
import type { UserChange, UserRepository } from './ports.js';
import type { OrgSettings } from '../settings/model.js';
import { normalizeEmail, type Assignment, type User } from './model.js';

export interface UserAdminDeps {
  users: UserRepository;
  settingsRepository: SettingsRepository;
  clock: Clock;
  ids: IdGenerator;
}

export const userListQuerySchema = z.strictObject({
  email: z.string().max(320).optional(),
  jit: z.enum(['true', 'false']).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: z.string().max(2048).optional(),
});

const assignmentSchema = z.strictObject({ groupId: z.string().min(1), roleId: z.string().min(1) });

export const userCreateSchema = z.strictObject({
  email: z.email('must be an email address').max(320),
  firstName: z.string().trim().min(1).max(256).optional(),
  lastName: z.string().trim().min(1).max(256).optional(),
  assignments: z.array(assignmentSchema).max(100),
});

export const userPatchSchema = z.strictObject({
  firstName: z.string().trim().min(1).max(256).nullable().optional(),
  lastName: z.string().trim().min(1).max(256).nullable().optional(),
  status: z.enum(['active', 'blocked']).optional(),
  assignments: z.array(assignmentSchema).max(100).optional(),
  idpSubject: z.null().optional().describe('null unlinks the recorded IdP subject'),
});

export async function listUsers(deps: UserAdminDeps, orgId: string, query: unknown): Promise<Page<User>> {
  const { email, jit, limit, cursor } = parseInput(userListQuerySchema, query);
  return deps.users.list(orgId, { email: email === undefined ? undefined : normalizeEmail(email), jit: jit === undefined ? undefined : jit === 'true', limit, cursor });
}

export async function getUser(deps: UserAdminDeps, orgId: string, userId: string): Promise<User> {
  const user = await deps.users.findById(orgId, userId);
  if (!user) throw new AppError('NOT_FOUND', `No user ${userId} in this org.`);
  return user;
}

function event(deps: UserAdminDeps, context: ChangeContext, type: AuditEvent['type'], user: User, details: Record<string, unknown>): AuditEvent {
  return { id: deps.ids.newId(), orgId: context.orgId, at: deps.clock.now().toISOString(), type, outcome: 'success', actor: context.actor, target: { type: 'user', id: user.id }, details };
}

/**
 * Refuses assignments naming a role or group the org lacks, or a role whose permissions
 * the actor does not hold (nobody grants more than they hold).
 * @throws AppError `FORBIDDEN`, `VALIDATION_FAILED` (naming the assignment)
 */
function checkAssignments(context: ChangeContext, settings: OrgSettings, assignments: readonly Assignment[]): void {
  assertActorHolds(context, permissionsOfRoles(settings.roles, assignments.map((a) => a.roleId)), 'assign these roles');
  assignments.forEach(({ roleId, groupId }, index) => {
    if (!settings.roles.some((role) => role.id === roleId)) throw new AppError('VALIDATION_FAILED', `assignments[${index}].roleId: no role "${roleId}" exists in this org`);
    if (!settings.groups.some((group) => group.id === groupId)) throw new AppError('VALIDATION_FAILED', `assignments[${index}].groupId: no group "${groupId}" exists in this org`);
  });
}

/**
 * Creates a user by hand (`provisionedBy: "manual"`, not JIT-provisioned, active), with
 * its `user.created` event in the same transaction.
 * @throws AppError `VALIDATION_FAILED`, `FORBIDDEN` (assigning a role the actor does not
 *   hold), `CONFLICT` (the email exists in the org)
 */
export async function createUser(deps: UserAdminDeps, context: ChangeContext, input: unknown): Promise<User> {
  const parsed = parseInput(userCreateSchema, input);
  const settings = await currentSettings(deps, context);
  checkAssignments(context, settings, parsed.assignments);
  const at = deps.clock.now().toISOString();
  const user: User = {
    id: deps.ids.newId(),
    orgId: context.orgId,
    email: normalizeEmail(parsed.email),
    ...(parsed.firstName === undefined ? {} : { firstName: parsed.firstName }),
    ...(parsed.lastName === undefined ? {} : { lastName: parsed.lastName }),
    status: 'active',
    provisionedBy: 'manual',
    jitProvisioned: false,
    assignments: parsed.assignments.map(({ groupId, roleId }) => ({ groupId, roleId })),
    createdAt: at,
    updatedAt: at,
  };
  await deps.users.create(user, [event(deps, context, 'user.created', user, { email: user.email, provisionedBy: 'manual', assignments: user.assignments })]);
  return user;
}

/**
 * Changes names, status, assignments, or unlinks the IdP subject.
 * @throws AppError `VALIDATION_FAILED` (unknown role or group), `NOT_FOUND`, `CONFLICT` (blocking yourself)
 */
export async function patchUser(deps: UserAdminDeps, context: ChangeContext, userId: string, input: unknown): Promise<User> {
  const patch = parseInput(userPatchSchema, input);
  const user = await getUser(deps, context.orgId, userId);
  if (patch.status === 'blocked' && context.actor.type === 'user' && context.actor.id === userId) {
    throw new AppError('CONFLICT', 'You cannot block yourself.');
  }
  const settings = await currentSettings(deps, context);
  const { roles } = settings;
  // Nobody changes someone who holds more than they do, nor hands out more than they hold.
  if (patch.status !== undefined || patch.assignments !== undefined || patch.idpSubject !== undefined) {
    assertActorHolds(context, permissionsOfRoles(roles, user.assignments.map((a) => a.roleId)), 'change this user');
  }
  if (patch.assignments) checkAssignments(context, settings, patch.assignments);
  const change: UserChange = { set: { updatedAt: deps.clock.now().toISOString() }, remove: [] };
  const changed: Record<string, { from: unknown; to: unknown }> = {};
  for (const field of ['firstName', 'lastName'] as const) {
    const value = patch[field];
    if (value === undefined || value === user[field]) continue;
    changed[field] = { from: user[field] ?? null, to: value };
    if (value === null) change.remove.push(field);
    else change.set[field] = value;
  }
  if (patch.status !== undefined && patch.status !== user.status) {
    changed.status = { from: user.status, to: patch.status };
    change.set.status = patch.status;
  }
  if (patch.assignments && JSON.stringify(patch.assignments) !== JSON.stringify(user.assignments)) {
    changed.assignments = { from: user.assignments, to: patch.assignments };
    change.set.assignments = patch.assignments;
  }
  if (patch.idpSubject === null && user.idpSubject) {
    changed.idpSubject = { from: user.idpSubject, to: null };
    change.remove.push('idpSubject');
  }
  if (Object.keys(changed).length === 0) return user;
  return deps.users.update(user, change, [event(deps, context, 'user.updated', user, { changed })]);
}

/** @throws AppError `NOT_FOUND`, `CONFLICT` (removing yourself) */
export async function removeUser(deps: UserAdminDeps, context: ChangeContext, userId: string): Promise<void> {
  const user = await getUser(deps, context.orgId, userId);
  if (context.actor.type === 'user' && context.actor.id === userId) throw new AppError('CONFLICT', 'You cannot remove yourself.');
  const settings = await currentSettings(deps, context);
  assertActorHolds(context, permissionsOfRoles(settings.roles, user.assignments.map((a) => a.roleId)), 'remove this user');
  await deps.users.remove(user, [event(deps, context, 'user.deleted', user, { email: user.email, provisionedBy: user.provisionedBy })]);
}

/**
 * Signs a user out everywhere: every session issued until now is refused from now on.
 * @throws AppError `NOT_FOUND`, `FORBIDDEN` (the user holds more than the actor)
 */
export async function revokeUserSessions(deps: UserAdminDeps, context: ChangeContext, userId: string): Promise<void> {
  const user = await getUser(deps, context.orgId, userId);
  const settings = await currentSettings(deps, context);
  assertActorHolds(context, permissionsOfRoles(settings.roles, user.assignments.map((a) => a.roleId)), 'sign this user out');
  await endAllSessions(deps, user, context.actor);
}
