/**
 * `/console/setup`, the setup wizard, for the customer's IT admin (a setup session) or
 * an admin: pick the identity provider, follow its guide (our values to paste there,
 * the attributes to send, the role attribute), paste its values back, save
 * (`PUT settings/sso`), and run a test sign-in.
 */
import type { JSX, TargetedSubmitEvent } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, toApiError, useFetch, type ApiError } from '../api/client.js';
import { placeProblems } from '../api/field-errors.js';
import type { Protocol, SsoSettingsView } from '../api/types.js';
import { useSession } from '../app/session.js';
import { OIDC_FIELDS, OidcConnectionFields, SAML_FIELDS, SamlConnectionFields } from '../sso/ConnectionFields.js';
import { SSO_CODE_PLACEMENT } from '../sso/SsoPage.js';
import { bodyFromDraft, draftFromView, type OidcDraft, type SamlDraft, type SsoDraft } from '../sso/sso-draft.js';
import { TestSignInButton } from '../test-sign-in/TestSignInButton.js';
import { CopyField } from '../ui/CopyField.js';
import { CheckboxField, RadioGroup } from '../ui/fields.js';
import { focusFirstProblem } from '../ui/focus.js';
import { ConflictNotice, Loading, LoadError, PageHeading } from '../ui/page.js';
import { FormStatus } from '../ui/Problems.js';
import { GUIDES, OUR_VALUE_LABELS, protocolsOf, THEIR_VALUE_LABELS, type IdpGuide, type OurValue, type ProtocolGuide } from './guides.js';

function ourValue(view: SsoSettingsView, value: OurValue): string {
  switch (value) {
    case 'spEntityId':
      return view.saml.spEntityId;
    case 'acsUrl':
      return view.saml.acsUrl;
    case 'metadataUrl':
      return view.saml.metadataUrl;
    case 'redirectUri':
      return view.oidc.redirectUri;
  }
}

function RoleAttributeNote({ roleAttribute, roleSource, unknown }: { roleAttribute: string | undefined; roleSource: string | undefined; unknown: boolean }) {
  if (roleSource === 'app') return <p>Roles are managed in this console, so no role attribute is needed.</p>;
  if (roleAttribute) {
    return (
      <p>
        The organization’s Role Name Attribute is <code class="value">{roleAttribute}</code>: send the roles under exactly this name. Values are
        matched exactly, case and spaces included.
      </p>
    );
  }
  return (
    <p>
      {unknown
        ? 'The Role Name Attribute is chosen by the organization’s administrator under User Provisioning; ask them for the name to use.'
        : 'No Role Name Attribute is set yet. The organization’s administrator chooses it under User Provisioning; a test sign-in shows them every attribute you send.'}
    </p>
  );
}

function Guide({ guide, protocol, view, roleNote }: { guide: IdpGuide; protocol: Protocol; view: SsoSettingsView; roleNote: JSX.Element }) {
  const steps: ProtocolGuide | undefined = guide[protocol];
  if (!steps) return null;
  return (
    <>
      <section class="card" aria-labelledby="setup-step-2">
        <h2 id="setup-step-2">2. Create the application in {guide.name}</h2>
        <ol class="steps">
          {steps.steps.map((step, index) => (
            <li key={index}>{step}</li>
          ))}
        </ol>
        <h3>Paste these values into {guide.name}</h3>
        {steps.paste.map((entry) => (
          <CopyField key={entry.ours} label={OUR_VALUE_LABELS[entry.ours]} value={ourValue(view, entry.ours)} hint={`In ${guide.name}: ${entry.theirs}`} />
        ))}
      </section>
      <section class="card" aria-labelledby="setup-step-3">
        <h2 id="setup-step-3">3. Send these attributes</h2>
        <div class="table-wrap">
          <table class="table">
            <caption class="sr-only">Attributes to send</caption>
            <thead>
              <tr>
                <th scope="col">Attribute name</th>
                <th scope="col">Value in {guide.name}</th>
              </tr>
            </thead>
            <tbody>
              {steps.attributes.map((attribute) => (
                <tr key={attribute.name}>
                  <td>
                    <code>{attribute.name}</code>
                  </td>
                  <td>{attribute.source}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <h3>Roles</h3>
        <p>{steps.roles}</p>
        {roleNote}
        {steps.notes?.map((note, index) => (
          <p class="hint" key={index}>
            {note}
          </p>
        ))}
      </section>
    </>
  );
}

function ValuesForm({ guide, protocol, view, etag, onSaved, onReload }: { guide: IdpGuide; protocol: Protocol; view: SsoSettingsView; etag: string | null; onSaved: (view: SsoSettingsView, etag: string | null) => void; onReload: () => void }) {
  const { orgId } = useSession();
  const [draft, setDraft] = useState<SsoDraft>(() => ({ ...draftFromView(view), protocol }));
  const [error, setError] = useState<ApiError | null>(null);
  const [conflict, setConflict] = useState<ApiError | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const formRef = useRef<HTMLFormElement>(null);
  useEffect(() => setDraft({ ...draftFromView(view), protocol }), [view, protocol]);

  const steps = guide[protocol];
  const fields = useMemo(() => ['enabled', 'protocol', ...(protocol === 'saml' ? SAML_FIELDS : OIDC_FIELDS)], [protocol]);
  const placed = placeProblems(error, fields, SSO_CODE_PLACEMENT);

  const save = async (event: TargetedSubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    setSaving(true);
    setError(null);
    setMessage(null);
    try {
      const answer = await api.sso.put(orgId, bodyFromDraft(view, draft), etag);
      onSaved(answer.data, answer.etag);
      setMessage('Saved. Now run a test sign-in.');
    } catch (caught) {
      const apiError = toApiError(caught);
      if (apiError.code === 'PRECONDITION_FAILED') setConflict(apiError);
      else {
        setError(apiError);
        focusFirstProblem(formRef.current);
      }
    } finally {
      setSaving(false);
    }
  };

  return (
    <section class="card" aria-labelledby="setup-step-4">
      <h2 id="setup-step-4">4. Paste {guide.name}’s values here</h2>
      {steps ? (
        <dl class="facts where">
          {steps.find.map((entry) => (
            <div key={entry.field + entry.where} class="fact">
              <dt>{THEIR_VALUE_LABELS[entry.field]}</dt>
              <dd>{entry.where}</dd>
            </div>
          ))}
        </dl>
      ) : null}
      {protocol === 'saml' ? <p class="hint">Either the metadata (XML or URL) or the issuer, SSO URL and certificate is enough.</p> : null}
      {conflict ? (
        <ConflictNotice
          error={conflict}
          onReload={() => {
            setConflict(null);
            onReload();
          }}
        />
      ) : null}
      <form ref={formRef} onSubmit={save} noValidate>
        {placed.byField.protocol ? <FormStatus problems={placed.byField.protocol} /> : null}
        {protocol === 'saml' ? (
          <SamlConnectionFields
            view={view.saml}
            draft={draft.saml}
            onChange={(patch: Partial<SamlDraft>) => setDraft((current) => ({ ...current, saml: { ...current.saml, ...patch } }))}
            problems={placed.byField}
            readOnly={false}
          />
        ) : (
          <OidcConnectionFields
            view={view.oidc}
            draft={draft.oidc}
            onChange={(patch: Partial<OidcDraft>) => setDraft((current) => ({ ...current, oidc: { ...current.oidc, ...patch } }))}
            problems={placed.byField}
            readOnly={false}
          />
        )}
        <CheckboxField
          label="Enable SSO"
          checked={draft.enabled}
          onChecked={(enabled) => setDraft((current) => ({ ...current, enabled }))}
          hint="Members of the organization can sign in through this identity provider while SSO is enabled."
          problems={placed.byField.enabled}
        />
        <div class="form-actions">
          <button type="submit" class="button primary" disabled={saving || conflict !== null}>
            {saving ? 'Saving…' : 'Save'}
          </button>
          <FormStatus problems={placed.general} message={message} />
        </div>
      </form>
    </section>
  );
}

export function SetupWizard() {
  const session = useSession();
  const { orgId } = session;
  const sso = useFetch(`sso:${orgId}`, (signal) => api.sso.get(orgId, signal));
  // A setup session may not read provisioning: the note then says whom to ask for the role attribute.
  const provisioning = useFetch(session.kind === 'user' ? `provisioning:${orgId}` : null, (signal) => api.provisioning.get(orgId, signal));
  const [guideId, setGuideId] = useState('');
  const [protocol, setProtocol] = useState<Protocol>('saml');
  const guide = GUIDES.find((candidate) => candidate.id === guideId);
  const protocols = guide ? protocolsOf(guide) : [];

  const choose = (id: string) => {
    setGuideId(id);
    const next = GUIDES.find((candidate) => candidate.id === id);
    const offered = next ? protocolsOf(next) : [];
    setProtocol(sso.data && offered.includes(sso.data.protocol) ? sso.data.protocol : (offered[0] ?? 'saml'));
  };

  const jit = provisioning.data?.jit;
  const roleNote = <RoleAttributeNote roleAttribute={jit?.roleAttribute} roleSource={jit?.roleSource} unknown={session.kind === 'setup' || provisioning.error !== null} />;

  return (
    <>
      <PageHeading title="Set up single sign-on">Set up single sign-on</PageHeading>
      <p>
        {session.kind === 'setup'
          ? `You were invited to connect organization ${orgId} to your identity provider. `
          : ''}
        Five steps: choose your identity provider, create the application there with our values, send the right attributes, paste its values
        here, and test.
      </p>
      {sso.error && !sso.data ? <LoadError error={sso.error} what="SSO settings" onRetry={sso.reload} /> : null}
      {!sso.data && !sso.error ? <Loading what="SSO settings" /> : null}
      {sso.data ? (
        <>
          <section class="card" aria-labelledby="setup-step-1">
            <h2 id="setup-step-1">1. Choose your identity provider</h2>
            <RadioGroup label="Identity provider" name="idp" value={guideId} onValue={choose} options={GUIDES.map((candidate) => ({ value: candidate.id, label: candidate.name }))} />
            {protocols.length > 1 ? (
              <RadioGroup
                label="Protocol"
                name="setup-protocol"
                value={protocol}
                onValue={(value) => setProtocol(value === 'oidc' ? 'oidc' : 'saml')}
                options={protocols.map((value) => ({ value, label: value === 'saml' ? 'SAML 2.0' : 'OpenID Connect' }))}
                hint="Either works; SAML is the more common choice for enterprise applications."
              />
            ) : null}
          </section>
          {guide ? (
            <>
              <Guide guide={guide} protocol={protocol} view={sso.data} roleNote={roleNote} />
              <ValuesForm guide={guide} protocol={protocol} view={sso.data} etag={sso.etag} onSaved={(view, etag) => sso.setData(view, etag)} onReload={sso.reload} />
              <section class="card" aria-labelledby="setup-step-5">
                <h2 id="setup-step-5">5. Test the connection</h2>
                <p>Sign in at {guide.name} as a user of the application. You come back here and see what it sent and whether it would work.</p>
                <TestSignInButton orgId={orgId} />
              </section>
            </>
          ) : (
            <p class="muted">Choose your identity provider to see the steps.</p>
          )}
        </>
      ) : null}
    </>
  );
}
