/**
 * A user's assignments as rows of "Account Group" and "Role". "+ Add assignment" adds a
 * row and focuses its group; "Remove" focuses the next row (else the previous, else the
 * add button).
 */
import { useRef, useState } from 'preact/hooks';
import type { Problem } from '../api/field-errors.js';
import type { Assignment, Group, Role } from '../api/types.js';
import { SelectField } from '../ui/fields.js';
import { focusSoon } from '../ui/focus.js';

export interface AssignmentRow extends Assignment {
  key: string;
}

let counter = 0;
export const assignmentRows = (assignments: readonly Assignment[]): AssignmentRow[] =>
  assignments.map((assignment) => ({ ...assignment, key: `a-${(counter += 1)}` }));
export const assignmentsOf = (rows: readonly AssignmentRow[]): Assignment[] => rows.map(({ groupId, roleId }) => ({ groupId, roleId }));

export interface AssignmentsEditorProps {
  rows: readonly AssignmentRow[];
  onRows: (rows: AssignmentRow[]) => void;
  roles: readonly Role[];
  groups: readonly Group[];
  readOnly: boolean;
  problems?: Record<string, Problem[] | undefined>;
}

export function AssignmentsEditor({ rows, onRows, roles, groups, readOnly, problems = {} }: AssignmentsEditorProps) {
  const groupSelects = useRef(new Map<string, HTMLSelectElement>());
  const addButton = useRef<HTMLButtonElement>(null);
  const [announcement, setAnnouncement] = useState('');
  const defaultGroup = groups.find((group) => group.isDefault) ?? groups[0];

  const withUnknown = (options: { value: string; label: string; disabled?: boolean }[], id: string) =>
    id && !options.some((option) => option.value === id) ? [...options, { value: id, label: id }] : options;
  const groupOptions = [{ value: '', label: 'Choose a group…', disabled: true }, ...groups.map((group) => ({ value: group.id, label: group.name }))];
  const roleOptions = [{ value: '', label: 'Choose a role…', disabled: true }, ...roles.map((role) => ({ value: role.id, label: role.name }))];

  const update = (key: string, patch: Partial<Assignment>) => onRows(rows.map((row) => (row.key === key ? { ...row, ...patch } : row)));
  const add = () => {
    const [row] = assignmentRows([{ groupId: defaultGroup?.id ?? '', roleId: '' }]);
    if (!row) return;
    onRows([...rows, row]);
    setAnnouncement(`Assignment ${rows.length + 1} added.`);
    focusSoon(() => groupSelects.current.get(row.key));
  };
  const remove = (index: number) => {
    const next = rows[index + 1] ?? rows[index - 1];
    onRows(rows.filter((_, position) => position !== index));
    setAnnouncement(`Assignment ${index + 1} removed.`);
    focusSoon(() => (next ? groupSelects.current.get(next.key) : addButton.current));
  };

  return (
    <div class="assignments-editor">
      {rows.length === 0 ? <p class="muted">No assignment: this user has no role.</p> : null}
      <ol class="mapping-rows">
        {rows.map((row, index) => (
          <li key={row.key} class="mapping-row">
            <fieldset>
              <legend>Assignment {index + 1}</legend>
              <div class="assignment-grid">
                <SelectField
                  label="Account Group"
                  value={row.groupId}
                  options={withUnknown(groupOptions, row.groupId)}
                  onValue={(groupId) => update(row.key, { groupId })}
                  disabled={readOnly}
                  selectRef={(element: HTMLSelectElement | null) => {
                    if (element) groupSelects.current.set(row.key, element);
                    else groupSelects.current.delete(row.key);
                  }}
                  problems={problems[`assignments.${index}.groupId`]}
                />
                <SelectField
                  label="Role"
                  value={row.roleId}
                  options={withUnknown(roleOptions, row.roleId)}
                  onValue={(roleId) => update(row.key, { roleId })}
                  disabled={readOnly}
                  problems={problems[`assignments.${index}.roleId`]}
                />
                {readOnly ? null : (
                  <div class="mapping-remove">
                    <button type="button" class="button secondary small" aria-label={`Remove assignment ${index + 1}`} onClick={() => remove(index)}>
                      Remove
                    </button>
                  </div>
                )}
              </div>
            </fieldset>
          </li>
        ))}
      </ol>
      {readOnly ? null : (
        <button type="button" class="button secondary" ref={addButton} onClick={add}>
          + Add assignment
        </button>
      )}
      <p class="sr-only" role="status">
        {announcement}
      </p>
    </div>
  );
}

/** The field keys of the rows, as the API names them (`assignments.0.roleId`). */
export const assignmentFields = (rows: readonly AssignmentRow[]): string[] =>
  ['assignments', ...rows.flatMap((_, index) => [`assignments.${index}`, `assignments.${index}.groupId`, `assignments.${index}.roleId`])];
