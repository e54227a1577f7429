/** "Add user": `POST {org}/users` with email, names and assignments; then the new user's page. */
import type { TargetedSubmitEvent } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, toApiError, type ApiError } from '../api/client.js';
import { placeProblems } from '../api/field-errors.js';
import { useDirectory } from '../app/directory.js';
import { navigate } from '../app/router.js';
import { pathOf } from '../app/routes.js';
import { useSession } from '../app/session.js';
import { TextField } from '../ui/fields.js';
import { focusFirstProblem } from '../ui/focus.js';
import { FormStatus } from '../ui/Problems.js';
import { assignmentFields, assignmentRows, assignmentsOf, AssignmentsEditor, type AssignmentRow } from './AssignmentsEditor.js';

export function AddUserForm({ onCancel, onAdded }: { onCancel: () => void; onAdded: () => void }) {
  const { orgId } = useSession();
  const directory = useDirectory();
  const [email, setEmail] = useState('');
  const [firstName, setFirstName] = useState('');
  const [lastName, setLastName] = useState('');
  const [rows, setRows] = useState<AssignmentRow[]>([]);
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const emailRef = useRef<HTMLInputElement>(null);
  const formRef = useRef<HTMLFormElement>(null);

  useEffect(() => emailRef.current?.focus(), []);
  // One assignment to start with: the default group, with the least role there is.
  useEffect(() => {
    if (rows.length > 0 || directory.groups.length === 0) return;
    const group = directory.groups.find((candidate) => candidate.isDefault) ?? directory.groups[0];
    const role = directory.roles.find((candidate) => candidate.id === 'regular-user');
    if (group && role) setRows(assignmentRows([{ groupId: group.id, roleId: role.id }]));
  }, [directory.groups, directory.roles]);

  const placed = placeProblems(error, ['email', 'firstName', 'lastName', ...assignmentFields(rows)], {
    CONFLICT: (message) => (/email/i.test(message) ? 'email' : undefined),
  });

  const submit = async (event: TargetedSubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const { data } = await api.users.create(orgId, {
        email: email.trim(),
        ...(firstName.trim() ? { firstName: firstName.trim() } : {}),
        ...(lastName.trim() ? { lastName: lastName.trim() } : {}),
        assignments: assignmentsOf(rows),
      });
      onAdded();
      navigate(pathOf({ name: 'user', id: data.id }));
    } catch (caught) {
      setError(toApiError(caught));
      focusFirstProblem(formRef.current);
      setBusy(false);
    }
  };

  return (
    <section class="card" aria-labelledby="add-user">
      <h2 id="add-user">Add user</h2>
      <form ref={formRef} onSubmit={submit} noValidate>
        <TextField label="Email" type="email" value={email} onValue={setEmail} inputRef={emailRef} autoComplete="off" required problems={placed.byField.email} />
        <div class="two-columns">
          <TextField label="First name" value={firstName} onValue={setFirstName} problems={placed.byField.firstName} />
          <TextField label="Last name" value={lastName} onValue={setLastName} problems={placed.byField.lastName} />
        </div>
        <h3>Assignments</h3>
        <AssignmentsEditor rows={rows} onRows={setRows} roles={directory.roles} groups={directory.groups} readOnly={false} problems={placed.byField} />
        <div class="form-actions">
          <button type="submit" class="button primary" disabled={busy}>
            Add user
          </button>
          <button type="button" class="button secondary" onClick={onCancel}>
            Cancel
          </button>
          <FormStatus problems={[...(placed.byField.assignments ?? []), ...placed.general]} />
        </div>
      </form>
    </section>
  );
}
