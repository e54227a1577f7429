/**
 * The console's root: asks `GET /me` and shows the sign-in page (401), the setup wizard
 * alone (a setup session), or the console for a user, whose permissions are computed
 * from the org's roles and their assignments.
 */
import { useCallback, useEffect, useState } from 'preact/hooks';
import { api, setUnauthenticatedHandler, toApiError, type ApiError } from '../api/client.js';
import type { Role } from '../api/types.js';
import { SignInPage, type SignInNotice } from '../sign-in/SignInPage.js';
import { LoadError, PageHeading } from '../ui/page.js';
import { permissionsOf } from './permissions.js';
import { navigate } from './router.js';
import { pathOf, routeOf } from './routes.js';
import { SessionContext, type Session } from './session.js';
import { Shell } from './Shell.js';

type AppState =
  | { status: 'loading' }
  | { status: 'signedOut'; notice: SignInNotice | null }
  | { status: 'failed'; error: ApiError }
  | { status: 'signedIn'; session: Session };

async function loadSession(): Promise<Session | null> {
  let me;
  try {
    me = (await api.me()).data;
  } catch (error) {
    const apiError = toApiError(error);
    if (apiError.status === 401) return null;
    throw apiError;
  }
  if (me.scope === 'setup') return { kind: 'setup', orgId: me.orgId };
  const { orgId, ...user } = me;
  // Built-in roles are known here; the org's roles are read only when a custom role is
  // assigned and the user may read roles (a request bound to fail would be a 403 in the log).
  const builtIn = permissionsOf(user.assignments, undefined);
  let roles: Role[] | undefined;
  if (!builtIn.known || builtIn.held.has('roles:view')) {
    try {
      roles = (await api.roles.list(orgId)).data.items;
    } catch {
      // Without roles:view a custom role's permissions stay unknown: the server decides.
      roles = undefined;
    }
  }
  return { kind: 'user', orgId, user, roles, permissions: permissionsOf(user.assignments, roles) };
}

export function App() {
  const [state, setState] = useState<AppState>({ status: 'loading' });

  const load = useCallback(async () => {
    setState({ status: 'loading' });
    try {
      const session = await loadSession();
      if (!session) {
        setState({ status: 'signedOut', notice: null });
        return;
      }
      if (session.kind === 'setup' && routeOf(window.location.pathname).name !== 'ssoTest') navigate(pathOf({ name: 'setup' }), { replace: true });
      setState({ status: 'signedIn', session });
    } catch (error) {
      setState({ status: 'failed', error: toApiError(error) });
    }
  }, []);

  useEffect(() => {
    setUnauthenticatedHandler(() => setState({ status: 'signedOut', notice: { text: 'Your session has ended (it expired or was signed out). Sign in again.' } }));
    void load();
    return () => setUnauthenticatedHandler(null);
  }, [load]);

  /** `POST /logout`, then the sign-in page. Rejects with the API's error (shown beside the button). */
  const signOut = useCallback(async () => {
    const answer = await api.logout();
    setState({ status: 'signedOut', notice: { text: 'You are signed out of the console.', idpLogoutUrl: answer.location } });
  }, []);

  switch (state.status) {
    case 'loading':
      return (
        <main id="main" class="boot" tabIndex={-1}>
          <p role="status">Loading the console…</p>
        </main>
      );
    case 'signedOut':
      return <SignInPage notice={state.notice} />;
    case 'failed':
      return (
        <main id="main" class="boot" tabIndex={-1}>
          <PageHeading title="Could not start">The console could not start</PageHeading>
          <LoadError error={state.error} what="signed-in user" onRetry={() => void load()} />
        </main>
      );
    case 'signedIn':
      return (
        <SessionContext.Provider value={state.session}>
          <Shell session={state.session} onSignOut={signOut} />
        </SessionContext.Provider>
      );
  }
}
