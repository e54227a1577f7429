/**
 * POST /sso/{orgId}/saml/acs — the Assertion Consumer Service.
 * Adapter only: form fields in, `consumeSamlResponse` does the work, 302 + session cookie out
 * (the answer to a test sign-in: 302 to its result page, no cookie).
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import { consumeSamlResponse } from '../shared/login/saml-login.js';
import { BROWSER_COOKIE } from '../shared/login/start-login.js';
import { bodyLimit, errorResponder } from './http/middleware.js';
import { cookie, formFields, redirect, type HttpEvent, type HttpResult } from './http/responses.js';
import { loginMetrics } from './observability.js';
import { signedIn } from './http/signed-in.js';
import { FUNCTIONS } from './routes.js';
import { lazyHandler, runtime, type Runtime } from './runtime.js';

export function createAcsHandler(rt: Runtime) {
  return middy<HttpEvent, HttpResult>()
    .use(errorResponder({ logger: rt.logger, metrics: rt.metrics, browserPages: true }))
    .use(injectLambdaContext(rt.logger, { resetKeys: true }))
    .use(logMetrics(rt.metrics))
    .use(loginMetrics(rt.metrics))
    .use(bodyLimit())
    .handler(async (event) => {
      const form = formFields(event);
      const result = await consumeSamlResponse(
        rt,
        { orgId: event.pathParameters?.orgId ?? '', samlResponse: form.SAMLResponse, relayState: form.RelayState, browser: cookie(event, BROWSER_COOKIE), sourceIp: event.requestContext?.http?.sourceIp },
      );
      // A test sign-in's answer: to the console's result page, no session.
      if ('test' in result) return redirect(result.location);
      return signedIn(rt, result);
    });
}

export const handler = lazyHandler(() => createAcsHandler(runtime(FUNCTIONS.acs)));
