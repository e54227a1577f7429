/**
 * Form controls with their `<label>`, an optional hint and the API's problems for that
 * field, all tied together with `for`/`id` and `aria-describedby`. The label text is the
 * control's accessible name: pass exactly the contract's name ("Enable SSO").
 */
import type { ComponentChildren, Ref, TargetedEvent } from 'preact';
import { useId } from 'preact/hooks';
import type { Problem } from '../api/field-errors.js';
import { Problems } from './Problems.js';

interface FieldProps {
  label: string;
  hint?: ComponentChildren;
  problems?: readonly Problem[] | undefined;
  /** A fixed id (default: generated). */
  id?: string;
  class?: string;
}

function useDescribed(props: FieldProps) {
  const generated = useId();
  const id = props.id ?? `f${generated}`;
  const hintId = props.hint ? `${id}-hint` : undefined;
  const problemsId = props.problems && props.problems.length > 0 ? `${id}-problems` : undefined;
  const describedBy = [hintId, problemsId].filter(Boolean).join(' ') || undefined;
  return { id, hintId, problemsId, describedBy, invalid: problemsId !== undefined };
}

type InputType = 'text' | 'email' | 'url' | 'password' | 'number' | 'search';

export interface TextFieldProps extends FieldProps {
  value: string;
  onValue?: (value: string) => void;
  type?: InputType;
  readOnly?: boolean;
  disabled?: boolean;
  placeholder?: string;
  autoComplete?: string;
  required?: boolean;
  spellcheck?: boolean;
  inputRef?: Ref<HTMLInputElement>;
  list?: string;
  min?: number;
  max?: number;
  /** Rendered after the input, inside the field (a Copy button). */
  after?: ComponentChildren;
  inputClass?: string;
}

export function TextField(props: TextFieldProps) {
  const { id, hintId, problemsId, describedBy, invalid } = useDescribed(props);
  const onInput = (event: TargetedEvent<HTMLInputElement>) => props.onValue?.(event.currentTarget.value);
  return (
    <div class={['field', props.class].filter(Boolean).join(' ')}>
      <label for={id}>{props.label}</label>
      {props.hint ? (
        <p class="hint" id={hintId}>
          {props.hint}
        </p>
      ) : null}
      <div class="control-row">
        <input
          id={id}
          ref={props.inputRef}
          class={props.inputClass}
          type={(props.type ?? 'text') as 'text'}
          value={props.value}
          onInput={onInput}
          readOnly={props.readOnly}
          disabled={props.disabled}
          placeholder={props.placeholder}
          autoComplete={props.autoComplete ?? 'off'}
          required={props.required}
          spellcheck={props.spellcheck ?? false}
          list={props.list}
          min={props.min}
          max={props.max}
          aria-describedby={describedBy}
          aria-invalid={invalid || undefined}
        />
        {props.after}
      </div>
      <Problems id={problemsId} problems={props.problems} />
    </div>
  );
}

export interface TextAreaFieldProps extends FieldProps {
  value: string;
  onValue?: (value: string) => void;
  rows?: number;
  readOnly?: boolean;
  disabled?: boolean;
  placeholder?: string;
  monospace?: boolean;
}

export function TextAreaField(props: TextAreaFieldProps) {
  const { id, hintId, problemsId, describedBy, invalid } = useDescribed(props);
  return (
    <div class={['field', props.class].filter(Boolean).join(' ')}>
      <label for={id}>{props.label}</label>
      {props.hint ? (
        <p class="hint" id={hintId}>
          {props.hint}
        </p>
      ) : null}
      <textarea
        id={id}
        class={props.monospace ? 'mono' : undefined}
        rows={props.rows ?? 4}
        value={props.value}
        onInput={(event) => props.onValue?.(event.currentTarget.value)}
        readOnly={props.readOnly}
        disabled={props.disabled}
        placeholder={props.placeholder}
        spellcheck={false}
        aria-describedby={describedBy}
        aria-invalid={invalid || undefined}
      />
      <Problems id={problemsId} problems={props.problems} />
    </div>
  );
}

export interface CheckboxFieldProps extends FieldProps {
  checked: boolean;
  onChecked?: (checked: boolean) => void;
  disabled?: boolean;
}

export function CheckboxField(props: CheckboxFieldProps) {
  const { id, hintId, problemsId, describedBy, invalid } = useDescribed(props);
  return (
    <div class={['field', 'field-check', props.class].filter(Boolean).join(' ')}>
      <div class="check-row">
        <input
          id={id}
          type="checkbox"
          checked={props.checked}
          onChange={(event) => props.onChecked?.(event.currentTarget.checked)}
          disabled={props.disabled}
          aria-describedby={describedBy}
          aria-invalid={invalid || undefined}
        />
        <label for={id}>{props.label}</label>
      </div>
      {props.hint ? (
        <p class="hint" id={hintId}>
          {props.hint}
        </p>
      ) : null}
      <Problems id={problemsId} problems={props.problems} />
    </div>
  );
}

export interface Option {
  value: string;
  label: string;
  disabled?: boolean;
}

export interface SelectFieldProps extends FieldProps {
  value: string;
  onValue?: (value: string) => void;
  options: readonly Option[];
  disabled?: boolean;
  required?: boolean;
  selectRef?: Ref<HTMLSelectElement>;
}

export function SelectField(props: SelectFieldProps) {
  const { id, hintId, problemsId, describedBy, invalid } = useDescribed(props);
  return (
    <div class={['field', props.class].filter(Boolean).join(' ')}>
      <label for={id}>{props.label}</label>
      {props.hint ? (
        <p class="hint" id={hintId}>
          {props.hint}
        </p>
      ) : null}
      <select
        id={id}
        ref={props.selectRef}
        value={props.value}
        onChange={(event) => props.onValue?.(event.currentTarget.value)}
        disabled={props.disabled}
        required={props.required}
        aria-describedby={describedBy}
        aria-invalid={invalid || undefined}
      >
        {props.options.map((option) => (
          <option key={option.value} value={option.value} disabled={option.disabled}>
            {option.label}
          </option>
        ))}
      </select>
      <Problems id={problemsId} problems={props.problems} />
    </div>
  );
}

export interface MultiSelectFieldProps extends FieldProps {
  values: readonly string[];
  onValues?: (values: string[]) => void;
  options: readonly Option[];
  disabled?: boolean;
}

/** A `<select multiple>`: one control, named by its label, that keyboards and tests both reach. */
export function MultiSelectField(props: MultiSelectFieldProps) {
  const { id, hintId, problemsId, describedBy, invalid } = useDescribed(props);
  const onChange = (event: TargetedEvent<HTMLSelectElement>) =>
    props.onValues?.([...event.currentTarget.selectedOptions].map((option) => option.value));
  return (
    <div class={['field', props.class].filter(Boolean).join(' ')}>
      <label for={id}>{props.label}</label>
      {props.hint ? (
        <p class="hint" id={hintId}>
          {props.hint}
        </p>
      ) : null}
      <select
        id={id}
        multiple
        size={Math.min(Math.max(props.options.length, 2), 5)}
        onChange={onChange}
        disabled={props.disabled}
        aria-describedby={describedBy}
        aria-invalid={invalid || undefined}
      >
        {props.options.map((option) => (
          <option key={option.value} value={option.value} selected={props.values.includes(option.value)}>
            {option.label}
          </option>
        ))}
      </select>
      <Problems id={problemsId} problems={props.problems} />
    </div>
  );
}

export interface RadioGroupProps extends FieldProps {
  name: string;
  value: string;
  onValue?: (value: string) => void;
  options: readonly (Option & { hint?: string })[];
  disabled?: boolean;
}

/** A `<fieldset>` of radios: the legend names the group, each label names its radio. */
export function RadioGroup(props: RadioGroupProps) {
  const { id, hintId, problemsId, describedBy } = useDescribed(props);
  return (
    <fieldset class={['field', 'radio-group', props.class].filter(Boolean).join(' ')} aria-describedby={describedBy}>
      <legend>{props.label}</legend>
      {props.hint ? (
        <p class="hint" id={hintId}>
          {props.hint}
        </p>
      ) : null}
      {props.options.map((option) => {
        const optionId = `${id}-${option.value}`;
        return (
          <div class="check-row" key={option.value}>
            <input
              type="radio"
              id={optionId}
              name={props.name}
              value={option.value}
              checked={props.value === option.value}
              onChange={() => props.onValue?.(option.value)}
              disabled={props.disabled || option.disabled}
              aria-describedby={option.hint ? `${optionId}-hint` : undefined}
            />
            <label for={optionId}>{option.label}</label>
            {option.hint ? (
              <span class="hint inline-hint" id={`${optionId}-hint`}>
                {option.hint}
              </span>
            ) : null}
          </div>
        );
      })}
      <Problems id={problemsId} problems={props.problems} />
    </fieldset>
  );
}
