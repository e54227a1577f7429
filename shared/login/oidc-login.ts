/**
 * The OIDC redirect URI as a domain function: a single-use state bound to the org and
 * issuer it was made for, the code exchanged and the ID token verified (shared/oidc),
 * then the same provisioning as SAML.
 */
import { LoginError } from '../errors.js';
import { safeIdpText } from '../oidc/http.js';
import type { OidcRelyingParty } from '../oidc/relying-party.js';
import type { AssertedIdentity } from '../provisioning/identity.js';
import { requireSso } from '../provisioning/plan-login.js';
import type { SecretSealer } from '../secrets/sealer.js';
import type { OrgSettings } from '../settings/model.js';
import type { SettingsCache } from '../settings/settings-cache.js';
import { clientSecretContext } from '../settings/settings-service.js';
import { orgUrls } from '../settings/urls.js';
import type { LoginStateRepository, PendingLogin } from './ports.js';
import { completeLogin, recordLoginFailure, type FailureContext, type LoginDeps, type LoginResult } from './complete-login.js';
import { decideOnCurrentSettings } from './current-settings.js';
import { safeRedirect } from './redirect.js';
import { answerOidcTest, type SsoTestDeps, type TestAnswered } from './sso-tests.js';
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
export async function consumeOidcCallback(deps: OidcLoginDeps & SsoTestDeps, input: OidcCallbackInput): Promise<(LoginResult & { location: string }) | TestAnswered> {
  const context: FailureContext = { protocol: 'oidc', sourceIp: input.sourceIp, ...(input.iss === undefined ? {} : { claimed: { issuer: input.iss } }) };
  // The state is spent and the code exchanged once (a second decision on fresher settings
  // reuses both); everything the settings decide is decided again.
  let taking: Promise<PendingLogin> | undefined = takeState(deps, input);
  // The answer to a test sign-in is checked the same way, but reported, never provisioned.
  // (A state that cannot be taken is refused, and recorded, by the decision below.)
  const test = await taking.then((pending) => (pending.test ? pending : undefined), () => undefined);
  if (test) return answerOidcTest(deps, input, test, (settings) => exchangeCode(deps, settings, input, test, { protocol: 'oidc' }), stateInvalid);
  let exchanging: { clientId: string; identity: Promise<AssertedIdentity> } | undefined;
  return decideOnCurrentSettings(
    deps.settings,
    input.orgId,
    async (settings) => {
      const pending = await (taking ??= takeState(deps, input));
      requireSso(settings, 'oidc');
      const oidc = settings.sso.oidc!;
      context.issuer = oidc.issuer;
      // RFC 9207: an authorization response that names another issuer answers someone else's request (mix-up).
      if (pending.issuer !== oidc.issuer || (input.iss !== undefined && input.iss !== pending.issuer) || !pending.nonce || !pending.codeVerifier) {
        // The connection changed while the person was at the IdP, or the state is not ours (mix-up).
        throw stateInvalid({ issuer: input.iss ?? pending.issuer });
      }
      exchanging ??= { clientId: oidc.clientId, identity: exchangeCode(deps, settings, input, pending, context) };
      // The ID token was verified for the client of the first decision: another client now is another connection.
      if (exchanging.clientId !== oidc.clientId) throw stateInvalid({ clientId: exchanging.clientId });
      const identity = await exchanging.identity;
      context.identity = identity;
      const result = await completeLogin(deps, settings, identity);
      return { ...result, location: safeRedirect(pending.fwd, deps.baseUrl) };
    },
    (settings, error) => recordLoginFailure(deps, settings, error, context),
  );
}

const stateInvalid = (received: unknown) =>
  new LoginError('STATE_INVALID', 'This sign-in link expired, was already used, or was started elsewhere. Start the sign-in again.', {
    details: { expected: 'the state of a pending sign-in of this organization', received },
  });

/** Spends the state, once, whatever happens next: the pending login it names, started in this browser. */
async function takeState(deps: OidcLoginDeps, input: OidcCallbackInput): Promise<PendingLogin> {
  if (!input.state) throw stateInvalid(null);
  const pending = await deps.loginState.take({ orgId: input.orgId, protocol: 'oidc', id: input.state });
  if (!pending || pending.protocol !== 'oidc' || pending.orgId !== input.orgId) {
    throw stateInvalid(pending ? { orgId: pending.orgId, protocol: pending.protocol } : 'unknown, used or expired');
  }
  // Finished in another browser than the one that started it: someone else's login (login CSRF).
  if (!sameBrowser(pending, input.browser)) throw stateInvalid('a state started in another browser');
  return pending;
}

/** The IdP's answer: its error, or the code exchanged and the ID token verified. */
async function exchangeCode(deps: OidcLoginDeps, settings: OrgSettings, input: OidcCallbackInput, pending: PendingLogin, progress: FailureContext): Promise<AssertedIdentity> {
  if (input.error !== undefined) {
    const code = OAUTH_ERROR.test(input.error) ? input.error : 'unrecognized';
    throw new LoginError('IDP_STATUS_ERROR', `The identity provider did not sign you in (${code}). Ask your administrator to check that you are assigned to this application.`, {
      details: { error: safeIdpText(input.error), errorDescription: safeIdpText(input.errorDescription) ?? null },
    });
  }
  if (!input.code) throw new LoginError('OIDC_TOKEN_EXCHANGE_FAILED', 'The identity provider sent no authorization code. Start the sign-in again.');
  const oidc = settings.sso.oidc!;
  const clientSecret = oidc.clientSecretEncrypted ? await deps.sealer.open(oidc.clientSecretEncrypted, clientSecretContext(input.orgId, oidc)) : undefined;
  return deps.oidc.completeLogin({
    code: input.code,
    issuer: pending.issuer!,
    nonce: pending.nonce!,
    codeVerifier: pending.codeVerifier!,
    clientId: oidc.clientId,
    clientSecret,
    redirectUri: orgUrls(deps.baseUrl, input.orgId).oidcRedirectUri,
    // Notes on the failure context whether the ID token's signature verified.
    progress,
  });
}
