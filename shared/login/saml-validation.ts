/**
 * How an org's SAML settings become the input of `validateSamlResponse`: the one place
 * the ACS and the SAML test sign-in (which must judge a response exactly alike) read
 * the IdP, the clock skew, the algorithm policy and the encryption settings.
 */
import type { Clock } from '../clock.js';
import { spDecryptionKeys, type SpKeySource } from '../saml/sp-keys.js';
import { validateSamlResponse, type SamlValidationProgress, type ValidatedAssertion } from '../saml/validate-response.js';
import type { SamlSettings } from '../settings/model.js';
import { orgUrls } from '../settings/urls.js';

export interface OrgSamlValidationDeps {
  baseUrl: string;
  clock: Clock;
  /** The SP key pair: its encryption keys (current, previous) decrypt EncryptedAssertions, read only when one arrives. */
  spKeys: SpKeySource;
}

/**
 * Validates a posted SAMLResponse for the org in the route, with that org's SAML settings.
 * @throws LoginError as `validateSamlResponse`
 */
export function validateOrgSamlResponse(
  deps: OrgSamlValidationDeps,
  orgId: string,
  saml: SamlSettings,
  samlResponse: string,
  progress?: SamlValidationProgress,
): Promise<ValidatedAssertion> {
  const urls = orgUrls(deps.baseUrl, orgId);
  return validateSamlResponse({
    samlResponse,
    sp: { entityId: urls.spEntityId, acsUrl: urls.acsUrl },
    idp: { entityId: saml.idpEntityId, certificates: saml.certificates },
    clockSkewSeconds: saml.clockSkewSeconds,
    now: deps.clock.now(),
    algorithms: { allowSha1: saml.allowSha1 },
    requireEncryptedAssertions: saml.requireEncryptedAssertions,
    decryptionKeys: async () => spDecryptionKeys(await deps.spKeys.load()),
    ...(progress === undefined ? {} : { progress }),
  });
}
