/**
 * Single logout (API.md "SAML as enterprises run it": Single logout; issue 15 item 5).
 *
 * - IdP-initiated: a signed `LogoutRequest` at `/sso/{orgId}/saml/slo` (HTTP-Redirect or
 *   HTTP-POST) ends the IdP sessions it names (its SessionIndexes, or every session of its
 *   NameID when it names none) for every token made from them, and is answered with our
 *   signed `LogoutResponse` to the org's `sloUrl`, by HTTP-Redirect, with its RelayState.
 * - SP-initiated: `POST /logout` revokes the presented token (issue 11) and, when the
 *   session came from the org's SAML IdP and `sloUrl` is set, sends the browser there
 *   with our signed `LogoutRequest`; its `LogoutResponse` comes back to the same SLO
 *   endpoint, must answer a request we sent (kept in login-state, single use) and ends at
 *   `/`. An OIDC session goes to the provider's `end_session_endpoint` instead.
 *
 * Every received message and every logout is an audit event (`sso.slo`, `user.logout`);
 * failures that prove nothing (no valid signature of the org's IdP) fold like logins'.
 */
import { createHash } from 'node:crypto';
import { newAuditEvent, type AuditEvent } from '../audit/model.js';
import type { AuditRepository } from '../audit/ports.js';
import type { Clock, IdGenerator } from '../clock.js';
import { AppError, LoginError, type ErrorDetails } from '../errors.js';
import { safeRedirect } from '../login/redirect.js';
import type { OidcDiscoveryCache } from '../oidc/discovery.js';
import { requireSso } from '../provisioning/plan-login.js';
import { newRequestId } from '../saml/authn-request.js';
import {
  isSuccess,
  issuerOf,
  logoutRequestXml,
  logoutResponseXml,
  parseLogoutMessage,
  readLogoutRequest,
  readLogoutResponse,
  redirectBindingUrl,
  verifyLogoutMessage,
  type ParsedLogoutMessage,
  type ReceivedLogoutMessage,
} from '../saml/logout.js';
import type { SpKeySource } from '../saml/sp-keys.js';
import type { OrgSettings, SamlSettings } from '../settings/model.js';
import type { SettingsCache } from '../settings/settings-cache.js';
import { orgUrls } from '../settings/urls.js';
import type { SessionRevocations, SingleLogoutStore } from './ports.js';
import type { SessionClaims, SessionTokens } from './session-tokens.js';
import { endSession } from './sign-out.js';

export interface SingleLogoutDeps {
  settings: SettingsCache;
  sessions: SessionTokens;
  revocations: SessionRevocations;
  singleLogout: SingleLogoutStore;
  audit: AuditRepository;
  spKeys: SpKeySource;
  oidcDiscovery: OidcDiscoveryCache;
  clock: Clock;
  ids: IdGenerator;
  baseUrl: string;
  logger?: { warn(message: string, extra: Record<string, unknown>): void };
}

/** How long the IdP may answer our LogoutRequest (and act on it: its NotOnOrAfter). */
export const LOGOUT_REQUEST_LIFETIME_SECONDS = 600;
/** A LogoutRequest without NotOnOrAfter is accepted this long after its IssueInstant (skew added). */
export const LOGOUT_REQUEST_MAX_AGE_SECONDS = 600;
/** Repeats of one proof-less refusal within this window fold into one `sso.slo` event. */
const FOLD_WINDOW_SECONDS = 60;

export interface ReceiveLogoutInput {
  orgId: string;
  /** Decodes the binding (a thunk, so that a malformed message is audited like any refusal). */
  receive: () => ReceivedLogoutMessage;
  sourceIp?: string;
}

/** Where the browser goes next: the IdP (our LogoutResponse), `/`, or nowhere (a page says it is done). */
export interface LogoutAnswer {
  location?: string;
}

interface Attempt {
  message?: ReceivedLogoutMessage;
  kind?: 'LogoutRequest' | 'LogoutResponse';
  claimedIssuer?: string;
  signatureVerified: boolean;
  nameId?: string;
}

/**
 * Acts on a LogoutRequest or LogoutResponse an IdP sent to the org's SLO endpoint.
 * @throws AppError `ORG_NOT_FOUND`; LoginError (`SIGNATURE_INVALID`, `ALGORITHM_NOT_ALLOWED`,
 *   `SAML_MALFORMED`, `SSO_NOT_ENABLED`, `IDP_ISSUER_MISMATCH`, `DESTINATION_MISMATCH`,
 *   `ASSERTION_EXPIRED`, `ASSERTION_NOT_YET_VALID`, `ASSERTION_REPLAYED`,
 *   `IN_RESPONSE_TO_INVALID`) after recording it; nothing is revoked then
 */
export async function receiveLogoutMessage(deps: SingleLogoutDeps, input: ReceiveLogoutInput): Promise<LogoutAnswer> {
  // Read now, not from the warm cache: a certificate removed a moment ago must not verify.
  const settings = await deps.settings.reload(input.orgId);
  const attempt: Attempt = { signatureVerified: false };
  try {
    requireSso(settings, 'saml');
    const saml = settings.sso.saml!;
    attempt.message = input.receive();
    const parsed = parseLogoutMessage(attempt.message);
    attempt.kind = parsed.kind;
    attempt.claimedIssuer = issuerOf(parsed.root);
    const context: ErrorDetails = { message: parsed.kind, binding: attempt.message.binding };
    verifyLogoutMessage(attempt.message, parsed, saml.certificates, context);
    attempt.signatureVerified = true;
    return parsed.kind === 'LogoutRequest'
      ? await acceptLogoutRequest(deps, settings, saml, attempt, parsed, context)
      : await acceptLogoutResponse(deps, settings, saml, parsed, context);
  } catch (error) {
    if (error instanceof AppError && error.code !== 'SERVICE_UNAVAILABLE') await recordFailure(deps, settings, error, attempt, input.sourceIp);
    throw error;
  }
}

function assertIssuer(saml: SamlSettings, received: string | undefined, context: ErrorDetails): void {
  if (received === saml.idpEntityId) return;
  throw new LoginError(
    'IDP_ISSUER_MISMATCH',
    'The logout message comes from a different identity provider than the one configured for this organization. Ask your administrator to check the IdP entity ID (issuer) in the SSO settings.',
    { details: { ...context, expected: saml.idpEntityId, received: received ?? null } },
  );
}

/**
 * A logout message must name this org's SLO URL as its Destination (SAML bindings
 * 3.4.5.2 / 3.5.5.2 require it of signed messages): without one, a message signed for one
 * org could be replayed at another org trusting the same IdP (the replay record is per org).
 */
function assertDestination(expected: string, received: string | undefined, context: ErrorDetails): void {
  if (received === expected) return;
  throw new LoginError(
    'DESTINATION_MISMATCH',
    "The logout message was sent for a different address than this organization's single logout URL. Ask your administrator to set the SLO URL at the identity provider to the one in this organization's SP metadata.",
    { details: { ...context, where: 'Destination', expected, received: received ?? null } },
  );
}

async function acceptLogoutRequest(
  deps: SingleLogoutDeps,
  settings: OrgSettings,
  saml: SamlSettings,
  attempt: Attempt,
  parsed: ParsedLogoutMessage,
  context: ErrorDetails,
): Promise<LogoutAnswer> {
  const request = readLogoutRequest(parsed.root, context);
  const urls = orgUrls(deps.baseUrl, settings.org.id);
  attempt.nameId = request.nameId;
  Object.assign(context, { requestId: request.id, nameId: request.nameId, sessionIndexes: request.sessionIndexes });
  assertIssuer(saml, request.issuer, context);
  assertDestination(urls.singleLogoutUrl, request.destination, context);

  // Times, with the injected clock and the org's skew (as for assertions).
  const now = deps.clock.now();
  const skewMs = saml.clockSkewSeconds * 1000;
  const times = { now: now.toISOString(), clockSkewSeconds: saml.clockSkewSeconds, notOnOrAfter: request.notOnOrAfter?.toISOString() ?? null, issueInstant: request.issueInstant?.toISOString() ?? null };
  const lastValid = request.notOnOrAfter?.getTime() ?? (request.issueInstant === undefined ? undefined : request.issueInstant.getTime() + LOGOUT_REQUEST_MAX_AGE_SECONDS * 1000);
  if (lastValid === undefined) throw new LoginError('SAML_MALFORMED', 'The LogoutRequest has neither IssueInstant nor NotOnOrAfter. Ask your administrator to check the identity provider.', { details: { ...context } });
  if (now.getTime() - skewMs >= lastValid) {
    throw new LoginError('ASSERTION_EXPIRED', 'The logout request has expired. Sign out again at your identity provider; if it keeps happening, ask your administrator to check its clock.', {
      details: { ...context, ...times },
    });
  }
  if (request.issueInstant !== undefined && request.issueInstant.getTime() > now.getTime() + skewMs) {
    throw new LoginError('ASSERTION_NOT_YET_VALID', "The logout request was issued in the future. Ask your administrator to check the identity provider's clock.", { details: { ...context, ...times } });
  }
  // Single use: the ID is remembered until the request could no longer be accepted anyway.
  if (!(await deps.singleLogout.markSeen(settings.org.id, request.id, new Date(lastValid + skewMs)))) {
    throw new LoginError('ASSERTION_REPLAYED', 'This logout request was already used. Sign out again at your identity provider.', { details: { ...context } });
  }

  try {
    await deps.revocations.revokeIdpSessions(
      { orgId: settings.org.id, issuer: saml.idpEntityId, nameId: request.nameId, sessionIndexes: request.sessionIndexes },
      now,
      new Date(now.getTime() + deps.sessions.ttlSeconds * 1000),
    );
  } catch (error) {
    // Nothing (or not everything) was revoked: the IdP's retry of this very request must be carried out, not refused as a replay.
    await deps.singleLogout.forgetSeen(settings.org.id, request.id).catch(() => undefined);
    throw error;
  }
  await deps.audit.record(
    newAuditEvent(deps, {
      orgId: settings.org.id,
      type: 'sso.slo',
      actor: { type: 'idp', id: saml.idpEntityId },
      details: boundedDetails({ ...context, scope: request.sessionIndexes.length === 0 ? 'every session of the NameID' : 'the sessions of these SessionIndexes', answeredTo: saml.sloUrl ?? null }),
    }),
  );
  if (saml.sloUrl === undefined) return {};
  const response = logoutResponseXml({ id: newRequestId(), now, issuer: urls.spEntityId, destination: saml.sloUrl, inResponseTo: request.id });
  return { location: redirectBindingUrl(saml.sloUrl, 'SAMLResponse', response, attempt.message?.relayState, await deps.spKeys.load()) };
}

async function acceptLogoutResponse(
  deps: SingleLogoutDeps,
  settings: OrgSettings,
  saml: SamlSettings,
  parsed: ParsedLogoutMessage,
  context: ErrorDetails,
): Promise<LogoutAnswer> {
  const response = readLogoutResponse(parsed.root, context);
  Object.assign(context, { responseId: response.id, inResponseTo: response.inResponseTo ?? null, status: response.status });
  assertIssuer(saml, response.issuer, context);
  assertDestination(orgUrls(deps.baseUrl, settings.org.id).singleLogoutUrl, response.destination, context);
  // It must answer a LogoutRequest this org sent and has not seen answered (the org is in the key).
  if (response.inResponseTo === undefined || !(await deps.singleLogout.takePending(settings.org.id, response.inResponseTo))) {
    throw new LoginError('IN_RESPONSE_TO_INVALID', 'This logout response answers a request this service did not make, or one already answered or expired.', {
      details: { ...context, expected: 'a pending LogoutRequest of this organization', received: response.inResponseTo ?? null },
    });
  }
  // Our session ended when the logout began; a partial logout at the IdP is recorded, and the person still lands at `/`.
  await deps.audit.record(
    newAuditEvent(deps, {
      orgId: settings.org.id,
      type: 'sso.slo',
      actor: { type: 'idp', id: saml.idpEntityId },
      ...(isSuccess(response.status) ? {} : { outcome: 'failure' as const, code: 'IDP_STATUS_ERROR' as const }),
      details: boundedDetails({ ...context }),
    }),
  );
  return { location: safeRedirect('/', deps.baseUrl) };
}

const MAX_DETAIL = 256;

/** Keeps what a message can make us store small: strings cut to 256 characters, lists to 20 items of them. */
function boundedDetails(details: ErrorDetails): Record<string, unknown> {
  const cut = (value: unknown): unknown => (typeof value === 'string' && value.length > MAX_DETAIL ? `${value.slice(0, MAX_DETAIL)}…` : value);
  return Object.fromEntries(
    Object.entries(details)
      .slice(0, 20)
      .map(([key, value]) => [key, Array.isArray(value) ? value.slice(0, 20).map(cut) : cut(value)]),
  );
}

/** A refused logout message as an `sso.slo` failure; one that proves nothing folds with its repeats. Never throws. */
async function recordFailure(deps: SingleLogoutDeps, settings: OrgSettings, error: AppError, attempt: Attempt, sourceIp: string | undefined): Promise<void> {
  const event: AuditEvent = newAuditEvent(deps, {
    orgId: settings.org.id,
    type: 'sso.slo',
    outcome: 'failure',
    code: error.code,
    actor: { type: 'idp', id: (attempt.signatureVerified ? settings.sso.saml?.idpEntityId : attempt.claimedIssuer)?.slice(0, MAX_DETAIL) ?? 'unknown' },
    details: boundedDetails({
      ...(attempt.kind === undefined ? {} : { message: attempt.kind }),
      ...(attempt.message === undefined ? {} : { binding: attempt.message.binding }),
      ...error.details,
      ...(attempt.nameId === undefined ? {} : { nameId: attempt.nameId }),
      ...(sourceIp === undefined ? {} : { sourceIp }),
      signatureVerified: attempt.signatureVerified,
    }),
  });
  try {
    if (attempt.signatureVerified) {
      await deps.audit.record(event);
    } else {
      const parts = [settings.org.id, 'slo', error.code, attempt.claimedIssuer ?? null, sourceIp ?? null];
      await deps.audit.recordFolded(event, { key: createHash('sha256').update(JSON.stringify(parts)).digest('base64url'), windowSeconds: FOLD_WINDOW_SECONDS });
    }
  } catch (cause) {
    deps.logger?.warn('single logout refused; its audit event could not be written', { orgId: settings.org.id, code: error.code, error: cause });
  }
}

/**
 * `POST /logout`: revokes the presented token (a token that does not verify ends nothing)
 * and says where the browser goes next to end the IdP session too: the org's `sloUrl`
 * with our signed LogoutRequest (a SAML session), or the OIDC provider's
 * `end_session_endpoint` (an OIDC session); nowhere otherwise. Writes `user.logout`.
 */
export async function logout(deps: SingleLogoutDeps, token: string | undefined): Promise<LogoutAnswer> {
  const claims = await endSession(deps, token);
  if (!claims) return {};
  let location: string | undefined;
  try {
    location = await idpLogoutLocation(deps, claims);
  } catch (error) {
    // The session here is over whatever happens; the IdP's is left as it is.
    deps.logger?.warn('single logout could not be started; the session here is revoked', { orgId: claims.org, error });
  }
  await deps.audit
    .record(
      newAuditEvent(deps, {
        orgId: claims.org,
        type: 'user.logout',
        actor: { type: 'user', id: claims.sub },
        target: { type: 'user', id: claims.sub },
        details: { sessionFrom: claims.idp?.protocol ?? 'other', singleLogout: location === undefined ? 'none' : claims.idp?.protocol === 'saml' ? 'saml LogoutRequest' : 'oidc end_session' },
      }),
    )
    .catch((error: unknown) => deps.logger?.warn('logout: its audit event could not be written', { orgId: claims.org, error }));
  return location === undefined ? {} : { location };
}

async function idpLogoutLocation(deps: SingleLogoutDeps, claims: SessionClaims): Promise<string | undefined> {
  const idp = claims.idp;
  if (idp === undefined) return undefined;
  const settings = await deps.settings.get(claims.org);
  const { saml, oidc } = settings.sso;
  if (idp.protocol === 'saml') {
    // Only to the IdP the session came from: after an IdP change the old session is not this IdP's to end.
    if (saml?.sloUrl === undefined || saml.idpEntityId !== idp.issuer || idp.nameId === undefined) return undefined;
    const now = deps.clock.now();
    const notOnOrAfter = new Date(now.getTime() + LOGOUT_REQUEST_LIFETIME_SECONDS * 1000);
    const id = newRequestId();
    await deps.singleLogout.savePending(claims.org, id, notOnOrAfter);
    const xml = logoutRequestXml({
      id,
      now,
      issuer: orgUrls(deps.baseUrl, claims.org).spEntityId,
      destination: saml.sloUrl,
      notOnOrAfter,
      nameId: idp.nameId,
      ...(idp.nameIdFormat === undefined ? {} : { nameIdFormat: idp.nameIdFormat }),
      ...(idp.sessionIndex === undefined ? {} : { sessionIndex: idp.sessionIndex }),
    });
    return redirectBindingUrl(saml.sloUrl, 'SAMLRequest', xml, undefined, await deps.spKeys.load());
  }
  if (oidc === undefined || oidc.issuer !== idp.issuer) return undefined;
  const endpoint = (await deps.oidcDiscovery.get(oidc.issuer)).end_session_endpoint;
  if (endpoint === undefined) return undefined;
  // OpenID RP-Initiated Logout 1.0 §2: client_id and logout_hint instead of id_token_hint,
  // so no ID token is kept in (and leaked with) our bearer session token.
  const url = new URL(endpoint);
  url.searchParams.set('client_id', oidc.clientId);
  url.searchParams.set('logout_hint', claims.email);
  return url.toString();
}
