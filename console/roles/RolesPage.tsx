/**
 * `/console/roles`: roles and their permissions, in plain language. Built-in roles are
 * read-only; custom ones can be created, edited and deleted. A role edit that would
 * leave no administrative role mapping (`409 LAST_ADMIN_MAPPING`) can be forced after a
 * confirmation.
 */
import type { TargetedSubmitEvent } from 'preact';
import { useRef, useState } from 'preact/hooks';
import { api, toApiError, useFetch, type ApiError } from '../api/client.js';
import { placeProblems } from '../api/field-errors.js';
import { PERMISSIONS, type Permission, type Role } from '../api/types.js';
import { PERMISSION_NAMES } from '../app/permissions.js';
import { useCan, useSession } from '../app/session.js';
import { TextField } from '../ui/fields.js';
import { focusFirstProblem, focusSoon } from '../ui/focus.js';
import { Badge, Loading, LoadError, PageHeading } from '../ui/page.js';
import { ErrorNote, FormStatus, Problems } from '../ui/Problems.js';

function PermissionList({ permissions }: { permissions: readonly Permission[] }) {
  if (permissions.length === 0) return <span class="muted">No permissions</span>;
  return (
    <ul class="permission-list">
      {PERMISSIONS.filter((permission) => permissions.includes(permission)).map((permission) => (
        <li key={permission}>{PERMISSION_NAMES[permission]}</li>
      ))}
    </ul>
  );
}

function RoleForm({ role, onDone, onCancel }: { role: Role | null; onDone: (role: Role) => void; onCancel: () => void }) {
  const { orgId } = useSession();
  const [name, setName] = useState(role?.name ?? '');
  const [id, setId] = useState('');
  const [permissions, setPermissions] = useState<Permission[]>(role?.permissions ?? []);
  const [error, setError] = useState<ApiError | null>(null);
  const [lastAdmin, setLastAdmin] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const formRef = useRef<HTMLFormElement>(null);
  const nameRef = useRef<HTMLInputElement>(null);
  const headingId = role ? `edit-role-${role.id}` : 'new-role';

  const placed = placeProblems(error, ['name', 'id', 'permissions'], { CONFLICT: (message) => (/name/i.test(message) ? 'name' : /id/.test(message) ? 'id' : undefined) });

  const save = async (force: boolean) => {
    setBusy(true);
    setError(null);
    setLastAdmin(null);
    try {
      const answer = role
        ? await api.roles.update(orgId, role.id, { name: name.trim(), permissions }, force)
        : await api.roles.create(orgId, { name: name.trim(), permissions, ...(id.trim() ? { id: id.trim() } : {}) });
      onDone(answer.data);
    } catch (caught) {
      const apiError = toApiError(caught);
      if (apiError.code === 'LAST_ADMIN_MAPPING') setLastAdmin(apiError);
      else {
        setError(apiError);
        focusFirstProblem(formRef.current);
      }
    } finally {
      setBusy(false);
    }
  };

  const toggle = (permission: Permission, on: boolean) =>
    setPermissions((current) => (on ? [...current.filter((candidate) => candidate !== permission), permission] : current.filter((candidate) => candidate !== permission)));

  return (
    <section class="card" aria-labelledby={headingId}>
      <h2 id={headingId}>{role ? `Edit role ${role.name}` : 'New role'}</h2>
      <form
        ref={formRef}
        noValidate
        onSubmit={(event: TargetedSubmitEvent<HTMLFormElement>) => {
          event.preventDefault();
          void save(false);
        }}
      >
        <TextField label="Name" value={name} onValue={setName} inputRef={nameRef} required problems={placed.byField.name} hint="Also the role value a mapping without an IdP value matches, exactly." />
        {role ? null : (
          <TextField label="ID" value={id} onValue={setId} hint="Optional: lowercase letters, digits and dashes. Generated when empty; it cannot change later." problems={placed.byField.id} />
        )}
        <fieldset class="field">
          <legend>Permissions</legend>
          {PERMISSIONS.map((permission) => (
            <div class="check-row" key={permission}>
              <input
                type="checkbox"
                id={`${headingId}-${permission}`}
                checked={permissions.includes(permission)}
                onChange={(event) => toggle(permission, event.currentTarget.checked)}
              />
              <label for={`${headingId}-${permission}`}>{PERMISSION_NAMES[permission]}</label>
              <code class="muted">{permission}</code>
            </div>
          ))}
          <Problems problems={placed.byField.permissions} />
        </fieldset>
        <div class="form-actions">
          <button type="submit" class="button primary" disabled={busy}>
            {role ? 'Save role' : 'Create role'}
          </button>
          <button type="button" class="button secondary" onClick={onCancel}>
            Cancel
          </button>
          {lastAdmin ? (
            <div class="warning-panel" role="alert">
              <p class="problem">
                <code class="problem-code">{lastAdmin.code}</code> <span class="problem-message">{lastAdmin.message}</span>
              </p>
              <p>
                Roles come from your identity provider, and this change would leave no role mapping that gives both “Edit security settings”
                and “Edit users”: nobody signing in through SSO could administer the organization.
              </p>
              <button
                type="button"
                class="button danger"
                onClick={() => {
                  if (window.confirm('Save this role anyway? Nobody signing in through SSO will be able to administer the organization.')) void save(true);
                }}
              >
                Save anyway
              </button>
            </div>
          ) : null}
          <FormStatus problems={placed.general} />
        </div>
      </form>
    </section>
  );
}

export function RolesPage() {
  const { orgId } = useSession();
  const can = useCan();
  const canEdit = can('roles:edit');
  const roles = useFetch(`roles:${orgId}`, (signal) => api.roles.list(orgId, signal));
  const [editing, setEditing] = useState<Role | 'new' | null>(null);
  const [rowError, setRowError] = useState<{ id: string; error: ApiError } | null>(null);
  const [message, setMessage] = useState('');
  const newButton = useRef<HTMLButtonElement>(null);

  const open = (target: Role | 'new') => {
    setEditing(target);
    setMessage('');
    focusSoon(() => document.querySelector<HTMLInputElement>('.roles-editor input'));
  };
  const close = () => {
    setEditing(null);
    focusSoon(() => newButton.current);
  };
  const remove = async (role: Role) => {
    if (!window.confirm(`Delete the role ${role.name}? This cannot be undone.`)) return;
    setRowError(null);
    try {
      await api.roles.remove(orgId, role.id);
      roles.setData({ items: (roles.data?.items ?? []).filter((candidate) => candidate.id !== role.id) });
      setMessage(`Role ${role.name} deleted.`);
      focusSoon(() => newButton.current);
    } catch (caught) {
      setRowError({ id: role.id, error: toApiError(caught) });
    }
  };

  return (
    <>
      <PageHeading title="Roles">Roles</PageHeading>
      <p>A role is a set of permissions. Users hold roles in account groups, given here or by role mappings at sign-in.</p>
      {canEdit ? (
        <p>
          <button type="button" class="button" ref={newButton} onClick={() => open('new')}>
            New role
          </button>
        </p>
      ) : null}
      <p role="status" class="saved-message">
        {message}
      </p>
      {editing ? (
        <div class="roles-editor">
          <RoleForm
            key={editing === 'new' ? 'new' : editing.id}
            role={editing === 'new' ? null : editing}
            onCancel={close}
            onDone={(saved) => {
              const items = roles.data?.items ?? [];
              roles.setData({ items: items.some((role) => role.id === saved.id) ? items.map((role) => (role.id === saved.id ? saved : role)) : [...items, saved] });
              setMessage(`Role ${saved.name} saved.`);
              close();
            }}
          />
        </div>
      ) : null}
      {roles.error && !roles.data ? <LoadError error={roles.error} what="roles" onRetry={roles.reload} /> : null}
      {!roles.data && !roles.error ? <Loading what="roles" /> : null}
      {roles.data ? (
        <div class="table-wrap">
          <table class="table">
            <caption class="sr-only">Roles</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Permissions</th>
                <th scope="col">Kind</th>
                {canEdit ? <th scope="col">Actions</th> : null}
              </tr>
            </thead>
            <tbody>
              {roles.data.items.map((role) => (
                <tr key={role.id}>
                  <th scope="row">
                    {role.name}
                    <div>
                      <code class="muted">{role.id}</code>
                    </div>
                  </th>
                  <td>
                    <PermissionList permissions={role.permissions} />
                  </td>
                  <td>{role.builtIn ? <Badge tone="neutral">Built-in</Badge> : 'Custom'}</td>
                  {canEdit ? (
                    <td>
                      {role.builtIn ? (
                        <span class="muted">Built-in roles cannot be changed.</span>
                      ) : (
                        <div class="row-actions">
                          <button type="button" class="button secondary small" aria-label={`Edit ${role.name}`} onClick={() => open(role)}>
                            Edit
                          </button>
                          <button type="button" class="button danger small" aria-label={`Delete ${role.name}`} onClick={() => void remove(role)}>
                            Delete
                          </button>
                        </div>
                      )}
                      {rowError?.id === role.id ? <ErrorNote error={rowError.error} /> : null}
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
