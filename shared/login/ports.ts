import type { AuditActor, AuditEvent } from '../audit/model.js';
import type { ErrorCode } from '../errors.js';
import type { Assignment } from '../users/model.js';
import type { ReplayMarker } from '../users/ports.js';

/**
 * The pending-login storage port: logins started here and not finished yet. The
 * domain names a pending login by (org, protocol, id); how that becomes a key is the
 * adapter's business (`shared/storage/`).
 */

/** Which pending login: the AuthnRequest ID (SAML) or the `state` (OIDC) of an org. */
export interface PendingLoginRef {
  orgId: string;
  protocol: 'saml' | 'oidc';
  /** SAML: the AuthnRequest ID the answer's InResponseTo names. OIDC: the `state`. */
  id: string;
}

/**
 * A login started here and not finished yet: an SP-initiated AuthnRequest, or an OIDC
 * authorization request with its state, nonce and PKCE verifier. Single use, with a TTL.
 */
export interface PendingLogin extends PendingLoginRef {
  /** Where to send the person afterwards: an already checked relative path. */
  fwd: string;
  expiresAt: Date;
  /** SHA-256 of the browser binding cookie of the browser that started the login (login CSRF defence). */
  browserHash?: string;
  /** OIDC: the issuer the state was made for (mix-up defence), the nonce and the PKCE verifier. */
  issuer?: string;
  nonce?: string;
  codeVerifier?: string;
  /** Set on a test sign-in (`POST /orgs/{orgId}/sso/tests`): its answer is reported, never provisioned. */
  test?: { id: string };
}

export interface LoginStateRepository {
  save(pending: PendingLogin): Promise<void>;
  /** Reads without consuming: undefined when missing or expired. */
  peek(ref: PendingLoginRef): Promise<PendingLogin | undefined>;
  /** Consumes atomically, once: undefined when missing, expired or already taken. */
  take(ref: PendingLoginRef): Promise<PendingLogin | undefined>;
}

/** What a test sign-in found (docs/console.md "TestResult"). */
export interface TestResult {
  outcome: 'success' | 'failure';
  issuer?: string;
  /** SAML: the NameID and its Format. */
  nameId?: string;
  nameIdFormat?: string;
  /** OIDC: the `sub` claim. */
  sub?: string;
  /** Every attribute (SAML) or claim (OIDC) received, in the order received, values verbatim. */
  attributes?: { name: string; values: string[] }[];
  /** True when `attributes` was cut to fit (very large assertions only). */
  attributesTruncated?: boolean;
  /** SAML: the assertion's session facts. */
  session?: { authnInstant?: string; notBefore?: string; notOnOrAfter?: string; sessionIndex?: string };
  /** Whether SSO is enabled now: a test runs before it is, a real login would then be refused. */
  ssoEnabled: boolean;
  /** On success: what a real login would do with the current settings. */
  wouldDo?: { action: 'create' | 'update'; email: string; userId?: string; firstName?: string; lastName?: string; assignments: Assignment[] };
  /** On failure: the code a real login would be refused with, and why. */
  error?: { code: ErrorCode; message: string; expected?: unknown; received?: unknown };
}

/** A test sign-in: started by an admin (or a setup session), answered once by the IdP. */
export interface SsoTest {
  id: string;
  orgId: string;
  protocol: 'saml' | 'oidc';
  /** Who started it: only they may read it. */
  startedBy: AuditActor;
  startedAt: string;
  status: 'pending' | 'done';
  completedAt?: string;
  result?: TestResult;
  /** The record is gone after this (pending: with its pending login; done: an hour after completion). */
  expiresAt: Date;
}

/** Test sign-ins, in the login-state table beside the pending logins they answer. */
export interface SsoTestRepository {
  /** Saves a new test and the pending login it waits for, together. */
  start(test: SsoTest, pending: PendingLogin): Promise<void>;
  /** The test, unless missing or expired. */
  get(orgId: string, id: string): Promise<SsoTest | undefined>;
  /**
   * Stores the finished test with its audit events, consuming the pending login (once)
   * and recording the assertion's replay marker, all or nothing.
   * @throws CommitConflict `pending-used` (answered already, or expired), `replayed`
   */
  complete(test: SsoTest, options: { consume?: PendingLoginRef; replay?: ReplayMarker; events: AuditEvent[] }): Promise<void>;
}
