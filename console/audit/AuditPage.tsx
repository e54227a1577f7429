/**
 * `/console/audit`, Audit and troubleshooting: events newest first, a type filter (on
 * the server), an outcome filter (on the loaded events), "Load more". A failed sign-in
 * expands to its code, message, expected vs received and the fix; folded repeats show
 * "×N between … and …". Every IdP-supplied value is rendered as text.
 */
import type { TargetedSubmitEvent } from 'preact';
import { useState } from 'preact/hooks';
import { api, usePages } from '../api/client.js';
import type { AuditEvent } from '../api/types.js';
import { useSession } from '../app/session.js';
import { SelectField, TextField } from '../ui/fields.js';
import { Badge, LoadError, PageHeading } from '../ui/page.js';
import { formatTime, Time } from '../ui/Time.js';
import { VisibleText } from '../ui/VisibleText.js';
import { FailureDetail } from './FailureDetail.js';

const PAGE_SIZE = 50;

const KNOWN_TYPES = [
  'login.succeeded',
  'login.failed',
  'login.tested',
  'user.jit_created',
  'user.jit_updated',
  'user.created',
  'user.updated',
  'user.deleted',
  'user.sessions_revoked',
  'user.logout',
  'sso.slo',
  'settings.sso.updated',
  'settings.sso.certificate_expiring',
  'settings.sso.metadata_refreshed',
  'settings.provisioning.updated',
  'role_mapping.created',
  'role_mapping.deleted',
  'role_mapping.replaced',
  'role.created',
  'role.updated',
  'role.deleted',
  'group.created',
  'group.updated',
  'group.deleted',
  'setup_link.created',
  'setup_link.used',
  'setup_link.revoked',
];

/** Details shown on their own, not again in "All details". */
const EXPLAINED = new Set(['message', 'expected', 'received', 'count', 'firstAt', 'lastAt', 'issuer', 'subject', 'attributeNames', 'roleAttribute', 'roleValues']);

const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/** "×N between … and …" for a folded failure. */
export function foldedNote(details: Record<string, unknown>): string | null {
  const count = details.count;
  if (typeof count !== 'number' || count < 2) return null;
  const first = str(details.firstAt);
  const last = str(details.lastAt);
  return first && last ? `×${count} between ${formatTime(first)} and ${formatTime(last)}` : `×${count}`;
}

function EventDetail({ event }: { event: AuditEvent }) {
  const details = event.details ?? {};
  const rest = Object.fromEntries(Object.entries(details).filter(([key]) => !EXPLAINED.has(key)));
  const attributeNames = Array.isArray(details.attributeNames) ? details.attributeNames.filter((name): name is string => typeof name === 'string') : null;
  const roleValues = Array.isArray(details.roleValues) ? details.roleValues.filter((value): value is string => typeof value === 'string') : null;
  return (
    <div class="event-detail">
      {event.outcome === 'failure' ? (
        <FailureDetail code={event.code} message={str(details.message)} expected={details.expected} received={details.received} compared={'expected' in details || 'received' in details} />
      ) : str(details.message) ? (
        <p>{str(details.message)}</p>
      ) : null}
      <dl class="facts">
        {foldedNote(details) ? (
          <>
            <dt>Repeated</dt>
            <dd>{foldedNote(details)}</dd>
          </>
        ) : null}
        {str(details.issuer) !== undefined ? (
          <>
            <dt>IdP issuer</dt>
            <dd>
              <VisibleText value={str(details.issuer)!} />
            </dd>
          </>
        ) : null}
        {str(details.subject) !== undefined ? (
          <>
            <dt>Subject (NameID)</dt>
            <dd>
              <VisibleText value={str(details.subject)!} />
            </dd>
          </>
        ) : null}
        {str(details.roleAttribute) !== undefined ? (
          <>
            <dt>Role Name Attribute</dt>
            <dd>
              <VisibleText value={str(details.roleAttribute)!} />
            </dd>
          </>
        ) : null}
        {roleValues ? (
          <>
            <dt>Role values received</dt>
            <dd>
              {roleValues.length === 0 ? (
                <span class="muted">none</span>
              ) : (
                <ul class="value-list">
                  {roleValues.map((value, index) => (
                    <li key={index}>
                      <VisibleText value={value} />
                    </li>
                  ))}
                </ul>
              )}
            </dd>
          </>
        ) : null}
        {attributeNames ? (
          <>
            <dt>Attribute names received</dt>
            <dd>
              {attributeNames.length === 0 ? (
                <span class="muted">none</span>
              ) : (
                <ul class="value-list">
                  {attributeNames.map((name, index) => (
                    <li key={index}>
                      <VisibleText value={name} />
                    </li>
                  ))}
                </ul>
              )}
            </dd>
          </>
        ) : null}
        <dt>Actor</dt>
        <dd>
          {event.actor.type} <code>{event.actor.id}</code>
        </dd>
        {event.target ? (
          <>
            <dt>Target</dt>
            <dd>
              {event.target.type} <code>{event.target.id}</code>
            </dd>
          </>
        ) : null}
        <dt>Event id</dt>
        <dd>
          <code>{event.id}</code>
        </dd>
      </dl>
      {Object.keys(rest).length > 0 ? (
        <details>
          <summary>All details</summary>
          <pre class="json">{JSON.stringify(rest, null, 2)}</pre>
        </details>
      ) : null}
    </div>
  );
}

function EventRow({ event, open, onToggle }: { event: AuditEvent; open: boolean; onToggle: () => void }) {
  const detailId = `event-${event.id}`;
  const folded = foldedNote(event.details ?? {});
  return (
    <>
      <tr class={event.outcome === 'failure' ? 'row-failure' : undefined}>
        <td>
          <Time at={event.at} />
        </td>
        <td>
          <code>{event.type}</code>
          {folded ? <div class="folded">{folded}</div> : null}
        </td>
        <td>{event.outcome === 'failure' ? <Badge tone="bad">Failure</Badge> : <Badge tone="ok">Success</Badge>}</td>
        <td>{event.code ? <code>{event.code}</code> : <span class="muted">—</span>}</td>
        <td>
          <span class="actor">
            {event.actor.type} <code>{event.actor.id}</code>
          </span>
        </td>
        <td>
          <button
            type="button"
            class="button secondary small"
            aria-expanded={open}
            aria-controls={open ? detailId : undefined}
            aria-label={`${open ? 'Hide' : 'Show'} details of ${event.type} at ${formatTime(event.at)}`}
            onClick={onToggle}
          >
            {open ? 'Hide' : 'Details'}
          </button>
        </td>
      </tr>
      {open ? (
        <tr class="detail-row" id={detailId}>
          <td colSpan={6}>
            <EventDetail event={event} />
          </td>
        </tr>
      ) : null}
    </>
  );
}

export function AuditPage() {
  const { orgId } = useSession();
  const [typeText, setTypeText] = useState('');
  const [type, setType] = useState('');
  const [outcome, setOutcome] = useState<'' | 'success' | 'failure'>('');
  const [openIds, setOpenIds] = useState<Set<string>>(new Set());
  const pages = usePages(`audit:${orgId}:${type}`, (cursor, signal) => api.audit.list(orgId, { type: type || undefined, limit: PAGE_SIZE, cursor }, signal));
  const { cursor, loading, error } = pages;

  const apply = (event: TargetedSubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    setType(typeText.trim());
  };

  const toggle = (id: string) =>
    setOpenIds((current) => {
      const next = new Set(current);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });

  const shown = pages.items.filter((event) => !outcome || event.outcome === outcome);

  return (
    <>
      <PageHeading title="Audit log">Audit log</PageHeading>
      <p>Every sign-in, success or failure, and every change, newest first. Open a failed sign-in to see why it failed and how to fix it.</p>
      <form role="search" aria-label="Audit events" class="filters card" onSubmit={apply}>
        <TextField label="Event type" value={typeText} onValue={setTypeText} list="audit-types" placeholder="for example login.failed" />
        <datalist id="audit-types">
          {KNOWN_TYPES.map((known) => (
            <option key={known} value={known} />
          ))}
        </datalist>
        <button type="submit" class="button secondary">
          Filter
        </button>
        <SelectField
          label="Outcome"
          value={outcome}
          onValue={(value) => setOutcome(value === 'success' || value === 'failure' ? value : '')}
          options={[
            { value: '', label: 'Any outcome' },
            { value: 'failure', label: 'Failures' },
            { value: 'success', label: 'Successes' },
          ]}
        />
      </form>
      {error ? <LoadError error={error} what="audit events" onRetry={pages.reload} /> : null}
      <p role="status" class="muted">
        {loading ? 'Loading events…' : `${shown.length} ${shown.length === 1 ? 'event' : 'events'} shown${cursor ? ' (more can be loaded)' : ''}.`}
        {outcome && cursor ? ' The outcome filter applies to the events loaded so far.' : ''}
      </p>
      {shown.length > 0 ? (
        <div class="table-wrap">
          <table class="table audit-table">
            <caption class="sr-only">Audit events, newest first</caption>
            <thead>
              <tr>
                <th scope="col" class="col-when">When</th>
                <th scope="col" class="col-event">Event</th>
                <th scope="col" class="col-outcome">Outcome</th>
                <th scope="col" class="col-code">Code</th>
                <th scope="col" class="col-actor">Actor</th>
                <th scope="col" class="col-details">
                  <span class="sr-only">Details</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {shown.map((event) => (
                <EventRow key={event.id} event={event} open={openIds.has(event.id)} onToggle={() => toggle(event.id)} />
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {cursor ? (
        <p>
          <button type="button" class="button secondary" onClick={pages.loadMore} disabled={loading}>
            Load more
          </button>
        </p>
      ) : null}
    </>
  );
}
