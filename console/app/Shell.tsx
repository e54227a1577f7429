/**
 * The frame of every signed-in page: skip link, banner (org, user, Sign out), the
 * navigation landmark (only the areas the user may see), and `<main>` with the page.
 * After a navigation, focus moves to the new page's heading.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { toApiError, type ApiError } from '../api/client.js';
import { AuditPage } from '../audit/AuditPage.js';
import { ProvisioningPage } from '../provisioning/ProvisioningPage.js';
import { GroupsPage } from '../roles/GroupsPage.js';
import { RolesPage } from '../roles/RolesPage.js';
import { SetupLinksPage } from '../setup/SetupLinksPage.js';
import { SetupWizard } from '../setup/SetupWizard.js';
import { SsoPage } from '../sso/SsoPage.js';
import { TestResultPage } from '../test-sign-in/TestResultPage.js';
import { TestSignInPage } from '../test-sign-in/TestSignInPage.js';
import { ErrorNote } from '../ui/Problems.js';
import { NoAccess, PageHeading } from '../ui/page.js';
import { UserDetailPage } from '../users/UserDetailPage.js';
import { UsersPage } from '../users/UsersPage.js';
import { NAV_ITEMS, type NavItem } from './nav.js';
import { Overview } from './Overview.js';
import { Link, usePathname } from './router.js';
import { pathOf, routeOf, type Route } from './routes.js';
import { sessionAllows, type Session } from './session.js';

function Page({ route }: { route: Route }) {
  switch (route.name) {
    case 'overview':
      return <Overview />;
    case 'sso':
      return <SsoPage />;
    case 'provisioning':
      return <ProvisioningPage />;
    case 'test':
      return <TestSignInPage />;
    case 'ssoTest':
      return <TestResultPage id={route.id} />;
    case 'users':
      return <UsersPage />;
    case 'user':
      return <UserDetailPage id={route.id} />;
    case 'roles':
      return <RolesPage />;
    case 'groups':
      return <GroupsPage />;
    case 'audit':
      return <AuditPage />;
    case 'setupLinks':
      return <SetupLinksPage />;
    case 'setup':
      return <SetupWizard />;
    case 'notFound':
      return (
        <>
          <PageHeading title="Not found">Page not found</PageHeading>
          <p>
            There is no console page at <code>{route.path}</code>. <Link href={pathOf({ name: 'overview' })}>Go to the overview</Link>.
          </p>
        </>
      );
  }
}

const itemOf = (route: Route): NavItem | undefined =>
  NAV_ITEMS.find((item) => item.route.name === route.name || item.also?.includes(route.name));

function SignOutButton({ onSignOut }: { onSignOut: () => Promise<void> }) {
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const signOut = async () => {
    setBusy(true);
    setError(null);
    try {
      await onSignOut();
    } catch (caught) {
      setError(toApiError(caught));
      setBusy(false);
    }
  };
  return (
    <div class="sign-out">
      <button type="button" class="button secondary" onClick={signOut} disabled={busy} aria-describedby={error ? 'sign-out-error' : undefined}>
        Sign out
      </button>
      <ErrorNote error={error} id="sign-out-error" />
    </div>
  );
}

export function Shell({ session, onSignOut }: { session: Session; onSignOut: () => Promise<void> }) {
  const pathname = usePathname();
  const requested = routeOf(pathname);
  // A setup session sees the wizard, and the results of its test sign-ins.
  const route: Route = session.kind === 'setup' && requested.name !== 'ssoTest' ? { name: 'setup' } : requested;
  const first = useRef(true);

  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    window.scrollTo(0, 0);
    document.querySelector<HTMLElement>('#main h1')?.focus();
  }, [pathname]);

  const item = itemOf(route);
  const allowed = !item?.needs || sessionAllows(session, item.needs);
  const visibleItems = NAV_ITEMS.filter((candidate) => !candidate.needs || sessionAllows(session, candidate.needs));

  return (
    <div class={session.kind === 'setup' ? 'layout layout-setup' : 'layout'}>
      <a class="skip-link" href="#main">
        Skip to main content
      </a>
      <header class="banner">
        <p class="brand">
          <span class="brand-name">sso-jit</span> console
        </p>
        <p class="who">
          {session.kind === 'setup' ? (
            <>
              Setting up SSO for organization <strong>{session.orgId}</strong>
            </>
          ) : (
            <>
              <span>{session.user.email}</span> · organization <strong>{session.orgId}</strong>
            </>
          )}
        </p>
        <SignOutButton onSignOut={onSignOut} />
      </header>
      {session.kind === 'user' ? (
        <nav class="nav" aria-label="Console">
          <ul>
            {visibleItems.map((candidate) => {
              const current = candidate === item;
              return (
                <li key={candidate.label}>
                  <Link href={pathOf(candidate.route)} aria-current={current ? 'page' : undefined}>
                    {candidate.label}
                  </Link>
                </li>
              );
            })}
          </ul>
          {!session.permissions.known ? (
            <p class="nav-note">Your roles could not all be read, so every area is listed; the server decides what you may do.</p>
          ) : null}
        </nav>
      ) : null}
      <main id="main" tabIndex={-1} class="main">
        {allowed || !item?.needs ? (
          <Page route={route} />
        ) : (
          <>
            <PageHeading title={item.label}>{item.label}</PageHeading>
            <NoAccess needs={item.needs} />
          </>
        )}
      </main>
    </div>
  );
}
