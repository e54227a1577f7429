/**
 * The org's email domains and their verification (`domainStatus`): the TXT record to
 * publish, and a Verify button (`POST settings/sso/domains/{domain}/verify`).
 */
import { useState } from 'preact/hooks';
import { api, toApiError, type ApiError } from '../api/client.js';
import type { DomainStatus } from '../api/types.js';
import { CopyButton } from '../ui/CopyField.js';
import { Badge } from '../ui/page.js';
import { ErrorNote } from '../ui/Problems.js';

function DomainRow({ orgId, status, canEdit, onVerified }: { orgId: string; status: DomainStatus; canEdit: boolean; onVerified: (status: DomainStatus) => void }) {
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const verify = async () => {
    setBusy(true);
    setError(null);
    try {
      onVerified((await api.sso.verifyDomain(orgId, status.domain)).data);
    } catch (caught) {
      setError(toApiError(caught));
    } finally {
      setBusy(false);
    }
  };
  return (
    <tr>
      <td>
        <code>{status.domain}</code>
      </td>
      <td>{status.verified ? <Badge tone="ok">Verified</Badge> : <Badge tone="warn">Not verified</Badge>}</td>
      <td>
        {status.verified ? (
          '—'
        ) : (
          <dl class="txt-record">
            <dt>Name</dt>
            <dd>
              <code>{status.txtName}</code> <CopyButton value={status.txtName} what={`TXT record name for ${status.domain}`} />
            </dd>
            <dt>Value</dt>
            <dd>
              <code>{status.txtValue}</code> <CopyButton value={status.txtValue} what={`TXT record value for ${status.domain}`} />
            </dd>
          </dl>
        )}
      </td>
      <td>
        {!status.verified && canEdit ? (
          <button type="button" class="button secondary small" onClick={verify} disabled={busy} aria-label={`Verify ${status.domain}`}>
            Verify
          </button>
        ) : null}
        <ErrorNote error={error} />
      </td>
    </tr>
  );
}

export function DomainTable({ orgId, statuses, canEdit, onVerified }: { orgId: string; statuses: readonly DomainStatus[]; canEdit: boolean; onVerified: (status: DomainStatus) => void }) {
  if (statuses.length === 0) return null;
  return (
    <div class="table-wrap">
      <table class="table">
        <caption>Domain verification: publish the TXT record at your DNS provider, then choose Verify.</caption>
        <thead>
          <tr>
            <th scope="col">Domain</th>
            <th scope="col">Status</th>
            <th scope="col">TXT record</th>
            <th scope="col">
              <span class="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {statuses.map((status) => (
            <DomainRow key={status.domain} orgId={orgId} status={status} canEdit={canEdit} onVerified={onVerified} />
          ))}
        </tbody>
      </table>
    </div>
  );
}
