/**
 * The SSO settings form's state and the `PUT settings/sso` body made from it.
 *
 * The body starts from the document as read (so fields this form does not show, and
 * those a newer server adds, are kept), drops the read-only ones, and overlays what the
 * admin edited. Write-only values go only when typed: `oidc.clientSecret`,
 * `saml.metadataXml`; a pasted certificate is added to the ones kept. Pure, unit-tested.
 */
import type { CertificateInfo, Protocol, SsoSettingsInput, SsoSettingsView } from '../api/types.js';

export interface CertificateRow {
  pem: string;
  info?: CertificateInfo;
}

export interface SamlDraft {
  idpEntityId: string;
  ssoUrl: string;
  certificates: CertificateRow[];
  /** Pasted PEM text: one or more certificates to add. */
  newCertificate: string;
  metadataXml: string;
  idpMetadataUrl: string;
  /** Undefined: the document did not have it and the admin did not touch it, so it is not sent. */
  allowIdpInitiated?: boolean;
  signAuthnRequests?: boolean;
  clockSkewSeconds?: string;
  requireEncryptedAssertions?: boolean;
  allowSha1?: boolean;
  sloUrl?: string;
  metadataRefresh?: { enabled: boolean; applyCertificateChanges: boolean };
}

export interface OidcDraft {
  issuer: string;
  clientId: string;
  /** Write-only: empty means "keep the stored one". */
  clientSecret: string;
  /** Space-separated. */
  scopes: string;
}

export interface SsoDraft {
  enabled: boolean;
  forceSso: boolean;
  protocol: Protocol;
  /** One per line. */
  domains: string;
  saml: SamlDraft;
  oidc: OidcDraft;
}

const READ_ONLY = {
  top: ['domainStatus', 'saml', 'oidc'],
  saml: ['spEntityId', 'acsUrl', 'metadataUrl', 'certificateInfo', 'metadataFetchedAt', 'metadataError'],
  oidc: ['redirectUri', 'clientSecretSet'],
} as const;

const OPTIONAL_SAML_KEYS = ['allowIdpInitiated', 'signAuthnRequests', 'requireEncryptedAssertions', 'allowSha1'] as const;

function without(object: Record<string, unknown> | undefined, keys: readonly string[]): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...object };
  for (const key of keys) delete copy[key];
  return copy;
}

export function draftFromView(view: SsoSettingsView): SsoDraft {
  const saml = view.saml;
  const pems = saml.certificates ?? [];
  const samlDraft: SamlDraft = {
    idpEntityId: saml.idpEntityId ?? '',
    ssoUrl: saml.ssoUrl ?? '',
    certificates: pems.map((pem, index) => {
      const info = saml.certificateInfo[index];
      return info ? { pem, info } : { pem };
    }),
    newCertificate: '',
    metadataXml: '',
    idpMetadataUrl: saml.idpMetadataUrl ?? '',
  };
  for (const key of OPTIONAL_SAML_KEYS) {
    const value = saml[key];
    if (typeof value === 'boolean') samlDraft[key] = value;
  }
  if (typeof saml.clockSkewSeconds === 'number') samlDraft.clockSkewSeconds = String(saml.clockSkewSeconds);
  if (typeof saml.sloUrl === 'string') samlDraft.sloUrl = saml.sloUrl;
  if (saml.metadataRefresh) samlDraft.metadataRefresh = { ...saml.metadataRefresh };
  return {
    enabled: view.enabled,
    forceSso: view.forceSso,
    protocol: view.protocol,
    domains: (view.domains ?? []).join('\n'),
    saml: samlDraft,
    oidc: { issuer: view.oidc.issuer ?? '', clientId: view.oidc.clientId ?? '', clientSecret: '', scopes: (view.oidc.scopes ?? []).join(' ') },
  };
}

/** The PEM certificates in pasted text (several may be pasted at once); the text itself when it has none, so the server can say why. */
export function pastedCertificates(text: string): string[] {
  const found = text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g);
  if (found) return found.map((pem) => `${pem.trim()}\n`);
  return text.trim() ? [text.trim()] : [];
}

function setOrDelete(target: Record<string, unknown>, key: string, value: unknown): void {
  if (value === undefined || value === '' || (Array.isArray(value) && value.length === 0)) delete target[key];
  else target[key] = value;
}

const SAML_CONNECTION_KEYS = ['idpEntityId', 'ssoUrl', 'certificates', 'metadataXml', 'idpMetadataUrl'];

function samlBody(view: SsoSettingsView, draft: SamlDraft): Record<string, unknown> | undefined {
  const saml = without(view.saml, READ_ONLY.saml);
  setOrDelete(saml, 'idpEntityId', draft.idpEntityId.trim());
  setOrDelete(saml, 'ssoUrl', draft.ssoUrl.trim());
  setOrDelete(saml, 'certificates', [...draft.certificates.map((row) => row.pem), ...pastedCertificates(draft.newCertificate)]);
  setOrDelete(saml, 'metadataXml', draft.metadataXml.trim());
  setOrDelete(saml, 'idpMetadataUrl', draft.idpMetadataUrl.trim());
  for (const key of OPTIONAL_SAML_KEYS) if (draft[key] !== undefined) saml[key] = draft[key];
  if (draft.clockSkewSeconds !== undefined) {
    const seconds = draft.clockSkewSeconds.trim();
    // Not a number: sent as typed, so the server's VALIDATION_FAILED names the field.
    saml.clockSkewSeconds = seconds === '' ? undefined : /^-?\d+$/.test(seconds) ? Number(seconds) : seconds;
    if (saml.clockSkewSeconds === undefined) delete saml.clockSkewSeconds;
  }
  if (draft.sloUrl !== undefined) setOrDelete(saml, 'sloUrl', draft.sloUrl.trim());
  if (draft.metadataRefresh !== undefined) saml.metadataRefresh = { ...draft.metadataRefresh };
  return SAML_CONNECTION_KEYS.some((key) => key in saml) ? saml : undefined;
}

function oidcBody(view: SsoSettingsView, draft: OidcDraft): Record<string, unknown> | undefined {
  const oidc = without(view.oidc, READ_ONLY.oidc);
  setOrDelete(oidc, 'issuer', draft.issuer.trim());
  setOrDelete(oidc, 'clientId', draft.clientId.trim());
  setOrDelete(oidc, 'scopes', draft.scopes.split(/[\s,]+/).filter(Boolean));
  setOrDelete(oidc, 'clientSecret', draft.clientSecret);
  return 'issuer' in oidc || 'clientId' in oidc || 'clientSecret' in oidc ? oidc : undefined;
}

/**
 * The `PUT settings/sso` body: the document read, less its read-only fields, with the
 * draft's values. A protocol section with no connection values is left out.
 */
export function bodyFromDraft(view: SsoSettingsView, draft: SsoDraft): SsoSettingsInput {
  const body: SsoSettingsInput = { ...without(view, READ_ONLY.top), enabled: draft.enabled, protocol: draft.protocol, forceSso: draft.forceSso };
  const domains = draft.domains
    .split(/[\s,]+/)
    .map((domain) => domain.trim())
    .filter(Boolean);
  if (view.domains !== undefined || domains.length > 0) body.domains = domains;
  const saml = samlBody(view, draft.saml);
  const oidc = oidcBody(view, draft.oidc);
  if (saml) body.saml = saml;
  if (oidc) body.oidc = oidc;
  return body;
}

/** Whether the draft would change anything if saved. */
export const draftChanged = (view: SsoSettingsView, draft: SsoDraft): boolean =>
  JSON.stringify(bodyFromDraft(view, draft)) !== JSON.stringify(bodyFromDraft(view, draftFromView(view)));
