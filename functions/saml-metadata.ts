/**
 * GET /sso/{orgId}/saml/metadata — the org's SP metadata, for the IdP admin to import.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { spEncryptionKey } from '../shared/saml/sp-keys.js';
import { buildSpMetadataXml } from '../shared/saml/sp-metadata.js';
import { orgUrls } from '../shared/settings/urls.js';
import { errorResponder } from './http/middleware.js';
import { xml, type HttpEvent, type HttpResult } from './http/responses.js';
import { FUNCTIONS } from './routes.js';
import { lazyHandler, runtime, type Runtime } from './runtime.js';

export function createSamlMetadataHandler(rt: Runtime) {
  return middy<HttpEvent, HttpResult>()
    .use(errorResponder({ logger: rt.logger, metrics: rt.metrics }))
    .use(injectLambdaContext(rt.logger, { resetKeys: true }))
    .handler(async (event) => {
      const orgId = event.pathParameters?.orgId ?? '';
      const settings = await rt.settings.get(orgId); // ORG_NOT_FOUND for an unknown org
      const urls = orgUrls(rt.baseUrl, orgId);
      const spKey = await rt.spKeys.load();
      return xml(
        200,
        buildSpMetadataXml({
          entityId: urls.spEntityId,
          acsUrl: urls.acsUrl,
          singleLogoutUrl: urls.singleLogoutUrl,
          signingCertificatePem: spKey?.certificatePem,
          encryptionCertificatePem: spKey === undefined ? undefined : spEncryptionKey(spKey).certificatePem,
          authnRequestsSigned: Boolean(spKey && settings.sso.saml?.signAuthnRequests),
        }),
      );
    });
}

export const handler = lazyHandler(() => createSamlMetadataHandler(runtime(FUNCTIONS.samlMetadata)));
