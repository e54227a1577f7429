/**
 * The setup-link storage port: links an admin gives a customer's IT admin so they can
 * set up the SSO connection without an account. `shared/storage/` implements it.
 */
import type { AuditEvent } from '../audit/model.js';

/** A setup link as stored: the token itself never is, only its SHA-256. */
export interface SetupLink {
  id: string;
  orgId: string;
  note?: string;
  /** The user who made it: a setup session never does more than they can, now. */
  createdBy: string;
  createdAt: string;
  /** ISO-8601: the link and every session opened with it end then. */
  expiresAt: string;
  /** SHA-256 (base64url) of the token in the link's URL. */
  tokenHash: string;
  /** The first time the link was opened. */
  usedAt?: string;
  revokedAt?: string;
}

export interface SetupLinkRepository {
  /** Stores a new link (findable by its token hash) with its audit events, together. */
  create(link: SetupLink, events: AuditEvent[]): Promise<void>;
  get(orgId: string, id: string): Promise<SetupLink | undefined>;
  /** The link whose token hashes to `tokenHash`, whatever its state. */
  findByTokenHash(tokenHash: string): Promise<SetupLink | undefined>;
  /** The org's links, newest first, at most `limit`. */
  list(orgId: string, limit: number): Promise<SetupLink[]>;
  /**
   * Marks the link revoked at `at` with its audit events; `false` (and nothing written)
   * when it already was. @throws AppError `NOT_FOUND`
   */
  revoke(orgId: string, id: string, at: string, events: AuditEvent[]): Promise<boolean>;
  /** Records the first use at `at` with its audit events; `false` (and nothing written) when it was used before. */
  markUsed(orgId: string, id: string, at: string, events: AuditEvent[]): Promise<boolean>;
}
