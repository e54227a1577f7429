/**
 * Setup links (docs/console.md "Setup links for the customer's IT admin"): an admin
 * makes a link, valid 24 hours, and hands it to the IT admin of the customer, who opens
 * it and gets a setup session: enough to set up and test the SSO connection, nothing
 * else. The link's token is 256 random bits, shown once and stored only as its SHA-256.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { AuditActor, AuditEvent } from '../audit/model.js';
import { randomToken, type Clock, type IdGenerator } from '../clock.js';
import { AppError } from '../errors.js';
import type { SessionTokens } from '../sessions/session-tokens.js';
import { parseInput } from '../settings/validation.js';
import type { SetupLink, SetupLinkRepository } from './ports.js';

/** How long a setup link (and every session opened with it) lasts. */
export const SETUP_LINK_TTL_MS = 24 * 3600_000;
/** How many links `GET …/setup-links` lists, newest first. */
export const MAX_LISTED_SETUP_LINKS = 100;
/** Where a setup link lands, and the path of the link itself. */
export const SETUP_PAGE_PATH = '/console/setup';

export const setupLinkInputSchema = z.strictObject({
  note: z.string().trim().max(200).optional().describe('who the link is for, shown in the list'),
});

export interface SetupLinkDeps {
  setupLinks: SetupLinkRepository;
  clock: Clock;
  ids: IdGenerator;
  baseUrl: string;
}

/** A link as admins list it: never the token or its hash. */
export interface SetupLinkView {
  id: string;
  note: string | null;
  createdBy: string;
  createdAt: string;
  expiresAt: string;
  usedAt: string | null;
  revokedAt: string | null;
}

export const tokenHashOf = (token: string): string => createHash('sha256').update(token, 'utf8').digest('base64url');

export function toSetupLinkView(link: SetupLink): SetupLinkView {
  return {
    id: link.id,
    note: link.note ?? null,
    createdBy: link.createdBy,
    createdAt: link.createdAt,
    expiresAt: link.expiresAt,
    usedAt: link.usedAt ?? null,
    revokedAt: link.revokedAt ?? null,
  };
}

/** Whether a link can still be used at `now`: not revoked, not expired. */
export const setupLinkUsable = (link: SetupLink, now: Date): boolean => link.revokedAt === undefined && Date.parse(link.expiresAt) > now.getTime();

function event(deps: Pick<SetupLinkDeps, 'clock' | 'ids'>, orgId: string, type: AuditEvent['type'], actor: AuditActor, linkId: string, details: Record<string, unknown>): AuditEvent {
  return { id: deps.ids.newId(), orgId, at: deps.clock.now().toISOString(), type, outcome: 'success', actor, target: { type: 'setup-link', id: linkId }, details };
}

/**
 * Makes a setup link. The URL (with the token) is in this answer only.
 * @throws AppError `VALIDATION_FAILED`, `FORBIDDEN` (not a user)
 */
export async function createSetupLink(
  deps: SetupLinkDeps,
  context: { orgId: string; actor: AuditActor },
  input: unknown,
): Promise<{ id: string; url: string; createdAt: string; expiresAt: string }> {
  // A link acts with its maker's permissions, read at every use: only a user can make one.
  if (context.actor.type !== 'user') throw new AppError('FORBIDDEN', 'Only a user of the organization can make a setup link.');
  const { note } = parseInput(setupLinkInputSchema, input);
  const now = deps.clock.now();
  const token = randomToken(32);
  const link: SetupLink = {
    id: deps.ids.newId(),
    orgId: context.orgId,
    ...(note ? { note } : {}),
    createdBy: context.actor.id,
    createdAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + SETUP_LINK_TTL_MS).toISOString(),
    tokenHash: tokenHashOf(token),
  };
  await deps.setupLinks.create(link, [event(deps, context.orgId, 'setup_link.created', context.actor, link.id, { note: note ?? null, expiresAt: link.expiresAt })]);
  const url = new URL(`${deps.baseUrl}${SETUP_PAGE_PATH}`);
  url.searchParams.set('token', token);
  return { id: link.id, url: url.toString(), createdAt: link.createdAt, expiresAt: link.expiresAt };
}

export async function listSetupLinks(deps: Pick<SetupLinkDeps, 'setupLinks'>, orgId: string): Promise<{ items: SetupLinkView[] }> {
  return { items: (await deps.setupLinks.list(orgId, MAX_LISTED_SETUP_LINKS)).map(toSetupLinkView) };
}

/**
 * Revokes a link: it, and every session opened with it, stop working at once (setup
 * sessions read their link on every call). Revoking twice is harmless.
 * @throws AppError `NOT_FOUND`
 */
export async function revokeSetupLink(deps: SetupLinkDeps, context: { orgId: string; actor: AuditActor }, linkId: string): Promise<void> {
  const at = deps.clock.now().toISOString();
  await deps.setupLinks.revoke(context.orgId, linkId, at, [event(deps, context.orgId, 'setup_link.revoked', context.actor, linkId, {})]);
}

const unusable = () => new AppError('UNAUTHENTICATED', 'This setup link expired, was revoked or is not valid. Ask the person who sent it for a new one.');

/**
 * Opens a setup link (`GET /console/setup?token=…`): a setup session token expiring with
 * the link. The first use is audited (`setup_link.used`).
 * @throws AppError `UNAUTHENTICATED` for an unknown, revoked or expired link
 */
export async function openSetupLink(
  deps: Pick<SetupLinkDeps, 'setupLinks' | 'clock' | 'ids'> & { sessions: SessionTokens },
  token: string | undefined,
): Promise<{ sessionToken: string; orgId: string; expiresAt: Date }> {
  // 32 random bytes in base64url: anything else is not one of ours, and is not looked up.
  if (!token || !/^[A-Za-z0-9_-]{43}$/.test(token)) throw unusable();
  const link = await deps.setupLinks.findByTokenHash(tokenHashOf(token));
  const now = deps.clock.now();
  if (!link || !setupLinkUsable(link, now)) throw unusable();
  const expiresAt = new Date(link.expiresAt);
  await deps.setupLinks.markUsed(link.orgId, link.id, now.toISOString(), [
    event(deps, link.orgId, 'setup_link.used', { type: 'setup_link', id: link.id }, link.id, {}),
  ]);
  return { sessionToken: await deps.sessions.issueSetup({ id: link.id, orgId: link.orgId, expiresAt }), orgId: link.orgId, expiresAt };
}
