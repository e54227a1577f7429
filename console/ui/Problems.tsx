/**
 * How the console shows what the API said: the error's code and its message, together,
 * beside the control that caused it (or beside Save when no control did).
 */
import type { ComponentChildren } from 'preact';
import type { ApiError } from '../api/client.js';
import type { Problem } from '../api/field-errors.js';

/** Problems of one field (or one control), linked to it by `id` in its `aria-describedby`. */
export function Problems({ id, problems }: { id?: string; problems: readonly Problem[] | undefined }) {
  if (!problems || problems.length === 0) return null;
  return (
    <div class="problems" id={id}>
      {problems.map((problem, index) => (
        <p class="problem" key={index}>
          {problem.code ? <code class="problem-code">{problem.code}</code> : null} <span class="problem-message">{problem.message}</span>
        </p>
      ))}
    </div>
  );
}

/** One API error in full (a failed read, a refused action). */
export function ErrorNote({ error, id, children }: { error: ApiError | null | undefined; id?: string; children?: ComponentChildren }) {
  if (!error) return null;
  return (
    <div class="problems" id={id} role="alert">
      <p class="problem">
        <code class="problem-code">{error.code}</code> <span class="problem-message">{error.message}</span>
        {error.retryAfter ? <span class="problem-message"> Try again in {error.retryAfter} seconds.</span> : null}
      </p>
      {children}
    </div>
  );
}

/**
 * The live regions beside a form's Save button: the problems no field claims (announced
 * as an alert) and what the last save did (announced politely). Both regions stay in the
 * page so screen readers announce their changes.
 */
export function FormStatus({ problems, message }: { problems: readonly Problem[]; message?: string | null | undefined }) {
  return (
    <div class="form-status">
      <div role="alert">
        {problems.length > 0 ? (
          <div class="problems">
            {problems.map((problem, index) => (
              <p class="problem" key={index}>
                <code class="problem-code">{problem.code}</code> <span class="problem-message">{problem.message}</span>
              </p>
            ))}
          </div>
        ) : null}
      </div>
      <p role="status" class="saved-message">
        {message ?? ''}
      </p>
    </div>
  );
}
