/**
 * The SCIM storage ports: SCIM groups, SCIM tokens, and the one-transaction commit of a
 * SCIM write (users, groups, the members' assignments and the audit events together).
 * `shared/storage/` implements them (DynamoDB and in memory); the domain depends on these
 * interfaces only.
 */
import type { AuditEvent } from '../audit/model.js';
import type { User } from '../users/model.js';

/** A group a SCIM client pushed. Its `displayName` is a role value (API.md). */
export interface ScimGroup {
  id: string;
  orgId: string;
  /** Unique per org, compared exactly (as role values are). */
  displayName: string;
  externalId?: string;
  /** User ids. */
  members: string[];
  createdAt: string;
  /** Strictly increases with every write: the optimistic lock and the ETag. */
  updatedAt: string;
}

/**
 * One change of a SCIM write. `before` is the record as read: the write lands only while
 * the stored record is still exactly that one (else `ScimConflict('stale')`).
 */
export type ScimChange =
  | { kind: 'putUser'; before?: User; after: User }
  | { kind: 'deleteUser'; before: User }
  | { kind: 'putGroup'; before?: ScimGroup; after: ScimGroup }
  | { kind: 'deleteGroup'; before: ScimGroup };

export interface ScimCommit {
  orgId: string;
  changes: ScimChange[];
  events: AuditEvent[];
  /** The org settings version the write was decided on (method gate, role mappings). */
  settingsVersion: string;
}

/** Why a SCIM commit was refused by a condition. */
export class ScimConflict extends Error {
  constructor(
    readonly reason: 'user-exists' | 'user-name-taken' | 'group-name-taken' | 'stale' | 'settings-changed',
    /** The index in `changes` that failed, when one did. */
    readonly changeIndex?: number,
  ) {
    super(`SCIM commit refused: ${reason}`);
    this.name = 'ScimConflict';
  }
}

/** The most changes (users and groups) one atomic SCIM write may touch (DynamoDB allows 100 items). */
export const MAX_CHANGES_PER_COMMIT = 40;

export interface ScimDirectory {
  /** Users whose SCIM `userName` (else email) equals `userName` case-insensitively: one indexed Query. */
  findUsersByUserName(orgId: string, userName: string): Promise<User[]>;
  /** Every user of the org, read page by page (bounded by the org's partition). */
  allUsers(orgId: string): Promise<User[]>;
  getGroup(orgId: string, groupId: string): Promise<ScimGroup | undefined>;
  /** Every SCIM group of the org (one partition range). */
  allGroups(orgId: string): Promise<ScimGroup[]>;
  /** Applies every change and writes every event, all or nothing. @throws ScimConflict */
  commit(commit: ScimCommit): Promise<void>;
}

/** A SCIM token as stored: never the secret, only its SHA-256. */
export interface ScimToken {
  id: string;
  orgId: string;
  /** SHA-256 of the secret, hex. */
  tokenHash: string;
  createdAt: string;
  lastUsedAt?: string;
}

export interface ScimTokenRepository {
  /** Stores the token and its audit event together. */
  create(token: ScimToken, events: AuditEvent[]): Promise<void>;
  /** The token with this hash: one consistent read. Undefined when unknown or revoked. */
  findByHash(tokenHash: string): Promise<ScimToken | undefined>;
  list(orgId: string): Promise<ScimToken[]>;
  /** Removes the token (it stops working at once) with its event. @returns false when no such token */
  revoke(orgId: string, tokenId: string, events: AuditEvent[]): Promise<boolean>;
  /** Sets `lastUsedAt` unless the stored one is already at or after `notBefore` (a cheap, conditional write). */
  touch(token: Pick<ScimToken, 'orgId' | 'id' | 'tokenHash'>, at: string, notBefore: string): Promise<void>;
}
