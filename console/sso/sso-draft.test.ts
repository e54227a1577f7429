import { describe, expect, it } from 'vitest';
import type { SsoSettingsView } from '../api/types.js';
import { bodyFromDraft, draftChanged, draftFromView, pastedCertificates } from './sso-draft.js';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const PEM2 = '-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----\n';

const samlView = (): SsoSettingsView => ({
  enabled: true,
  protocol: 'saml',
  forceSso: false,
  domains: ['acme.com'],
  domainStatus: [{ domain: 'acme.com', verified: true, txtName: 'x', txtValue: 'y', verifiedAt: null }],
  saml: {
    idpEntityId: 'https://idp.acme.com/metadata',
    ssoUrl: 'https://idp.acme.com/sso',
    certificates: [PEM],
    allowIdpInitiated: true,
    signAuthnRequests: false,
    clockSkewSeconds: 60,
    futureField: 'kept',
    spEntityId: 'https://sp/acme',
    acsUrl: 'https://sp/acs',
    metadataUrl: 'https://sp/metadata',
    certificateInfo: [{ subject: 'CN=idp', fingerprintSha256: 'AB', notAfter: '2030-01-01T00:00:00Z', expiresSoon: false }],
    metadataFetchedAt: '2026-01-01T00:00:00Z',
  },
  oidc: { redirectUri: 'https://sp/callback' },
});

describe('bodyFromDraft', () => {
  it('sends the document back without its read-only fields when nothing was edited', () => {
    const view = samlView();
    expect(bodyFromDraft(view, draftFromView(view))).toEqual({
      enabled: true,
      protocol: 'saml',
      forceSso: false,
      domains: ['acme.com'],
      saml: {
        idpEntityId: 'https://idp.acme.com/metadata',
        ssoUrl: 'https://idp.acme.com/sso',
        certificates: [PEM],
        allowIdpInitiated: true,
        signAuthnRequests: false,
        clockSkewSeconds: 60,
        futureField: 'kept',
      },
    });
  });

  it('adds pasted certificates to the kept ones and drops removed ones', () => {
    const view = samlView();
    const draft = draftFromView(view);
    draft.saml.newCertificate = `${PEM2}`;
    expect(bodyFromDraft(view, draft).saml?.certificates).toEqual([PEM, PEM2]);
    draft.saml.certificates = [];
    expect(bodyFromDraft(view, draft).saml?.certificates).toEqual([PEM2]);
  });

  it('sends metadata XML and the metadata URL only when given', () => {
    const view = samlView();
    const draft = draftFromView(view);
    draft.saml.metadataXml = '<EntityDescriptor/>';
    draft.saml.idpMetadataUrl = ' https://idp.acme.com/metadata.xml ';
    const saml = bodyFromDraft(view, draft).saml;
    expect(saml?.metadataXml).toBe('<EntityDescriptor/>');
    expect(saml?.idpMetadataUrl).toBe('https://idp.acme.com/metadata.xml');
    expect('metadataXml' in (bodyFromDraft(view, draftFromView(view)).saml ?? {})).toBe(false);
  });

  it('sends the OIDC client secret only when typed', () => {
    const view: SsoSettingsView = {
      ...samlView(),
      protocol: 'oidc',
      oidc: { issuer: 'https://login.acme.com', clientId: 'c1', scopes: ['openid', 'email'], redirectUri: 'https://sp/cb', clientSecretSet: true },
    };
    const draft = draftFromView(view);
    expect(bodyFromDraft(view, draft).oidc).toEqual({ issuer: 'https://login.acme.com', clientId: 'c1', scopes: ['openid', 'email'] });
    draft.oidc.clientSecret = 's3cret';
    expect(bodyFromDraft(view, draft).oidc?.clientSecret).toBe('s3cret');
  });

  it('leaves out a protocol section that has no connection values', () => {
    const view = samlView();
    const draft = draftFromView(view);
    expect(bodyFromDraft(view, draft).oidc).toBeUndefined();
    draft.oidc.issuer = 'https://login.acme.com';
    expect(bodyFromDraft(view, draft).oidc).toEqual({ issuer: 'https://login.acme.com' });
  });

  it('sends an optional SAML option only when the document had it or the admin set it', () => {
    const view = samlView();
    const draft = draftFromView(view);
    expect('requireEncryptedAssertions' in (bodyFromDraft(view, draft).saml ?? {})).toBe(false);
    draft.saml.requireEncryptedAssertions = true;
    expect(bodyFromDraft(view, draft).saml?.requireEncryptedAssertions).toBe(true);
  });

  it('sends the single logout URL trimmed, and leaves it out once cleared', () => {
    const view = samlView();
    view.saml.sloUrl = 'https://idp.acme.com/slo';
    const draft = draftFromView(view);
    expect(draft.saml.sloUrl).toBe('https://idp.acme.com/slo');
    draft.saml.sloUrl = '  https://idp.acme.com/slo2 ';
    expect(bodyFromDraft(view, draft).saml?.sloUrl).toBe('https://idp.acme.com/slo2');
    draft.saml.sloUrl = '';
    expect('sloUrl' in (bodyFromDraft(view, draft).saml ?? {})).toBe(false);
  });

  it('sends a clock skew that is not a number as typed, for the server to name', () => {
    const view = samlView();
    const draft = draftFromView(view);
    draft.saml.clockSkewSeconds = 'soon';
    expect(bodyFromDraft(view, draft).saml?.clockSkewSeconds).toBe('soon');
  });

  it('knows whether anything changed', () => {
    const view = samlView();
    const draft = draftFromView(view);
    expect(draftChanged(view, draft)).toBe(false);
    draft.forceSso = true;
    expect(draftChanged(view, draft)).toBe(true);
  });
});

describe('pastedCertificates', () => {
  it('finds every PEM block in pasted text', () => {
    expect(pastedCertificates(`junk\n${PEM}\n${PEM2}`)).toEqual([PEM, PEM2]);
    expect(pastedCertificates('  not a pem ')).toEqual(['not a pem']);
    expect(pastedCertificates('   ')).toEqual([]);
  });
});
