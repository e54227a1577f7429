/**
 * `/console/sso`, Single Sign On: the org's one SSO connection (SAML or OIDC).
 * Saves with `If-Match`; a stale one (`412`) is shown as a conflict with Reload, and
 * nothing is overwritten. Errors sit beside the control that caused them.
 */
import type { TargetedSubmitEvent } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, toApiError, useFetch, type ApiError } from '../api/client.js';
import { placeProblems, type CodePlacement, type Problem } from '../api/field-errors.js';
import type { SsoSettingsView } from '../api/types.js';
import { useCan, useSession } from '../app/session.js';
import { TestSignInButton } from '../test-sign-in/TestSignInButton.js';
import { CheckboxField, RadioGroup, TextAreaField, TextField } from '../ui/fields.js';
import { focusFirstProblem } from '../ui/focus.js';
import { ConflictNotice, Loading, LoadError, PageHeading, ReadOnlyNotice } from '../ui/page.js';
import { FormStatus } from '../ui/Problems.js';
import { OIDC_FIELDS, OidcConnectionFields, OidcSpValues, SAML_FIELDS, SamlConnectionFields, SamlSpValues } from './ConnectionFields.js';
import { DomainTable } from './DomainTable.js';
import { bodyFromDraft, draftFromView, type OidcDraft, type SamlDraft, type SsoDraft } from './sso-draft.js';

const TOP_FIELDS = ['enabled', 'forceSso', 'protocol', 'domains'] as const;
const SAML_ADVANCED_FIELDS = [
  'saml.allowIdpInitiated',
  'saml.signAuthnRequests',
  'saml.clockSkewSeconds',
  'saml.requireEncryptedAssertions',
  'saml.allowSha1',
  'saml.sloUrl',
  'saml.metadataRefresh',
] as const;

/** Where the SSO codes that name no field go. */
export const SSO_CODE_PLACEMENT: CodePlacement = {
  SSO_REQUIRED_BY_JIT: (message) => (/protocol/i.test(message) ? 'protocol' : 'enabled'),
  METADATA_FETCH_FAILED: 'saml.idpMetadataUrl',
  CONFLICT: (message) => (/domain/i.test(message) ? 'domains' : undefined),
  DOMAIN_NOT_VERIFIED: 'domains',
};

function SamlAdvanced({ draft, onChange, problems, readOnly }: { draft: SamlDraft; onChange: (patch: Partial<SamlDraft>) => void; problems: Record<string, Problem[] | undefined>; readOnly: boolean }) {
  const hasProblem = SAML_ADVANCED_FIELDS.some((field) => problems[field]);
  const refresh = draft.metadataRefresh ?? { enabled: false, applyCertificateChanges: false };
  return (
    <details class="advanced" open={hasProblem || undefined}>
      <summary>Advanced SAML options</summary>
      <CheckboxField
        label="Allow IdP-initiated sign-in"
        checked={draft.allowIdpInitiated ?? true}
        onChecked={(allowIdpInitiated) => onChange({ allowIdpInitiated })}
        disabled={readOnly}
        hint="Sign-ins started from the identity provider’s app dashboard, without a request from us."
        problems={problems['saml.allowIdpInitiated']}
      />
      <CheckboxField
        label="Sign authentication requests"
        checked={draft.signAuthnRequests ?? false}
        onChecked={(signAuthnRequests) => onChange({ signAuthnRequests })}
        disabled={readOnly}
        problems={problems['saml.signAuthnRequests']}
      />
      <CheckboxField
        label="Require encrypted assertions"
        checked={draft.requireEncryptedAssertions ?? false}
        onChecked={(requireEncryptedAssertions) => onChange({ requireEncryptedAssertions })}
        disabled={readOnly}
        hint="Refuse plain assertions (ASSERTION_NOT_ENCRYPTED). The identity provider encrypts to the encryption certificate in our SP metadata (AES-GCM or AES-CBC, RSA-OAEP), and still signs."
        problems={problems['saml.requireEncryptedAssertions']}
      />
      <CheckboxField
        label="Accept SHA-1 signatures"
        checked={draft.allowSha1 ?? false}
        onChecked={(allowSha1) => onChange({ allowSha1 })}
        disabled={readOnly}
        hint="Only for identity providers that cannot sign with SHA-256. SHA-1 is weak."
        problems={problems['saml.allowSha1']}
      />
      <TextField
        label="Clock skew (seconds)"
        type="number"
        min={0}
        max={300}
        value={draft.clockSkewSeconds ?? ''}
        onValue={(clockSkewSeconds) => onChange({ clockSkewSeconds })}
        readOnly={readOnly}
        placeholder="60"
        hint="How far the identity provider’s clock may differ from ours (0 to 300)."
        problems={problems['saml.clockSkewSeconds']}
      />
      <TextField
        label="Single logout URL"
        type="url"
        value={draft.sloUrl ?? ''}
        onValue={(sloUrl) => onChange({ sloUrl })}
        readOnly={readOnly}
        inputClass="mono"
        hint="The identity provider’s SingleLogoutService (HTTP-Redirect). Optional."
        problems={problems['saml.sloUrl']}
      />
      <CheckboxField
        label="Refresh metadata daily"
        checked={refresh.enabled}
        onChecked={(enabled) => onChange({ metadataRefresh: { ...refresh, enabled } })}
        disabled={readOnly}
        hint="Re-reads the Metadata URL every day and applies a changed SSO URL or single logout URL."
        problems={problems['saml.metadataRefresh']}
      />
      <CheckboxField
        label="Apply certificate changes from refreshed metadata"
        checked={refresh.applyCertificateChanges}
        onChecked={(applyCertificateChanges) => onChange({ metadataRefresh: { ...refresh, applyCertificateChanges } })}
        disabled={readOnly}
        hint="Without it, new certificates or a new issuer found by the refresh are held back for you to review."
      />
    </details>
  );
}

function SsoForm({ orgId, view, etag, onSaved, onReload }: { orgId: string; view: SsoSettingsView; etag: string | null; onSaved: (view: SsoSettingsView, etag: string | null) => void; onReload: () => void }) {
  const can = useCan();
  const canEdit = can('security:edit');
  const readOnly = !canEdit;
  const [draft, setDraft] = useState<SsoDraft>(() => draftFromView(view));
  const [error, setError] = useState<ApiError | null>(null);
  const [conflict, setConflict] = useState<ApiError | null>(null);
  const [saving, setSaving] = useState(false);
  const [message, setMessage] = useState<string | null>(null);
  const [domainStatus, setDomainStatus] = useState(view.domainStatus ?? []);
  const formRef = useRef<HTMLFormElement>(null);

  useEffect(() => {
    setDraft(draftFromView(view));
    setDomainStatus(view.domainStatus ?? []);
  }, [view]);

  const fields = useMemo(
    () => [...TOP_FIELDS, ...(draft.protocol === 'saml' ? [...SAML_FIELDS, ...SAML_ADVANCED_FIELDS] : OIDC_FIELDS)],
    [draft.protocol],
  );
  const placed = placeProblems(error, fields, SSO_CODE_PLACEMENT);
  const problems = placed.byField;

  const change = (patch: Partial<SsoDraft>) => {
    setDraft((current) => ({ ...current, ...patch }));
    setMessage(null);
  };
  const changeSaml = (patch: Partial<SamlDraft>) => change({ saml: { ...draft.saml, ...patch } });
  const changeOidc = (patch: Partial<OidcDraft>) => change({ oidc: { ...draft.oidc, ...patch } });

  const save = async (event: TargetedSubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    setSaving(true);
    setError(null);
    setMessage(null);
    try {
      const answer = await api.sso.put(orgId, bodyFromDraft(view, draft), etag);
      onSaved(answer.data, answer.etag);
      setMessage('Saved. Sign-ins use these settings from now on.');
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
    <>
      {readOnly ? <ReadOnlyNotice needs={['security:edit']} /> : null}
      {conflict ? (
        <ConflictNotice
          error={conflict}
          onReload={() => {
            setConflict(null);
            setError(null);
            onReload();
          }}
        />
      ) : null}
      <form ref={formRef} onSubmit={save} noValidate class="settings-form">
        <section class="card" aria-labelledby="sso-connection">
          <h2 id="sso-connection">Connection</h2>
          <CheckboxField
            label="Enable SSO"
            checked={draft.enabled}
            onChecked={(enabled) => change({ enabled })}
            disabled={readOnly}
            hint="Members of your organization can sign in through your identity provider."
            problems={problems.enabled}
          />
          <CheckboxField
            label="Force SSO"
            checked={draft.forceSso}
            onChecked={(forceSso) => change({ forceSso })}
            disabled={readOnly}
            hint="Members must sign in through your identity provider; other ways to sign in are refused."
            problems={problems.forceSso}
          />
          <RadioGroup
            label="Protocol"
            name="protocol"
            value={draft.protocol}
            onValue={(protocol) => change({ protocol: protocol === 'oidc' ? 'oidc' : 'saml' })}
            disabled={readOnly}
            options={[
              { value: 'saml', label: 'SAML 2.0' },
              { value: 'oidc', label: 'OpenID Connect (OIDC)' },
            ]}
            hint="One connection per organization. The settings of the other protocol are kept."
            problems={problems.protocol}
          />
          <TextAreaField
            label="Email domains"
            value={draft.domains}
            onValue={(domains) => change({ domains })}
            readOnly={readOnly}
            rows={2}
            hint="One per line, for example acme.com. Once verified, people who enter an email at these domains on the sign-in page are sent to your identity provider."
            problems={problems.domains}
          />
          <DomainTable
            orgId={orgId}
            statuses={domainStatus}
            canEdit={canEdit}
            onVerified={(status) => setDomainStatus((current) => current.map((entry) => (entry.domain === status.domain ? status : entry)))}
          />
        </section>

        {draft.protocol === 'saml' ? (
          <section class="card" aria-labelledby="sso-saml">
            <h2 id="sso-saml">SAML identity provider</h2>
            <h3>Give your identity provider these values</h3>
            <SamlSpValues view={view.saml} />
            <h3>Values from your identity provider</h3>
            <SamlConnectionFields view={view.saml} draft={draft.saml} onChange={changeSaml} problems={problems} readOnly={readOnly} />
            <SamlAdvanced draft={draft.saml} onChange={changeSaml} problems={problems} readOnly={readOnly} />
          </section>
        ) : (
          <section class="card" aria-labelledby="sso-oidc">
            <h2 id="sso-oidc">OpenID Connect provider</h2>
            <h3>Give your identity provider this value</h3>
            <OidcSpValues view={view.oidc} />
            <h3>Values from your identity provider</h3>
            <OidcConnectionFields view={view.oidc} draft={draft.oidc} onChange={changeOidc} problems={problems} readOnly={readOnly} />
          </section>
        )}

        {canEdit ? (
          <div class="form-actions">
            <button type="submit" class="button primary" disabled={saving || conflict !== null}>
              {saving ? 'Saving…' : 'Save'}
            </button>
            <FormStatus problems={placed.general} message={message} />
          </div>
        ) : null}
      </form>
      <section class="card" aria-labelledby="sso-test">
        <h2 id="sso-test">Test sign-in</h2>
        <TestSignInButton orgId={orgId} />
      </section>
    </>
  );
}

export function SsoPage() {
  const { orgId } = useSession();
  const sso = useFetch(`sso:${orgId}`, (signal) => api.sso.get(orgId, signal));
  return (
    <>
      <PageHeading title="Single Sign On">Single Sign On</PageHeading>
      {sso.error && !sso.data ? <LoadError error={sso.error} what="SSO settings" onRetry={sso.reload} /> : null}
      {sso.data ? (
        <SsoForm orgId={orgId} view={sso.data} etag={sso.etag} onSaved={(view, etag) => sso.setData(view, etag)} onReload={sso.reload} />
      ) : !sso.error ? (
        <Loading what="SSO settings" />
      ) : null}
    </>
  );
}
