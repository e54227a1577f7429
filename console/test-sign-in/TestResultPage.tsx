/**
 * `/console/sso/tests/{id}`: the result of a test sign-in, polled while it is pending.
 * Everything the IdP sent is shown verbatim as text (never as HTML), with whitespace
 * made visible; then what the saved settings would do, or why the sign-in would fail.
 */
import { api, useFetch } from '../api/client.js';
import type { TestResult, TestSignIn } from '../api/types.js';
import { FailureDetail } from '../audit/FailureDetail.js';
import { Link } from '../app/router.js';
import { pathOf } from '../app/routes.js';
import { sessionAllows, useSession } from '../app/session.js';
import { AssignmentList } from '../users/AssignmentList.js';
import { Badge, Loading, LoadError, PageHeading } from '../ui/page.js';
import { Time } from '../ui/Time.js';
import { VisibleText } from '../ui/VisibleText.js';
import { TestSignInButton } from './TestSignInButton.js';

const POLL_MS = 2000;

function AttributeValue({ value }: { value: unknown }) {
  return typeof value === 'string' ? <VisibleText value={value} /> : <code class="value">{JSON.stringify(value)}</code>;
}

function Attributes({ attributes }: { attributes: NonNullable<TestResult['attributes']> }) {
  if (attributes.length === 0) return <p class="muted">No attributes were sent.</p>;
  return (
    <div class="table-wrap">
      <table class="table">
        <caption class="sr-only">Attributes sent by the identity provider, in the order sent</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Values</th>
          </tr>
        </thead>
        <tbody>
          {attributes.map((attribute, index) => (
            <tr key={index}>
              <th scope="row" class="attribute-name">
                <VisibleText value={attribute.name} />
              </th>
              <td>
                {attribute.values.length === 0 ? (
                  <span class="muted">(no value)</span>
                ) : (
                  <ul class="value-list">
                    {attribute.values.map((value, position) => (
                      <li key={position}>
                        <AttributeValue value={value} />
                      </li>
                    ))}
                  </ul>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Result({ test, orgId }: { test: TestSignIn; orgId: string }) {
  const session = useSession();
  const roles = useFetch(sessionAllows(session, 'roles:view') ? `roles:${orgId}` : null, (signal) => api.roles.list(orgId, signal));
  const groups = useFetch(sessionAllows(session, 'groups:view') ? `groups:${orgId}` : null, (signal) => api.groups.list(orgId, signal));
  const result = test.result;
  if (!result) return <p>The test finished without a result.</p>;
  const session_ = result.session;
  return (
    <>
      <section class={`card outcome outcome-${result.outcome}`} aria-labelledby="test-outcome">
        <h2 id="test-outcome">
          {result.outcome === 'success' ? <Badge tone="ok">Would succeed</Badge> : <Badge tone="bad">Would fail</Badge>}{' '}
          {result.outcome === 'success' ? 'This sign-in would succeed' : 'This sign-in would fail'}
        </h2>
        {result.outcome === 'success' && result.wouldDo ? (
          <>
            <p>
              Would {result.wouldDo.action} user <VisibleText value={result.wouldDo.email} notes={false} /> with these assignments:
            </p>
            <AssignmentList assignments={result.wouldDo.assignments} roles={roles.data?.items ?? []} groups={groups.data?.items ?? []} />
          </>
        ) : null}
        {result.outcome === 'failure' && result.error ? (
          <FailureDetail
            code={result.error.code}
            message={result.error.message}
            expected={result.error.expected}
            received={result.error.received}
            compared={'expected' in result.error || 'received' in result.error}
          />
        ) : null}
      </section>

      <section class="card" aria-labelledby="test-sent">
        <h2 id="test-sent">What the identity provider sent</h2>
        <dl class="facts">
          <dt>Issuer</dt>
          <dd>{result.issuer !== undefined ? <VisibleText value={result.issuer} /> : '—'}</dd>
          {test.protocol === 'oidc' || result.sub !== undefined ? (
            <>
              <dt>Subject (sub)</dt>
              <dd>{result.sub !== undefined ? <VisibleText value={result.sub} /> : '—'}</dd>
            </>
          ) : null}
          {result.nameId !== undefined || test.protocol === 'saml' ? (
            <>
              <dt>NameID</dt>
              <dd>{result.nameId !== undefined ? <VisibleText value={result.nameId} /> : '—'}</dd>
              <dt>NameID format</dt>
              <dd>{result.nameIdFormat ? <code>{result.nameIdFormat}</code> : '—'}</dd>
            </>
          ) : null}
        </dl>
        <h3>Attributes</h3>
        <Attributes attributes={result.attributes ?? []} />
        {session_ ? (
          <>
            <h3>Session</h3>
            <dl class="facts">
              <dt>Authenticated at</dt>
              <dd>
                <Time at={session_.authnInstant} />
              </dd>
              <dt>Valid from</dt>
              <dd>
                <Time at={session_.notBefore} />
              </dd>
              <dt>Valid until</dt>
              <dd>
                <Time at={session_.notOnOrAfter} />
              </dd>
              <dt>Session index</dt>
              <dd>{session_.sessionIndex ? <code>{session_.sessionIndex}</code> : '—'}</dd>
            </dl>
          </>
        ) : null}
      </section>
    </>
  );
}

export function TestResultPage({ id }: { id: string }) {
  const session = useSession();
  const { orgId } = session;
  const poll = useFetch(`sso-test:${orgId}:${id}`, (signal) => api.ssoTests.get(orgId, id, signal), {
    refreshWhile: (test) => test.status === 'pending',
    intervalMs: POLL_MS,
  });
  const test = poll.data;
  const error = poll.error;

  return (
    <>
      <PageHeading title="Test sign-in result">Test sign-in result</PageHeading>
      {error ? <LoadError error={error} what="test sign-in" onRetry={poll.reload} /> : null}
      {!test && !error ? <Loading what="the test sign-in" /> : null}
      {test ? (
        <>
          <p class="muted">
            {test.protocol === 'saml' ? 'SAML' : 'OpenID Connect'} test started <Time at={test.startedAt} />
            {test.completedAt ? (
              <>
                , completed <Time at={test.completedAt} />
              </>
            ) : null}
            .
          </p>
          {test.status === 'pending' ? (
            <p class="notice" role="status">
              Waiting for your identity provider’s answer… This page updates by itself. If you closed the identity provider’s page, start a new
              test.
            </p>
          ) : (
            <Result test={test} orgId={orgId} />
          )}
        </>
      ) : null}
      <section class="card" aria-labelledby="test-again">
        <h2 id="test-again">Test again</h2>
        <TestSignInButton orgId={orgId} />
        <p>
          {session.kind === 'user' ? (
            <Link href={pathOf({ name: 'sso' })}>Back to Single Sign On</Link>
          ) : (
            <Link href={pathOf({ name: 'setup' })}>Back to the setup wizard</Link>
          )}
        </p>
      </section>
    </>
  );
}
