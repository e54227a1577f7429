/**
 * "Preview": what a sign-in asserting these role values would get under the saved
 * settings (`POST settings/role-mappings/preview`): the group and role names, or the
 * code and message the sign-in would fail with.
 */
import type { TargetedSubmitEvent } from 'preact';
import { useState } from 'preact/hooks';
import { api, toApiError, type ApiError } from '../api/client.js';
import type { Group, PreviewResult, Role } from '../api/types.js';
import { TextAreaField } from '../ui/fields.js';
import { ErrorNote } from '../ui/Problems.js';
import { splitList } from '../ui/text.js';
import { AssignmentList } from '../users/AssignmentList.js';

export function PreviewBox({ orgId, roles, groups }: { orgId: string; roles: readonly Role[]; groups: readonly Group[] }) {
  const [text, setText] = useState('');
  const [result, setResult] = useState<{ values: string[]; answer: PreviewResult } | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);

  const preview = async (event: TargetedSubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    const values = splitList(text);
    try {
      setResult({ values, answer: (await api.roleMappings.preview(orgId, values)).data });
    } catch (caught) {
      setResult(null);
      setError(toApiError(caught));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form onSubmit={preview} class="preview" noValidate>
      <TextAreaField
        label="Role values to try"
        value={text}
        onValue={setText}
        rows={3}
        hint="Separate values with commas or new lines; spaces around each value are removed. Leave empty to try a sign-in without the role attribute. Uses the saved settings."
      />
      <button type="submit" class="button secondary" disabled={busy}>
        Preview
      </button>
      <div class="preview-result" role="status">
        {result ? (
          result.answer.error ? (
            <div class="problems">
              <p>A sign-in with {result.values.length === 0 ? 'no role values' : 'these values'} would fail:</p>
              <p class="problem">
                <code class="problem-code">{result.answer.error.code}</code> <span class="problem-message">{result.answer.error.message}</span>
              </p>
            </div>
          ) : (
            <div>
              <p>A sign-in with {result.values.length === 0 ? 'no role values' : 'these values'} would get:</p>
              <AssignmentList assignments={result.answer.assignments ?? []} roles={roles} groups={groups} />
            </div>
          )
        ) : null}
      </div>
      <ErrorNote error={error} />
    </form>
  );
}
