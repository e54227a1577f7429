/**
 * SAML 2.0 for sso-jit: response validation and SP metadata.
 */
export {
  MAX_SAML_RESPONSE_BYTES,
  maxSamlResponseBytes,
  validateSamlResponse,
  type SamlValidationInput,
  type SamlValidationProgress,
  type ValidatedAssertion,
} from './validate-response.js';
export { buildSpMetadataXml, SP_NAMEID_FORMATS, type SpMetadataInput } from './sp-metadata.js';
