/**
 * The IdP connection's fields, shared by the Single Sign On page and the setup wizard:
 * our values to give the IdP (read-only, with Copy), and the IdP's values to paste here.
 */
import type { Problem } from '../api/field-errors.js';
import type { OidcSettingsView, SamlSettingsView } from '../api/types.js';
import { CopyField } from '../ui/CopyField.js';
import { TextAreaField, TextField } from '../ui/fields.js';
import { Problems } from '../ui/Problems.js';
import { formatTime } from '../ui/Time.js';
import { CertificateTable } from './CertificateTable.js';
import type { OidcDraft, SamlDraft } from './sso-draft.js';

export const SAML_FIELDS = ['saml', 'saml.idpEntityId', 'saml.ssoUrl', 'saml.certificates', 'saml.metadataXml', 'saml.idpMetadataUrl'] as const;
export const OIDC_FIELDS = ['oidc', 'oidc.issuer', 'oidc.clientId', 'oidc.clientSecret', 'oidc.scopes'] as const;

type ProblemsByField = Record<string, Problem[] | undefined>;

/** Our SAML values, for the IdP's admin console. */
export function SamlSpValues({ view }: { view: SamlSettingsView }) {
  return (
    <div class="sp-values">
      <CopyField label="Service Provider Issuer" value={view.spEntityId} hint="Also called SP Entity ID, Audience URI or Identifier." />
      <CopyField label="ACS URL" value={view.acsUrl} hint="Assertion Consumer Service URL; also called Reply URL or Single sign-on URL." />
      <CopyField label="SP metadata URL" value={view.metadataUrl} hint="Identity providers that import metadata read all of the above from here, with our signing and encryption certificates." />
    </div>
  );
}

export function OidcSpValues({ view }: { view: OidcSettingsView }) {
  return <CopyField label="Redirect URI" value={view.redirectUri} hint="Also called callback URL or sign-in redirect URI." />;
}

export interface SamlFieldsProps {
  view: SamlSettingsView;
  draft: SamlDraft;
  onChange: (patch: Partial<SamlDraft>) => void;
  problems: ProblemsByField;
  readOnly: boolean;
}

export function SamlConnectionFields({ view, draft, onChange, problems, readOnly }: SamlFieldsProps) {
  return (
    <div class="connection-fields">
      <Problems problems={problems.saml} />
      <TextField
        label="Identity Provider Issuer"
        value={draft.idpEntityId}
        onValue={(idpEntityId) => onChange({ idpEntityId })}
        readOnly={readOnly}
        inputClass="mono"
        hint="The identity provider’s entity ID. The Issuer of every response must equal it exactly."
        problems={problems['saml.idpEntityId']}
      />
      <TextField
        label="SSO URL"
        type="url"
        value={draft.ssoUrl}
        onValue={(ssoUrl) => onChange({ ssoUrl })}
        readOnly={readOnly}
        inputClass="mono"
        hint="The identity provider’s single sign-on URL (HTTP-Redirect binding), where sign-in requests are sent."
        problems={problems['saml.ssoUrl']}
      />
      <h3>Signing certificates</h3>
      <CertificateTable
        rows={draft.certificates}
        readOnly={readOnly}
        onRemove={(index) => onChange({ certificates: draft.certificates.filter((_, position) => position !== index) })}
      />
      <Problems problems={problems['saml.certificates']} />
      {readOnly ? null : (
        <TextAreaField
          label="Add certificate (PEM)"
          value={draft.newCertificate}
          onValue={(newCertificate) => onChange({ newCertificate })}
          monospace
          rows={5}
          placeholder={'-----BEGIN CERTIFICATE-----\n…\n-----END CERTIFICATE-----'}
          hint="Paste one or more certificates. During a rollover keep the old one until the identity provider has switched, then remove it."
        />
      )}
      <h3>Or take the values from the identity provider’s metadata</h3>
      <p class="hint">Either one sets the issuer, the SSO URL and the certificates when you save.</p>
      {readOnly ? null : (
        <TextAreaField
          label="IdP metadata XML"
          value={draft.metadataXml}
          onValue={(metadataXml) => onChange({ metadataXml })}
          monospace
          rows={5}
          placeholder="<EntityDescriptor …>"
          hint="Paste the metadata document the identity provider offers for download."
          problems={problems['saml.metadataXml']}
        />
      )}
      <TextField
        label="Metadata URL"
        type="url"
        value={draft.idpMetadataUrl}
        onValue={(idpMetadataUrl) => onChange({ idpMetadataUrl })}
        readOnly={readOnly}
        inputClass="mono"
        hint="The identity provider’s metadata URL (https). It is fetched when you save."
        problems={problems['saml.idpMetadataUrl']}
      />
      {view.metadataFetchedAt ? <p class="hint">Metadata last fetched {formatTime(view.metadataFetchedAt)}.</p> : null}
      {view.metadataError ? (
        <p class="warning">
          The last metadata refresh failed: <span>{view.metadataError}</span>
        </p>
      ) : null}
    </div>
  );
}

export interface OidcFieldsProps {
  view: OidcSettingsView;
  draft: OidcDraft;
  onChange: (patch: Partial<OidcDraft>) => void;
  problems: ProblemsByField;
  readOnly: boolean;
}

export function OidcConnectionFields({ view, draft, onChange, problems, readOnly }: OidcFieldsProps) {
  return (
    <div class="connection-fields">
      <Problems problems={problems.oidc} />
      <TextField
        label="Issuer"
        type="url"
        value={draft.issuer}
        onValue={(issuer) => onChange({ issuer })}
        readOnly={readOnly}
        inputClass="mono"
        hint="The OpenID provider’s issuer URL, for example https://login.acme.com. ID tokens must carry exactly this iss."
        problems={problems['oidc.issuer']}
      />
      <TextField
        label="Client ID"
        value={draft.clientId}
        onValue={(clientId) => onChange({ clientId })}
        readOnly={readOnly}
        inputClass="mono"
        problems={problems['oidc.clientId']}
      />
      <TextField
        label="Client secret"
        type="password"
        autoComplete="new-password"
        value={draft.clientSecret}
        onValue={(clientSecret) => onChange({ clientSecret })}
        readOnly={readOnly}
        placeholder={view.clientSecretSet === false ? 'not set' : 'unchanged'}
        hint="Write-only: it is never shown again. Leave it empty to keep the stored secret; a new issuer or client ID needs it again."
        problems={problems['oidc.clientSecret']}
      />
      <TextField
        label="Scopes"
        value={draft.scopes}
        onValue={(scopes) => onChange({ scopes })}
        readOnly={readOnly}
        inputClass="mono"
        placeholder="openid email profile"
        hint="Separated by spaces. Left empty: openid email profile."
        problems={problems['oidc.scopes']}
      />
    </div>
  );
}
