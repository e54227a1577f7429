/**
 * Who may call the admin routes (API.md "Admin routes"): every route against every
 * permission it needs, authentication failures, permissions read on every call,
 * another org's routes, and the body limits. Through the local API Gateway adapter and
 * the settings handler, on DynamoDB Local; roles, groups and mappings are made through
 * the real API with the org admin's token.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_ROUTES, routeKey, type RouteDefinition } from '../../functions/routes.js';
import { staticKeySource } from '../../shared/sessions/key-sources.js';
import { SessionTokens } from '../../shared/sessions/session-tokens.js';
import { PERMISSIONS, type Permission } from '../../shared/settings/model.js';
import type { Assignment, User } from '../../shared/users/model.js';
import { startTestDnsServer, type TestDnsServer } from '../support/dns-server.js';
import { apiClient, createSamlOrg, startTestService, tokenFor, type ApiResponse, type SamlOrg, type TestService } from '../support/service.js';

let service: TestService;
let dns: TestDnsServer;
let org: SamlOrg;
let otherOrg: SamlOrg;
let adminToken: string;
/** The org admin (Organization Admin: every permission). */
let admin: ReturnType<typeof apiClient>;

beforeAll(async () => {
  dns = await startTestDnsServer();
  service = await startTestService({ dnsResolver: dns.address });
  // With an SSO URL, so a test sign-in can start.
  org = await createSamlOrg(service, { saml: { ssoUrl: SSO_URL } });
  otherOrg = await createSamlOrg(service);
  adminToken = await tokenFor(service, org.orgId, org.adminEmail);
  admin = apiClient(service, adminToken);
});
afterAll(async () => {
  await service?.close();
  await dns?.close();
});

const SSO_URL = 'https://idp.example.com/sso';
const FORBIDDEN = { error: { code: 'FORBIDDEN', message: expect.any(String) } };
const UNAUTHENTICATED = { error: { code: 'UNAUTHENTICATED', message: expect.any(String) } };

let counter = 0;
const unique = (prefix: string) => `${prefix}-${++counter}`;

function expectStatus(response: ApiResponse, status: number): void {
  expect(response.status, JSON.stringify(response.body)).toBe(status);
}

/** A user of the org, written as a login would write it. */
async function createUser(assignments: Assignment[], orgId = org.orgId): Promise<User> {
  const at = service.clock.now().toISOString();
  const user: User = {
    id: randomUUID(),
    orgId,
    email: `${unique('user')}@${orgId}.test`,
    status: 'active',
    provisionedBy: 'manual',
    jitProvisioned: false,
    assignments,
    createdAt: at,
    updatedAt: at,
  };
  await service.rt.users.commitLogin({ kind: 'create', user, events: [], settingsVersion: (await service.rt.settingsRepository.load(orgId))!.version });
  return user;
}

/** A custom role created through POST /orgs/{orgId}/roles. */
async function createRole(permissions: readonly Permission[]): Promise<string> {
  const response = await admin('POST', `/orgs/${org.orgId}/roles`, { name: unique('role'), permissions });
  expectStatus(response, 201);
  return response.body.id as string;
}

async function createGroup(): Promise<string> {
  const response = await admin('POST', `/orgs/${org.orgId}/groups`, { name: unique('group') });
  expectStatus(response, 201);
  return response.body.id as string;
}

async function createMapping(): Promise<string> {
  const response = await admin('POST', `/orgs/${org.orgId}/settings/role-mappings`, { roleId: 'regular-user', groupIds: ['default'], idpValue: unique('Staff') });
  expectStatus(response, 201);
  return response.body.id as string;
}

const principals = new Map<string, Promise<string>>();

/** A token of a user whose only role holds exactly `permissions` (one role and user per distinct set). */
function tokenWith(permissions: readonly Permission[]): Promise<string> {
  const key = [...permissions].sort().join(' ');
  let token = principals.get(key);
  if (!token) {
    token = (async () => {
      const roleId = await createRole(permissions);
      const user = await createUser([{ groupId: 'default', roleId }]);
      return service.rt.sessions.issue(user);
    })();
    principals.set(key, token);
  }
  return token;
}

interface Call {
  params: Record<string, string>;
  body?: unknown;
  /** The status a caller holding the route's permissions gets. */
  success: number;
}

/** A test sign-in started by `token`'s user when it may (a test is readable by its starter only), else by the org admin. */
async function startedTest(token: string | undefined): Promise<string> {
  const own = token ? await apiClient(service, token)('POST', `/orgs/${org.orgId}/sso/tests`, {}) : undefined;
  const started = own?.status === 201 ? own : await admin('POST', `/orgs/${org.orgId}/sso/tests`, {});
  expectStatus(started, 201);
  return started.body.id as string;
}

/** Lists a fresh domain for the org (as its admin) and publishes its TXT record. */
async function publishedDomain(): Promise<string> {
  const domain = `${unique('d')}.example.com`.toLowerCase();
  const response = await admin('PUT', `/orgs/${org.orgId}/settings/sso`, {
    enabled: true,
    protocol: 'saml',
    domains: [domain],
    saml: { idpEntityId: org.idp.entityId, ssoUrl: SSO_URL, certificates: [org.idp.certificatePem] },
  });
  expectStatus(response, 200);
  const status = response.body.domainStatus[0];
  dns.setTxt(status.txtName, [status.txtValue]);
  return domain;
}

async function createScimToken(): Promise<string> {
  const response = await admin('POST', `/orgs/${org.orgId}/scim/tokens`);
  expectStatus(response, 201);
  return response.body.id as string;
}

async function createSetupLink(): Promise<string> {
  const response = await admin('POST', `/orgs/${org.orgId}/setup-links`, { note: unique('link') });
  expectStatus(response, 201);
  return response.body.id as string;
}

/**
 * One call per admin route, with fresh objects where the call changes or removes
 * one, so that no case spoils another. `token` is the caller's, for objects only their
 * maker may read.
 */
const CALLS: Record<string, (token: string | undefined) => Promise<Call>> = {
  'GET /orgs/{orgId}/settings/sso': async () => ({ params: {}, success: 200 }),
  'PUT /orgs/{orgId}/settings/sso': async () => ({
    params: {},
    body: { enabled: true, protocol: 'saml', saml: { idpEntityId: org.idp.entityId, ssoUrl: SSO_URL, certificates: [org.idp.certificatePem] } },
    success: 200,
  }),
  'GET /orgs/{orgId}/settings/attribute-names': async () => ({ params: {}, success: 200 }),
  'POST /orgs/{orgId}/sso/tests': async () => ({ params: {}, body: {}, success: 201 }),
  'GET /orgs/{orgId}/sso/tests/{testId}': async (token) => ({ params: { testId: await startedTest(token) }, success: 200 }),
  // The domain is listed and its TXT record published on the test's DNS server.
  'POST /orgs/{orgId}/settings/sso/domains/{domain}/verify': async () => ({ params: { domain: await publishedDomain() }, success: 200 }),
  'POST /orgs/{orgId}/setup-links': async () => ({ params: {}, body: { note: unique('link') }, success: 201 }),
  'GET /orgs/{orgId}/setup-links': async () => ({ params: {}, success: 200 }),
  'DELETE /orgs/{orgId}/setup-links/{linkId}': async () => ({ params: { linkId: await createSetupLink() }, success: 204 }),
  'POST /orgs/{orgId}/scim/tokens': async () => ({ params: {}, success: 201 }),
  'GET /orgs/{orgId}/scim/tokens': async () => ({ params: {}, success: 200 }),
  'DELETE /orgs/{orgId}/scim/tokens/{tokenId}': async () => ({ params: { tokenId: await createScimToken() }, success: 204 }),
  'GET /orgs/{orgId}/settings/provisioning': async () => ({ params: {}, success: 200 }),
  'PUT /orgs/{orgId}/settings/provisioning': async () => ({
    params: {},
    body: { method: 'jit', jit: { roleSource: 'idp', roleAttribute: 'groups', onNoRoleMatch: 'deny' } },
    success: 200,
  }),
  'GET /orgs/{orgId}/settings/role-mappings': async () => ({ params: {}, success: 200 }),
  'PUT /orgs/{orgId}/settings/role-mappings': async () => ({
    params: {},
    body: { items: [{ roleId: 'account-admin', groupIds: ['default'], idpValue: 'Admins' }] },
    success: 200,
  }),
  'POST /orgs/{orgId}/settings/role-mappings': async () => ({
    params: {},
    body: { roleId: 'regular-user', groupIds: ['default'], idpValue: unique('Staff') },
    success: 201,
  }),
  'POST /orgs/{orgId}/settings/role-mappings/preview': async () => ({ params: {}, body: { values: ['Admins'] }, success: 200 }),
  'DELETE /orgs/{orgId}/settings/role-mappings/{mappingId}': async () => ({ params: { mappingId: await createMapping() }, success: 204 }),
  'GET /orgs/{orgId}/roles': async () => ({ params: {}, success: 200 }),
  // Roles carry only permissions the caller holds: nobody grants more than they have.
  'POST /orgs/{orgId}/roles': async () => ({ params: {}, body: { name: unique('role'), permissions: ['roles:edit'] }, success: 201 }),
  'PUT /orgs/{orgId}/roles/{roleId}': async () => ({
    params: { roleId: await createRole([]) },
    body: { name: unique('role'), permissions: ['roles:edit'] },
    success: 200,
  }),
  'DELETE /orgs/{orgId}/roles/{roleId}': async () => ({ params: { roleId: await createRole([]) }, success: 204 }),
  'GET /orgs/{orgId}/groups': async () => ({ params: {}, success: 200 }),
  'POST /orgs/{orgId}/groups': async () => ({ params: {}, body: { name: unique('group') }, success: 201 }),
  'PUT /orgs/{orgId}/groups/{groupId}': async () => ({ params: { groupId: await createGroup() }, body: { name: unique('group') }, success: 200 }),
  'DELETE /orgs/{orgId}/groups/{groupId}': async () => ({ params: { groupId: await createGroup() }, success: 204 }),
  'GET /orgs/{orgId}/users': async () => ({ params: {}, success: 200 }),
  // Regular User carries no permission: anyone with users:edit may hand it out.
  'POST /orgs/{orgId}/users': async () => ({
    params: {},
    body: { email: `${unique('new')}@${org.orgId}.test`, assignments: [{ groupId: 'default', roleId: 'regular-user' }] },
    success: 201,
  }),
  'GET /orgs/{orgId}/users/{userId}': async () => ({ params: { userId: (await createUser([])).id }, success: 200 }),
  'PATCH /orgs/{orgId}/users/{userId}': async () => ({ params: { userId: (await createUser([])).id }, body: { firstName: 'Grace' }, success: 200 }),
  'DELETE /orgs/{orgId}/users/{userId}': async () => ({ params: { userId: (await createUser([])).id }, success: 204 }),
  'POST /orgs/{orgId}/users/{userId}/sessions/revoke': async () => ({ params: { userId: (await createUser([])).id }, success: 204 }),
  'GET /orgs/{orgId}/audit-events': async () => ({ params: {}, success: 200 }),
};

function pathOf(route: RouteDefinition, orgId: string, params: Record<string, string>): string {
  return route.path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = name === 'orgId' ? orgId : params[name];
    if (value === undefined) throw new Error(`no value for {${name}} in ${route.path}`);
    return encodeURIComponent(value);
  });
}

function arrangeCall(route: RouteDefinition, token?: string): Promise<Call> {
  const arrange = CALLS[routeKey(route)];
  if (!arrange) throw new Error(`no call arranged for ${routeKey(route)}: add it to CALLS`);
  return arrange(token);
}

function send(token: string | undefined, route: RouteDefinition, { params, body }: Call, orgId = org.orgId, headers: Record<string, string> = {}): Promise<ApiResponse> {
  return apiClient(service, token)(route.method, pathOf(route, orgId, params), body, headers);
}

/** Calls `route` of `orgId` with `token`, on objects arranged for it. */
async function callAs(token: string | undefined, route: RouteDefinition, orgId = org.orgId, headers: Record<string, string> = {}): Promise<ApiResponse> {
  return send(token, route, await arrangeCall(route, token), orgId, headers);
}

const routeNamed = (key: string): RouteDefinition => {
  const route = ADMIN_ROUTES.find((candidate) => routeKey(candidate) === key);
  if (!route) throw new Error(`no admin route ${key}`);
  return route;
};

const withoutOne = ADMIN_ROUTES.flatMap((route) => (route.permissions ?? []).map((missing) => ({ key: routeKey(route), route, missing })));
const withExactly = ADMIN_ROUTES.map((route) => ({ key: routeKey(route), route, permissions: route.permissions ?? [], needs: (route.permissions ?? []).join(' and ') }));

/** The table of API.md "Admin routes", written out here so the matrix below checks the contract, not the code's own table. */
const API_PERMISSIONS: Record<string, Permission[]> = {
  'GET /orgs/{orgId}/settings/sso': ['security:view'],
  'PUT /orgs/{orgId}/settings/sso': ['security:edit'],
  'GET /orgs/{orgId}/settings/provisioning': ['security:view'],
  'PUT /orgs/{orgId}/settings/provisioning': ['security:edit', 'users:edit'],
  'GET /orgs/{orgId}/settings/role-mappings': ['security:view'],
  'PUT /orgs/{orgId}/settings/role-mappings': ['security:edit'],
  'POST /orgs/{orgId}/settings/role-mappings': ['security:edit'],
  'DELETE /orgs/{orgId}/settings/role-mappings/{mappingId}': ['security:edit'],
  'POST /orgs/{orgId}/settings/role-mappings/preview': ['security:view'],
  'GET /orgs/{orgId}/roles': ['roles:view'],
  'POST /orgs/{orgId}/roles': ['roles:edit'],
  'PUT /orgs/{orgId}/roles/{roleId}': ['roles:edit'],
  'DELETE /orgs/{orgId}/roles/{roleId}': ['roles:edit'],
  'GET /orgs/{orgId}/groups': ['groups:view'],
  'POST /orgs/{orgId}/groups': ['groups:edit'],
  'PUT /orgs/{orgId}/groups/{groupId}': ['groups:edit'],
  'DELETE /orgs/{orgId}/groups/{groupId}': ['groups:edit'],
  'GET /orgs/{orgId}/users': ['users:view'],
  'POST /orgs/{orgId}/users': ['users:edit'],
  'GET /orgs/{orgId}/users/{userId}': ['users:view'],
  'PATCH /orgs/{orgId}/users/{userId}': ['users:edit'],
  'DELETE /orgs/{orgId}/users/{userId}': ['users:edit'],
  'POST /orgs/{orgId}/users/{userId}/sessions/revoke': ['users:edit'],
  'GET /orgs/{orgId}/audit-events': ['audit:view'],
  // docs/console.md
  'GET /orgs/{orgId}/settings/attribute-names': ['security:view'],
  'POST /orgs/{orgId}/sso/tests': ['security:view'],
  'GET /orgs/{orgId}/sso/tests/{testId}': ['security:view'],
  'POST /orgs/{orgId}/setup-links': ['security:edit'],
  'GET /orgs/{orgId}/setup-links': ['security:view'],
  'DELETE /orgs/{orgId}/setup-links/{linkId}': ['security:edit'],
  // API.md "SAML as enterprises run it"
  'POST /orgs/{orgId}/settings/sso/domains/{domain}/verify': ['security:edit'],
  // SCIM tokens (issue 14)
  'POST /orgs/{orgId}/scim/tokens': ['security:edit', 'users:edit'],
  'GET /orgs/{orgId}/scim/tokens': ['security:view'],
  'DELETE /orgs/{orgId}/scim/tokens/{tokenId}': ['security:edit'],
};

describe('the permission matrix of the admin routes', () => {
  it('declares for every admin route exactly the permissions of API.md, and no route API.md lacks', () => {
    const declared = Object.fromEntries(ADMIN_ROUTES.map((route) => [routeKey(route), [...(route.permissions ?? [])].sort()]));

    expect(declared).toEqual(Object.fromEntries(Object.entries(API_PERMISSIONS).map(([key, permissions]) => [key, [...permissions].sort()])));
  });

  it.each(withoutOne)('refuses $key to a role holding every permission but $missing', async ({ route, missing }) => {
    const token = await tokenWith(PERMISSIONS.filter((permission) => permission !== missing));

    const response = await callAs(token, route);

    expectStatus(response, 403);
    expect(response.body).toEqual(FORBIDDEN);
  });

  it.each(withExactly)('lets a role holding exactly $needs call $key', async ({ route, permissions }) => {
    const token = await tokenWith(permissions);
    const call = await arrangeCall(route, token);

    const response = await send(token, route, call);

    expectStatus(response, call.success);
  });

  it('leaves a role, a group, a mapping and a user in place when their removal is refused', async () => {
    const edits: Permission[] = ['roles:edit', 'groups:edit', 'security:edit', 'users:edit'];
    const token = await tokenWith(PERMISSIONS.filter((permission) => !edits.includes(permission)));
    const [roleId, groupId, mappingId, user] = [await createRole([]), await createGroup(), await createMapping(), await createUser([])];
    const client = apiClient(service, token);

    const refused = [
      await client('DELETE', `/orgs/${org.orgId}/roles/${roleId}`),
      await client('DELETE', `/orgs/${org.orgId}/groups/${groupId}`),
      await client('DELETE', `/orgs/${org.orgId}/settings/role-mappings/${mappingId}`),
      await client('DELETE', `/orgs/${org.orgId}/users/${user.id}`),
    ];

    expect(refused.map((response) => response.status)).toEqual([403, 403, 403, 403]);
    const settings = await service.rt.settingsRepository.load(org.orgId);
    expect(settings?.roles.map((role) => role.id)).toContain(roleId);
    expect(settings?.groups.map((group) => group.id)).toContain(groupId);
    expect(settings?.roleMappings.map((mapping) => mapping.id)).toContain(mappingId);
    expect(await service.rt.users.findById(org.orgId, user.id)).toBeDefined();
  });
});

describe('authentication on the admin routes', () => {
  const ROUTES_CHECKED = ['GET /orgs/{orgId}/settings/sso', 'PATCH /orgs/{orgId}/users/{userId}', 'GET /orgs/{orgId}/audit-events'];

  /** How each kind of bad token is made; every one is a token of a user with every permission otherwise. */
  const BAD_TOKENS: Record<string, () => Promise<string | undefined>> = {
    'no token': async () => undefined,
    'a malformed token': async () => 'not-a-jwt',
    'a token signed with another key': async () => {
      const user = await createUser([{ groupId: 'default', roleId: 'organization-admin' }]);
      const forger = new SessionTokens({ keys: staticKeySource('another-session-secret-that-is-long-enough-987654'), clock: service.clock, issuer: service.baseUrl });
      return forger.issue(user);
    },
    'a token of a deleted user': async () => {
      const user = await createUser([{ groupId: 'default', roleId: 'organization-admin' }]);
      const token = await service.rt.sessions.issue(user);
      expectStatus(await admin('DELETE', `/orgs/${org.orgId}/users/${user.id}`), 204);
      return token;
    },
    'a token of a blocked user': async () => {
      const user = await createUser([{ groupId: 'default', roleId: 'organization-admin' }]);
      const token = await service.rt.sessions.issue(user);
      expectStatus(await admin('PATCH', `/orgs/${org.orgId}/users/${user.id}`, { status: 'blocked' }), 200);
      return token;
    },
  };

  const cases = Object.keys(BAD_TOKENS).flatMap((kind) => ROUTES_CHECKED.map((key) => ({ kind, key })));

  it.each(cases)('answers 401 UNAUTHENTICATED to $kind on $key', async ({ kind, key }) => {
    const token = await BAD_TOKENS[kind]!();

    const response = await callAs(token, routeNamed(key));

    expectStatus(response, 401);
    expect(response.body).toEqual(UNAUTHENTICATED);
  });

  it.each(ROUTES_CHECKED)('answers 401 UNAUTHENTICATED to an expired token on %s', async (key) => {
    const user = await createUser([{ groupId: 'default', roleId: 'organization-admin' }]);
    const token = await service.rt.sessions.issue(user, 3600);
    const issuedAt = service.clock.now();
    service.clock.advance(3601 * 1000);
    try {
      const response = await callAs(token, routeNamed(key));

      expectStatus(response, 401);
      expect(response.body).toEqual(UNAUTHENTICATED);
    } finally {
      service.clock.set(issuedAt);
    }
  });

  it('accepts the same token a second before it expires', async () => {
    const user = await createUser([{ groupId: 'default', roleId: 'organization-admin' }]);
    const token = await service.rt.sessions.issue(user, 3600);
    const issuedAt = service.clock.now();
    service.clock.advance(3599 * 1000);
    try {
      const response = await callAs(token, routeNamed('GET /orgs/{orgId}/settings/sso'));

      expectStatus(response, 200);
    } finally {
      service.clock.set(issuedAt);
    }
  });

  it('refuses a write whose body is not declared as JSON (what a cross-site form could send)', async () => {
    const response = await apiClient(service, adminToken)('POST', `/orgs/${org.orgId}/groups`, JSON.stringify({ name: unique('group') }), { 'content-type': 'text/plain' });

    expectStatus(response, 400);
    expect(response.body.error.message).toMatch(/^body: .*application\/json/);
  });
});

describe('the session cookie on the admin routes (the console)', () => {
  const ownOrigin = () => new URL(service.baseUrl).origin;
  const groupNamed = async (name: string) => (await service.rt.settingsRepository.load(org.orgId))?.groups.find((group) => group.name === name);

  it('authenticates a GET with the session cookie alone', async () => {
    const response = await callAs(undefined, routeNamed('GET /orgs/{orgId}/users'), org.orgId, { cookie: `session=${adminToken}` });

    expectStatus(response, 200);
    expect(response.body.items.map((user: { email: string }) => user.email)).toContain(org.adminEmail);
  });

  it.each([
    ['without an Origin', {}],
    ['from another origin', { origin: 'https://evil.example' }],
    ['from a look-alike origin (another port of the same host)', { origin: 'http://127.0.0.1:1' }],
    ['with Origin "null" (a sandboxed or file page)', { origin: 'null' }],
  ])('refuses a cookie-authenticated write %s with 403 CSRF_REJECTED, and changes nothing', async (_case, origin: Record<string, string>) => {
    const name = unique('csrf-group');

    const response = await apiClient(service)('POST', `/orgs/${org.orgId}/groups`, { name }, { cookie: `session=${adminToken}`, ...origin });

    expectStatus(response, 403);
    expect(response.body).toEqual({ error: { code: 'CSRF_REJECTED', message: expect.any(String) } });
    expect(await groupNamed(name)).toBeUndefined();
  });

  it.each(['PUT', 'PATCH', 'DELETE'])('refuses a cookie-authenticated %s without our Origin too', async (method) => {
    const route = ADMIN_ROUTES.find((candidate) => candidate.method === method)!;

    const response = await callAs(undefined, route, org.orgId, { cookie: `session=${adminToken}` });

    expectStatus(response, 403);
    expect(response.body.error.code).toBe('CSRF_REJECTED');
  });

  it("accepts a cookie-authenticated write from the service's own origin", async () => {
    const name = unique('console-group');

    const response = await apiClient(service)('POST', `/orgs/${org.orgId}/groups`, { name }, { cookie: `session=${adminToken}`, origin: ownOrigin() });

    expectStatus(response, 201);
    expect(await groupNamed(name)).toMatchObject({ id: response.body.id });
  });

  it('still checks the permissions of the cookie\'s user', async () => {
    const token = await tokenWith(['users:view']);

    const response = await apiClient(service)('POST', `/orgs/${org.orgId}/groups`, { name: unique('group') }, { cookie: `session=${token}`, origin: ownOrigin() });

    expectStatus(response, 403);
    expect(response.body).toEqual(FORBIDDEN);
  });

  it('answers an invalid cookie with 401 UNAUTHENTICATED', async () => {
    const response = await callAs(undefined, routeNamed('GET /orgs/{orgId}/users'), org.orgId, { cookie: 'session=not-a-jwt' });

    expectStatus(response, 401);
    expect(response.body).toEqual(UNAUTHENTICATED);
  });

  it('uses the bearer token when both are sent: its permissions, and no Origin rule', async () => {
    const weak = await tokenWith(['users:view']);
    const name = unique('bearer-group');

    const withWeakBearer = await apiClient(service, weak)('GET', `/orgs/${org.orgId}/roles`, undefined, { cookie: `session=${adminToken}` });
    const writeWithBearer = await apiClient(service, adminToken)('POST', `/orgs/${org.orgId}/groups`, { name }, { cookie: `session=${weak}` });

    expectStatus(withWeakBearer, 403);
    expectStatus(writeWithBearer, 201);
  });
});

describe('permissions read on every call', () => {
  const listUsers = (token: string) => apiClient(service, token)('GET', `/orgs/${org.orgId}/users`);

  it('grants a role given to a user on the very next call, without a new sign-in', async () => {
    const user = await createUser([{ groupId: 'default', roleId: 'regular-user' }]);
    const token = await service.rt.sessions.issue(user);
    expectStatus(await listUsers(token), 403);

    expectStatus(await admin('PATCH', `/orgs/${org.orgId}/users/${user.id}`, { assignments: [{ groupId: 'default', roleId: 'account-admin' }] }), 200);
    const response = await listUsers(token);

    expectStatus(response, 200);
  });

  it('withdraws a role taken from a user on the very next call', async () => {
    const user = await createUser([{ groupId: 'default', roleId: 'account-admin' }]);
    const token = await service.rt.sessions.issue(user);
    expectStatus(await listUsers(token), 200);

    expectStatus(await admin('PATCH', `/orgs/${org.orgId}/users/${user.id}`, { assignments: [{ groupId: 'default', roleId: 'regular-user' }] }), 200);
    const response = await listUsers(token);

    expectStatus(response, 403);
    expect(response.body).toEqual(FORBIDDEN);
  });

  it('applies a permission removed from a role at once to every holder of that role', async () => {
    const roleId = await createRole(['users:view']);
    const user = await createUser([{ groupId: 'default', roleId }]);
    const token = await service.rt.sessions.issue(user);
    expectStatus(await listUsers(token), 200);

    expectStatus(await admin('PUT', `/orgs/${org.orgId}/roles/${roleId}`, { name: unique('role'), permissions: ['audit:view'] }), 200);
    const response = await listUsers(token);

    expectStatus(response, 403);
    expect(response.body).toEqual(FORBIDDEN);
  });

  it('applies a permission added to a role at once', async () => {
    const roleId = await createRole([]);
    const user = await createUser([{ groupId: 'default', roleId }]);
    const token = await service.rt.sessions.issue(user);
    expectStatus(await listUsers(token), 403);

    expectStatus(await admin('PUT', `/orgs/${org.orgId}/roles/${roleId}`, { name: unique('role'), permissions: ['users:view'] }), 200);
    const response = await listUsers(token);

    expectStatus(response, 200);
  });

  it('refuses a user blocked by an admin on the very next call, and accepts them again once unblocked', async () => {
    const user = await createUser([{ groupId: 'default', roleId: 'account-admin' }]);
    const token = await service.rt.sessions.issue(user);
    expectStatus(await listUsers(token), 200);

    expectStatus(await admin('PATCH', `/orgs/${org.orgId}/users/${user.id}`, { status: 'blocked' }), 200);
    const whileBlocked = await listUsers(token);
    expectStatus(await admin('PATCH', `/orgs/${org.orgId}/users/${user.id}`, { status: 'active' }), 200);
    const afterUnblock = await listUsers(token);

    expectStatus(whileBlocked, 401);
    expect(whileBlocked.body).toEqual(UNAUTHENTICATED);
    expectStatus(afterUnblock, 200);
  });

  it('sums the permissions of every role a user holds, in any group', async () => {
    const [viewUsers, viewAudit] = [await createRole(['users:view']), await createRole(['audit:view'])];
    const groupId = await createGroup();
    const user = await createUser([
      { groupId: 'default', roleId: viewUsers },
      { groupId, roleId: viewAudit },
    ]);
    const client = apiClient(service, await service.rt.sessions.issue(user));

    const [users, audit, roles] = [
      await client('GET', `/orgs/${org.orgId}/users`),
      await client('GET', `/orgs/${org.orgId}/audit-events`),
      await client('GET', `/orgs/${org.orgId}/roles`),
    ];

    expect([users.status, audit.status, roles.status]).toEqual([200, 200, 403]);
  });
});

describe("another org's admin routes", () => {
  /** Ids the caller cannot know in another org; the body is never read, since the call is refused first. */
  const FOREIGN_CALL: Call = {
    params: { mappingId: 'any-mapping', roleId: 'any-role', groupId: 'any-group', userId: 'any-user', testId: 'any-test', linkId: 'any-link', domain: 'any.example.com', tokenId: 'any-token' },
    body: {},
    success: 403,
  };

  it.each(ADMIN_ROUTES.map((route) => ({ key: routeKey(route), route })))(
    "answers $key of an existing other org exactly as that of an org that does not exist",
    async ({ route }) => {
      const missingOrgId = `no-such-org-${randomUUID().slice(0, 8)}`;
      const call = { ...FOREIGN_CALL, body: route.method === 'GET' || route.method === 'DELETE' ? undefined : FOREIGN_CALL.body };

      const existing = await send(adminToken, route, call, otherOrg.orgId);
      const missing = await send(adminToken, route, call, missingOrgId);

      expectStatus(existing, 403);
      expect(existing.body).toEqual(FORBIDDEN);
      expect({ status: missing.status, body: missing.body }).toEqual({ status: existing.status, body: existing.body });
    },
  );

  it("leaves the other org's settings unchanged after a refused write", async () => {
    const before = await service.rt.settingsRepository.load(otherOrg.orgId);

    const refused = [
      await callAs(adminToken, routeNamed('PUT /orgs/{orgId}/settings/role-mappings'), otherOrg.orgId),
      await callAs(adminToken, routeNamed('PUT /orgs/{orgId}/settings/sso'), otherOrg.orgId),
    ];

    expect(refused.map((response) => response.status)).toEqual([403, 403]);
    const after = await service.rt.settingsRepository.load(otherOrg.orgId);
    expect(after?.version).toBe(before?.version);
    expect(after?.roleMappings).toEqual(before?.roleMappings);
  });
});

describe('request bodies', () => {
  const ssoPath = () => `/orgs/${org.orgId}/settings/sso`;

  it('refuses a PUT body over 256 KiB with 413 PAYLOAD_TOO_LARGE', async () => {
    const body = JSON.stringify({ enabled: true, padding: 'x'.repeat(256 * 1024) });

    const response = await admin('PUT', ssoPath(), body);

    expectStatus(response, 413);
    expect(response.body).toEqual({ error: { code: 'PAYLOAD_TOO_LARGE', message: expect.any(String) } });
  });

  it('reads a body of exactly 256 KiB (and validates it) rather than refusing it as too large', async () => {
    const shell = JSON.stringify({ enabled: true, padding: '' });
    const body = JSON.stringify({ enabled: true, padding: 'x'.repeat(256 * 1024 - Buffer.byteLength(shell)) });
    expect(Buffer.byteLength(body)).toBe(256 * 1024);

    const response = await admin('PUT', ssoPath(), body);

    expectStatus(response, 400);
    expect(response.body.error.code).toBe('VALIDATION_FAILED');
  });

  it('refuses a body over 256 KiB that arrives base64-encoded (a non-text content type) with 413', async () => {
    const body = JSON.stringify({ enabled: true, padding: 'x'.repeat(256 * 1024) });

    const response = await admin('PUT', ssoPath(), body, { 'content-type': 'application/octet-stream' });

    expectStatus(response, 413);
    expect(response.body.error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('reads a body of exactly 256 KiB that arrives base64-encoded (a non-text content type) rather than refusing it', async () => {
    const shell = JSON.stringify({ enabled: true, padding: '' });
    const body = JSON.stringify({ enabled: true, padding: 'x'.repeat(256 * 1024 - Buffer.byteLength(shell)) });
    expect(Buffer.byteLength(body)).toBe(256 * 1024);

    const response = await admin('PUT', ssoPath(), body, { 'content-type': 'application/octet-stream' });

    expectStatus(response, 400);
    expect(response.body.error.code).toBe('VALIDATION_FAILED');
  });

  it('answers a malformed JSON body with 400 VALIDATION_FAILED naming the body', async () => {
    const response = await admin('PUT', ssoPath(), '{"enabled": tru');

    expectStatus(response, 400);
    expect(response.body.error.code).toBe('VALIDATION_FAILED');
    expect(response.body.error.message).toMatch(/\bbody\b/);
  });

  it('answers a missing JSON body with 400 VALIDATION_FAILED naming the body', async () => {
    const response = await admin('PUT', ssoPath());

    expectStatus(response, 400);
    expect(response.body.error.code).toBe('VALIDATION_FAILED');
    expect(response.body.error.message).toMatch(/\bbody\b/);
  });
});

describe('nobody grants more than they hold', () => {
  /** A user holding exactly `permissions` (through a custom role) and an API client acting as them. */
  async function actingWith(permissions: Permission[]) {
    const roleId = await createRole(permissions);
    const email = `${unique('actor')}@acme.test`;
    await service.rt.users.commitLogin({
      kind: 'create',
      user: {
        id: unique('user'),
        orgId: org.orgId,
        email,
        status: 'active',
        provisionedBy: 'manual',
        jitProvisioned: false,
        assignments: [{ groupId: 'default', roleId }],
        createdAt: service.clock.now().toISOString(),
        updatedAt: service.clock.now().toISOString(),
      },
      events: [],
      settingsVersion: (await service.rt.settingsRepository.load(org.orgId))!.version,
    });
    const user = (await service.rt.users.findByEmail(org.orgId, email))!;
    return { user, api: apiClient(service, await tokenFor(service, org.orgId, email)) };
  }

  it('refuses a users:edit holder who assigns themselves Organization Admin', async () => {
    const { user, api } = await actingWith(['users:view', 'users:edit']);

    const response = await api('PATCH', `/orgs/${org.orgId}/users/${user.id}`, { assignments: [{ groupId: 'default', roleId: 'organization-admin' }] });

    expect(response.status).toBe(403);
    expect(response.body.error.code).toBe('FORBIDDEN');
    expect((await service.rt.users.findById(org.orgId, user.id))?.assignments).not.toContainEqual({ groupId: 'default', roleId: 'organization-admin' });
  });

  it('refuses a users:edit holder who blocks or removes the Organization Admin', async () => {
    const { api } = await actingWith(['users:view', 'users:edit']);
    const orgAdmin = (await service.rt.users.findByEmail(org.orgId, org.adminEmail))!;

    const block = await api('PATCH', `/orgs/${org.orgId}/users/${orgAdmin.id}`, { status: 'blocked' });
    const remove = await api('DELETE', `/orgs/${org.orgId}/users/${orgAdmin.id}`);

    expect([block.status, remove.status]).toEqual([403, 403]);
    expect((await service.rt.users.findById(org.orgId, orgAdmin.id))?.status).toBe('active');
  });

  it('refuses a roles:edit holder who gives a role permissions they lack', async () => {
    const { api } = await actingWith(['roles:view', 'roles:edit']);

    const create = await api('POST', `/orgs/${org.orgId}/roles`, { name: unique('role'), permissions: ['security:edit', 'users:edit'] });

    expect(create.status).toBe(403);
  });

  it('refuses a security:edit holder who points the org at another identity provider, and keeps the IdP', async () => {
    const { api } = await actingWith(['security:view', 'security:edit']);
    const before = (await service.rt.settingsRepository.load(org.orgId))!.sso;

    const response = await api('PUT', `/orgs/${org.orgId}/settings/sso`, {
      enabled: true,
      protocol: 'saml',
      saml: { idpEntityId: 'https://attacker.example/idp', certificates: [org.idp.certificatePem] },
    });

    expect(response.status).toBe(403);
    expect(response.body.error.message).toMatch(/identity provider/);
    expect((await service.rt.settingsRepository.load(org.orgId))!.sso).toEqual(before);
  });

  it('refuses a security:edit holder who maps an IdP value to a role they could not hold', async () => {
    const { api } = await actingWith(['security:view', 'security:edit']);

    const response = await api('POST', `/orgs/${org.orgId}/settings/role-mappings`, { roleId: 'organization-admin', groupIds: ['default'], idpValue: unique('Escalate') });

    expect(response.status).toBe(403);
  });
});
