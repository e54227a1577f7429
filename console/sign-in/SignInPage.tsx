/**
 * The sign-in page, shown whenever `GET /me` answers 401. Two ways in: a one-time link
 * printed by `sso-jit login-link`, or the organization's SSO, found by org id or by
 * email (`POST /login/discover`); SSO comes back to the page that asked.
 */
import type { TargetedSubmitEvent } from 'preact';
import { useState } from 'preact/hooks';
import { api, ApiError, toApiError } from '../api/client.js';
import { forwardPathFor } from '../app/routes.js';
import { TextField } from '../ui/fields.js';
import { PageHeading } from '../ui/page.js';

export interface SignInNotice {
  text: string;
  /** `POST /logout` of a SAML session with single logout: where to end the IdP session too. */
  idpLogoutUrl?: string | null;
}

const ssoLoginPath = (orgId: string, pathname: string) =>
  `/sso/${encodeURIComponent(orgId)}/login?fwd=${encodeURIComponent(forwardPathFor(pathname))}`;

/** The discovered login URL, kept on this origin, with `fwd` pointing back at the console. */
function consoleLoginPath(loginUrl: string, pathname: string): string {
  const url = new URL(loginUrl, window.location.origin);
  url.searchParams.set('fwd', forwardPathFor(pathname));
  return `${url.pathname}${url.search}`;
}

export function SignInPage({ notice }: { notice?: SignInNotice | null }) {
  const pathname = window.location.pathname;
  const [email, setEmail] = useState('');
  const [orgId, setOrgId] = useState('');
  const [emailError, setEmailError] = useState<ApiError | null>(null);
  const [orgError, setOrgError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const byEmail = async (event: TargetedSubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    setEmailError(null);
    if (!email.trim()) {
      setEmailError(new ApiError(0, '', 'Enter your work email address.'));
      return;
    }
    setBusy(true);
    try {
      const { data } = await api.discover(email.trim());
      window.location.assign(consoleLoginPath(data.loginUrl, pathname));
    } catch (error) {
      setEmailError(toApiError(error));
      setBusy(false);
    }
  };

  const byOrg = (event: TargetedSubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    const id = orgId.trim();
    if (!id) {
      setOrgError('Enter your organization ID.');
      return;
    }
    window.location.assign(ssoLoginPath(id, pathname));
  };

  return (
    <div class="sign-in">
      <main id="main" tabIndex={-1} class="sign-in-main">
        <PageHeading title="Sign in">Sign in to the sso-jit console</PageHeading>
        {notice ? (
          <div class="notice" role="status">
            <p>{notice.text}</p>
            {notice.idpLogoutUrl ? (
              <p>
                You are still signed in at your identity provider. <a href={notice.idpLogoutUrl}>Sign out there too</a>.
              </p>
            ) : null}
          </div>
        ) : null}
        <p>There are two ways to sign in.</p>

        <section class="card" aria-labelledby="sign-in-sso">
          <h2 id="sign-in-sso">With your organization’s single sign-on</h2>
          <p>You are sent to your identity provider, then back here.</p>
          <form onSubmit={byEmail} class="inline-form" noValidate>
            <TextField
              label="Work email"
              type="email"
              autoComplete="email"
              value={email}
              onValue={setEmail}
              required
              problems={emailError ? [emailError] : undefined}
            />
            <button type="submit" class="button" disabled={busy}>
              Continue with email
            </button>
          </form>
          <p class="or">or, if you know it:</p>
          <form onSubmit={byOrg} class="inline-form" noValidate>
            <TextField
              label="Organization ID"
              value={orgId}
              onValue={(value) => {
                setOrgId(value);
                setOrgError(null);
              }}
              hint="For example acme. Your administrator can tell you."
              problems={orgError ? [{ code: '', message: orgError }] : undefined}
            />
            <button type="submit" class="button">
              Continue with organization ID
            </button>
          </form>
        </section>

        <section class="card" aria-labelledby="sign-in-link">
          <h2 id="sign-in-link">With a one-time sign-in link</h2>
          <p>An operator with access to the service’s command line can make one for you:</p>
          <pre class="command">
            <code>npx sso-jit login-link --org ORG_ID --email YOU@EXAMPLE.COM</code>
          </pre>
          <p>
            Open the link it prints in this browser. It works once, within 10 minutes, and signs you in as that user. Useful before SSO is set
            up, or when it is broken.
          </p>
        </section>
      </main>
    </div>
  );
}
