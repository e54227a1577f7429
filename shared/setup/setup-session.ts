/**
 * Setup sessions: who is calling with a setup session token, and what they may do. The
 * link is read on every call (revoked or expired: `401` at once), and so is the admin who
 * made it: a setup session acts with that admin's current permissions, never more, and
 * stops when they are blocked or removed. Only the routes marked for setup sessions are
 * open to it (functions/routes.ts); everything else is `403 FORBIDDEN`.
 */
import { permissionsOf } from '../access/authorize.js';
import type { AuditActor } from '../audit/model.js';
import type { Clock } from '../clock.js';
import { AppError } from '../errors.js';
import { setupLinkIdOf, type SessionTokens, type SetupSessionClaims } from '../sessions/session-tokens.js';
import type { OrgSettings, Permission } from '../settings/model.js';
import type { SettingsRepository } from '../settings/ports.js';
import type { UserRepository } from '../users/ports.js';
import type { SetupLink, SetupLinkRepository } from './ports.js';
import { setupLinkUsable } from './setup-links.js';

export interface SetupSessionDeps {
  sessions: SessionTokens;
  setupLinks: SetupLinkRepository;
  users: UserRepository;
  clock: Clock;
}

export interface SetupSession {
  link: SetupLink;
  claims: SetupSessionClaims;
  actor: AuditActor & { type: 'setup_link' };
}

/**
 * The setup session of a token, its link still usable and its maker still active.
 * @throws AppError `UNAUTHENTICATED`
 */
export async function currentSetupSession(deps: SetupSessionDeps, token: string | undefined): Promise<SetupSession & { creatorAssignments: { groupId: string; roleId: string }[] }> {
  if (!token) throw new AppError('UNAUTHENTICATED', 'Open the setup link first: no setup session was sent.');
  const claims = await deps.sessions.verifySetup(token);
  const linkId = setupLinkIdOf(claims);
  const link = await deps.setupLinks.get(claims.org, linkId);
  const creator = link ? await deps.users.findById(claims.org, link.createdBy) : undefined;
  if (!link || !setupLinkUsable(link, deps.clock.now()) || !creator || creator.status !== 'active') {
    throw new AppError('UNAUTHENTICATED', 'This setup session ended: its link expired or was revoked. Ask for a new setup link.');
  }
  return { link, claims, actor: { type: 'setup_link', id: link.id }, creatorAssignments: creator.assignments };
}

export interface SetupPrincipal {
  session: SetupSession;
  settings: OrgSettings;
  /** The permissions of the admin who made the link, now. */
  permissions: ReadonlySet<Permission>;
  actor: SetupSession['actor'];
}

const forbidden = () => new AppError('FORBIDDEN', 'A setup session can only set up and test the SSO connection of its organization.');

/**
 * Authorizes a setup session for one admin route.
 * @param open whether the route is open to setup sessions at all
 * @param required the route's permissions, which the link's maker must still hold
 * @throws AppError `UNAUTHENTICATED`, `FORBIDDEN` (another org, a route not open to setup
 *   sessions, or a permission its maker no longer holds)
 */
export async function authorizeSetup(
  deps: SetupSessionDeps & { settingsRepository: SettingsRepository },
  token: string | undefined,
  orgId: string,
  open: boolean,
  required: readonly Permission[],
): Promise<SetupPrincipal> {
  const session = await currentSetupSession(deps, token);
  if (session.link.orgId !== orgId || !open) throw forbidden();
  const settings = await deps.settingsRepository.load(orgId);
  if (!settings) throw forbidden();
  const permissions = permissionsOf({ assignments: session.creatorAssignments }, settings.roles);
  if (!required.every((permission) => permissions.has(permission))) throw forbidden();
  const { creatorAssignments: _a, ...rest } = session;
  return { session: rest, settings, permissions, actor: session.actor };
}
