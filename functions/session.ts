/**
 * GET /health, GET /.well-known/jwks.json and GET /me: the small session routes.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { AppError } from '../shared/errors.js';
import { currentUser } from '../shared/sessions/current-user.js';
import { clearedSessionCookie } from '../shared/sessions/session-tokens.js';
import { toUserView } from '../shared/users/model.js';
import { errorResponder } from './http/middleware.js';
import { json, noContent, sessionToken, type HttpEvent, type HttpResult } from './http/responses.js';
import { FUNCTIONS } from './routes.js';
import { lazyHandler, runtime, type Runtime } from './runtime.js';

export function createSessionHandler(rt: Runtime) {
  return middy<HttpEvent, HttpResult>()
    .use(errorResponder({ logger: rt.logger, metrics: rt.metrics }))
    .use(injectLambdaContext(rt.logger, { resetKeys: true }))
    .handler(async (event) => {
      switch (event.routeKey) {
        case 'GET /health':
          return json(200, { status: 'ok' });
        case 'GET /.well-known/jwks.json':
          return json(200, await rt.sessions.jwks(), { 'cache-control': 'public, max-age=300' });
        case 'POST /logout':
          // Sessions are stateless tokens: signing out clears the cookie (API.md).
          return noContent([clearedSessionCookie()]);
        case 'GET /me': {
          const user = await currentUser(rt, sessionToken(event));
          return json(200, { ...toUserView(user), orgId: user.orgId });
        }
        default:
          throw new AppError('NOT_FOUND', `No route ${event.routeKey}.`);
      }
    });
}

export const handler = lazyHandler(() => createSessionHandler(runtime(FUNCTIONS.session)));
