/**
 * The Assertion Consumer Service as a domain function: everything between a POSTed
 * SAMLResponse and a session, with every check of DESIGN.md's security section.
 */
import { LoginError } from '../errors.js';
import type { AssertedIdentity } from '../provisioning/identity.js';
import { requireSso } from '../provisioning/plan-login.js';
import { isRequestId } from '../saml/authn-request.js';
import type { SpKeySource } from '../saml/sp-keys.js';
import type { OrgSettings } from '../settings/model.js';
import type { SettingsCache } from '../settings/settings-cache.js';
import { completeLogin, recordLoginFailure, type FailureContext, type LoginDeps, type LoginResult } from './complete-login.js';
import type { LoginStateRepository } from './ports.js';
import { decideOnCurrentSettings } from './current-settings.js';
import { safeRedirect } from './redirect.js';
import { validateOrgSamlResponse } from './saml-validation.js';
import { answerSamlTest, isTestRequestId, type SsoTestDeps, type TestAnswered } from './sso-tests.js';
import { sameBrowser } from './start-login.js';

export interface SamlLoginDeps extends LoginDeps {
  settings: SettingsCache;
  loginState: LoginStateRepository;
  baseUrl: string;
  /** The SP key pair: its encryption keys (current, previous) decrypt EncryptedAssertions. */
  spKeys: SpKeySource;
}


export interface SamlLoginInput {
  orgId: string;
  /** The `SAMLResponse` form field (base64). */
  samlResponse: string | undefined;
  relayState: string | undefined;
  /** The browser binding cookie, when the browser sent one. */
  browser?: string;
  /** The client's address (API Gateway's `sourceIp`): repeated proof-less failures from one address fold. */
  sourceIp?: string;
}

export interface SamlLoginResult extends LoginResult {
  /** Absolute URL on BASE_URL's origin to send the browser to. */
  location: string;
}

/**
 * Validates a SAML response posted to the org's ACS and provisions its subject.
 * The IdP is the one configured for the org in the route, never the message's Issuer.
 * @throws AppError `ORG_NOT_FOUND`; LoginError for every refused login (after recording it)
 */
export async function consumeSamlResponse(deps: SamlLoginDeps & SsoTestDeps, input: SamlLoginInput): Promise<SamlLoginResult | TestAnswered> {
  // The answer to a test sign-in is validated the same way, but reported, never provisioned.
  if (isTestRequestId(input.relayState)) return answerSamlTest(deps, { ...input, relayState: input.relayState });
  const context: FailureContext = { protocol: 'saml', sourceIp: input.sourceIp };
  return decideOnCurrentSettings(
    deps.settings,
    input.orgId,
    (settings) => samlLogin(deps, settings, input, context),
    (settings, error) => recordLoginFailure(deps, settings, error, context),
  );
}

/** One decision of the ACS on the given settings. */
async function samlLogin(deps: SamlLoginDeps, settings: OrgSettings, input: SamlLoginInput, context: FailureContext): Promise<SamlLoginResult> {
  // RelayState is a path (IdP-initiated) or our opaque reference (SP-initiated); either way it must be safe.
  if (input.relayState && !isRequestId(input.relayState)) safeRedirect(input.relayState, deps.baseUrl);
  requireSso(settings, 'saml');
  const saml = settings.sso.saml!;
  context.issuer = saml.idpEntityId;
  if (!input.samlResponse) {
    throw new LoginError('SAML_MALFORMED', 'The sign-in request carries no SAMLResponse. Start the sign-in again from your identity provider.');
  }
  // Validation notes on the failure context what the message claimed and whether its signature verified.
  const assertion = await validateOrgSamlResponse(deps, input.orgId, saml, input.samlResponse, context);
  const identity: AssertedIdentity = {
    protocol: 'saml',
    issuer: assertion.issuer,
    subject: assertion.nameId,
    subjectFormat: assertion.nameIdFormat,
    ...(assertion.sessionIndex === undefined ? {} : { sessionIndex: assertion.sessionIndex }),
    attributes: assertion.attributes,
  };
  context.identity = identity;
  const replay = { orgId: input.orgId, id: assertion.assertionId, expiresAt: assertion.notOnOrAfter };
  if (assertion.inResponseTo === undefined) {
    if (!saml.allowIdpInitiated) {
      throw new LoginError('IDP_INITIATED_DISABLED', 'Sign-in started at the identity provider is turned off for this organization. Start from the sign-in page instead.', {
        details: { expected: 'InResponseTo of a pending request', received: null },
      });
    }
    const result = await completeLogin(deps, settings, identity, { replay });
    return { ...result, location: safeRedirect(input.relayState || '/me', deps.baseUrl) };
  }
  // SP-initiated: the answer must name a request this org made and has not seen answered.
  // The org is part of the key, so another org's request id is never found.
  const pendingRef = { orgId: input.orgId, protocol: 'saml', id: assertion.inResponseTo } as const;
  const refused = () =>
    new LoginError('IN_RESPONSE_TO_INVALID', 'This sign-in response answers a request this service did not make, or one already used or expired. Start the sign-in again.', {
      details: { expected: 'a pending request of this organization', received: assertion.inResponseTo },
    });
  const pending = deps.loginState.peek(pendingRef).then((found) => {
    // A test's request is answered by the test path only: a real login never finishes it.
    if (!found || found.orgId !== input.orgId || found.protocol !== 'saml' || found.test) throw refused();
    // Answered in another browser than the one that asked: someone else's login (login CSRF).
    if (!sameBrowser(found, input.browser)) throw refused();
    return found;
  });
  const result = await completeLogin(deps, settings, identity, { replay, consume: { ref: pendingRef, refused }, alongside: pending });
  return { ...result, location: safeRedirect((await pending).fwd, deps.baseUrl) };
}
