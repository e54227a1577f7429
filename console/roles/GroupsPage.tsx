/**
 * `/console/groups`: account groups. The default group cannot be deleted; the others can
 * be created, renamed and deleted.
 */
import type { TargetedSubmitEvent } from 'preact';
import { useRef, useState } from 'preact/hooks';
import { api, toApiError, useFetch, type ApiError } from '../api/client.js';
import { placeProblems } from '../api/field-errors.js';
import type { Group } from '../api/types.js';
import { useCan, useSession } from '../app/session.js';
import { TextField } from '../ui/fields.js';
import { focusFirstProblem, focusSoon } from '../ui/focus.js';
import { Badge, Loading, LoadError, PageHeading } from '../ui/page.js';
import { ErrorNote, FormStatus } from '../ui/Problems.js';

function GroupForm({ group, onDone, onCancel }: { group: Group | null; onDone: (group: Group) => void; onCancel: () => void }) {
  const { orgId } = useSession();
  const [name, setName] = useState(group?.name ?? '');
  const [id, setId] = useState('');
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const formRef = useRef<HTMLFormElement>(null);
  const headingId = group ? `rename-group-${group.id}` : 'new-group';
  const placed = placeProblems(error, ['name', 'id'], { CONFLICT: (message) => (/name/i.test(message) ? 'name' : /id/.test(message) ? 'id' : undefined) });

  const submit = async (event: TargetedSubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const answer = group
        ? await api.groups.update(orgId, group.id, { name: name.trim() })
        : await api.groups.create(orgId, { name: name.trim(), ...(id.trim() ? { id: id.trim() } : {}) });
      onDone(answer.data);
    } catch (caught) {
      setError(toApiError(caught));
      focusFirstProblem(formRef.current);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="card groups-editor" aria-labelledby={headingId}>
      <h2 id={headingId}>{group ? `Rename ${group.name}` : 'New account group'}</h2>
      <form ref={formRef} onSubmit={submit} noValidate>
        <TextField label="Name" value={name} onValue={setName} required problems={placed.byField.name} />
        {group ? null : (
          <TextField label="ID" value={id} onValue={setId} hint="Optional: lowercase letters, digits and dashes. Generated when empty; it cannot change later." problems={placed.byField.id} />
        )}
        <div class="form-actions">
          <button type="submit" class="button primary" disabled={busy}>
            {group ? 'Save name' : 'Create group'}
          </button>
          <button type="button" class="button secondary" onClick={onCancel}>
            Cancel
          </button>
          <FormStatus problems={placed.general} />
        </div>
      </form>
    </section>
  );
}

export function GroupsPage() {
  const { orgId } = useSession();
  const can = useCan();
  const canEdit = can('groups:edit');
  const groups = useFetch(`groups:${orgId}`, (signal) => api.groups.list(orgId, signal));
  const [editing, setEditing] = useState<Group | 'new' | null>(null);
  const [rowError, setRowError] = useState<{ id: string; error: ApiError } | null>(null);
  const [message, setMessage] = useState('');
  const newButton = useRef<HTMLButtonElement>(null);

  const open = (target: Group | 'new') => {
    setEditing(target);
    setMessage('');
    focusSoon(() => document.querySelector<HTMLInputElement>('.groups-editor input'));
  };
  const close = () => {
    setEditing(null);
    focusSoon(() => newButton.current);
  };
  const remove = async (group: Group) => {
    if (!window.confirm(`Delete the account group ${group.name}? This cannot be undone.`)) return;
    setRowError(null);
    try {
      await api.groups.remove(orgId, group.id);
      groups.setData({ items: (groups.data?.items ?? []).filter((candidate) => candidate.id !== group.id) });
      setMessage(`Account group ${group.name} deleted.`);
      focusSoon(() => newButton.current);
    } catch (caught) {
      setRowError({ id: group.id, error: toApiError(caught) });
    }
  };

  return (
    <>
      <PageHeading title="Account Groups">Account Groups</PageHeading>
      <p>Users hold their roles in account groups. Every organization has a default group.</p>
      {canEdit ? (
        <p>
          <button type="button" class="button" ref={newButton} onClick={() => open('new')}>
            New account group
          </button>
        </p>
      ) : null}
      <p role="status" class="saved-message">
        {message}
      </p>
      {editing ? (
        <GroupForm
          key={editing === 'new' ? 'new' : editing.id}
          group={editing === 'new' ? null : editing}
          onCancel={close}
          onDone={(saved) => {
            const items = groups.data?.items ?? [];
            groups.setData({ items: items.some((group) => group.id === saved.id) ? items.map((group) => (group.id === saved.id ? saved : group)) : [...items, saved] });
            setMessage(`Account group ${saved.name} saved.`);
            close();
          }}
        />
      ) : null}
      {groups.error && !groups.data ? <LoadError error={groups.error} what="account groups" onRetry={groups.reload} /> : null}
      {!groups.data && !groups.error ? <Loading what="account groups" /> : null}
      {groups.data ? (
        <div class="table-wrap">
          <table class="table">
            <caption class="sr-only">Account groups</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">ID</th>
                <th scope="col">Kind</th>
                {canEdit ? <th scope="col">Actions</th> : null}
              </tr>
            </thead>
            <tbody>
              {groups.data.items.map((group) => (
                <tr key={group.id}>
                  <th scope="row">{group.name}</th>
                  <td>
                    <code>{group.id}</code>
                  </td>
                  <td>{group.isDefault ? <Badge tone="neutral">Default</Badge> : 'Custom'}</td>
                  {canEdit ? (
                    <td>
                      {group.isDefault ? (
                        <span class="muted">The default group cannot be changed.</span>
                      ) : (
                        <div class="row-actions">
                          <button type="button" class="button secondary small" aria-label={`Rename ${group.name}`} onClick={() => open(group)}>
                            Rename
                          </button>
                          <button type="button" class="button danger small" aria-label={`Delete ${group.name}`} onClick={() => void remove(group)}>
                            Delete
                          </button>
                        </div>
                      )}
                      {rowError?.id === group.id ? <ErrorNote error={rowError.error} /> : null}
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </>
  );
}
