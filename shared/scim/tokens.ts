/**
 * SCIM tokens: per-org bearer secrets an admin makes for the IdP's provisioning
 * connector. A token is 256 random bits; only its SHA-256 is stored, so whoever reads the
 * table cannot provision with what they read. The secret is shown once, in the answer
 * that creates it. A token is looked up by its hash (one consistent read, so a revoked
 * token fails at once everywhere) and the hashes are compared again in constant time.
 * `lastUsedAt` is kept cheaply: at most one conditional write per token per hour and
 * container.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock, IdGenerator } from '../clock.js';
import { AppError } from '../errors.js';
import type { ChangeContext } from '../settings/settings-service.js';
import type { AuditEvent } from '../audit/model.js';
import type { ScimToken, ScimTokenRepository } from './ports.js';

/** Secrets carry a recognisable prefix (secret scanners, and never confused with a session JWT). */
const PREFIX = 'scim_';
/** How stale `lastUsedAt` may get before a request refreshes it. */
const LAST_USED_RESOLUTION_MS = 60 * 60 * 1000;

export interface ScimTokenDeps {
  scimTokens: ScimTokenRepository;
  clock: Clock;
  ids: IdGenerator;
}

export const hashToken = (secret: string): string => createHash('sha256').update(secret, 'utf8').digest('hex');

function tokenEvent(deps: ScimTokenDeps, context: ChangeContext, type: AuditEvent['type'], tokenId: string): AuditEvent {
  return { id: deps.ids.newId(), orgId: context.orgId, at: deps.clock.now().toISOString(), type, outcome: 'success', actor: context.actor, target: { type: 'scim-token', id: tokenId }, details: {} };
}

/**
 * Makes a token for the org. The secret is in this answer only.
 * @example const { id, token } = await createScimToken(deps, context) // token: "scim_…"
 */
export async function createScimToken(deps: ScimTokenDeps, context: ChangeContext): Promise<{ id: string; token: string; createdAt: string }> {
  const secret = `${PREFIX}${randomBytes(32).toString('base64url')}`;
  const token: ScimToken = { id: deps.ids.newId(), orgId: context.orgId, tokenHash: hashToken(secret), createdAt: deps.clock.now().toISOString() };
  await deps.scimTokens.create(token, [tokenEvent(deps, context, 'scim_token.created', token.id)]);
  return { id: token.id, token: secret, createdAt: token.createdAt };
}

export async function listScimTokens(deps: Pick<ScimTokenDeps, 'scimTokens'>, orgId: string): Promise<{ items: { id: string; createdAt: string; lastUsedAt: string | null }[] }> {
  const tokens = await deps.scimTokens.list(orgId);
  return {
    items: tokens
      .sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0))
      .map(({ id, createdAt, lastUsedAt }) => ({ id, createdAt, lastUsedAt: lastUsedAt ?? null })),
  };
}

/** @throws AppError `NOT_FOUND` */
export async function revokeScimToken(deps: ScimTokenDeps, context: ChangeContext, tokenId: string): Promise<void> {
  const revoked = await deps.scimTokens.revoke(context.orgId, tokenId, [tokenEvent(deps, context, 'scim_token.revoked', tokenId)]);
  if (!revoked) throw new AppError('NOT_FOUND', `No SCIM token ${tokenId} in this organization.`);
}

const unauthenticated = () => new AppError('UNAUTHENTICATED', 'Send a valid SCIM token of this organization: Authorization: Bearer <token>.');

/** Authenticates SCIM requests; one per container (it remembers when it last recorded each token's use). */
export class ScimAuthenticator {
  private readonly recorded = new Map<string, number>();

  constructor(private readonly deps: Pick<ScimTokenDeps, 'scimTokens' | 'clock'>) {}

  /**
   * The token of `orgId` that `secret` is. An unknown, revoked or other org's token, and
   * anything that is not a SCIM token (a session JWT), are the same `401`.
   * @throws AppError `UNAUTHENTICATED`
   */
  async authenticate(orgId: string, secret: string | undefined): Promise<ScimToken> {
    if (!secret || !secret.startsWith(PREFIX) || secret.length > 256) throw unauthenticated();
    const presented = hashToken(secret);
    const token = await this.deps.scimTokens.findByHash(presented);
    if (!token || token.orgId !== orgId || !timingSafeEqual(Buffer.from(token.tokenHash, 'hex'), Buffer.from(presented, 'hex'))) throw unauthenticated();
    await this.recordUse(token);
    return token;
  }

  private async recordUse(token: ScimToken): Promise<void> {
    const now = this.deps.clock.now();
    const last = Math.max(this.recorded.get(token.id) ?? 0, token.lastUsedAt ? Date.parse(token.lastUsedAt) : 0);
    if (now.getTime() - last < LAST_USED_RESOLUTION_MS) return;
    this.recorded.set(token.id, now.getTime());
    if (this.recorded.size > 1000) this.recorded.delete(this.recorded.keys().next().value as string);
    // Best effort: a failed stamp never refuses a request.
    await this.deps.scimTokens.touch(token, now.toISOString(), new Date(now.getTime() - LAST_USED_RESOLUTION_MS).toISOString()).catch(() => undefined);
  }
}
