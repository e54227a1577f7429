import type { Permission } from '../shared/settings/model.js';

/**
 * Every HTTP route and the function (bundle) that serves it, defined once: the CDK
 * stack creates one NodejsFunction per function and one HTTP API route per entry;
 * the local server dispatches on the same table. No CDK import here.
 */

export interface FunctionDefinition {
  /** Logical id: CDK construct id and the local server's handler key. */
  id: string;
  /** Entry file, relative to the repository root; it exports `handler`. */
  entry: string;
  /** Which tables the function uses and how (least privilege in AWS). */
  tables: { users?: 'read' | 'write'; mappings?: 'read' | 'write'; audit?: 'read' | 'write'; loginState?: 'read' | 'write' };
  /** Whether it signs sessions (needs the signing key) or only verifies them. */
  sessionKeys: 'sign' | 'verify' | 'none';
  /** Whether it encrypts or decrypts stored secrets (OIDC client secrets): needs the KMS key. */
  sealsSecrets?: boolean;
  /** Whether it reads the SP key pair (signs AuthnRequests, publishes the certificate). */
  spKey?: boolean;
  /** Whether its bundle carries the built admin console (`console/` beside `index.mjs`, built by CDK's bundling). */
  consoleApp?: boolean;
  /** A scheduled function (no routes): the EventBridge schedule expression that invokes it. */
  schedule?: string;
  /** Its timeout in seconds, when not the HTTP functions' 10. */
  timeoutSeconds?: number;
}

export interface RouteDefinition {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** API Gateway path syntax: `{name}` segments. */
  path: string;
  functionId: FunctionDefinition['id'];
  /** Admin routes: every permission the caller needs (API.md "Admin routes"). */
  permissions?: readonly Permission[];
  /**
   * Admin routes a setup session (docs/console.md "Setup links") may call as well; every
   * other admin route refuses it with `403 FORBIDDEN`.
   */
  setupSession?: true;
}

export const FUNCTIONS = {
  acs: {
    id: 'Acs',
    entry: 'functions/acs.ts',
    tables: { users: 'write', mappings: 'read', audit: 'write', loginState: 'write' },
    sessionKeys: 'sign',
    // The SP key pair's encryption keys decrypt EncryptedAssertions.
    spKey: true,
  },
  samlMetadata: { id: 'SamlMetadata', entry: 'functions/saml-metadata.ts', tables: { mappings: 'read' }, sessionKeys: 'none', spKey: true },
  login: {
    id: 'Login',
    entry: 'functions/login.ts',
    tables: { users: 'read', mappings: 'read', loginState: 'write' },
    sessionKeys: 'none',
    spKey: true,
  },
  oidcCallback: {
    id: 'OidcCallback',
    entry: 'functions/oidc-callback.ts',
    tables: { users: 'write', mappings: 'read', audit: 'write', loginState: 'write' },
    sessionKeys: 'sign',
    sealsSecrets: true,
  },
  session: {
    id: 'Session',
    entry: 'functions/session.ts',
    // Logout revokes tokens (login-state); "sign out everywhere" changes the user and audits it;
    // a setup session's GET /me reads its setup link (mappings).
    // Single logout: the org's IdP settings (mappings), IdP session markers, pending and seen
    // logout messages (login-state), `sso.slo` / `user.logout` events (audit), and the SP key
    // that signs our LogoutRequests and LogoutResponses. Nothing it needs beyond that.
    tables: { users: 'write', audit: 'write', loginState: 'write', mappings: 'read' },
    sessionKeys: 'sign',
    spKey: true,
  },
  settings: {
    id: 'Settings',
    entry: 'functions/settings.ts',
    // Test sign-ins: pending logins and results in login-state, AuthnRequests signed with the SP key.
    tables: { users: 'write', mappings: 'write', audit: 'write', loginState: 'write' },
    sessionKeys: 'verify',
    sealsSecrets: true,
    spKey: true,
  },
  console: {
    id: 'Console',
    entry: 'functions/console.ts',
    // The app itself talks to the admin routes; this function only redeems login links
    // (takes the link from login-state, reads its user, records the sign-in) and opens
    // setup links (reads the link and records its first use: mappings and audit).
    tables: { users: 'read', audit: 'write', loginState: 'write', mappings: 'write' },
    sessionKeys: 'sign',
    consoleApp: true,
  },
  dailyCheck: {
    id: 'DailyCheck',
    entry: 'functions/daily-check.ts',
    // Every org's metadata refresh, certificate expiry and verified domains: reads and
    // writes the settings (mappings) with their audit events.
    // The SP key pair: its certificate's days left are published too.
    tables: { mappings: 'write', audit: 'write' },
    sessionKeys: 'none',
    spKey: true,
    schedule: 'rate(1 day)',
    timeoutSeconds: 900,
  },
  scim: {
    id: 'Scim',
    entry: 'functions/scim.ts',
    // SCIM writes users, their SCIM groups (users table) and audit events; it reads the
    // org's settings and its token, and stamps the token's lastUsedAt (mappings).
    tables: { users: 'write', mappings: 'write', audit: 'write' },
    sessionKeys: 'none',
  },
} as const satisfies Record<string, FunctionDefinition>;

const admin = (method: RouteDefinition['method'], path: string, ...permissions: Permission[]): RouteDefinition => ({
  method,
  path: `/orgs/{orgId}${path}`,
  functionId: FUNCTIONS.settings.id,
  permissions,
});

/** An admin route a setup session may call too. */
const setup = (route: RouteDefinition): RouteDefinition => ({ ...route, setupSession: true });

/** The admin routes of API.md and docs/console.md, each with the permissions it needs. */
export const ADMIN_ROUTES: readonly RouteDefinition[] = [
  setup(admin('GET', '/settings/sso', 'security:view')),
  setup(admin('PUT', '/settings/sso', 'security:edit')),
  admin('POST', '/settings/sso/domains/{domain}/verify', 'security:edit'),
  admin('GET', '/settings/attribute-names', 'security:view'),
  setup(admin('POST', '/sso/tests', 'security:view')),
  setup(admin('GET', '/sso/tests/{testId}', 'security:view')),
  admin('POST', '/setup-links', 'security:edit'),
  admin('GET', '/setup-links', 'security:view'),
  admin('DELETE', '/setup-links/{linkId}', 'security:edit'),
  admin('GET', '/settings/provisioning', 'security:view'),
  admin('PUT', '/settings/provisioning', 'security:edit', 'users:edit'),
  admin('GET', '/settings/role-mappings', 'security:view'),
  admin('PUT', '/settings/role-mappings', 'security:edit'),
  admin('POST', '/settings/role-mappings', 'security:edit'),
  admin('POST', '/settings/role-mappings/preview', 'security:view'),
  admin('DELETE', '/settings/role-mappings/{mappingId}', 'security:edit'),
  admin('GET', '/roles', 'roles:view'),
  admin('POST', '/roles', 'roles:edit'),
  admin('PUT', '/roles/{roleId}', 'roles:edit'),
  admin('DELETE', '/roles/{roleId}', 'roles:edit'),
  admin('GET', '/groups', 'groups:view'),
  admin('POST', '/groups', 'groups:edit'),
  admin('PUT', '/groups/{groupId}', 'groups:edit'),
  admin('DELETE', '/groups/{groupId}', 'groups:edit'),
  admin('GET', '/users', 'users:view'),
  admin('POST', '/users', 'users:edit'),
  admin('GET', '/users/{userId}', 'users:view'),
  admin('PATCH', '/users/{userId}', 'users:edit'),
  admin('DELETE', '/users/{userId}', 'users:edit'),
  admin('POST', '/users/{userId}/sessions/revoke', 'users:edit'),
  admin('GET', '/audit-events', 'audit:view'),
  // SCIM tokens (issue 14)
  admin('POST', '/scim/tokens', 'security:edit', 'users:edit'),
  admin('GET', '/scim/tokens', 'security:view'),
  admin('DELETE', '/scim/tokens/{tokenId}', 'security:edit'),
];

/**
 * SCIM 2.0 (API.md "SCIM 2.0 provisioning routes"): every method on every path under
 * `/scim/v2/{orgId}` goes to the Scim function, which routes inside (so an unknown path
 * or a write to a discovery endpoint gets its SCIM-shaped 404 or 405).
 */
export const SCIM_ROUTES: readonly RouteDefinition[] = (['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const).flatMap((method) => [
  { method, path: '/scim/v2/{orgId}', functionId: FUNCTIONS.scim.id },
  { method, path: '/scim/v2/{orgId}/{proxy+}', functionId: FUNCTIONS.scim.id },
]);

export const ROUTES: readonly RouteDefinition[] = [
  { method: 'GET', path: '/health', functionId: FUNCTIONS.session.id },
  { method: 'GET', path: '/.well-known/jwks.json', functionId: FUNCTIONS.session.id },
  { method: 'GET', path: '/me', functionId: FUNCTIONS.session.id },
  { method: 'GET', path: '/sso/{orgId}/saml/metadata', functionId: FUNCTIONS.samlMetadata.id },
  { method: 'POST', path: '/sso/{orgId}/saml/acs', functionId: FUNCTIONS.acs.id },
  { method: 'GET', path: '/sso/{orgId}/login', functionId: FUNCTIONS.login.id },
  { method: 'GET', path: '/login/sso', functionId: FUNCTIONS.login.id },
  { method: 'POST', path: '/login/discover', functionId: FUNCTIONS.login.id },
  { method: 'GET', path: '/login', functionId: FUNCTIONS.login.id },
  { method: 'GET', path: '/sso/{orgId}/oidc/callback', functionId: FUNCTIONS.oidcCallback.id },
  { method: 'POST', path: '/logout', functionId: FUNCTIONS.session.id },
  { method: 'POST', path: '/me/sessions/revoke', functionId: FUNCTIONS.session.id },
  { method: 'GET', path: '/sso/{orgId}/saml/slo', functionId: FUNCTIONS.session.id },
  { method: 'POST', path: '/sso/{orgId}/saml/slo', functionId: FUNCTIONS.session.id },
  { method: 'GET', path: '/openapi.json', functionId: FUNCTIONS.settings.id },
  { method: 'GET', path: '/console', functionId: FUNCTIONS.console.id },
  { method: 'GET', path: '/console/{proxy+}', functionId: FUNCTIONS.console.id },
  { method: 'GET', path: '/console/assets/{file}', functionId: FUNCTIONS.console.id },
  { method: 'GET', path: '/console/login', functionId: FUNCTIONS.console.id },
  { method: 'GET', path: '/console/setup', functionId: FUNCTIONS.console.id },
  ...ADMIN_ROUTES,
  ...SCIM_ROUTES,
];

/** `METHOD /path`, as API Gateway's `routeKey`. */
export const routeKey = (route: Pick<RouteDefinition, 'method' | 'path'>): string => `${route.method} ${route.path}`;
