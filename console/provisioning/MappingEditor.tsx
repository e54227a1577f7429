/**
 * The role mapping rows: each maps an IdP role value to a "Role" in one or more
 * "Account Groups". Keyboard: "+ Add mapping" adds a row and focuses its "Role"; "-"
 * removes a row and focuses the next row's "Role" (else the previous row's, else
 * "+ Add mapping"). Each change is announced in a polite live region.
 */
import type { RefObject } from 'preact';
import { useRef, useState } from 'preact/hooks';
import type { Problem } from '../api/field-errors.js';
import type { Group, Role } from '../api/types.js';
import { MultiSelectField, SelectField, TextField } from '../ui/fields.js';
import { focusSoon } from '../ui/focus.js';
import { Problems } from '../ui/Problems.js';
import { whitespaceNotes } from '../ui/text.js';
import { emptyRow, type MappingRow } from './provisioning-draft.js';

export interface MappingEditorProps {
  rows: readonly MappingRow[];
  onRows: (rows: MappingRow[]) => void;
  roles: readonly Role[];
  groups: readonly Group[];
  problems: Record<string, Problem[] | undefined>;
  readOnly: boolean;
  /** The "+ Add mapping" button, for the page to focus. */
  addRef?: RefObject<HTMLButtonElement>;
}

export function MappingEditor({ rows, onRows, roles, groups, problems, readOnly, addRef }: MappingEditorProps) {
  const roleSelects = useRef(new Map<string, HTMLSelectElement>());
  const ownAddRef = useRef<HTMLButtonElement>(null);
  const addButton = addRef ?? ownAddRef;
  const [announcement, setAnnouncement] = useState('');

  const update = (key: string, patch: Partial<MappingRow>) => onRows(rows.map((row) => (row.key === key ? { ...row, ...patch } : row)));

  const add = () => {
    const row = emptyRow();
    onRows([...rows, row]);
    setAnnouncement(`Mapping ${rows.length + 1} added.`);
    focusSoon(() => roleSelects.current.get(row.key));
  };

  const remove = (index: number) => {
    const next = rows[index + 1] ?? rows[index - 1];
    onRows(rows.filter((_, position) => position !== index));
    setAnnouncement(`Mapping ${index + 1} removed. ${rows.length - 1} ${rows.length - 1 === 1 ? 'mapping remains' : 'mappings remain'}.`);
    focusSoon(() => (next ? roleSelects.current.get(next.key) : addButton.current));
  };

  const roleOptions = [{ value: '', label: 'Choose a role…', disabled: true }, ...roles.map((role) => ({ value: role.id, label: role.name }))];
  const groupOptions = groups.map((group) => ({ value: group.id, label: group.name }));

  return (
    <div class="mapping-editor">
      {rows.length === 0 ? <p class="muted">No mappings yet.</p> : null}
      <ol class="mapping-rows">
        {rows.map((row, index) => {
          const role = roles.find((candidate) => candidate.id === row.roleId);
          const notes = row.idpValue ? whitespaceNotes(row.idpValue) : [];
          const knownRole = row.roleId === '' || role !== undefined;
          const options = knownRole ? roleOptions : [...roleOptions, { value: row.roleId, label: row.roleId }];
          return (
            <li key={row.key} class="mapping-row">
              <fieldset>
                <legend>Mapping {index + 1}</legend>
                <Problems problems={problems[`items.${index}`]} />
                <div class="mapping-grid">
                  <SelectField
                    label="Role"
                    value={row.roleId}
                    options={options}
                    onValue={(roleId) => update(row.key, { roleId })}
                    disabled={readOnly}
                    selectRef={(element: HTMLSelectElement | null) => {
                      if (element) roleSelects.current.set(row.key, element);
                      else roleSelects.current.delete(row.key);
                    }}
                    problems={problems[`items.${index}.roleId`]}
                  />
                  <MultiSelectField
                    label="Account Groups"
                    values={row.groupIds}
                    options={[...groupOptions, ...row.groupIds.filter((id) => !groups.some((group) => group.id === id)).map((id) => ({ value: id, label: id }))]}
                    onValues={(groupIds) => update(row.key, { groupIds })}
                    disabled={readOnly}
                    hint="Ctrl or ⌘ (or Shift) to choose several."
                    problems={problems[`items.${index}.groupIds`]}
                  />
                  <TextField
                    label="IdP value"
                    value={row.idpValue}
                    onValue={(idpValue) => update(row.key, { idpValue })}
                    readOnly={readOnly}
                    inputClass="mono"
                    placeholder={role ? role.name : ''}
                    hint={
                      notes.length > 0
                        ? `Careful: ${notes.join(', ')}. Values are matched exactly.`
                        : `Optional. Matched exactly (case and spaces count). Empty: the role’s name${role ? ` “${role.name}”` : ''}.`
                    }
                    problems={problems[`items.${index}.idpValue`]}
                  />
                  {readOnly ? null : (
                    <div class="mapping-remove">
                      <button type="button" class="button secondary remove" aria-label={`Remove mapping ${index + 1}`} onClick={() => remove(index)}>
                        -
                      </button>
                    </div>
                  )}
                </div>
              </fieldset>
            </li>
          );
        })}
      </ol>
      {readOnly ? null : (
        <button type="button" class="button secondary" ref={addButton} onClick={add}>
          + Add mapping
        </button>
      )}
      <p class="sr-only" role="status">
        {announcement}
      </p>
    </div>
  );
}
