/**
 * "Role Name Attribute": the attribute (claim) whose values are role values, chosen
 * from the names recent sign-ins sent (`GET settings/attribute-names`), or typed after
 * choosing "Custom…".
 */
import { useState } from 'preact/hooks';
import type { ApiError } from '../api/client.js';
import type { Problem } from '../api/field-errors.js';
import type { AttributeName } from '../api/types.js';
import { SelectField, TextField } from '../ui/fields.js';
import { formatTime } from '../ui/Time.js';

/** The "Custom…" option's value (an attribute of this name would have to be typed as Custom… too). */
export const CUSTOM = '__custom__';

export interface RoleAttributeSelectProps {
  value: string;
  onValue: (value: string) => void;
  names: readonly AttributeName[] | undefined;
  namesError: ApiError | null;
  readOnly: boolean;
  problems?: Problem[] | undefined;
}

export function RoleAttributeSelect({ value, onValue, names, namesError, readOnly, problems }: RoleAttributeSelectProps) {
  const [custom, setCustom] = useState(false);
  const seen = names ?? [];
  const isSeen = seen.some((attribute) => attribute.name === value);
  const options = [
    { value: '', label: 'Choose an attribute…', disabled: true },
    ...seen.map((attribute) => ({ value: attribute.name, label: attribute.name })),
    ...(value && !isSeen && !custom ? [{ value, label: `${value} (not in recent sign-ins)` }] : []),
    { value: CUSTOM, label: 'Custom…' },
  ];
  const hint = namesError
    ? `The attribute names of recent sign-ins could not be read (${namesError.code}: ${namesError.message}). Choose Custom… to type one.`
    : names === undefined
      ? 'Loading the attribute names of recent sign-ins…'
      : seen.length === 0
        ? 'No sign-in has been recorded yet. Choose Custom… and type the name, or run a test sign-in first to see what your identity provider sends.'
        : `The attribute whose values are role names. Listed: the names sent in recent sign-ins, newest first (latest ${formatTime(seen[0]?.lastSeenAt)}).`;
  return (
    <div class="role-attribute">
      <SelectField
        label="Role Name Attribute"
        value={custom ? CUSTOM : value}
        options={options}
        disabled={readOnly}
        onValue={(chosen) => {
          if (chosen === CUSTOM) setCustom(true);
          else {
            setCustom(false);
            onValue(chosen);
          }
        }}
        hint={hint}
        problems={custom ? undefined : problems}
      />
      {custom ? (
        <TextField
          label="Custom attribute name"
          value={value}
          onValue={onValue}
          readOnly={readOnly}
          inputClass="mono"
          hint="Exactly as your identity provider sends it, for example groups or http://schemas.microsoft.com/ws/2008/06/identity/claims/role."
          problems={problems}
        />
      ) : null}
    </div>
  );
}
