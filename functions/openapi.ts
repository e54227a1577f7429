/**
 * The OpenAPI 3.1 description of every route, generated from ROUTES and the very zod
 * schemas the domain validates input with (JSON Schema 2020-12, input side).
 * Response shapes are described here for documentation only.
 */
import { z } from 'zod';
import { auditQuerySchema } from '../shared/audit/audit-query.js';
import { discoverInputSchema } from '../shared/login/discover.js';
import { ERROR_STATUS } from '../shared/errors.js';
import { groupSchema, provisioningSettingsSchema, roleMappingSchema, roleSchema, PERMISSIONS } from '../shared/settings/model.js';
import { roleMappingInputSchema, roleMappingsReplaceSchema, rolePreviewSchema } from '../shared/settings/role-mappings.js';
import { groupInputSchema, roleInputSchema } from '../shared/settings/roles-groups.js';
import { provisioningSettingsInputSchema, ssoSettingsInputSchema } from '../shared/settings/settings-service.js';
import { userCreateSchema, userListQuerySchema, userPatchSchema } from '../shared/users/user-admin.js';
import { ssoTestInputSchema } from '../shared/login/sso-tests.js';
import { setupLinkInputSchema } from '../shared/setup/setup-links.js';
import { ROUTES, routeKey, type RouteDefinition } from './routes.js';

const errorSchema = z.object({ error: z.object({ code: z.enum(Object.keys(ERROR_STATUS) as [string, ...string[]]), message: z.string() }) });
const assignment = z.object({ groupId: z.string(), roleId: z.string() });
const userSchema = z.object({
  id: z.string(),
  email: z.string().nullable().describe('null for a SCIM user whose userName is not an email address and who has no emails'),
  firstName: z.string().optional(),
  lastName: z.string().optional(),
  status: z.enum(['active', 'blocked']),
  provisionedBy: z.enum(['jit', 'manual', 'scim']),
  jitProvisioned: z.boolean(),
  assignments: z.array(assignment),
  idpSubject: z.object({ issuer: z.string(), subject: z.string() }).optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
  lastLoginAt: z.string().optional(),
});
const auditEventSchema = z.object({
  id: z.string(),
  at: z.string(),
  type: z.string(),
  outcome: z.enum(['success', 'failure']),
  code: z.string().optional(),
  actor: z.object({ type: z.enum(['idp', 'user', 'cli', 'setup_link', 'scim']), id: z.string() }),
  target: z.object({ type: z.string(), id: z.string() }).optional(),
  details: z.record(z.string(), z.unknown()),
});
const certificateInfo = z.object({ subject: z.string(), fingerprintSha256: z.string(), notAfter: z.string(), expiresSoon: z.boolean() });
const domainStatus = z.object({
  domain: z.string(),
  verified: z.boolean(),
  txtName: z.string().describe('publish a TXT record at this name…'),
  txtValue: z.string().describe('…with this value, then call the verify route'),
  verifiedAt: z.string().nullable(),
});

const ssoView = z.object({
  enabled: z.boolean(),
  protocol: z.enum(['saml', 'oidc']),
  forceSso: z.boolean(),
  domains: z.array(z.string()),
  domainStatus: z.array(domainStatus),
  saml: z.object({
    idpEntityId: z.string().optional(),
    ssoUrl: z.string().optional(),
    certificates: z.array(z.string()).optional(),
    allowIdpInitiated: z.boolean().optional(),
    signAuthnRequests: z.boolean().optional(),
    clockSkewSeconds: z.number().optional(),
    requireEncryptedAssertions: z.boolean().optional().describe('a plain assertion is 401 ASSERTION_NOT_ENCRYPTED'),
    allowSha1: z.boolean().optional().describe('RSA-SHA1 signatures and SHA-1 digests accepted'),
    sloUrl: z.string().optional().describe("the IdP's SingleLogoutService (HTTP-Redirect)"),
    idpMetadataUrl: z.string().optional(),
    metadataFetchedAt: z.string().optional(),
    metadataRefresh: z.object({ enabled: z.boolean(), applyCertificateChanges: z.boolean() }).optional(),
    metadataError: z.string().optional().describe('why the last scheduled fetch failed; absent after a success'),
    spEntityId: z.string(),
    acsUrl: z.string(),
    metadataUrl: z.string(),
    certificateInfo: z.array(certificateInfo),
  }),
  oidc: z.object({ issuer: z.string().optional(), clientId: z.string().optional(), scopes: z.array(z.string()).optional(), redirectUri: z.string(), clientSecretSet: z.boolean().optional() }),
});
const testResult = z.object({
  outcome: z.enum(['success', 'failure']),
  issuer: z.string().optional(),
  nameId: z.string().optional(),
  nameIdFormat: z.string().optional(),
  sub: z.string().optional(),
  attributes: z.array(z.object({ name: z.string(), values: z.array(z.string()) })).optional(),
  attributesTruncated: z.boolean().optional(),
  session: z.object({ authnInstant: z.string().optional(), notBefore: z.string().optional(), notOnOrAfter: z.string().optional(), sessionIndex: z.string().optional() }).optional(),
  ssoEnabled: z.boolean(),
  wouldDo: z
    .object({ action: z.enum(['create', 'update']), email: z.string(), userId: z.string().optional(), firstName: z.string().optional(), lastName: z.string().optional(), assignments: z.array(assignment) })
    .optional(),
  error: z.object({ code: z.string(), message: z.string(), expected: z.unknown().optional(), received: z.unknown().optional() }).optional(),
});
const ssoTestView = z.object({
  id: z.string(),
  status: z.enum(['pending', 'done']),
  startedAt: z.string(),
  completedAt: z.string().optional(),
  protocol: z.enum(['saml', 'oidc']),
  result: testResult.optional(),
});
const setupLinkView = z.object({
  id: z.string(),
  note: z.string().nullable(),
  createdBy: z.string(),
  createdAt: z.string(),
  expiresAt: z.string(),
  usedAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
});
const page = (item: z.ZodType) => z.object({ items: z.array(item), cursor: z.string().nullable() });
const list = (item: z.ZodType) => z.object({ items: z.array(item) });

interface RouteDoc {
  summary: string;
  body?: z.ZodType;
  query?: z.ZodType;
  /** Success status and its body: a JSON schema, or content types (none for 204 and redirects). */
  success: [number, z.ZodType | string | string[] | undefined];
  /** Login routes also answer browsers with HTML pages. */
  login?: boolean;
  /** SCIM routes: a SCIM token, `application/scim+json`, the SCIM error body. */
  scim?: boolean;
  /** Other success answers beside `success` (e.g. a redirect), by status: their description and headers. */
  alternatives?: Record<number, { description: string; headers?: Record<string, string> }>;
  /** Extra words for the `success` answer's description. */
  successDescription?: string;
  /** Headers the `success` answer may carry: name to description. */
  successHeaders?: Record<string, string>;
}

// SCIM (issue 14) ---------------------------------------------------------------------
const scimErrorSchema = z.object({
  schemas: z.array(z.literal('urn:ietf:params:scim:api:messages:2.0:Error')),
  status: z.string().describe('the HTTP status, as a string'),
  scimType: z.string().optional().describe('uniqueness, invalidFilter, invalidSyntax, invalidValue, invalidPath, noTarget, mutability'),
  detail: z.string(),
});
const scimResource = z.record(z.string(), z.unknown()).describe('a SCIM resource (RFC 7643): User, Group, or a discovery document');
const SCIM_TREE = [
  'GET /ServiceProviderConfig, /ResourceTypes[/{id}], /Schemas[/{id}] (discovery, RFC 7643 §5-7; writes 405);',
  'POST /Users, GET|PUT|PATCH|DELETE /Users/{id}, GET /Users?filter=&startIndex=&count=&attributes=&excludedAttributes=;',
  'the same for /Groups; POST /.search, /Users/.search, /Groups/.search (SearchRequest).',
  'Writes need provisioning method "scim" (403, detail SCIM_NOT_ENABLED); If-Match with meta.version; any other path 404.',
].join(' ');
const scimDoc = (method: string): RouteDoc => ({
  summary: `SCIM 2.0 (${method}) under the org's base URL: ${SCIM_TREE}`,
  success: [method === 'POST' ? 201 : method === 'DELETE' ? 204 : 200, method === 'DELETE' ? undefined : scimResource],
  scim: true,
});
const SCIM_DOCS: Record<string, RouteDoc> = Object.fromEntries(
  ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].flatMap((method) => [
    [`${method} /scim/v2/{orgId}`, { ...scimDoc(method), summary: 'The SCIM base URL itself: 404 (the resources are below it)' }],
    [`${method} /scim/v2/{orgId}/{proxy+}`, scimDoc(method)],
  ]),
);

const DOCS: Record<string, RouteDoc> = {
  'GET /health': { summary: 'Liveness', success: [200, z.object({ status: z.literal('ok') })] },
  'GET /.well-known/jwks.json': { summary: 'Public keys that verify session tokens', success: [200, z.object({ keys: z.array(z.record(z.string(), z.unknown())) })] },
  'GET /me': {
    summary: 'The signed-in user (session cookie or bearer token); for a setup session `{"scope":"setup","orgId"}`',
    success: [200, z.union([userSchema.extend({ orgId: z.string() }), z.object({ scope: z.literal('setup'), orgId: z.string() })])],
  },
  'GET /console/setup': {
    summary: 'Opens a setup link: 302 to /console/setup with a setup session in the `session` cookie (expires with the link)',
    query: z.object({ token: z.string() }),
    success: [302, undefined],
    login: true,
  },
  'GET /sso/{orgId}/saml/metadata': {
    summary: 'SP metadata of the org: entity ID, HTTP-POST ACS, NameID formats, the signing certificate and the encryption certificate (KeyDescriptor use="encryption" with the EncryptionMethods the ACS decrypts)',
    success: [200, 'application/samlmetadata+xml'],
  },
  'POST /sso/{orgId}/saml/acs': {
    summary:
      'SAML Assertion Consumer Service (HTTP-POST): validates (an EncryptedAssertion is decrypted, then checked like a plain one: 401 ALGORITHM_NOT_ALLOWED, DECRYPTION_FAILED, ASSERTION_NOT_ENCRYPTED), JIT-provisions, issues a session',
    body: z.object({ SAMLResponse: z.string(), RelayState: z.string().optional() }),
    success: [302, undefined],
    login: true,
  },
  'GET /sso/{orgId}/login': {
    summary: 'SP-initiated login: 302 to the org\'s IdP (SAML AuthnRequest by HTTP-Redirect, or OIDC authorization request with state, nonce and PKCE S256)',
    query: z.object({ fwd: z.string().optional().describe('relative path to land on afterwards; default /') }),
    success: [302, undefined],
    login: true,
  },
  'GET /login/sso': {
    summary: 'SP-initiated login with the org found by its IdP entity ID or OIDC issuer',
    query: z.object({ idp: z.string(), fwd: z.string().optional() }),
    success: [302, undefined],
    login: true,
  },
  'POST /login/discover': {
    summary: 'The login URL for an email (existing user or claimed domain); a form post from /login is answered with 303 to it',
    body: discoverInputSchema,
    success: [200, z.object({ loginUrl: z.string() })],
    login: true,
  },
  'GET /login': { summary: 'A small page: enter your email, be sent to your org\'s IdP', success: [200, 'text/html'] },
  'GET /sso/{orgId}/oidc/callback': {
    summary: 'OIDC redirect URI: single-use state, code exchange, ID token verification, then the same provisioning as SAML',
    query: z.object({ code: z.string().optional(), state: z.string(), error: z.string().optional(), error_description: z.string().optional() }),
    success: [302, undefined],
    login: true,
  },
  'POST /logout': {
    summary:
      "Ends the presented session: its token is revoked and the cookie cleared. A session from a SAML login of an org with `saml.sloUrl` goes on to the IdP with a signed LogoutRequest (HTTP-Redirect); one from an OIDC login to the provider's end_session_endpoint (client_id, logout_hint)",
    success: [204, undefined],
    successDescription: 'Signed out here. With `Accept: application/json`, `Location` names the IdP logout URL when there is one',
    successHeaders: { Location: "the IdP's logout URL (single logout), for JSON callers to follow" },
    alternatives: { 302: { description: "Signed out here; on to the IdP's logout (browser callers)", headers: { Location: "the IdP's logout URL" } } },
  },
  'GET /sso/{orgId}/saml/slo': {
    summary:
      "SAML single logout, HTTP-Redirect binding: an IdP's signed LogoutRequest (SAMLRequest, RelayState, SigAlg, Signature) revokes the sessions of its NameID and SessionIndex(es) and is answered by 302 to `saml.sloUrl` with our signed LogoutResponse and the RelayState; the IdP's LogoutResponse to our LogoutRequest ends with 302 to /. 401 SIGNATURE_INVALID when unsigned or badly signed (nothing revoked)",
    query: z.object({
      SAMLRequest: z.string().optional().describe('deflated, base64 LogoutRequest'),
      SAMLResponse: z.string().optional().describe('deflated, base64 LogoutResponse'),
      RelayState: z.string().optional(),
      SigAlg: z.string().optional(),
      Signature: z.string().optional(),
    }),
    success: [302, undefined],
    successDescription: 'To `saml.sloUrl` with our LogoutResponse, or to / after the IdP answered our LogoutRequest',
    alternatives: { 200: { description: 'Signed out (a LogoutRequest, when the org has no sloUrl to answer to): an HTML page' } },
    login: true,
  },
  'POST /sso/{orgId}/saml/slo': {
    summary:
      'SAML single logout, HTTP-POST binding: the same as the GET, the message base64 (not deflated) in a form, signed with an enveloped XML signature',
    body: z.object({ SAMLRequest: z.string().optional(), SAMLResponse: z.string().optional(), RelayState: z.string().optional() }),
    success: [302, undefined],
    successDescription: 'To `saml.sloUrl` with our LogoutResponse, or to / after the IdP answered our LogoutRequest',
    alternatives: { 200: { description: 'Signed out (a LogoutRequest, when the org has no sloUrl to answer to): an HTML page' } },
    login: true,
  },
  'POST /me/sessions/revoke': {
    summary: 'Sign out everywhere: every session of the signed-in user issued until now is revoked (with the cookie, Origin must be this service)',
    success: [204, undefined],
  },
  'GET /openapi.json': { summary: 'This document', success: [200, z.record(z.string(), z.unknown())] },
  'GET /console': { summary: 'The admin console: the app shell (no-store), signed in with the session cookie', success: [200, 'text/html'] },
  'GET /console/{proxy+}': { summary: 'Any console page path: the same app shell', success: [200, 'text/html'] },
  'GET /console/assets/{file}': {
    summary: 'A hashed file of the console build (public, max-age=31536000, immutable); 404 for any other name',
    success: [200, ['text/javascript', 'text/css']],
  },
  'GET /console/login': {
    summary: 'Redeems a one-time console sign-in link (sso-jit login-link; 10 minutes, single use): 302 /console with the session cookie; 401 page when unknown, used or expired',
    query: z.object({ token: z.string().describe('the token of the link') }),
    success: [302, undefined],
    login: true,
  },
  'GET /orgs/{orgId}/settings/sso': { summary: 'SSO settings (with ETag)', success: [200, ssoView] },
  'PUT /orgs/{orgId}/settings/sso': { summary: 'Replace the SSO settings (If-Match honoured)', body: ssoSettingsInputSchema, success: [200, ssoView] },
  'POST /orgs/{orgId}/settings/sso/domains/{domain}/verify': {
    summary: "Verify a domain by its DNS TXT record: then it routes discovery to the org (409 DOMAIN_NOT_VERIFIED with the values found; 409 CONFLICT when another org verified it)",
    success: [200, domainStatus],
  },
  'GET /orgs/{orgId}/settings/provisioning': { summary: 'Provisioning settings (with ETag)', success: [200, provisioningSettingsSchema] },
  'PUT /orgs/{orgId}/settings/provisioning': { summary: 'Replace the provisioning settings; `jit` left out is kept', body: provisioningSettingsInputSchema, success: [200, provisioningSettingsSchema] },
  'GET /orgs/{orgId}/settings/role-mappings': { summary: 'Role mappings (with ETag)', success: [200, list(roleMappingSchema)] },
  'PUT /orgs/{orgId}/settings/role-mappings': { summary: 'Replace every role mapping (`?force=true` overrides LAST_ADMIN_MAPPING)', body: roleMappingsReplaceSchema, success: [200, list(roleMappingSchema)] },
  'POST /orgs/{orgId}/settings/role-mappings': { summary: 'Add a role mapping', body: roleMappingInputSchema, success: [201, roleMappingSchema] },
  'POST /orgs/{orgId}/settings/role-mappings/preview': {
    summary: 'What a login asserting these role values would get, or the error it would fail with',
    body: rolePreviewSchema,
    success: [200, z.union([z.object({ assignments: z.array(assignment) }), errorSchema])],
  },
  'DELETE /orgs/{orgId}/settings/role-mappings/{mappingId}': { summary: 'Delete a role mapping (`?force=true` overrides LAST_ADMIN_MAPPING)', success: [204, undefined] },
  'GET /orgs/{orgId}/roles': { summary: 'Roles', success: [200, list(roleSchema)] },
  'POST /orgs/{orgId}/roles': { summary: 'Create a role', body: roleInputSchema, success: [201, roleSchema] },
  'PUT /orgs/{orgId}/roles/{roleId}': { summary: 'Change a role (built-in roles cannot be changed)', body: roleInputSchema, success: [200, roleSchema] },
  'DELETE /orgs/{orgId}/roles/{roleId}': { summary: 'Delete a role (built-in roles cannot be deleted)', success: [204, undefined] },
  'GET /orgs/{orgId}/groups': { summary: 'Groups', success: [200, list(groupSchema)] },
  'POST /orgs/{orgId}/groups': { summary: 'Create a group', body: groupInputSchema, success: [201, groupSchema] },
  'PUT /orgs/{orgId}/groups/{groupId}': { summary: 'Rename a group', body: groupInputSchema, success: [200, groupSchema] },
  'DELETE /orgs/{orgId}/groups/{groupId}': { summary: 'Delete a group (not the default group)', success: [204, undefined] },
  'GET /orgs/{orgId}/users': { summary: 'Users, filtered and paginated', query: userListQuerySchema, success: [200, page(userSchema)] },
  'POST /orgs/{orgId}/users': {
    summary: 'Create a user by hand (provisionedBy "manual"); 409 CONFLICT when the email exists in the org; only roles whose permissions you hold',
    body: userCreateSchema,
    success: [201, userSchema],
  },
  'GET /orgs/{orgId}/users/{userId}': { summary: 'A user', success: [200, userSchema] },
  'PATCH /orgs/{orgId}/users/{userId}': { summary: 'Change names, status or assignments, or unlink the IdP subject', body: userPatchSchema, success: [200, userSchema] },
  'DELETE /orgs/{orgId}/users/{userId}': { summary: 'Remove a user (manual removal)', success: [204, undefined] },
  'POST /orgs/{orgId}/users/{userId}/sessions/revoke': { summary: "Sign a user out everywhere: every session of theirs issued until now is revoked", success: [204, undefined] },
  'GET /orgs/{orgId}/audit-events': { summary: 'Audit events, newest first', query: auditQuerySchema, success: [200, page(auditEventSchema)] },
  'GET /orgs/{orgId}/settings/attribute-names': {
    summary: 'Attribute (claim) names of the last 200 login events, newest first, each once',
    success: [200, list(z.object({ name: z.string(), lastSeenAt: z.string() }))],
  },
  'POST /orgs/{orgId}/sso/tests': {
    summary: "Start a test sign-in: the IdP's answer is validated and planned, never provisioned; sets the sso_browser cookie",
    body: ssoTestInputSchema,
    success: [201, z.object({ id: z.string(), loginUrl: z.string() })],
  },
  'GET /orgs/{orgId}/sso/tests/{testId}': { summary: 'A test sign-in and its result (only for whoever started it)', success: [200, ssoTestView] },
  'POST /orgs/{orgId}/setup-links': {
    summary: 'Make a setup link (24 hours) for the IT admin who sets up the connection; the URL is shown only here',
    body: setupLinkInputSchema,
    success: [201, z.object({ id: z.string(), url: z.string(), createdAt: z.string(), expiresAt: z.string() })],
  },
  'GET /orgs/{orgId}/setup-links': { summary: 'Setup links, newest first (never their tokens)', success: [200, list(setupLinkView)] },
  'DELETE /orgs/{orgId}/setup-links/{linkId}': { summary: 'Revoke a setup link: it and its sessions stop working at once', success: [204, undefined] },
  'POST /orgs/{orgId}/scim/tokens': {
    summary: "Make a SCIM token for the org's IdP; the secret is in this answer only (stored as its SHA-256)",
    success: [201, z.object({ id: z.string(), token: z.string(), createdAt: z.string() })],
  },
  'GET /orgs/{orgId}/scim/tokens': { summary: 'SCIM tokens, newest first (never their secrets)', success: [200, list(z.object({ id: z.string(), createdAt: z.string(), lastUsedAt: z.string().nullable() }))] },
  'DELETE /orgs/{orgId}/scim/tokens/{tokenId}': { summary: 'Revoke a SCIM token: it stops working at once', success: [204, undefined] },
  ...SCIM_DOCS,
};

/** The routes that read or write no DynamoDB table, so never answer `503 SERVICE_UNAVAILABLE`. */
const WITHOUT_STORAGE = new Set(['GET /health', 'GET /.well-known/jwks.json', 'GET /login', 'GET /openapi.json']);

/** Route keys of ROUTES without documentation, or documentation without a route: empty when they agree. */
export const undocumentedRoutes = (): string[] => [
  ...ROUTES.map(routeKey).filter((key) => !DOCS[key]),
  ...Object.keys(DOCS).filter((key) => !ROUTES.some((route) => routeKey(route) === key)),
];

const jsonSchema = (schema: z.ZodType) => z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input', unrepresentable: 'any' });

/** A route's path as OpenAPI writes it: API Gateway's greedy `{name+}` is the parameter `{name}`. */
export const openApiPath = (path: string): string => path.replace(/\{(\w+)\+\}/g, '{$1}');

function operation(route: RouteDefinition, doc: RouteDoc) {
  const pathParameters = [...route.path.matchAll(/\{(\w+)(\+?)\}/g)].map(([, name, greedy]) => ({
    name,
    in: 'path',
    required: true,
    schema: { type: 'string' },
    ...(greedy ? { description: 'the rest of the path, slashes included' } : {}),
  }));
  const queryShape = doc.query instanceof z.ZodObject ? Object.entries(doc.query.shape as Record<string, z.ZodType>) : [];
  const queryParameters = queryShape.map(([name, schema]) => ({ name, in: 'query', required: false, schema: jsonSchema(schema) }));
  const force = /role-mappings|roles\/\{roleId\}/.test(route.path) && route.method !== 'GET' && route.method !== 'POST' ? [{ name: 'force', in: 'query', required: false, schema: { type: 'string', enum: ['true'] } }] : [];
  const [status, body] = doc.success;
  if (doc.scim) return scimOperation(route, doc, pathParameters);
  const errorResponse = { description: 'Error (API.md "Errors")', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } }, ...(doc.login ? { 'text/html': { schema: { type: 'string' } } } : {}) } };
  const unavailable = {
    description: 'SERVICE_UNAVAILABLE: DynamoDB is throttled, slow or down. Try again after Retry-After seconds.',
    headers: { 'Retry-After': { description: 'Seconds to wait before trying again', schema: { type: 'integer', minimum: 1 } } },
    content: errorResponse.content,
  };
  return {
    summary: doc.summary,
    ...(route.permissions ? { security: [{ bearer: [] }, { cookie: [] }], 'x-permissions': route.permissions } : {}),
    ...(route.setupSession ? { 'x-setup-session': true } : {}),
    parameters: [...pathParameters, ...queryParameters, ...force, ...(route.method === 'PUT' && route.path.includes('/settings/') ? [{ name: 'If-Match', in: 'header', required: false, schema: { type: 'string' } }] : [])],
    ...(doc.body
      ? {
          requestBody: {
            required: true,
            content:
              route.path === '/login/discover'
                ? { 'application/json': { schema: jsonSchema(doc.body) }, 'application/x-www-form-urlencoded': { schema: jsonSchema(doc.body) } }
                : { [doc.login ? 'application/x-www-form-urlencoded' : 'application/json']: { schema: jsonSchema(doc.body) } },
          },
        }
      : {}),
    responses: {
      [status]: {
        description: doc.successDescription ?? (status === 302 ? 'Signed in: redirect with the session cookie' : 'Success'),
        ...(doc.successHeaders ? { headers: headerObjects(doc.successHeaders) } : {}),
        ...(typeof body === 'string' || Array.isArray(body)
          ? { content: Object.fromEntries([body].flat().map((type) => [type, { schema: { type: 'string' } }])) }
          : body
            ? { content: { 'application/json': { schema: jsonSchema(body) } } }
            : {}),
      },
      ...Object.fromEntries(
        Object.entries(doc.alternatives ?? {}).map(([alternative, { description, headers }]) => [alternative, { description, ...(headers ? { headers: headerObjects(headers) } : {}) }]),
      ),
      ...(WITHOUT_STORAGE.has(routeKey(route)) ? {} : { 503: unavailable }),
      default: errorResponse,
    },
  };
}

const headerObjects = (headers: Record<string, string>) => Object.fromEntries(Object.entries(headers).map(([name, description]) => [name, { description, schema: { type: 'string' } }]));

/** A SCIM route: SCIM token, `application/scim+json` in and out, the SCIM error body. */
function scimOperation(route: RouteDefinition, doc: RouteDoc, pathParameters: Record<string, unknown>[]) {
  const [status, body] = doc.success;
  const content = (schema: Record<string, unknown>) => ({ 'application/scim+json': { schema }, 'application/json': { schema } });
  const errorContent = content({ $ref: '#/components/schemas/ScimError' });
  const write = route.method !== 'GET' && route.method !== 'DELETE';
  return {
    summary: doc.summary,
    security: [{ scimToken: [] }],
    parameters: [
      ...pathParameters,
      ...(route.method === 'GET' ? ['filter', 'startIndex', 'count', 'attributes', 'excludedAttributes'].map((name) => ({ name, in: 'query', required: false, schema: { type: 'string' } })) : []),
      ...(route.method !== 'GET' && route.method !== 'POST' ? [{ name: 'If-Match', in: 'header', required: false, schema: { type: 'string' } }] : []),
    ],
    ...(write ? { requestBody: { required: true, content: content(jsonSchema(scimResource)) } } : {}),
    responses: {
      [status]: { description: 'Success', ...(body && typeof body !== 'string' && !Array.isArray(body) ? { content: content(jsonSchema(body)) } : {}) },
      503: {
        description: 'A dependency is throttled, slow or down. Try again after Retry-After seconds.',
        headers: { 'Retry-After': { description: 'Seconds to wait before trying again', schema: { type: 'integer', minimum: 1 } } },
        content: errorContent,
      },
      default: { description: 'SCIM error (RFC 7644 §3.12)', content: errorContent },
    },
  };
}

let cached: { baseUrl: string; document: Record<string, unknown> } | undefined;

/** The OpenAPI 3.1 document for a deployment at `baseUrl` (built once per container). */
export function openApiDocument(baseUrl: string): Record<string, unknown> {
  if (cached?.baseUrl === baseUrl) return cached.document;
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of ROUTES) {
    const doc = DOCS[routeKey(route)];
    if (!doc) continue;
    (paths[openApiPath(route.path)] ??= {})[route.method.toLowerCase()] = operation(route, doc);
  }
  const document = {
    openapi: '3.1.0',
    info: { title: 'sso-jit', version: '1', description: `Just-in-time user provisioning for SSO. Permissions: ${PERMISSIONS.join(', ')}.` },
    servers: [{ url: baseUrl }],
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
        cookie: {
          type: 'apiKey',
          in: 'cookie',
          name: 'session',
          description: "The console's session cookie. A write (POST, PUT, PATCH, DELETE) made with it must send Origin equal to BASE_URL's origin, else 403 CSRF_REJECTED. The bearer token wins when both are sent.",
        },
        scimToken: { type: 'http', scheme: 'bearer', description: 'A SCIM token of the org (POST /orgs/{orgId}/scim/tokens); session tokens are refused here, and SCIM tokens on every other route.' },
      },
      schemas: { Error: jsonSchema(errorSchema), ScimError: jsonSchema(scimErrorSchema) },
    },
    paths,
  };
  cached = { baseUrl, document };
  return document;
}
