/**
 * The IdP's signing certificates (`saml.certificateInfo`): subject, SHA-256
 * fingerprint, expiry, a badge when one expires within 30 days (or has expired), and a
 * Remove button per certificate for a rollover.
 */
import type { CertificateRow } from './sso-draft.js';
import { Badge } from '../ui/page.js';
import { Time } from '../ui/Time.js';

function status(row: CertificateRow, now: number) {
  if (!row.info) return <Badge tone="neutral">Not saved yet</Badge>;
  if (Date.parse(row.info.notAfter) <= now) return <Badge tone="bad">Expired</Badge>;
  if (row.info.expiresSoon) return <Badge tone="warn">Expires soon</Badge>;
  return <Badge tone="ok">Valid</Badge>;
}

export function CertificateTable({ rows, onRemove, readOnly }: { rows: readonly CertificateRow[]; onRemove: (index: number) => void; readOnly: boolean }) {
  if (rows.length === 0) return <p class="muted">No certificate is configured.</p>;
  const now = Date.now();
  return (
    <div class="table-wrap">
      <table class="table">
        <caption class="sr-only">Identity provider signing certificates</caption>
        <thead>
          <tr>
            <th scope="col">Subject</th>
            <th scope="col">SHA-256 fingerprint</th>
            <th scope="col">Expires</th>
            <th scope="col">Status</th>
            {readOnly ? null : (
              <th scope="col">
                <span class="sr-only">Actions</span>
              </th>
            )}
          </tr>
        </thead>
        <tbody>
          {rows.map((row, index) => (
            <tr key={`${index}:${row.info?.fingerprintSha256 ?? row.pem.length}`}>
              <td>{row.info?.subject ?? '—'}</td>
              <td>
                <code class="fingerprint">{row.info?.fingerprintSha256 ?? '—'}</code>
              </td>
              <td>
                <Time at={row.info?.notAfter} />
              </td>
              <td>{status(row, now)}</td>
              {readOnly ? null : (
                <td>
                  <button type="button" class="button secondary small" aria-label={`Remove certificate ${index + 1}`} onClick={() => onRemove(index)}>
                    Remove
                  </button>
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
