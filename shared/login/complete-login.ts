/**
 * The protocol-neutral end of every login: read the user, apply the provisioning
 * rules, write user + audit events + replay marker in one transaction, issue a
 * session. A lost race (a concurrent first login of the same person) is retried once
 * against the now-existing user. Failures are recorded as `login.failed` events.
 */
import type { AuditEvent } from '../audit/model.js';
import type { Clock, IdGenerator } from '../clock.js';
import { AppError, LoginError } from '../errors.js';
import { extractEmail, extractRoleValues, scimUserNameOf } from '../provisioning/attributes.js';
import type { AssertedIdentity } from '../provisioning/identity.js';
import { planLogin } from '../provisioning/plan-login.js';
import type { PendingLoginRef } from './ports.js';
import type { IdpSessionClaim, SessionTokens } from '../sessions/session-tokens.js';
import type { OrgSettings } from '../settings/model.js';
import { CommitConflict, type ReplayMarker, type UserRepository } from '../users/ports.js';
import { type AuditRepository } from '../audit/ports.js';
import type { User } from '../users/model.js';
import { failureFold } from './failure-fold.js';

export interface LoginDeps {
  users: UserRepository;
  audit: AuditRepository;
  sessions: SessionTokens;
  clock: Clock;
  ids: IdGenerator;
  /** Where failures that cannot be audited (no org) and audit write errors go. */
  logger?: { warn(message: string, extra: Record<string, unknown>): void };
}

export interface LoginResult {
  user: User;
  created: boolean;
  sessionToken: string;
}

/**
 * Provisions the asserted person and issues their session.
 * @throws LoginError for every refusal the provisioning rules define, `ASSERTION_REPLAYED`
 */
export interface CompleteLoginOptions {
  /** The assertion's replay marker (SAML). */
  replay?: ReplayMarker;
  /** The pending login this answers, consumed in the same transaction (SP-initiated SAML). */
  consume?: { ref: PendingLoginRef; refused: () => LoginError };
  /** A check that runs alongside the first user read (keeps a login at two sequential round trips). */
  alongside?: Promise<unknown>;
}

/**
 * The key the user is read by: the email, or, with `method: "scim"` and no email
 * asserted, the name a SCIM user without an email address signs in by (its userName).
 * @throws LoginError `EMAIL_MISSING`, `EMAIL_NOT_VERIFIED`
 */
function loginKey(settings: OrgSettings, identity: AssertedIdentity): string {
  try {
    return extractEmail(identity, settings.provisioning.jit);
  } catch (error) {
    const userName = settings.provisioning.method === 'scim' && error instanceof LoginError && error.code === 'EMAIL_MISSING' ? scimUserNameOf(identity) : undefined;
    if (userName === undefined) throw error;
    return userName;
  }
}

export async function completeLogin(deps: LoginDeps, settings: OrgSettings, identity: AssertedIdentity, options: CompleteLoginOptions = {}): Promise<LoginResult> {
  const { replay, consume } = options;
  const email = loginKey(settings, identity);
  for (let attempt = 0; ; attempt += 1) {
    const [existing] = await Promise.all([deps.users.findByEmail(settings.org.id, email), attempt === 0 ? options.alongside : undefined]);
    const plan = planLogin({ settings, identity, email, existing, now: deps.clock.now(), ids: deps.ids, replay });
    try {
      await deps.users.commitLogin({ ...plan.commit, consume: consume?.ref });
    } catch (error) {
      // Decided on settings replaced meanwhile: the caller plans again on the current ones.
      if (!(error instanceof CommitConflict) || error.reason === 'settings-changed') throw error;
      if (error.reason === 'replayed') {
        throw new LoginError('ASSERTION_REPLAYED', 'This sign-in response was already used. Start the sign-in again from your identity provider.', {
          details: { assertionId: replay?.id },
        });
      }
      if (error.reason === 'pending-used' && consume) throw consume.refused();
      if (attempt === 0) continue;
      throw new LoginError('CONFLICT', 'Your account changed while you were signing in. Sign in again.', { cause: error });
    }
    return { user: plan.user, created: plan.created, sessionToken: await deps.sessions.issue(plan.user, undefined, idpSessionOf(identity)) };
  }
}

/**
 * What the session remembers of the IdP session (single logout): carried in the token,
 * so a login writes nothing more to DynamoDB for it.
 */
function idpSessionOf(identity: AssertedIdentity): IdpSessionClaim {
  if (identity.protocol === 'oidc') return { protocol: 'oidc', issuer: identity.issuer };
  return {
    protocol: 'saml',
    issuer: identity.issuer,
    nameId: identity.subject,
    ...(identity.subjectFormat === undefined ? {} : { nameIdFormat: identity.subjectFormat }),
    ...(identity.sessionIndex === undefined ? {} : { sessionIndex: identity.sessionIndex }),
  };
}

const MAX_DETAIL_STRING = 256;
const MAX_DETAIL_ITEMS = 20;

/**
 * Bounds what an unauthenticated post can make us store: strings cut to 256 characters,
 * lists to 20 items, nesting to 4 levels. Keeps every failure event small.
 */
function bounded(value: unknown, depth = 0): any {
  if (typeof value === 'string') return value.length > MAX_DETAIL_STRING ? `${value.slice(0, MAX_DETAIL_STRING)}…` : value;
  if (value === null || typeof value !== 'object') return value;
  if (depth >= 4) return '…';
  if (Array.isArray(value)) return value.slice(0, MAX_DETAIL_ITEMS).map((item) => bounded(item, depth + 1));
  return Object.fromEntries(
    Object.entries(value)
      .slice(0, MAX_DETAIL_ITEMS)
      .map(([key, entry]) => [key.slice(0, 64), bounded(entry, depth + 1)]),
  );
}

/**
 * What a failed login's audit event records about the attempt, beyond the error's own
 * details. Filled in as the login goes (validation sets `claimed` and `signatureVerified`).
 */
export interface FailureContext {
  protocol: 'saml' | 'oidc';
  issuer?: string;
  identity?: AssertedIdentity;
  /** The issuer and NameID the request claimed, unverified: they tell repeated attempts apart. */
  claimed?: { issuer?: string; nameId?: string };
  /** Set once a signature of the org's IdP verified (SAML message, OIDC ID token). */
  signatureVerified?: boolean;
  /** The address the request came from (API Gateway's `requestContext.http.sourceIp`). */
  sourceIp?: string;
}

/**
 * Records a refused login as a `login.failed` event carrying the code, the IdP issuer,
 * the subject, the attribute names and role values received, the expected and received
 * values of the mismatch, and the source address. A failure that proves nothing (see
 * failure-fold.ts) is folded into the event of its first repeat instead of adding one.
 * Never throws: a failed audit write is logged.
 */
export async function recordLoginFailure(
  deps: LoginDeps,
  settings: OrgSettings,
  error: AppError,
  context: FailureContext,
): Promise<void> {
  const { identity } = context;
  const issuer = identity?.issuer ?? context.issuer;
  const fold = failureFold(settings.org.id, error.code, context);
  const event: AuditEvent = {
    id: deps.ids.newId(),
    orgId: settings.org.id,
    at: deps.clock.now().toISOString(),
    type: 'login.failed',
    outcome: 'failure',
    code: error.code,
    actor: { type: 'idp', id: issuer ?? 'unknown' },
    details: bounded({
      // The error's own details first: what this service knows (the configured issuer) wins over what the message claimed.
      ...error.details,
      protocol: context.protocol,
      message: error.message,
      issuer: issuer ?? null,
      ...(context.sourceIp === undefined ? {} : { sourceIp: context.sourceIp }),
      // Unverified: shown only where nothing better is known, marked as what the request claimed.
      ...(fold && context.claimed ? { claimed: context.claimed } : {}),
      ...(identity
        ? {
            subject: identity.subject,
            attributeNames: [...identity.attributes.keys()],
            roleAttribute: settings.provisioning.jit.roleAttribute ?? null,
            roleValues: extractRoleValues(identity, settings.provisioning.jit) ?? null,
          }
        : {}),
    }),
  };
  const userId = error.details.userId;
  if (typeof userId === 'string') event.target = { type: 'user', id: userId };
  try {
    if (fold === undefined) await deps.audit.record(event);
    else await deps.audit.recordFolded(event, fold);
  } catch (auditError) {
    deps.logger?.warn('could not record a login failure', { code: error.code, orgId: settings.org.id, error: String(auditError) });
  }
}
