/**
 * `/console/setup-links`: links that let the customer's IT admin set up SSO without an
 * account. Create (optional note) → the URL, shown this once, with Copy; the list with
 * each link's status; revoke (the link and any session opened with it stop at once).
 */
import type { TargetedSubmitEvent } from 'preact';
import { useRef, useState } from 'preact/hooks';
import { api, toApiError, useFetch, type ApiError } from '../api/client.js';
import type { SetupLink, SetupLinkCreated } from '../api/types.js';
import { Link } from '../app/router.js';
import { pathOf } from '../app/routes.js';
import { useCan, useSession } from '../app/session.js';
import { CopyField } from '../ui/CopyField.js';
import { TextField } from '../ui/fields.js';
import { focusSoon } from '../ui/focus.js';
import { Badge, Loading, LoadError, PageHeading } from '../ui/page.js';
import { ErrorNote, FormStatus } from '../ui/Problems.js';
import { Time } from '../ui/Time.js';

type LinkStatus = 'revoked' | 'expired' | 'used' | 'unused';

export function linkStatus(link: SetupLink, now: number): LinkStatus {
  if (link.revokedAt) return 'revoked';
  if (Date.parse(link.expiresAt) <= now) return 'expired';
  return link.usedAt ? 'used' : 'unused';
}

function StatusBadge({ status }: { status: LinkStatus }) {
  switch (status) {
    case 'revoked':
      return <Badge tone="neutral">Revoked</Badge>;
    case 'expired':
      return <Badge tone="neutral">Expired</Badge>;
    case 'used':
      return <Badge tone="warn">In use</Badge>;
    case 'unused':
      return <Badge tone="ok">Not used yet</Badge>;
  }
}

function CreateLink({ onCreated }: { onCreated: (link: SetupLinkCreated, note: string) => void }) {
  const { orgId } = useSession();
  const [note, setNote] = useState('');
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const create = async (event: TargetedSubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const { data } = await api.setupLinks.create(orgId, note.trim());
      onCreated(data, note.trim());
      setNote('');
    } catch (caught) {
      setError(toApiError(caught));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form onSubmit={create} class="inline-form" noValidate>
      <TextField label="Note (optional)" value={note} onValue={setNote} hint="For whom or what the link is, for example “Jane at Acme IT”. Shown in the list." problems={error?.code === 'VALIDATION_FAILED' ? [error] : undefined} />
      <button type="submit" class="button primary" disabled={busy}>
        Create setup link
      </button>
      <FormStatus problems={error && error.code !== 'VALIDATION_FAILED' ? [error] : []} />
    </form>
  );
}

export function SetupLinksPage() {
  const { orgId } = useSession();
  const can = useCan();
  const canEdit = can('security:edit');
  const links = useFetch(`setup-links:${orgId}`, (signal) => api.setupLinks.list(orgId, signal));
  const [created, setCreated] = useState<SetupLinkCreated | null>(null);
  const [rowError, setRowError] = useState<{ id: string; error: ApiError } | null>(null);
  const [message, setMessage] = useState('');
  const createdRef = useRef<HTMLElement>(null);
  const now = Date.now();

  const revoke = async (link: SetupLink) => {
    if (!window.confirm(`Revoke this setup link${link.note ? ` (${link.note})` : ''}? It, and any session opened with it, stop working at once.`)) return;
    setRowError(null);
    try {
      await api.setupLinks.revoke(orgId, link.id);
      setMessage('Setup link revoked.');
      links.reload();
    } catch (caught) {
      setRowError({ id: link.id, error: toApiError(caught) });
    }
  };

  return (
    <>
      <PageHeading title="Setup links">Setup links</PageHeading>
      <p>
        A setup link lets someone without an account here, such as your identity provider’s administrator, open the{' '}
        <Link href={pathOf({ name: 'setup' })}>setup wizard</Link> for this organization: they can set the SSO connection and run test sign-ins,
        nothing else. A link works for 24 hours.
      </p>
      {canEdit ? (
        <section class="card" aria-labelledby="setup-link-new">
          <h2 id="setup-link-new">New setup link</h2>
          <CreateLink
            onCreated={(link) => {
              setCreated(link);
              links.reload();
              focusSoon(() => createdRef.current);
            }}
          />
        </section>
      ) : null}
      {created ? (
        <section class="card created-link" aria-labelledby="setup-link-created" ref={createdRef} tabIndex={-1}>
          <h2 id="setup-link-created">Your setup link</h2>
          <p>
            <strong>Copy it now: it is shown only this once.</strong> It works until <Time at={created.expiresAt} />. Send it by a channel you trust.
          </p>
          <CopyField label="Setup link" value={created.url} />
          <button type="button" class="button secondary" onClick={() => setCreated(null)}>
            Done
          </button>
        </section>
      ) : null}
      <p role="status" class="saved-message">
        {message}
      </p>
      <section class="card" aria-labelledby="setup-link-list">
        <h2 id="setup-link-list">Setup links</h2>
        {links.error && !links.data ? <LoadError error={links.error} what="setup links" onRetry={links.reload} /> : null}
        {!links.data && !links.error ? <Loading what="setup links" /> : null}
        {links.data && links.data.items.length === 0 ? <p class="muted">No setup link yet.</p> : null}
        {links.data && links.data.items.length > 0 ? (
          <div class="table-wrap">
            <table class="table">
              <caption class="sr-only">Setup links</caption>
              <thead>
                <tr>
                  <th scope="col">Note</th>
                  <th scope="col">Status</th>
                  <th scope="col">Created</th>
                  <th scope="col">Expires</th>
                  <th scope="col">First used</th>
                  {canEdit ? (
                    <th scope="col">
                      <span class="sr-only">Actions</span>
                    </th>
                  ) : null}
                </tr>
              </thead>
              <tbody>
                {links.data.items.map((link) => {
                  const status = linkStatus(link, now);
                  return (
                    <tr key={link.id}>
                      <td>{link.note || <span class="muted">(no note)</span>}</td>
                      <td>
                        <StatusBadge status={status} />
                        {status === 'revoked' ? (
                          <div class="muted">
                            <Time at={link.revokedAt} />
                          </div>
                        ) : null}
                      </td>
                      <td>
                        <Time at={link.createdAt} />
                      </td>
                      <td>
                        <Time at={link.expiresAt} />
                      </td>
                      <td>
                        <Time at={link.usedAt} fallback="not used" />
                      </td>
                      {canEdit ? (
                        <td>
                          {status === 'unused' || status === 'used' ? (
                            <button type="button" class="button danger small" aria-label={`Revoke setup link ${link.note || link.id}`} onClick={() => void revoke(link)}>
                              Revoke
                            </button>
                          ) : null}
                          {rowError?.id === link.id ? <ErrorNote error={rowError.error} /> : null}
                        </td>
                      ) : null}
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        ) : null}
      </section>
    </>
  );
}
