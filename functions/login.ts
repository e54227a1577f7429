/**
 * The ways into a login that start here: GET /sso/{orgId}/login and GET /login/sso
 * (SP-initiated, to the IdP), POST /login/discover (email → login URL), GET /login
 * (a small page for people arriving without a link). Adapter only.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { AppError } from '../shared/errors.js';
import { discoverLogin } from '../shared/login/discover.js';
import { safeRedirect } from '../shared/login/redirect.js';
import { BROWSER_COOKIE, browserBinding, browserCookie, startLogin, startLoginByIdp } from '../shared/login/start-login.js';
import { bodyLimit, errorResponder } from './http/middleware.js';
import { bodyText, cookie, escapeHtml, formFields, html, json, page, redirect, wantsJson, type HttpEvent, type HttpResult } from './http/responses.js';
import { FUNCTIONS } from './routes.js';
import { lazyHandler, runtime, type Runtime } from './runtime.js';

function loginPage(fwd: string): string {
  return page(
    'Sign in',
    `<h1>Sign in</h1><p>Enter your work email: you will be sent to your organization's sign-in.</p>
<form method="post" action="/login/discover"><input type="hidden" name="fwd" value="${escapeHtml(fwd)}">
<p><label>Email<br><input name="email" type="email" autocomplete="email" required autofocus></label></p>
<p><button type="submit">Continue</button></p></form>`,
  );
}

/** The browser's binding value: the one it already has, or a new one. */
const browserOf = (event: HttpEvent): string => browserBinding(cookie(event, BROWSER_COOKIE));

/** The login page posts a form; anything else sent to discover is a program calling a JSON route. */
const isFormPost = (event: HttpEvent): boolean => /application\/x-www-form-urlencoded/i.test(event.headers?.['content-type'] ?? '');

/**
 * Which errors get an HTML page (for a browser that does not ask for JSON): the browser
 * routes, and discover posted by the login page's form. Discover called as JSON answers
 * the contract's JSON error body whatever `Accept` says (API.md "Errors").
 */
const browserPages = (event: HttpEvent): boolean => event.routeKey !== 'POST /login/discover' || isFormPost(event);

/** The discover body: JSON from programs, a form from the login page. */
function discoverBody(event: HttpEvent): unknown {
  if (isFormPost(event)) {
    const { email, fwd } = formFields(event);
    return { email: email ?? '', ...(fwd ? { fwd } : {}) };
  }
  try {
    return JSON.parse(bodyText(event) || 'null');
  } catch {
    throw new AppError('VALIDATION_FAILED', 'body: not valid JSON');
  }
}

export function createLoginHandler(rt: Runtime) {
  return middy<HttpEvent, HttpResult>()
    .use(errorResponder({ logger: rt.logger, metrics: rt.metrics, browserPages }))
    .use(injectLambdaContext(rt.logger, { resetKeys: true }))
    .use(bodyLimit())
    .handler(async (event) => {
      const query = event.queryStringParameters ?? {};
      switch (event.routeKey) {
        case 'GET /sso/{orgId}/login': {
          const browser = browserOf(event);
          return redirect(await startLogin(rt, { orgId: event.pathParameters?.orgId ?? '', fwd: query.fwd, browser }), [browserCookie(browser)]);
        }
        case 'GET /login/sso': {
          const browser = browserOf(event);
          return redirect(await startLoginByIdp(rt, { idp: query.idp, fwd: query.fwd, browser }), [browserCookie(browser)]);
        }
        case 'POST /login/discover': {
          const { loginUrl } = await discoverLogin(rt, discoverBody(event));
          // The login page posts a form: send the browser straight on.
          return wantsJson(event) || !isFormPost(event) ? json(200, { loginUrl }) : { ...redirect(loginUrl), statusCode: 303 };
        }
        case 'GET /login': {
          const fwd = query.fwd ?? '/';
          safeRedirect(fwd, rt.baseUrl);
          // No form-action limit here: the form's answer redirects on to the org's IdP.
          return html(200, loginPage(fwd), { 'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'" });
        }
        default:
          throw new AppError('NOT_FOUND', `No route ${event.routeKey}.`);
      }
    });
}

export const handler = lazyHandler(() => createLoginHandler(runtime(FUNCTIONS.login)));
