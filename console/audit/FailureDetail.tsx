/**
 * A failed sign-in explained: its code and message, expected beside received, and the
 * fix from the troubleshooting table. Used by the audit log and the test sign-in result.
 */
import { Link } from '../app/router.js';
import { pathOf } from '../app/routes.js';
import { ExpectedReceived } from '../ui/ExpectedReceived.js';
import { fixFor } from './troubleshooting.js';

export interface FailureDetailProps {
  code: string | undefined;
  message: string | undefined;
  expected?: unknown;
  received?: unknown;
  /** Whether the "expected"/"received" pair was recorded at all. */
  compared: boolean;
}

export function FailureDetail({ code, message, expected, received, compared }: FailureDetailProps) {
  const fix = fixFor(code);
  return (
    <div class="failure-detail">
      <p class="problem">
        <code class="problem-code">{code ?? 'UNKNOWN'}</code> <span class="problem-message">{message ?? '(no message recorded)'}</span>
      </p>
      {compared ? <ExpectedReceived expected={expected} received={received} /> : null}
      {fix ? (
        <div class="fix">
          <p class="fix-meaning">
            <strong>What it means:</strong> {fix.meaning}
          </p>
          <p class="fix-title">
            <strong>How to fix it:</strong>
          </p>
          <ol>
            {fix.steps.map((step, index) => (
              <li key={index}>{step}</li>
            ))}
          </ol>
          {fix.where ? (
            <p>
              <Link href={pathOf(fix.where.route)}>Open {fix.where.label}</Link>
            </p>
          ) : null}
        </div>
      ) : null}
    </div>
  );
}
