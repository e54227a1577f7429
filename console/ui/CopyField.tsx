/**
 * A read-only value of ours that an admin pastes into their IdP (ACS URL, SP Entity ID,
 * redirect URI, a setup link): the value in a read-only input, and a Copy button.
 */
import { useState } from 'preact/hooks';
import { TextField } from './fields.js';

export function CopyButton({ value, what }: { value: string; what: string }) {
  const [note, setNote] = useState('');
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      setNote('Copied');
    } catch {
      setNote('Copy failed: select the text and press Ctrl+C (⌘C)');
    }
  };
  return (
    <span class="copy">
      <button type="button" class="button secondary small" aria-label={`Copy ${what}`} onClick={copy} disabled={!value}>
        Copy
      </button>
      <span class="copy-note" role="status">
        {note}
      </span>
    </span>
  );
}

export function CopyField({ label, value, hint }: { label: string; value: string; hint?: string }) {
  return (
    <TextField
      label={label}
      value={value}
      readOnly
      hint={hint}
      inputClass="mono"
      after={<CopyButton value={value} what={label} />}
    />
  );
}
