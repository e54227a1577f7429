/**
 * Every function's handler, built on one runtime: what the local server (npm start)
 * and the end-to-end tests dispatch to. The same factories build the Lambda handlers.
 */
import { createAcsHandler } from '../functions/acs.js';
import { createConsoleHandler } from '../functions/console.js';
import { createLoginHandler } from '../functions/login.js';
import { createOidcCallbackHandler } from '../functions/oidc-callback.js';
import { FUNCTIONS } from '../functions/routes.js';
import type { Runtime } from '../functions/runtime.js';
import { createSamlMetadataHandler } from '../functions/saml-metadata.js';
import { createSessionHandler } from '../functions/session.js';
import { createSettingsHandler } from '../functions/settings.js';
import { createScimHandler } from '../functions/scim.js';
import type { HttpLambdaHandler } from './http-server.js';

export function createHandlers(rt: Runtime): Record<string, HttpLambdaHandler> {
  return {
    [FUNCTIONS.acs.id]: createAcsHandler(rt),
    [FUNCTIONS.login.id]: createLoginHandler(rt),
    [FUNCTIONS.oidcCallback.id]: createOidcCallbackHandler(rt),
    [FUNCTIONS.samlMetadata.id]: createSamlMetadataHandler(rt),
    [FUNCTIONS.session.id]: createSessionHandler(rt),
    [FUNCTIONS.settings.id]: createSettingsHandler(rt),
    [FUNCTIONS.console.id]: createConsoleHandler(rt),
    [FUNCTIONS.scim.id]: createScimHandler(rt),
  };
}
