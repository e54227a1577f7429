/**
 * Which session a request presents, and the rule for writes made with the ambient
 * cookie: a browser sends the `session` cookie on a cross-site form post too, so a write
 * authenticated by the cookie must come with an `Origin` equal to BASE_URL's origin
 * (`403 CSRF_REJECTED`). A bearer token is never sent by a browser on its own: no check.
 */
import { AppError } from '../../shared/errors.js';
import { SESSION_COOKIE } from '../../shared/sessions/session-tokens.js';
import { bearerToken, cookie, type HttpEvent } from './responses.js';

export interface Credential {
  token: string;
  via: 'bearer' | 'cookie';
}

/** The bearer token, else the `session` cookie. */
export function sessionCredential(event: HttpEvent): Credential | undefined {
  const bearer = bearerToken(event);
  if (bearer) return { token: bearer, via: 'bearer' };
  const fromCookie = cookie(event, SESSION_COOKIE);
  return fromCookie ? { token: fromCookie, via: 'cookie' } : undefined;
}

/**
 * Refuses a cookie-authenticated write whose `Origin` is not the service's own.
 * @throws AppError `CSRF_REJECTED`
 */
export function requireSameOriginForCookie(event: HttpEvent, credential: Credential | undefined, baseUrl: string): void {
  if (credential?.via !== 'cookie') return;
  const origin = event.headers?.origin;
  if (origin !== new URL(baseUrl).origin) {
    throw new AppError('CSRF_REJECTED', 'This change was sent by another site with your session cookie, so it was refused. Make it from the console itself.');
  }
}
