/**
 * SCIM test helpers: an org whose provisioning method is "scim" (SAML SSO on, roles from
 * SCIM groups by default), a SCIM token made through the admin route, and a client that
 * speaks `application/scim+json` with that token.
 */
import { apiClient, createSamlOrg, tokenFor, type ApiResponse, type SamlOrg, type SamlOrgOptions, type TestService } from './service.js';

export interface ScimOrg extends SamlOrg {
  /** A session token of the org's admin (admin routes). */
  adminToken: string;
  /** The SCIM token's secret and id. */
  scimToken: string;
  scimTokenId: string;
  /** `{BASE_URL}/scim/v2/{orgId}` */
  base: string;
  scim: ScimClient;
  admin: ReturnType<typeof apiClient>;
}

export type ScimClient = <T = any>(method: string, path: string, body?: unknown, headers?: Record<string, string>) => Promise<ApiResponse<T>>;

/** A client of `{BASE_URL}/scim/v2/{orgId}` with `token` (none: anonymous). */
export function scimClient(service: TestService, orgId: string, token?: string): ScimClient {
  return async (method, path, body, headers = {}) => {
    const response = await fetch(`${service.baseUrl}/scim/v2/${orgId}${path}`, {
      method,
      headers: {
        accept: 'application/scim+json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/scim+json' }),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
  };
}

export interface ScimOrgOptions extends SamlOrgOptions {
  /** `jit` settings beside `method: "scim"` (roleSource, onNoRoleMatch…). */
  jit?: Record<string, unknown>;
  /** Leave the method as JIT (reads work, writes are refused). */
  method?: 'scim' | 'jit' | 'manual';
}

/** An org provisioned by SCIM, with a SCIM token made by its admin. */
export async function createScimOrg(service: TestService, options: ScimOrgOptions = {}): Promise<ScimOrg> {
  const org = await createSamlOrg(service, {
    roleMappings: [
      { roleId: 'account-admin', groupIds: ['default'], idpValue: 'Admins' },
      { roleId: 'regular-user', groupIds: ['default'], idpValue: 'Engineering' },
    ],
    ...options,
    provisioning: {
      method: options.method ?? 'scim',
      jit: { roleSource: 'idp', roleAttribute: 'groups', onNoRoleMatch: 'deny', ...options.jit },
      ...options.provisioning,
    },
  });
  const adminToken = await tokenFor(service, org.orgId, org.adminEmail);
  const admin = apiClient(service, adminToken);
  const made = await admin('POST', `/orgs/${org.orgId}/scim/tokens`);
  if (made.status !== 201) throw new Error(`SCIM token not made: ${made.status} ${JSON.stringify(made.body)}`);
  return {
    ...org,
    adminToken,
    admin,
    scimToken: made.body.token,
    scimTokenId: made.body.id,
    base: `${service.baseUrl}/scim/v2/${org.orgId}`,
    scim: scimClient(service, org.orgId, made.body.token),
  };
}

/** A minimal SCIM User body. */
export const scimUser = (userName: string, extra: Record<string, unknown> = {}) => ({
  schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
  userName,
  active: true,
  ...extra,
});
