/**
 * Who may use SCIM and when (API.md "SCIM 2.0 provisioning routes"): SCIM tokens made,
 * listed and revoked by admins (secret once, hash stored, refused at once when revoked),
 * tokens and sessions kept apart, the method gate, deactivation ending sessions, logins
 * under `method: "scim"`, discovery, 404 and 405 in SCIM form, concurrent creates.
 */
import { createHash } from 'node:crypto';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSignedLoginResponse } from '../../local/saml-idp.js';
import { createScimOrg, scimClient, scimUser, type ScimOrg } from '../support/scim.js';
import { apiClient, postAcs, sessionCookieOf, startTestService, tokenFor, type TestService } from '../support/service.js';

let service: TestService;
/** Another instance over the same tables: a revocation must hold there at once. */
let other: TestService;
let org: ScimOrg;
let counter = 0;

beforeAll(async () => {
  service = await startTestService();
  other = await startTestService({ sameDataAs: service });
  org = await createScimOrg(service);
});
afterAll(async () => {
  await other?.close();
  await service?.close();
});

const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const uniqueName = () => `person${++counter}.${process.pid}@acme.test`;

/** Signs in through the ACS with a NameID and role values; the response. */
function signIn(target: ScimOrg, nameId: string, groups: string[] = ['Admins']) {
  const SAMLResponse = buildSignedLoginResponse({ idp: target.idp, spEntityId: target.urls.spEntityId, acsUrl: target.urls.acsUrl, nameId, attributes: { groups }, now: service.clock.now() });
  return postAcs(service, target.orgId, { SAMLResponse });
}

describe('SCIM tokens', () => {
  it('shows the secret once, stores only its SHA-256, and lists tokens without it', async () => {
    const made = await org.admin('POST', `/orgs/${org.orgId}/scim/tokens`);
    expect(made.status).toBe(201);
    expect(made.body).toEqual({ id: expect.any(String), token: expect.stringMatching(/^scim_[A-Za-z0-9_-]{43}$/), createdAt: expect.any(String) });
    const listed = await org.admin('GET', `/orgs/${org.orgId}/scim/tokens`);
    expect(listed.body.items).toContainEqual({ id: made.body.id, createdAt: made.body.createdAt, lastUsedAt: null });
    expect(JSON.stringify(listed.body)).not.toContain(made.body.token);
    const { Items = [] } = await service.db.client.send(new ScanCommand({ TableName: service.db.names.mappings }));
    const stored = JSON.stringify(Items);
    expect(stored).not.toContain(made.body.token);
    expect(stored).toContain(createHash('sha256').update(made.body.token).digest('hex'));
  });

  it('records lastUsedAt when the token is used', async () => {
    const made = await org.admin('POST', `/orgs/${org.orgId}/scim/tokens`);
    expect((await scimClient(service, org.orgId, made.body.token)('GET', '/ServiceProviderConfig')).status).toBe(200);
    const listed = await org.admin('GET', `/orgs/${org.orgId}/scim/tokens`);
    expect(listed.body.items.find((item: { id: string }) => item.id === made.body.id).lastUsedAt).toBe(service.clock.now().toISOString());
  });

  it('refuses a revoked token at once, on every instance', async () => {
    const made = await org.admin('POST', `/orgs/${org.orgId}/scim/tokens`);
    const here = scimClient(service, org.orgId, made.body.token);
    const there = scimClient(other, org.orgId, made.body.token);
    expect((await here('GET', '/Users?count=1')).status).toBe(200);
    expect((await there('GET', '/Users?count=1')).status).toBe(200);
    expect((await org.admin('DELETE', `/orgs/${org.orgId}/scim/tokens/${made.body.id}`)).status).toBe(204);
    for (const client of [here, there]) {
      const refused = await client('GET', '/Users?count=1');
      expect(refused.status).toBe(401);
      expect(refused.body).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '401' });
    }
    expect((await org.admin('DELETE', `/orgs/${org.orgId}/scim/tokens/${made.body.id}`)).status).toBe(404);
    const events = await org.admin('GET', `/orgs/${org.orgId}/audit-events?type=scim_token.revoked`);
    expect(events.body.items[0]).toMatchObject({ target: { type: 'scim-token', id: made.body.id } });
  });

  it('needs security:edit and users:edit to make a token, and security:view to list them', async () => {
    const email = uniqueName();
    await org.admin('POST', `/orgs/${org.orgId}/users`, { email, assignments: [{ groupId: 'default', roleId: 'regular-user' }] });
    const regular = apiClient(service, await tokenFor(service, org.orgId, email));
    expect((await regular('POST', `/orgs/${org.orgId}/scim/tokens`)).status).toBe(403);
    expect((await regular('GET', `/orgs/${org.orgId}/scim/tokens`)).status).toBe(403);
    expect((await regular('DELETE', `/orgs/${org.orgId}/scim/tokens/${org.scimTokenId}`)).status).toBe(403);
  });

  it('refuses a SCIM token on the admin routes and a session token on SCIM, with 401', async () => {
    const admin = await apiClient(service, org.scimToken)('GET', `/orgs/${org.orgId}/users`);
    expect(admin.status).toBe(401);
    expect(admin.body).toMatchObject({ error: { code: 'UNAUTHENTICATED' } });
    const scim = await scimClient(service, org.orgId, org.adminToken)('GET', '/Users');
    expect(scim.status).toBe(401);
    expect(scim.body.status).toBe('401');
  });

  it("refuses another org's token, an unknown token and no token alike with 401", async () => {
    const second = await createScimOrg(service);
    for (const token of [second.scimToken, 'scim_not-a-token', undefined]) {
      const response = await scimClient(service, org.orgId, token)('GET', '/ServiceProviderConfig');
      expect(response.status).toBe(401);
    }
    const unknownOrg = await scimClient(service, 'no-such-org', org.scimToken)('GET', '/Users');
    expect(unknownOrg.status).toBe(401);
  });
});

describe('the method gate', () => {
  it('serves reads and discovery with any method, and refuses writes unless the method is "scim"', async () => {
    const jit = await createScimOrg(service, { method: 'jit' });
    expect((await jit.scim('GET', '/ServiceProviderConfig')).status).toBe(200);
    expect((await jit.scim('GET', '/Users')).status).toBe(200);
    const refused = await jit.scim('POST', '/Users', scimUser(uniqueName()));
    expect(refused.status).toBe(403);
    expect(refused.body.detail).toMatch(/^SCIM_NOT_ENABLED/);
    const adminId = (await jit.scim('GET', '/Users')).body.Resources[0].id;
    for (const [method, path, body] of [
      ['PATCH', `/Users/${adminId}`, { schemas: [PATCH], Operations: [{ op: 'replace', path: 'active', value: false }] }],
      ['PUT', `/Users/${adminId}`, scimUser(jit.adminEmail)],
      ['DELETE', `/Users/${adminId}`, undefined],
      ['POST', '/Groups', { displayName: 'Admins' }],
    ] as const) {
      const response = await jit.scim(method, path, body);
      expect(response.status, `${method} ${path}`).toBe(403);
      expect(response.body.detail).toMatch(/^SCIM_NOT_ENABLED/);
    }
    expect((await jit.admin('GET', `/orgs/${jit.orgId}/users/${adminId}`)).body.status).toBe('active');
    // Switching the method lets the same token write at once.
    expect((await jit.admin('PUT', `/orgs/${jit.orgId}/settings/provisioning`, { method: 'scim' })).status).toBe(200);
    expect((await jit.scim('POST', '/Users', scimUser(uniqueName()))).status).toBe(201);
  });
});

describe('deactivation and sign-in under method "scim"', () => {
  it('signs in an existing active user and changes neither their profile nor their assignments', async () => {
    const userName = uniqueName();
    const created = await org.scim('POST', '/Users', scimUser(userName, { name: { givenName: 'Scim', familyName: 'Owned' } }));
    expect((await org.scim('POST', '/Groups', { displayName: 'Admins', members: [{ value: created.body.id }] })).status).toBe(201);
    const before = (await org.admin('GET', `/orgs/${org.orgId}/users/${created.body.id}`)).body;
    expect(before.assignments).toEqual([{ groupId: 'default', roleId: 'account-admin' }]);
    const login = await signIn(org, userName, ['Engineering']);
    expect(login.status).toBe(302);
    const after = (await org.admin('GET', `/orgs/${org.orgId}/users/${created.body.id}`)).body;
    expect(after).toMatchObject({ firstName: 'Scim', lastName: 'Owned', assignments: before.assignments });
  });

  it('refuses an unknown user with USER_NOT_PROVISIONED', async () => {
    const response = await signIn(org, uniqueName());
    expect(response.status).toBe(403);
    expect((await response.json()).error.code).toBe('USER_NOT_PROVISIONED');
  });

  it('refuses a user none of whose groups is mapped with ROLE_NOT_MAPPED under "deny"', async () => {
    const userName = uniqueName();
    expect((await org.scim('POST', '/Users', scimUser(userName))).status).toBe(201);
    const response = await signIn(org, userName);
    expect(response.status).toBe(403);
    expect((await response.json()).error.code).toBe('ROLE_NOT_MAPPED');
  });

  it('signs in a user without an email address by their userName, case-insensitively', async () => {
    const defaults = await createScimOrg(service, { jit: { onNoRoleMatch: 'default' } });
    expect((await defaults.scim('POST', '/Users', scimUser(`Employee${++counter}`))).status).toBe(201);
    const response = await signIn(defaults, `employee${counter}`);
    expect(response.status).toBe(302);
  });

  it('blocks a user with active false (Okta PATCH), ends their sessions at once, and keeps old sessions dead after reactivation', async () => {
    const defaults = await createScimOrg(service, { jit: { onNoRoleMatch: 'default' } });
    const userName = uniqueName();
    const created = await defaults.scim('POST', '/Users', scimUser(userName));
    const session = sessionCookieOf(await signIn(defaults, userName))!;
    const me = (on: TestService) => fetch(`${on.baseUrl}/me`, { headers: { authorization: `Bearer ${session}` } });
    expect((await me(service)).status).toBe(200);
    const deactivated = await defaults.scim('PATCH', `/Users/${created.body.id}`, { schemas: [PATCH], Operations: [{ op: 'replace', value: { active: false } }] });
    expect(deactivated.body.active).toBe(false);
    expect((await me(service)).status).toBe(401);
    expect((await me(other)).status).toBe(401);
    const refused = await signIn(defaults, userName);
    expect(refused.status).toBe(403);
    expect((await refused.json()).error.code).toBe('USER_BLOCKED');
    service.clock.advance(2000);
    const reactivated = await defaults.scim('PATCH', `/Users/${created.body.id}`, { schemas: [PATCH], Operations: [{ op: 'Replace', path: 'active', value: 'True' }] });
    expect(reactivated.body.active).toBe(true);
    expect((await me(service)).status).toBe(401);
    expect((await signIn(defaults, userName)).status).toBe(302);
    const events = await defaults.admin('GET', `/orgs/${defaults.orgId}/audit-events?type=user.scim_updated`);
    expect(events.body.items.map((event: { details: { changed: { active?: unknown } } }) => event.details.changed.active)).toContainEqual({ from: true, to: false });
  });

  it('refuses removing active with 400 mutability', async () => {
    const created = await org.scim('POST', '/Users', scimUser(uniqueName()));
    const response = await org.scim('PATCH', `/Users/${created.body.id}`, { schemas: [PATCH], Operations: [{ op: 'remove', path: 'active' }] });
    expect(response.status).toBe(400);
    expect(response.body.scimType).toBe('mutability');
  });
});

describe('concurrency', () => {
  it('creates exactly one user out of concurrent creates of one userName', async () => {
    const userName = uniqueName();
    // Half on each instance, in varying case: the uniqueness rule holds across containers.
    const responses = await Promise.all(
      Array.from({ length: 8 }, (_, index) => scimClient(index % 2 ? other : service, org.orgId, org.scimToken)('POST', '/Users', scimUser(index % 3 ? userName : userName.toUpperCase()))),
    );
    expect(responses.filter((response) => response.status === 201)).toHaveLength(1);
    expect(responses.filter((response) => response.status === 409)).toHaveLength(7);
    const found = await org.scim('GET', `/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}`);
    expect(found.body.totalResults).toBe(1);
  });
});

describe('discovery and unknown paths', () => {
  it('serves ServiceProviderConfig as RFC 7643 §5 says', async () => {
    const response = await org.scim('GET', '/ServiceProviderConfig');
    expect(response.body).toMatchObject({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'],
      patch: { supported: true },
      bulk: { supported: false },
      filter: { supported: true, maxResults: 200 },
      changePassword: { supported: false },
      sort: { supported: false },
      etag: { supported: true },
      authenticationSchemes: [expect.objectContaining({ type: 'oauthbearertoken' })],
    });
  });

  it('serves ResourceTypes and Schemas, each also by id', async () => {
    const types = await org.scim('GET', '/ResourceTypes');
    expect(types.body.Resources.map((type: { id: string; endpoint: string }) => [type.id, type.endpoint])).toEqual([['User', '/Users'], ['Group', '/Groups']]);
    expect((await org.scim('GET', '/ResourceTypes/Group')).body.schema).toBe('urn:ietf:params:scim:schemas:core:2.0:Group');
    const schemas = await org.scim('GET', '/Schemas');
    expect(schemas.body.totalResults).toBe(2);
    const user = await org.scim('GET', '/Schemas/urn:ietf:params:scim:schemas:core:2.0:User');
    expect(user.body.attributes.map((attribute: { name: string }) => attribute.name)).toEqual(['userName', 'name', 'displayName', 'active', 'emails', 'groups']);
    expect((await org.scim('GET', '/Schemas/urn:nope')).status).toBe(404);
  });

  it('answers a write to a discovery endpoint with 405 and any other path with 404, in SCIM form', async () => {
    const write = await org.scim('POST', '/ServiceProviderConfig', {});
    expect(write.status).toBe(405);
    expect(write.body).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '405' });
    for (const path of ['/Nope', '/Users/x/y', '']) {
      const response = await org.scim('GET', path);
      expect(response.status, path).toBe(404);
      expect(response.body.status).toBe('404');
    }
  });
});
