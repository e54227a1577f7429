/**
 * An IdP-supplied string shown exactly: in `<code>`, as text nodes only, with markers
 * for whitespace that would not show and notes that say it in words.
 */
import { visibleTokens, whitespaceNotes } from './text.js';

export function VisibleText({ value, changed, notes = true }: { value: string; changed?: [number, number] | undefined; notes?: boolean }) {
  const tokens = visibleTokens(value, changed);
  const remarks = notes ? whitespaceNotes(value) : [];
  return (
    <span class="visible-text">
      <code class="value">
        {tokens.map((token, index) => {
          const classes = [token.label ? 'ws' : '', token.edge && token.label ? 'ws-edge' : '', token.changed ? 'changed' : ''].filter(Boolean).join(' ');
          if (token.label) {
            return (
              <span key={index} class={classes} title={token.label}>
                <span aria-hidden="true">{token.text}</span>
                <span class="sr-only">({token.label})</span>
                {token.breakAfter ? '\n' : null}
              </span>
            );
          }
          return classes ? (
            <span key={index} class={classes}>
              {token.text}
            </span>
          ) : (
            token.text
          );
        })}
      </code>
      {remarks.length > 0 ? <span class="ws-notes">{remarks.join(', ')}</span> : null}
    </span>
  );
}
