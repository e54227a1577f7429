/**
 * The URLs an org's IdP needs, derived from the deployment's BASE_URL: they are
 * read-only fields of the SSO settings and what the SAML checks compare against.
 */

export interface OrgUrls {
  /** SAML SP entity ID (the Audience every assertion must name). */
  spEntityId: string;
  acsUrl: string;
  metadataUrl: string;
  /** SAML single logout: the SP's SingleLogoutService (HTTP-Redirect and HTTP-POST). */
  singleLogoutUrl: string;
  loginUrl: string;
  oidcRedirectUri: string;
}

export function orgUrls(baseUrl: string, orgId: string): OrgUrls {
  const base = `${baseUrl.replace(/\/+$/, '')}/sso/${encodeURIComponent(orgId)}`;
  return {
    spEntityId: `${base}/saml/metadata`,
    acsUrl: `${base}/saml/acs`,
    metadataUrl: `${base}/saml/metadata`,
    singleLogoutUrl: `${base}/saml/slo`,
    loginUrl: `${base}/login`,
    oidcRedirectUri: `${base}/oidc/callback`,
  };
}
