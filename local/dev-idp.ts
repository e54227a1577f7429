/**
 * A development SAML IdP, served by `npm start` only (never deployed): a page where you
 * pick an email, names and role values, then sign in through the real ACS with a
 * response this page signs with its own key. The org trusts that key like any IdP's.
 * It serves every org (one key pair, an entity ID per org), and publishes its metadata
 * at `/dev/idp/{orgId}/metadata`, to paste into (or fetch from) an org's SSO settings.
 * Single logout too, at `/dev/idp/{orgId}/slo` (HTTP-Redirect): it answers the service's
 * LogoutRequest with a signed LogoutResponse, and sends a signed LogoutRequest of its own
 * (IdP-initiated) from a small form.
 */
import { inflateRawSync } from 'node:zlib';
import { escapeHtml, page } from '../functions/http/responses.js';
import type { ExtraRoute } from './http-server.js';
import { encryptResponseAssertion } from './saml-encrypt.js';
import {
  buildLoginResponseXml,
  buildSignedLoginResponse,
  encodeSamlResponse,
  NAMEID_EMAIL,
  NAMEID_PERSISTENT,
  signLoginResponseXml,
  type LoginResponseInput,
  type SamlIdpKeys,
} from './saml-idp.js';
import { logoutRequestXml, logoutResponseXml, redirectBindingUrl } from '../shared/saml/logout.js';
import { newRequestId } from '../shared/saml/authn-request.js';
import { orgIdSchema } from '../shared/settings/model.js';
import { orgUrls } from '../shared/settings/urls.js';
import { readForm, send } from './dev-pages.js';

export interface DevIdpOptions {
  baseUrl: string;
  /** The IdP's key pair, shared by every org it serves (each with its own entity ID). */
  keys: Pick<SamlIdpKeys, 'certificatePem' | 'privateKeyPem'>;
  /** Role values offered in the form (the org's mapping keys). */
  roleValues: (orgId: string) => Promise<string[]>;
  roleAttribute: string;
  /**
   * The SP's encryption certificate (as its metadata publishes it) and whether the org
   * requires encrypted assertions: the form then offers (or checks) "Encrypt the assertion".
   */
  encryption?: (orgId: string) => Promise<{ certificatePem: string; required: boolean } | undefined>;
}

/** The ID of a deflated, base64 AuthnRequest (HTTP-Redirect binding), if it is one. */
function authnRequestId(samlRequest: string | null): string | undefined {
  if (!samlRequest) return undefined;
  try {
    const xml = inflateRawSync(Buffer.from(samlRequest, 'base64')).toString('utf8');
    return /<(?:\w+:)?AuthnRequest\b[^>]*\sID="([^"]+)"/.exec(xml)?.[1];
  } catch {
    return undefined;
  }
}

export const devIdpPath = (orgId: string) => `/dev/idp/${encodeURIComponent(orgId)}`;
export const devIdpEntityId = (baseUrl: string, orgId: string) => `${baseUrl}${devIdpPath(orgId)}`;
export const devIdpMetadataPath = (orgId: string) => `${devIdpPath(orgId)}/metadata`;
export const devIdpSloPath = (orgId: string) => `${devIdpPath(orgId)}/slo`;

/** The root element's ID and the NameID of a deflated, base64 message (HTTP-Redirect), if it is one. Development only: read, not verified. */
function redirectMessage(value: string | null): { id?: string; nameId?: string } | undefined {
  if (!value) return undefined;
  try {
    const xml = inflateRawSync(Buffer.from(value, 'base64')).toString('utf8');
    return { id: /^<[^>]*\sID="([^"]+)"/.exec(xml)?.[1], nameId: /<(?:\w+:)?NameID\b[^>]*>([^<]*)</.exec(xml)?.[1] };
  } catch {
    return undefined;
  }
}

/** SAML 2.0 IdP metadata: the entity ID, the signing certificate and the Redirect SSO URL. */
export function devIdpMetadata(baseUrl: string, orgId: string, certificatePem: string): string {
  const certificate = certificatePem.replace(/-----(BEGIN|END) CERTIFICATE-----|\s+/g, '');
  return `<?xml version="1.0" encoding="UTF-8"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="${escapeHtml(devIdpEntityId(baseUrl, orgId))}">
  <md:IDPSSODescriptor WantAuthnRequestsSigned="false" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>${certificate}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    <md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="${escapeHtml(`${baseUrl}${devIdpSloPath(orgId)}`)}"/>
    <md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="${escapeHtml(devIdpEntityId(baseUrl, orgId))}"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>
`;
}


export function devIdpRoutes(options: DevIdpOptions): ExtraRoute[] {
  // Org ids as the service takes them; anything else is no org this IdP could serve.
  const idpFor = (orgId: string): SamlIdpKeys | undefined =>
    orgIdSchema.safeParse(orgId).success ? { ...options.keys, entityId: devIdpEntityId(options.baseUrl, orgId) } : undefined;
  const redirect = (res: import('node:http').ServerResponse, location: string): void => {
    res.writeHead(302, { location, 'cache-control': 'no-store' }).end();
  };
  return [
    {
      method: 'GET',
      path: '/dev/idp/{orgId}/slo',
      handler: (req, res, { orgId = '' }) => {
        const idp = idpFor(orgId);
        if (!idp) return send(res, 404, page('No development IdP', '<p>Unknown org.</p>'));
        const query = new URL(req.url ?? '/', options.baseUrl).searchParams;
        const urls = orgUrls(options.baseUrl, orgId);
        // SP-initiated: the service's LogoutRequest. "Sign out" here, then answer it (signed, HTTP-Redirect).
        const request = redirectMessage(query.get('SAMLRequest'));
        if (request?.id) {
          const response = logoutResponseXml({ id: newRequestId(), now: new Date(), issuer: idp.entityId, destination: urls.singleLogoutUrl, inResponseTo: request.id });
          return redirect(res, redirectBindingUrl(urls.singleLogoutUrl, 'SAMLResponse', response, query.get('RelayState') ?? undefined, options.keys as SamlIdpKeys));
        }
        // The service's answer to our own LogoutRequest.
        const answered = redirectMessage(query.get('SAMLResponse'));
        const status = answered ? '<p>The service answered the LogoutRequest (LogoutResponse received): its sessions for that person have ended.</p>' : '';
        send(
          res,
          200,
          page(
            'Development IdP: single logout',
            `<h1>Single logout at the development IdP for <code>${escapeHtml(orgId)}</code></h1>${status}
<p>Local only. Sends a signed LogoutRequest (HTTP-Redirect) to the service's SLO endpoint: every session of that NameID from this IdP ends.</p>
<form method="post"><p><label>NameID (email or persistent subject)<br><input name="nameId" required value="ada@${escapeHtml(orgId)}.example"></label></p>
<p><button type="submit">Sign out everywhere</button></p></form>`,
          ),
        );
      },
    },
    {
      method: 'POST',
      path: '/dev/idp/{orgId}/slo',
      handler: async (req, res, { orgId = '' }) => {
        const idp = idpFor(orgId);
        if (!idp) return send(res, 404, page('No development IdP', '<p>Unknown org.</p>'));
        const nameId = (await readForm(req)).get('nameId')?.trim() ?? '';
        if (!nameId) return send(res, 400, page('Development IdP', '<p>Give a NameID.</p>'));
        const urls = orgUrls(options.baseUrl, orgId);
        const now = new Date();
        const xml = logoutRequestXml({
          id: newRequestId(),
          now,
          issuer: idp.entityId,
          destination: urls.singleLogoutUrl,
          notOnOrAfter: new Date(now.getTime() + 300_000),
          nameId,
          nameIdFormat: nameId.includes('@') ? NAMEID_EMAIL : NAMEID_PERSISTENT,
        });
        redirect(res, redirectBindingUrl(urls.singleLogoutUrl, 'SAMLRequest', xml, 'dev-idp', options.keys as SamlIdpKeys));
      },
    },
    {
      method: 'GET',
      path: '/dev/idp/{orgId}/metadata',
      handler: (_req, res, { orgId = '' }) => {
        if (!idpFor(orgId)) return send(res, 404, page('No development IdP', '<p>Unknown org.</p>'));
        res.writeHead(200, { 'content-type': 'application/samlmetadata+xml; charset=utf-8', 'cache-control': 'no-store' }).end(devIdpMetadata(options.baseUrl, orgId, options.keys.certificatePem));
      },
    },
    {
      method: 'GET',
      path: '/dev/idp/{orgId}',
      handler: async (req, res, { orgId = '' }) => {
        if (!idpFor(orgId)) return send(res, 404, page('No development IdP', `<p>No development IdP serves org <code>${escapeHtml(orgId)}</code>.</p>`));
        const query = new URL(req.url ?? '/', options.baseUrl).searchParams;
        // SP-initiated: answer the AuthnRequest (its ID goes back as InResponseTo, RelayState as is).
        const requestId = authnRequestId(query.get('SAMLRequest'));
        const roles = await options.roleValues(orgId);
        const encryption = await options.encryption?.(orgId);
        const encryptBox = encryption
          ? `<p><label><input type="checkbox" name="encrypt" value="on"${encryption.required ? ' checked' : ''}> Encrypt the assertion (AES-256-GCM, RSA-OAEP, to the SP's encryption certificate)</label></p>\n`
          : '';
        const checkboxes = roles
          .map((role, i) => `<label><input type="checkbox" name="role" value="${escapeHtml(role)}"${i === 0 ? ' checked' : ''}> ${escapeHtml(role)}</label><br>`)
          .join('');
        send(
          res,
          200,
          page(
            'Development IdP',
            `<h1>Development IdP for <code>${escapeHtml(orgId)}</code></h1>
<p>Local only. Signs a SAML response with this IdP's key and posts it to the real ACS.</p>
<form method="post">
<input type="hidden" name="relayState" value="${escapeHtml(query.get('RelayState') ?? '')}">
<input type="hidden" name="inResponseTo" value="${escapeHtml(requestId ?? '')}">
${requestId ? `<p>Answering the AuthnRequest <code>${escapeHtml(requestId)}</code> (SP-initiated).</p>` : '<p>IdP-initiated: no AuthnRequest.</p>'}
<p>Metadata for this org: <a href="${escapeHtml(devIdpMetadataPath(orgId))}">${escapeHtml(`${options.baseUrl}${devIdpMetadataPath(orgId)}`)}</a></p>
<p><label>Email<br><input name="email" type="email" required value="ada@${escapeHtml(orgId)}.example"></label></p>
<p><label>First name<br><input name="firstName" value="Ada"></label></p>
<p><label>Last name<br><input name="lastName" value="Lovelace"></label></p>
<p><label>Persistent subject (optional)<br><input name="subject" placeholder="e.g. 00u-ada"></label></p>
<fieldset><legend>Role values sent as <code>${escapeHtml(options.roleAttribute)}</code></legend>${checkboxes}
<label>Other value <input name="role"></label></fieldset>
${encryptBox}<p><button type="submit">Sign in</button></p>
</form>`,
          ),
        );
      },
    },
    {
      method: 'POST',
      path: '/dev/idp/{orgId}',
      handler: async (req, res, { orgId = '' }) => {
        const idp = idpFor(orgId);
        if (!idp) return send(res, 404, page('No development IdP', '<p>Unknown org.</p>'));
        const form = await readForm(req);
        const email = form.get('email') ?? '';
        const subject = form.get('subject')?.trim();
        const urls = orgUrls(options.baseUrl, orgId);
        const inResponseTo = form.get('inResponseTo') || undefined;
        const encryption = form.get('encrypt') === 'on' ? await options.encryption?.(orgId) : undefined;
        const response: LoginResponseInput = {
          idp,
          inResponseTo,
          spEntityId: urls.spEntityId,
          acsUrl: urls.acsUrl,
          nameId: subject || email,
          nameIdFormat: subject ? NAMEID_PERSISTENT : NAMEID_EMAIL,
          attributes: {
            emailAddress: email,
            firstName: form.get('firstName') ?? '',
            lastName: form.get('lastName') ?? '',
            [options.roleAttribute]: form.getAll('role').filter((role) => role !== ''),
          },
        };
        // Signed assertion, then (when asked) encrypted to the SP, as Okta or Entra ID send it.
        const samlResponse = encryption
          ? encodeSamlResponse(encryptResponseAssertion(signLoginResponseXml(buildLoginResponseXml(response), idp, 'assertion'), { certificatePem: encryption.certificatePem }))
          : buildSignedLoginResponse(response);
        const relayState = form.get('relayState');
        send(
          res,
          200,
          `<!doctype html><html lang="en"><head><title>Signing in…</title><link rel="icon" href="data:,"></head><body onload="document.forms[0].submit()"><form method="post" action="${escapeHtml(urls.acsUrl)}">
<input type="hidden" name="SAMLResponse" value="${escapeHtml(samlResponse)}">${relayState ? `<input type="hidden" name="RelayState" value="${escapeHtml(relayState)}">` : ''}
<noscript><button type="submit">Continue</button></noscript></form></body></html>`,
        );
      },
    },
  ];
}
