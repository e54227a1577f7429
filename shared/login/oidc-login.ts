/**
 * The OIDC redirect URI as a domain function: a single-use state bound to the org and
 * issuer it was made for, the code exchanged and the ID token verified (shared/oidc),
 * then the same provisioning as SAML.
 */
import { AppError, LoginError } from '../errors.js';
import { safeIdpText } from '../oidc/http.js';
import type { OidcRelyingParty } from '../oidc/relying-party.js';
import { requireSso } from '../provisioning/plan-login.js';
import type { SecretSealer } from '../secrets/sealer.js';
import type { SettingsCache } from '../settings/settings-cache.js';
import { clientSecretContext } from '../settings/settings-service.js';
import { orgUrls } from '../settings/urls.js';
import type { LoginStateRepository } from './ports.js';
import { completeLogin, recordLoginFailure, type FailureContext, type LoginDeps, type LoginResult } from './complete-login.js';
import { safeRedirect } from './redirect.js';
import { sameBrowser } from './start-login.js';

export interface OidcLoginDeps extends LoginDeps {
  settings: SettingsCache;
  loginState: LoginStateRepository;
  oidc: OidcRelyingParty;
  sealer: SecretSealer;
  baseUrl: string;
}

export interface OidcCallbackInput {
  orgId: string;
  code?: string;
  state?: string;
  /** An OAuth error the IdP sent back instead of a code. */
  error?: string;
  /** RFC 9207 `iss` of the authorization response, when the IdP sends it. */
  iss?: string;
  /** The browser binding cookie, when the browser sent one. */
  browser?: string;
  errorDescription?: string;
  /** The client's address (API Gateway's `sourceIp`): repeated proof-less failures from one address fold. */
  sourceIp?: string;
}

const OAUTH_ERROR = /^[a-z_]{1,64}$/;

/**
 * @throws AppError `ORG_NOT_FOUND`; LoginError for every refused login (after recording it)
 */
export async function consumeOidcCallback(deps: OidcLoginDeps, input: OidcCallbackInput): Promise<LoginResult & { location: string }> {
  const settings = await deps.settings.get(input.orgId);
  const context: FailureContext = { protocol: 'oidc', sourceIp: input.sourceIp, ...(input.iss === undefined ? {} : { claimed: { issuer: input.iss } }) };
  try {
    const stateInvalid = (received: unknown) =>
      new LoginError('STATE_INVALID', 'This sign-in link expired, was already used, or was started elsewhere. Start the sign-in again.', {
        details: { expected: 'the state of a pending sign-in of this organization', received },
      });
    if (!input.state) throw stateInvalid(null);
    // Consumed before anything else: a state works once, whatever happens next.
    const pending = await deps.loginState.take({ orgId: input.orgId, protocol: 'oidc', id: input.state });
    if (!pending || pending.protocol !== 'oidc' || pending.orgId !== input.orgId) {
      throw stateInvalid(pending ? { orgId: pending.orgId, protocol: pending.protocol } : 'unknown, used or expired');
    }
    // Finished in another browser than the one that started it: someone else's login (login CSRF).
    if (!sameBrowser(pending, input.browser)) throw stateInvalid('a state started in another browser');
    requireSso(settings, 'oidc');
    const oidc = settings.sso.oidc!;
    context.issuer = oidc.issuer;
    // RFC 9207: an authorization response that names another issuer answers someone else's request (mix-up).
    if (pending.issuer !== oidc.issuer || (input.iss !== undefined && input.iss !== pending.issuer) || !pending.nonce || !pending.codeVerifier) {
      // The connection changed while the person was at the IdP, or the state is not ours (mix-up).
      throw stateInvalid({ issuer: input.iss ?? pending.issuer });
    }
    if (input.error !== undefined) {
      const code = OAUTH_ERROR.test(input.error) ? input.error : 'unrecognized';
      throw new LoginError('IDP_STATUS_ERROR', `The identity provider did not sign you in (${code}). Ask your administrator to check that you are assigned to this application.`, {
        details: { error: safeIdpText(input.error), errorDescription: safeIdpText(input.errorDescription) ?? null },
      });
    }
    if (!input.code) throw new LoginError('OIDC_TOKEN_EXCHANGE_FAILED', 'The identity provider sent no authorization code. Start the sign-in again.');
    const clientSecret = oidc.clientSecretEncrypted
      ? await deps.sealer.open(oidc.clientSecretEncrypted, clientSecretContext(input.orgId, oidc))
      : undefined;
    const identity = await deps.oidc.completeLogin({
      code: input.code,
      issuer: pending.issuer,
      nonce: pending.nonce,
      codeVerifier: pending.codeVerifier,
      clientId: oidc.clientId,
      clientSecret,
      redirectUri: orgUrls(deps.baseUrl, input.orgId).oidcRedirectUri,
      // Notes on the failure context whether the ID token's signature verified.
      progress: context,
    });
    context.identity = identity;
    const result = await completeLogin(deps, settings, identity);
    return { ...result, location: safeRedirect(pending.fwd, deps.baseUrl) };
  } catch (error) {
    if (error instanceof AppError) await recordLoginFailure(deps, settings, error, context);
    throw error;
  }
}
