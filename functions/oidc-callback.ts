/**
 * GET /sso/{orgId}/oidc/callback — the OIDC redirect URI.
 * Adapter only: query in, `consumeOidcCallback` does the work, 302 + session cookie out
 * (the answer to a test sign-in: 302 to its result page, no cookie).
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import { consumeOidcCallback } from '../shared/login/oidc-login.js';
import { BROWSER_COOKIE } from '../shared/login/start-login.js';
import { errorResponder } from './http/middleware.js';
import { cookie, redirect, type HttpEvent, type HttpResult } from './http/responses.js';
import { loginMetrics } from './observability.js';
import { signedIn } from './http/signed-in.js';
import { FUNCTIONS } from './routes.js';
import { lazyHandler, runtime, type Runtime } from './runtime.js';

export function createOidcCallbackHandler(rt: Runtime) {
  return middy<HttpEvent, HttpResult>()
    .use(errorResponder({ logger: rt.logger, metrics: rt.metrics, browserPages: true }))
    .use(injectLambdaContext(rt.logger, { resetKeys: true }))
    .use(logMetrics(rt.metrics))
    .use(loginMetrics(rt.metrics))
    .handler(async (event) => {
      const query = event.queryStringParameters ?? {};
      const result = await consumeOidcCallback(
        rt,
        { orgId: event.pathParameters?.orgId ?? '', code: query.code, state: query.state, error: query.error, errorDescription: query.error_description, iss: query.iss, browser: cookie(event, BROWSER_COOKIE), sourceIp: event.requestContext?.http?.sourceIp },
      );
      // A test sign-in's answer: to the console's result page, no session.
      if ('test' in result) return redirect(result.location);
      return signedIn(rt, result);
    });
}

export const handler = lazyHandler(() => createOidcCallbackHandler(runtime(FUNCTIONS.oidcCallback)));
