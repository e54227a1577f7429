/**
 * SP-initiated login: from our link to the org's IdP. SAML gets an AuthnRequest by the
 * HTTP-Redirect binding; OIDC an authorization request with state, nonce and PKCE S256.
 * The request id (or state) and the `fwd` target are kept server-side with a TTL; what
 * travels through the browser is only an opaque reference.
 */
import { createHash } from 'node:crypto';
import { randomToken, type Clock } from '../clock.js';
import { AppError } from '../errors.js';
import type { OidcDiscoveryCache } from '../oidc/discovery.js';
import { createAuthorizationRequest } from '../oidc/relying-party.js';
import { requireSso } from '../provisioning/plan-login.js';
import { authnRequestRedirect, newRequestId } from '../saml/authn-request.js';
import type { SpKeySource } from '../saml/sp-keys.js';
import type { SettingsCache } from '../settings/settings-cache.js';
import { orgUrls } from '../settings/urls.js';
import type { LoginStateRepository, PendingLogin } from './ports.js';
import type { OrgSettings } from '../settings/model.js';
import type { SettingsRepository } from '../settings/ports.js';
import { safeRedirect } from './redirect.js';

/** How long a started login may take to come back. */
export const PENDING_LOGIN_TTL_MS = 10 * 60_000;

/**
 * The cookie that binds a pending login to the browser that started it: the answer is
 * accepted only from that browser, so nobody can finish their own login in someone else's
 * browser (login CSRF). SameSite=None: the SAML answer arrives as a cross-site POST.
 */
export const BROWSER_COOKIE = 'sso_browser';

export const browserCookie = (value: string): string => `${BROWSER_COOKIE}=${value}; HttpOnly; Secure; SameSite=None; Path=/; Max-Age=${PENDING_LOGIN_TTL_MS / 1000}`;

export const browserHash = (value: string): string => createHash('sha256').update(value).digest('base64url');

/** The browser's binding value: the one its `sso_browser` cookie already holds, or a new one. */
export const browserBinding = (existing: string | undefined): string => (existing && /^[A-Za-z0-9_-]{43}$/.test(existing) ? existing : randomToken(32));

/**
 * Whether the answer comes from the browser that started the login.
 * @example sameBrowser(pending, cookieValue) // false: refuse the answer
 */
export const sameBrowser = (pending: { browserHash?: string }, browser: string | undefined): boolean =>
  pending.browserHash === undefined || (browser !== undefined && browserHash(browser) === pending.browserHash);

export interface StartLoginDeps {
  settings: SettingsCache;
  settingsRepository: SettingsRepository;
  loginState: LoginStateRepository;
  clock: Clock;
  baseUrl: string;
  spKeys: SpKeySource;
  oidcDiscovery: OidcDiscoveryCache;
}

/**
 * Where to send the browser to sign in to `orgId`, coming back to `fwd` afterwards.
 * @throws AppError `RELAY_STATE_INVALID` (fwd), `ORG_NOT_FOUND`, `SSO_NOT_ENABLED`
 */
export async function startLogin(deps: StartLoginDeps, input: { orgId: string; fwd: string | undefined; browser: string }): Promise<string> {
  const fwd = input.fwd ?? '/';
  safeRedirect(fwd, deps.baseUrl);
  const settings = await deps.settings.get(input.orgId);
  requireSso(settings, settings.sso.protocol);
  const { pending, url } = await prepareLogin(deps, settings, { fwd, browser: input.browser });
  await deps.loginState.save(pending);
  return url;
}

/**
 * The pending login and the IdP redirect of an SP-initiated login on the org's current
 * connection (whether it is enabled is the caller's to check). Nothing is saved.
 * @throws AppError `SSO_NOT_ENABLED` (a SAML connection without an SSO URL)
 */
export async function prepareLogin(
  deps: Pick<StartLoginDeps, 'clock' | 'baseUrl' | 'spKeys' | 'oidcDiscovery'>,
  settings: OrgSettings,
  options: { fwd: string; browser: string; requestId?: string; test?: PendingLogin['test'] },
): Promise<{ pending: PendingLogin; url: string }> {
  const { sso, org } = settings;
  const now = deps.clock.now();
  const expiresAt = new Date(now.getTime() + PENDING_LOGIN_TTL_MS);
  const urls = orgUrls(deps.baseUrl, org.id);
  const base = { orgId: org.id, fwd: options.fwd, expiresAt, browserHash: browserHash(options.browser), ...(options.test ? { test: options.test } : {}) };

  if (sso.protocol === 'oidc') {
    const oidc = sso.oidc!;
    const discovery = await deps.oidcDiscovery.get(oidc.issuer);
    const request = createAuthorizationRequest(discovery, { clientId: oidc.clientId, redirectUri: urls.oidcRedirectUri, scopes: oidc.scopes });
    return {
      pending: { ...base, protocol: 'oidc', id: request.state, issuer: oidc.issuer, nonce: request.nonce, codeVerifier: request.codeVerifier },
      url: request.url,
    };
  }

  const saml = sso.saml!;
  if (!saml.ssoUrl) {
    throw new AppError('SSO_NOT_ENABLED', "Sign-in from this page needs the identity provider's SSO URL. Ask your administrator to add it to the SAML settings.");
  }
  const signingKey = saml.signAuthnRequests ? await deps.spKeys.load() : undefined;
  if (saml.signAuthnRequests && !signingKey) {
    throw new AppError('INTERNAL', 'signAuthnRequests is on but this deployment has no SP signing key: run `sso-jit sp-key rotate`', { expose: false });
  }
  const requestId = options.requestId ?? newRequestId();
  // RelayState is only the request id: the fwd target never travels through the IdP.
  const url = authnRequestRedirect({ sp: { entityId: urls.spEntityId, acsUrl: urls.acsUrl }, ssoUrl: saml.ssoUrl, now, relayState: requestId, signingKey }, requestId);
  return { pending: { ...base, protocol: 'saml', id: requestId }, url };
}

/**
 * The same, with the org found by its IdP: the SAML IdP entity ID or the OIDC issuer
 * (`/login/sso?idp=…`).
 * @throws AppError `ORG_NOT_FOUND` (no org, or several: the link must name one)
 */
export async function startLoginByIdp(deps: StartLoginDeps, input: { idp: string | undefined; fwd: string | undefined; browser: string }): Promise<string> {
  safeRedirect(input.fwd ?? '/', deps.baseUrl);
  const orgs = input.idp ? await deps.settingsRepository.orgsForIdp(input.idp) : [];
  if (orgs.length !== 1) {
    throw new AppError('ORG_NOT_FOUND', orgs.length === 0 ? 'No organization signs in with this identity provider.' : 'Several organizations use this identity provider: sign in from your organization\'s own link.');
  }
  return startLogin(deps, { orgId: orgs[0]!, fwd: input.fwd, browser: input.browser });
}
