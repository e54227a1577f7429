/**
 * One-time console sign-in links (`sso-jit login-link`): a way into the admin console
 * that needs no IdP, for the first admin of an org or when SSO is broken. The token is
 * 256 random bits, shown once in the URL and stored only as its SHA-256, valid
 * 10 minutes, consumed by the first use. Redeeming it re-reads the user, so a link of a
 * user blocked or removed since does nothing.
 */
import { createHash } from 'node:crypto';
import type { AuditRepository } from '../audit/ports.js';
import type { AuditEvent } from '../audit/model.js';
import { randomToken, type Clock, type IdGenerator } from '../clock.js';
import { AppError } from '../errors.js';
import type { UserRepository } from '../users/ports.js';
import { normalizeEmail, type User } from '../users/model.js';
import type { LoginLinkStore } from './ports.js';
import type { SessionTokens } from './session-tokens.js';

/** How long a link stays usable. */
export const LOGIN_LINK_TTL_SECONDS = 10 * 60;
/** Where a link points, under BASE_URL. */
export const CONSOLE_LOGIN_PATH = '/console/login';

/** 32 random bytes, base64url without padding. */
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;

const hashToken = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');

export interface LoginLinkDeps {
  users: UserRepository;
  loginLinks: LoginLinkStore;
  clock: Clock;
  /** BASE_URL, without a trailing slash. */
  baseUrl: string;
}

/**
 * Makes a sign-in link for an existing, active user and returns its URL,
 * `{BASE_URL}/console/login?token=…`.
 * @throws AppError `NOT_FOUND` (no such user in the org), `USER_BLOCKED`
 * @example await createLoginLink(rt, 'acme', 'root@acme.com') // 'https://sso.example.com/console/login?token=3q…'
 */
export async function createLoginLink(deps: LoginLinkDeps, orgId: string, email: string): Promise<string> {
  const user = await deps.users.findByEmail(orgId, normalizeEmail(email));
  if (!user) throw new AppError('NOT_FOUND', `No user ${normalizeEmail(email)} in org ${orgId}.`);
  if (user.status !== 'active') throw new AppError('USER_BLOCKED', `User ${user.email} is blocked.`);
  const token = randomToken(32);
  const expiresAt = new Date(deps.clock.now().getTime() + LOGIN_LINK_TTL_SECONDS * 1000);
  await deps.loginLinks.save({ tokenHash: hashToken(token), orgId, userId: user.id, email: user.email, expiresAt });
  return `${deps.baseUrl}${CONSOLE_LOGIN_PATH}?token=${token}`;
}

export interface RedeemDeps {
  users: UserRepository;
  loginLinks: LoginLinkStore;
  sessions: SessionTokens;
  audit: AuditRepository;
  clock: Clock;
  ids: IdGenerator;
}

/**
 * Consumes a link and opens a session for its user; writes `user.console_link_used`.
 * Unknown, used, expired or malformed tokens, and users blocked or removed since, all
 * get the same refusal: the answer tells nothing about which.
 * @throws AppError `UNAUTHENTICATED`
 */
export async function redeemLoginLink(deps: RedeemDeps, token: string | undefined): Promise<{ user: User; sessionToken: string }> {
  const refused = () =>
    new AppError('UNAUTHENTICATED', 'This sign-in link expired or was already used. Ask for a new one: each link works once, for 10 minutes.');
  if (!token || !TOKEN_SHAPE.test(token)) throw refused();
  const link = await deps.loginLinks.take(hashToken(token));
  if (!link) throw refused();
  const user = await deps.users.findByEmail(link.orgId, link.email);
  if (!user || user.id !== link.userId || user.status !== 'active') throw refused();
  const event: AuditEvent = {
    id: deps.ids.newId(),
    orgId: user.orgId,
    at: deps.clock.now().toISOString(),
    type: 'user.console_link_used',
    outcome: 'success',
    actor: { type: 'user', id: user.id },
    target: { type: 'user', id: user.id },
    details: { email: user.email },
  };
  // Recorded before the session exists: no sign-in without its trace.
  await deps.audit.record(event);
  return { user, sessionToken: await deps.sessions.issue(user) };
}
