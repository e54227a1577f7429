/**
 * GET /health, GET /.well-known/jwks.json, GET /me, POST /logout,
 * POST /me/sessions/revoke and single logout (GET and POST /sso/{orgId}/saml/slo): the
 * session routes. A setup session may call GET /me (`{"scope":"setup","orgId"}`) and
 * end itself with POST /logout; anything else here refuses it.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { AppError } from '../shared/errors.js';
import { currentSession, currentUser } from '../shared/sessions/current-user.js';
import { claimsSetupScope, clearedSessionCookie } from '../shared/sessions/session-tokens.js';
import { currentSetupSession } from '../shared/setup/setup-session.js';
import { endAllSessions, endSession } from '../shared/sessions/sign-out.js';
import { logout, receiveLogoutMessage } from '../shared/sessions/single-logout.js';
import { receivePostBinding, receiveRedirectBinding } from '../shared/saml/logout.js';
import { toUserView } from '../shared/users/model.js';
import { requireSameOriginForCookie, sessionCredential } from './http/credentials.js';
import { bodyLimit, errorResponder } from './http/middleware.js';
import { formFields, html, json, noContent, page, redirect, wantsJson, type HttpEvent, type HttpResult } from './http/responses.js';
import { FUNCTIONS } from './routes.js';
import { lazyHandler, runtime, type Runtime } from './runtime.js';

/** A setup session may call only GET /me here (and end itself with POST /logout). */
const setupForbidden = () => new AppError('FORBIDDEN', 'A setup session can only set up and test the SSO connection of its organization.');

export function createSessionHandler(rt: Runtime) {
  return middy<HttpEvent, HttpResult>()
    // The SLO endpoint is a browser route (the IdP sends the browser): HTML error pages there.
    .use(errorResponder({ logger: rt.logger, metrics: rt.metrics, browserPages: (event) => event.routeKey.endsWith('/saml/slo') }))
    .use(injectLambdaContext(rt.logger, { resetKeys: true }))
    .use(bodyLimit())
    .handler(async (event) => {
      const credential = sessionCredential(event);
      const setupSession = credential !== undefined && claimsSetupScope(credential.token);
      switch (event.routeKey) {
        case 'GET /health':
          return json(200, { status: 'ok' });
        case 'GET /.well-known/jwks.json':
          return json(200, await rt.sessions.jwks(), { 'cache-control': 'public, max-age=300' });
        case 'POST /logout': {
          // A cookie-carried logout comes from our own pages: another site may not end the
          // session here, nor send the browser on to end the IdP's (single logout).
          requireSameOriginForCookie(event, credential, rt.baseUrl);
          // The presented token is revoked, not only the cookie cleared (API.md "Session").
          if (setupSession) {
            await endSession(rt, credential?.token);
            return noContent([clearedSessionCookie()]);
          }
          // Then on to the IdP's logout when the session came from one that has it (single logout).
          const { location } = await logout(rt, credential?.token);
          if (location === undefined) return noContent([clearedSessionCookie()]);
          if (wantsJson(event)) return { ...noContent([clearedSessionCookie()]), headers: { ...noContent().headers, location } };
          return redirect(location, [clearedSessionCookie()]);
        }
        case 'GET /sso/{orgId}/saml/slo':
        case 'POST /sso/{orgId}/saml/slo': {
          const { location } = await receiveLogoutMessage(rt, {
            orgId: event.pathParameters?.orgId ?? '',
            receive: () => (event.routeKey.startsWith('GET ') ? receiveRedirectBinding(event.rawQueryString ?? '') : receivePostBinding(formFields(event))),
            sourceIp: event.requestContext?.http?.sourceIp,
          });
          // This browser's cookie goes too (its token is refused already when the IdP session named it).
          if (location !== undefined) return redirect(location, [clearedSessionCookie()]);
          return { ...html(200, page('Signed out', '<h1>Signed out</h1><p>Your sessions from this identity provider have ended.</p>')), cookies: [clearedSessionCookie()] };
        }
        case 'POST /me/sessions/revoke': {
          if (setupSession) throw setupForbidden();
          requireSameOriginForCookie(event, credential, rt.baseUrl);
          const { user } = await currentSession(rt, credential?.token);
          await endAllSessions(rt, user, { type: 'user', id: user.id });
          return noContent([clearedSessionCookie()]);
        }
        case 'GET /me': {
          if (setupSession) {
            const { link } = await currentSetupSession(rt, credential?.token);
            return json(200, { scope: 'setup', orgId: link.orgId });
          }
          const user = await currentUser(rt, credential?.token);
          return json(200, { ...toUserView(user), orgId: user.orgId });
        }
        default:
          throw new AppError('NOT_FOUND', `No route ${event.routeKey}.`);
      }
    });
}

export const handler = lazyHandler(() => createSessionHandler(runtime(FUNCTIONS.session)));
