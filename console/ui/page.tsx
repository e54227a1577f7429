/**
 * Page furniture: the page's one `<h1>` (focused after navigation so screen readers and
 * keyboards start at the new page), loading and access states, the stale-write notice.
 */
import type { ComponentChildren } from 'preact';
import { useEffect } from 'preact/hooks';
import type { ApiError } from '../api/client.js';
import type { Permission } from '../api/types.js';
import { PERMISSION_NAMES } from '../app/permissions.js';
import { ErrorNote } from './Problems.js';

export function PageHeading({ children, title }: { children: ComponentChildren; title: string }) {
  useEffect(() => {
    document.title = `${title} · sso-jit console`;
  }, [title]);
  return (
    <h1 tabIndex={-1} class="page-heading">
      {children}
    </h1>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p class="loading" role="status">
      Loading {what}…
    </p>
  );
}

/** A failed read, with its code and message and a way to try again. */
export function LoadError({ error, what, onRetry }: { error: ApiError; what: string; onRetry?: () => void }) {
  return (
    <ErrorNote error={error}>
      <p>
        The {what} could not be read.{' '}
        {onRetry ? (
          <button type="button" class="button secondary small" onClick={onRetry}>
            Try again
          </button>
        ) : null}
      </p>
    </ErrorNote>
  );
}

/** What a user without the permission sees instead of a page. */
export function NoAccess({ needs }: { needs: Permission }) {
  return (
    <p class="notice">
      Your roles do not include “{PERMISSION_NAMES[needs]}” (<code>{needs}</code>), which this page needs. An administrator of your
      organization can give it to you.
    </p>
  );
}

/** Shown above a form the user may read but not change. */
export function ReadOnlyNotice({ needs }: { needs: readonly Permission[] }) {
  return (
    <p class="notice">
      You can view these settings. Changing them needs {needs.map((permission, index) => (
        <span key={permission}>
          {index > 0 ? ' and ' : ''}“{PERMISSION_NAMES[permission]}”
        </span>
      ))}
      .
    </p>
  );
}

/** `412 PRECONDITION_FAILED`: someone saved first. Nothing is overwritten; Reload discards the edits. */
export function ConflictNotice({ onReload, error }: { onReload: () => void; error: ApiError }) {
  return (
    <div class="conflict" role="alert">
      <p>
        <strong>Someone else changed these settings since you opened them.</strong> Your changes were not saved, and nothing was overwritten.
        Reload to see their version (your unsaved changes will be discarded), then make your changes again.
      </p>
      <p class="problem">
        <code class="problem-code">{error.code}</code> <span class="problem-message">{error.message}</span>
      </p>
      <button type="button" class="button" onClick={onReload}>
        Reload
      </button>
    </div>
  );
}

export function Badge({ tone, children }: { tone: 'ok' | 'warn' | 'bad' | 'neutral'; children: ComponentChildren }) {
  return <span class={`badge badge-${tone}`}>{children}</span>;
}
