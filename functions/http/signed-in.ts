/**
 * The answer to a successful login, whatever the protocol: the log line, the
 * users-created count, and the redirect that sets the session cookie.
 */
import type { LoginResult } from '../../shared/login/complete-login.js';
import { sessionCookie } from '../../shared/sessions/session-tokens.js';
import { countUserCreated } from '../observability.js';
import type { Runtime } from '../runtime.js';
import { redirect, type HttpResult } from './responses.js';

export function signedIn(rt: Runtime, result: LoginResult & { location: string }): HttpResult {
  rt.logger.info('login succeeded', { orgId: result.user.orgId, userId: result.user.id, created: result.created });
  if (result.created) countUserCreated(rt.metrics);
  return redirect(result.location, [sessionCookie(result.sessionToken, rt.config.sessionTtlSeconds)]);
}
