/**
 * The admin console's own routes: `GET /console` and any `/console/…` page path (the app
 * shell), `GET /console/assets/{file}` (the hashed bundle) and `GET /console/login`
 * (redeems a one-time sign-in link and sets the session cookie), and `GET /console/setup`:
 * with `?token=` it opens a setup link (a setup session cookie, then back to
 * `/console/setup` without the token), without it it is the setup wizard's page. Everything the app
 * shows or changes goes through the admin routes, not through here. The build is read
 * once per container from `CONSOLE_DIR` (default `dist/console`).
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { resolve } from 'node:path';
import { AppError } from '../shared/errors.js';
import { redeemLoginLink } from '../shared/sessions/login-links.js';
import { sessionCookie } from '../shared/sessions/session-tokens.js';
import { openSetupLink, SETUP_PAGE_PATH } from '../shared/setup/setup-links.js';
import { CONSOLE_PATH, CONSOLE_SECURITY_HEADERS, ConsoleApp, consoleText, withConsoleHeaders } from './http/console-app.js';
import { errorResponder } from './http/middleware.js';
import { redirect, type HttpEvent, type HttpResult } from './http/responses.js';
import { FUNCTIONS } from './routes.js';
import { lazyHandler, runtime, type Runtime } from './runtime.js';

/** Where `npm run build:console` writes, relative to the working directory. */
export const DEFAULT_CONSOLE_DIR = 'dist/console';

export function createConsoleHandler(rt: Runtime) {
  const dir = resolve(rt.config.consoleDir ?? DEFAULT_CONSOLE_DIR);
  let built: ConsoleApp | undefined;
  // Loaded on first use and kept; a console not built yet is looked for again on the next request.
  const serve = (answer: (app: ConsoleApp) => HttpResult | undefined): HttpResult => {
    built ??= ConsoleApp.load(dir);
    if (!built) {
      rt.logger.error('the admin console is not built', { dir });
      return consoleText(503, 'The admin console is not built on this server (npm run build:console).');
    }
    return answer(built) ?? notFound();
  };
  const notFound = () => consoleText(404, 'Not found.');
  // Error pages link the console's stylesheet: its CSP refuses an inline style.
  const stylesheet = (): string | undefined => (built ??= ConsoleApp.load(dir))?.stylesheet;

  return middy<HttpEvent, HttpResult>()
    .use(errorResponder({ logger: rt.logger, browserPages: true, headers: CONSOLE_SECURITY_HEADERS, pageStylesheet: () => stylesheet() }))
    .use(injectLambdaContext(rt.logger, { resetKeys: true }))
    .handler(async (event) => {
      switch (event.routeKey) {
        case 'GET /console/login': {
          const { user, sessionToken } = await redeemLoginLink(rt, event.queryStringParameters?.token);
          rt.logger.info('console sign-in by link', { orgId: user.orgId, userId: user.id });
          return withConsoleHeaders(redirect(CONSOLE_PATH, [sessionCookie(sessionToken, rt.config.sessionTtlSeconds)]));
        }
        case 'GET /console/setup': {
          const token = event.queryStringParameters?.token;
          if (token === undefined) return serve((app) => app.shell());
          // The token leaves the address bar at once: the wizard is the same path without it.
          const { sessionToken, expiresAt } = await openSetupLink(rt, token);
          const maxAge = Math.max(0, Math.floor((expiresAt.getTime() - rt.clock.now().getTime()) / 1000));
          return withConsoleHeaders(redirect(`${rt.baseUrl}${SETUP_PAGE_PATH}`, [sessionCookie(sessionToken, maxAge)]));
        }
        case 'GET /console/assets/{file}':
          return serve((app) => app.asset(event.pathParameters?.file ?? '', event.headers?.['accept-encoding']));
        case 'GET /console/{proxy+}':
          // A page path gets the shell; a path under assets/ that is no asset is not a page.
          return (event.pathParameters?.proxy ?? '').startsWith('assets/') ? notFound() : serve((app) => app.shell());
        case 'GET /console':
          return serve((app) => app.shell());
        default:
          throw new AppError('NOT_FOUND', `No route ${event.routeKey}.`);
      }
    });
}

export const handler = lazyHandler(() => createConsoleHandler(runtime(FUNCTIONS.console)));
