/**
 * "Test sign-in": starts a real SP-initiated login in test mode (`POST {org}/sso/tests`)
 * and sends the browser to the IdP; the answer comes back to `/console/sso/tests/{id}`.
 * It tests the saved settings: nothing is created or changed, no session is issued.
 */
import { useId, useState } from 'preact/hooks';
import { api, toApiError, type ApiError } from '../api/client.js';
import { ErrorNote } from '../ui/Problems.js';

export function TestSignInButton({ orgId, disabled }: { orgId: string; disabled?: boolean }) {
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const id = `t${useId()}`;
  const start = async () => {
    setBusy(true);
    setError(null);
    try {
      const { data } = await api.ssoTests.start(orgId);
      window.location.assign(data.loginUrl);
    } catch (caught) {
      setError(toApiError(caught));
      setBusy(false);
    }
  };
  return (
    <div class="test-sign-in">
      <button
        type="button"
        class="button"
        onClick={start}
        disabled={disabled || busy}
        aria-describedby={error ? `${id}-error` : `${id}-hint`}
      >
        {busy ? 'Starting test sign-in…' : 'Test sign-in'}
      </button>
      <p class="hint" id={`${id}-hint`}>
        Signs in at your identity provider with the saved settings and shows what it sent and what would happen. No user is created or
        changed and no session is started.
      </p>
      <ErrorNote error={error} id={`${id}-error`} />
    </div>
  );
}
