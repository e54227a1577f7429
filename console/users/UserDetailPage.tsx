/**
 * `/console/users/{id}`: one user. Profile and assignments (edit), block or unblock,
 * unlink the IdP subject, sign out everywhere, delete. Each action's error sits beside
 * its button; destructive ones ask first.
 */
import type { ComponentChildren, TargetedSubmitEvent } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, toApiError, useFetch, type ApiError } from '../api/client.js';
import { placeProblems } from '../api/field-errors.js';
import type { User, UserPatch } from '../api/types.js';
import { useDirectory } from '../app/directory.js';
import { Link, navigate } from '../app/router.js';
import { pathOf } from '../app/routes.js';
import { useCan, useSession } from '../app/session.js';
import { TextField } from '../ui/fields.js';
import { focusFirstProblem } from '../ui/focus.js';
import { Badge, Loading, LoadError, PageHeading } from '../ui/page.js';
import { ErrorNote, FormStatus } from '../ui/Problems.js';
import { Time } from '../ui/Time.js';
import { VisibleText } from '../ui/VisibleText.js';
import { assignmentFields, assignmentRows, assignmentsOf, AssignmentsEditor, type AssignmentRow } from './AssignmentsEditor.js';
import { fullName, PROVISIONED_BY } from './labels.js';

/** One button that does one thing to the user, with its own error and result. */
function ActionButton({ label, confirm, run, tone = 'secondary', children }: { label: string; confirm?: string; run: () => Promise<string | void>; tone?: 'secondary' | 'danger'; children?: ComponentChildren }) {
  const [error, setError] = useState<ApiError | null>(null);
  const [done, setDone] = useState('');
  const [busy, setBusy] = useState(false);
  const click = async () => {
    if (confirm && !window.confirm(confirm)) return;
    setBusy(true);
    setError(null);
    setDone('');
    try {
      setDone((await run()) ?? '');
    } catch (caught) {
      setError(toApiError(caught));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="action">
      <button type="button" class={`button ${tone}`} onClick={click} disabled={busy}>
        {label}
      </button>
      {children ? <p class="hint">{children}</p> : null}
      <p role="status" class="saved-message">
        {done}
      </p>
      <ErrorNote error={error} />
    </div>
  );
}

function ProfileForm({ user, canEdit, onSaved }: { user: User; canEdit: boolean; onSaved: (user: User) => void }) {
  const { orgId } = useSession();
  const [firstName, setFirstName] = useState(user.firstName ?? '');
  const [lastName, setLastName] = useState(user.lastName ?? '');
  const [error, setError] = useState<ApiError | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const formRef = useRef<HTMLFormElement>(null);
  useEffect(() => {
    setFirstName(user.firstName ?? '');
    setLastName(user.lastName ?? '');
  }, [user]);
  const placed = placeProblems(error, ['firstName', 'lastName']);
  const save = async (event: TargetedSubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    setError(null);
    setMessage(null);
    try {
      onSaved((await api.users.patch(orgId, user.id, { firstName: firstName.trim(), lastName: lastName.trim() })).data);
      setMessage(user.provisionedBy === 'jit' ? 'Saved. The next SSO sign-in sets the names from the identity provider again.' : 'Saved.');
    } catch (caught) {
      setError(toApiError(caught));
      focusFirstProblem(formRef.current);
    }
  };
  return (
    <form ref={formRef} onSubmit={save} noValidate>
      <div class="two-columns">
        <TextField label="First name" value={firstName} onValue={setFirstName} readOnly={!canEdit} problems={placed.byField.firstName} />
        <TextField label="Last name" value={lastName} onValue={setLastName} readOnly={!canEdit} problems={placed.byField.lastName} />
      </div>
      {canEdit ? (
        <div class="form-actions">
          <button type="submit" class="button primary">
            Save profile
          </button>
          <FormStatus problems={placed.general} message={message} />
        </div>
      ) : null}
    </form>
  );
}

function AssignmentsForm({ user, canEdit, onSaved, roleSourceNote }: { user: User; canEdit: boolean; onSaved: (user: User) => void; roleSourceNote: string | null }) {
  const { orgId } = useSession();
  const directory = useDirectory();
  const [rows, setRows] = useState<AssignmentRow[]>(() => assignmentRows(user.assignments));
  const [error, setError] = useState<ApiError | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const formRef = useRef<HTMLFormElement>(null);
  useEffect(() => setRows(assignmentRows(user.assignments)), [user]);
  const placed = placeProblems(error, assignmentFields(rows));
  const save = async (event: TargetedSubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    setError(null);
    setMessage(null);
    try {
      onSaved((await api.users.patch(orgId, user.id, { assignments: assignmentsOf(rows) })).data);
      setMessage('Saved.');
    } catch (caught) {
      setError(toApiError(caught));
      focusFirstProblem(formRef.current);
    }
  };
  return (
    <form ref={formRef} onSubmit={save} noValidate>
      {roleSourceNote ? <p class="hint">{roleSourceNote}</p> : null}
      {directory.problems.map((problem) => (
        <p class="hint" key={problem.code}>
          Roles or groups could not be read ({problem.code}); they are shown by id.
        </p>
      ))}
      <AssignmentsEditor rows={rows} onRows={setRows} roles={directory.roles} groups={directory.groups} readOnly={!canEdit} problems={placed.byField} />
      {canEdit ? (
        <div class="form-actions">
          <button type="submit" class="button primary">
            Save assignments
          </button>
          <FormStatus problems={[...(placed.byField.assignments ?? []), ...placed.general]} message={message} />
        </div>
      ) : null}
    </form>
  );
}

export function UserDetailPage({ id }: { id: string }) {
  const session = useSession();
  const { orgId } = session;
  const can = useCan();
  const canEdit = can('users:edit');
  const user = useFetch(`user:${orgId}:${id}`, (signal) => api.users.get(orgId, id, signal));
  const provisioning = useFetch(can('security:view') ? `provisioning:${orgId}` : null, (signal) => api.provisioning.get(orgId, signal));
  const data = user.data;
  const patch = async (body: UserPatch) => user.setData((await api.users.patch(orgId, id, body)).data);
  const isSelf = session.kind === 'user' && session.user.id === id;
  const jit = provisioning.data;
  const roleSourceNote =
    jit && jit.method === 'jit' && jit.jit.roleSource === 'idp' && data?.provisionedBy === 'jit'
      ? 'Roles come from the identity provider: the next SSO sign-in replaces these assignments with what the role mappings give.'
      : jit?.method === 'scim'
        ? 'Users are provisioned by SCIM: the identity provider may change these assignments.'
        : null;

  return (
    <>
      <PageHeading title={data ? data.email : 'User'}>{data ? data.email : 'User'}</PageHeading>
      <p>
        <Link href={pathOf({ name: 'users' })}>All users</Link>
      </p>
      {user.error && !data ? <LoadError error={user.error} what="user" onRetry={user.reload} /> : null}
      {!data && !user.error ? <Loading what="the user" /> : null}
      {data ? (
        <>
          <section class="card" aria-labelledby="user-facts">
            <h2 id="user-facts">Account</h2>
            <dl class="facts">
              <dt>Name</dt>
              <dd>{fullName(data) || '—'}</dd>
              <dt>Status</dt>
              <dd>{data.status === 'blocked' ? <Badge tone="bad">Blocked</Badge> : <Badge tone="ok">Active</Badge>}</dd>
              <dt>Provisioned by</dt>
              <dd>
                {PROVISIONED_BY[data.provisionedBy] ?? data.provisionedBy}
                {data.jitProvisioned ? ' (created at an SSO sign-in)' : ''}
              </dd>
              <dt>IdP subject</dt>
              <dd>
                {data.idpSubject ? (
                  <>
                    <VisibleText value={data.idpSubject.subject} /> from <VisibleText value={data.idpSubject.issuer} notes={false} />
                  </>
                ) : (
                  'not linked'
                )}
              </dd>
              <dt>Last sign-in</dt>
              <dd>
                <Time at={data.lastLoginAt} fallback="never" />
              </dd>
              <dt>Created</dt>
              <dd>
                <Time at={data.createdAt} />
              </dd>
              <dt>Updated</dt>
              <dd>
                <Time at={data.updatedAt} />
              </dd>
              <dt>User id</dt>
              <dd>
                <code>{data.id}</code>
              </dd>
            </dl>
          </section>

          <section class="card" aria-labelledby="user-profile">
            <h2 id="user-profile">Profile</h2>
            <ProfileForm user={data} canEdit={canEdit} onSaved={(next) => user.setData(next)} />
          </section>

          <section class="card" aria-labelledby="user-assignments">
            <h2 id="user-assignments">Assignments</h2>
            <AssignmentsForm user={data} canEdit={canEdit} onSaved={(next) => user.setData(next)} roleSourceNote={roleSourceNote} />
          </section>

          {canEdit ? (
            <section class="card" aria-labelledby="user-access">
              <h2 id="user-access">Access</h2>
              <div class="actions">
                {data.status === 'active' ? (
                  <ActionButton
                    label="Block"
                    tone="danger"
                    confirm={`Block ${data.email}? They cannot sign in, and their sessions end at once.`}
                    run={async () => {
                      await patch({ status: 'blocked' });
                      return 'Blocked.';
                    }}
                  >
                    {isSelf ? 'This is you.' : 'Refuses their sign-ins (USER_BLOCKED) and ends their sessions. SSO JIT does not re-create them.'}
                  </ActionButton>
                ) : (
                  <ActionButton
                    label="Unblock"
                    run={async () => {
                      await patch({ status: 'active' });
                      return 'Unblocked.';
                    }}
                  />
                )}
                <ActionButton
                  label="Sign out everywhere"
                  confirm={`End every session of ${data.email} now?`}
                  run={async () => {
                    await api.users.revokeSessions(orgId, id);
                    return 'Every session of this user issued until now has ended.';
                  }}
                >
                  Ends every session this user has now, in every browser.
                </ActionButton>
                {data.idpSubject ? (
                  <ActionButton
                    label="Unlink IdP subject"
                    confirm="Unlink the identity provider subject? The next SSO sign-in with this email links whichever subject it presents."
                    run={async () => {
                      await patch({ idpSubject: null });
                      return 'Unlinked.';
                    }}
                  >
                    For an account recreated at the identity provider (SUBJECT_MISMATCH).
                  </ActionButton>
                ) : null}
                <ActionButton
                  label="Delete user"
                  tone="danger"
                  confirm={`Delete ${data.email}? This cannot be undone. With SSO JIT, their next SSO sign-in creates them again.`}
                  run={async () => {
                    await api.users.remove(orgId, id);
                    navigate(pathOf({ name: 'users' }));
                  }}
                />
              </div>
            </section>
          ) : null}
        </>
      ) : null}
    </>
  );
}
