/**
 * The users' storage port, with the login transaction: the shapes it stores and the
 * operations the domain needs. `shared/storage/` implements it; the domain depends on
 * this interface only.
 */
import type { AuditEvent } from '../audit/model.js';
import type { PendingLoginRef } from '../login/ports.js';
import type { Page } from '../paging.js';
import type { User } from './model.js';

/** A replay marker: the assertion (or state) id is consumed until `expiresAt`. */
export interface ReplayMarker {
  orgId: string;
  id: string;
  expiresAt: Date;
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
  /** A pending login this login answers: consumed in the same transaction, once. */
  consume?: PendingLoginRef;
  /**
   * The version of the org's settings the login was decided on: the commit lands only
   * while it is still the current one (`CommitConflict('settings-changed')` otherwise).
   */
  settingsVersion: string;
}

/** Why a login commit was refused by a condition. */
export class CommitConflict extends Error {
  constructor(readonly reason: 'user-exists' | 'user-changed' | 'replayed' | 'pending-used' | 'settings-changed') {
    super(`login commit refused: ${reason}`);
    this.name = 'CommitConflict';
  }
}

/** Fields an admin may change on a user. */
export interface UserChange {
  set: Partial<Pick<User, 'firstName' | 'lastName' | 'status' | 'assignments' | 'updatedAt' | 'sessionsValidAfter'>>;
  remove: ('firstName' | 'lastName' | 'idpSubject')[];
}

export interface UserRepository {
  findByEmail(orgId: string, email: string): Promise<User | undefined>;
  findById(orgId: string, userId: string): Promise<User | undefined>;
  /**
   * An admin's creation: the user (by email and by id) and its audit events in one
   * transaction, only while no user of the org has that email.
   * @throws AppError `CONFLICT` when the org already has a user with this email
   */
  create(user: User, events: AuditEvent[]): Promise<void>;
  /** Writes the user, the audit events and the replay marker in one transaction; throws `CommitConflict`. */
  commitLogin(commit: LoginCommit): Promise<void>;
  /**
   * An admin's change: sets `set`, removes `remove`, writes `events`, all at once.
   * @throws AppError `NOT_FOUND` when the user no longer exists
   */
  update(user: Pick<User, 'orgId' | 'email' | 'id'>, change: UserChange, events: AuditEvent[]): Promise<User>;
  /** Removes the user (manual removal) with its audit event (and a SCIM user's userName claim). @throws AppError `NOT_FOUND` */
  remove(user: Pick<User, 'orgId' | 'email' | 'id'> & Partial<Pick<User, 'scim'>>, events: AuditEvent[]): Promise<void>;
  list(orgId: string, options: { email?: string; jit?: boolean; limit: number; cursor?: string }): Promise<Page<User>>;
  /** Orgs in which a user with this email exists (discovery). */
  orgsForEmail(email: string): Promise<string[]>;
}
