/**
 * `/console/users`: search by email, filter (JIT-provisioned on the server; status and
 * provisioned-by on the loaded pages), the table, "Load more", and "Add user".
 */
import type { TargetedSubmitEvent } from 'preact';
import { useRef, useState } from 'preact/hooks';
import { api, usePages } from '../api/client.js';
import type { User } from '../api/types.js';
import { Link } from '../app/router.js';
import { pathOf } from '../app/routes.js';
import { useCan, useSession } from '../app/session.js';
import { CheckboxField, SelectField, TextField } from '../ui/fields.js';
import { focusSoon } from '../ui/focus.js';
import { Badge, LoadError, PageHeading } from '../ui/page.js';
import { Time } from '../ui/Time.js';
import { AddUserForm } from './AddUserForm.js';
import { fullName, PROVISIONED_BY } from './labels.js';

const PAGE_SIZE = 50;

interface Query {
  email: string;
  jit: boolean;
}

export function UsersPage() {
  const { orgId } = useSession();
  const can = useCan();
  const [emailText, setEmailText] = useState('');
  const [jitOnly, setJitOnly] = useState(false);
  const [query, setQuery] = useState<Query>({ email: '', jit: false });
  const [status, setStatus] = useState<'' | User['status']>('');
  const [provisionedBy, setProvisionedBy] = useState<'' | User['provisionedBy']>('');
  const [adding, setAdding] = useState(false);
  const addButton = useRef<HTMLButtonElement>(null);
  const pages = usePages(`users:${orgId}:${query.jit}:${query.email}`, (cursor, signal) =>
    api.users.list(orgId, { email: query.email, jit: query.jit, limit: PAGE_SIZE, cursor }, signal),
  );
  const { cursor, loading, error } = pages;

  const search = (event: TargetedSubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    setQuery({ email: emailText.trim(), jit: jitOnly });
  };

  const shown = pages.items.filter((user) => (!status || user.status === status) && (!provisionedBy || user.provisionedBy === provisionedBy));

  return (
    <>
      <PageHeading title="Users">Users</PageHeading>
      {can('users:edit') ? (
        adding ? (
          <AddUserForm
            onCancel={() => {
              setAdding(false);
              focusSoon(() => addButton.current);
            }}
            onAdded={pages.reload}
          />
        ) : (
          <p>
            <button type="button" class="button" ref={addButton} onClick={() => setAdding(true)}>
              Add user
            </button>
          </p>
        )
      ) : null}

      <form role="search" aria-label="Users" class="filters card" onSubmit={search}>
        <TextField label="Search by email" type="search" value={emailText} onValue={setEmailText} autoComplete="off" />
        <CheckboxField label="JIT-provisioned only" checked={jitOnly} onChecked={setJitOnly} />
        <SelectField
          label="Status"
          value={status}
          onValue={(value) => setStatus(value === 'active' || value === 'blocked' ? value : '')}
          options={[
            { value: '', label: 'Any status' },
            { value: 'active', label: 'Active' },
            { value: 'blocked', label: 'Blocked' },
          ]}
        />
        <SelectField
          label="Provisioned by"
          value={provisionedBy}
          onValue={(value) => setProvisionedBy(value === 'jit' || value === 'manual' || value === 'scim' ? value : '')}
          options={[
            { value: '', label: 'Anyone' },
            { value: 'jit', label: PROVISIONED_BY.jit },
            { value: 'manual', label: PROVISIONED_BY.manual },
            { value: 'scim', label: PROVISIONED_BY.scim },
          ]}
        />
        <button type="submit" class="button secondary">
          Search
        </button>
      </form>

      {error ? <LoadError error={error} what="users" onRetry={pages.reload} /> : null}
      <p role="status" class="muted">
        {loading ? 'Loading users…' : `${shown.length} ${shown.length === 1 ? 'user' : 'users'} shown${cursor ? ' (more can be loaded)' : ''}.`}
        {(status || provisionedBy) && cursor ? ' Status and provisioned-by filter the users loaded so far.' : ''}
      </p>
      {shown.length > 0 ? (
        <div class="table-wrap">
          <table class="table">
            <caption class="sr-only">Users</caption>
            <thead>
              <tr>
                <th scope="col">Email</th>
                <th scope="col">Name</th>
                <th scope="col">Status</th>
                <th scope="col">Provisioned by</th>
                <th scope="col">Last sign-in</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((user) => (
                <tr key={user.id}>
                  <td>
                    <Link href={pathOf({ name: 'user', id: user.id })}>{user.email}</Link>
                  </td>
                  <td>{fullName(user) || <span class="muted">—</span>}</td>
                  <td>{user.status === 'blocked' ? <Badge tone="bad">Blocked</Badge> : <Badge tone="ok">Active</Badge>}</td>
                  <td>{PROVISIONED_BY[user.provisionedBy] ?? user.provisionedBy}</td>
                  <td>
                    <Time at={user.lastLoginAt} fallback="never" />
                  </td>
                </tr>
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
