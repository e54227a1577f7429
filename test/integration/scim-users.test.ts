/**
 * SCIM Users (API.md "SCIM 2.0 provisioning routes", issue 14): create, read, replace,
 * patch, delete through the Scim function on DynamoDB Local; the uniqueness rule, the
 * derived email and names, ETags, attribute selection, and the one-transaction create.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countRoundTrips } from '../support/dynamodb.js';
import { createScimOrg, scimUser, type ScimOrg } from '../support/scim.js';
import { startTestService, type TestService } from '../support/service.js';

let service: TestService;
let org: ScimOrg;

beforeAll(async () => {
  service = await startTestService();
  org = await createScimOrg(service);
});
afterAll(async () => {
  await service?.close();
});

const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
let counter = 0;
const uniqueName = (prefix = 'user') => `${prefix}${++counter}.${process.pid}@acme.test`;

async function create(body: Record<string, unknown>) {
  const response = await org.scim('POST', '/Users', body);
  expect(response.status).toBe(201);
  return response;
}

describe('POST /Users', () => {
  it('creates a user with 201, Location, meta and provisionedBy "scim"', async () => {
    const userName = uniqueName();
    const response = await create(scimUser(userName, { name: { givenName: 'Kate', familyName: 'Bush' }, externalId: 'ext-1' }));
    expect(response.headers.get('content-type')).toMatch(/^application\/scim\+json/);
    expect(response.headers.get('location')).toBe(`${org.base}/Users/${response.body.id}`);
    expect(response.body).toMatchObject({
      schemas: [USER_SCHEMA],
      userName,
      externalId: 'ext-1',
      name: { givenName: 'Kate', familyName: 'Bush' },
      active: true,
      meta: { resourceType: 'User', location: `${org.base}/Users/${response.body.id}` },
    });
    expect(response.body.meta.version).toMatch(/^W\/"/);
    expect(response.headers.get('etag')).toBe(response.body.meta.version);
    const admin = await org.admin('GET', `/orgs/${org.orgId}/users/${response.body.id}`);
    expect(admin.body).toMatchObject({ email: userName, firstName: 'Kate', lastName: 'Bush', status: 'active', provisionedBy: 'scim', jitProvisioned: false });
  });

  it('refuses a second user with the same userName in another case with 409 uniqueness', async () => {
    const userName = uniqueName('Dup');
    await create(scimUser(userName));
    const again = await org.scim('POST', '/Users', scimUser(userName.toUpperCase()));
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '409', scimType: 'uniqueness' });
  });

  it('refuses a second user with the same userName and another email with 409 uniqueness', async () => {
    const userName = `plain-${++counter}`;
    await create(scimUser(userName, { emails: [{ value: uniqueName(), primary: true }] }));
    const again = await org.scim('POST', '/Users', scimUser(userName, { emails: [{ value: uniqueName(), primary: true }] }));
    expect(again.status).toBe(409);
    expect(again.body.scimType).toBe('uniqueness');
  });

  it('takes the primary email as the user email, else the first, and returns emails as written', async () => {
    const [first, primary] = [uniqueName('first'), uniqueName('Primary')];
    const emails = [{ value: first, type: 'home' }, { value: primary, type: 'work', primary: true }];
    const response = await create(scimUser(`someone-${++counter}`, { emails }));
    expect(response.body.emails).toEqual(emails);
    const admin = await org.admin('GET', `/orgs/${org.orgId}/users/${response.body.id}`);
    expect(admin.body.email).toBe(primary.toLowerCase());
    const noPrimary = await create(scimUser(`other-${++counter}`, { emails: [{ value: first.replace('first', 'second'), type: 'work' }] }));
    expect((await org.admin('GET', `/orgs/${org.orgId}/users/${noPrimary.body.id}`)).body.email).toBe(first.replace('first', 'second'));
  });

  it('keeps a user whose userName is not an email address and who has no emails with email null', async () => {
    const response = await create(scimUser(`bob-${++counter}`));
    const admin = await org.admin('GET', `/orgs/${org.orgId}/users/${response.body.id}`);
    expect(admin.body.email).toBeNull();
    expect(response.body.emails).toBeUndefined();
  });

  it('creates a user with active false as blocked', async () => {
    const response = await create(scimUser(uniqueName(), { active: 'False' }));
    expect(response.body.active).toBe(false);
    expect((await org.admin('GET', `/orgs/${org.orgId}/users/${response.body.id}`)).body.status).toBe('blocked');
  });

  it('writes the user, the userName claim and user.scim_created in one transaction', async () => {
    const trips = countRoundTrips(service.db.client);
    await org.scim('GET', '/Users?count=1'); // warm the settings cache
    trips.reset();
    const response = await create(scimUser(uniqueName()));
    const writes = trips.commands().filter((name) => name !== 'GetItemCommand' && name !== 'QueryCommand');
    expect(writes).toEqual(['TransactWriteItemsCommand']);
    const events = await org.admin('GET', `/orgs/${org.orgId}/audit-events?type=user.scim_created`);
    const created = events.body.items.find((event: { target: { id: string } }) => event.target.id === response.body.id);
    expect(created).toMatchObject({ type: 'user.scim_created', actor: { type: 'scim', id: org.scimTokenId }, details: { assignments: [] } });
  });

  it('answers 400 invalidValue without userName and 400 invalidSyntax for a body that is not JSON', async () => {
    const missing = await org.scim('POST', '/Users', { schemas: [USER_SCHEMA], active: true });
    expect(missing.status).toBe(400);
    expect(missing.body.scimType).toBe('invalidValue');
    const malformed = await org.scim('POST', '/Users', '{"userName": ');
    expect(malformed.status).toBe(400);
    expect(malformed.body.scimType).toBe('invalidSyntax');
  });

  it('ignores unknown attributes on write', async () => {
    const response = await create(scimUser(uniqueName(), { title: 'Boss', 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': { employeeNumber: '7' } }));
    expect(response.body.title).toBeUndefined();
    expect(JSON.stringify(response.body)).not.toContain('employeeNumber');
  });

  it('answers 413 for a body over 256 KiB', async () => {
    const response = await org.scim('POST', '/Users', scimUser(uniqueName(), { displayName: 'x'.repeat(300 * 1024) }));
    expect(response.status).toBe(413);
    expect(response.body).toMatchObject({ status: '413' });
  });
});

describe('GET, PUT, DELETE /Users/{id}', () => {
  it('reads a user and answers 404 for an unknown id', async () => {
    const created = await create(scimUser(uniqueName()));
    const read = await org.scim('GET', `/Users/${created.body.id}`);
    expect(read.status).toBe(200);
    expect(read.body).toEqual(created.body);
    const missing = await org.scim('GET', '/Users/no-such-user');
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ status: '404' });
  });

  it('replaces the whole user with PUT, moving the sign-in email with the primary email', async () => {
    const created = await create(scimUser(uniqueName(), { name: { givenName: 'A', familyName: 'B' }, displayName: 'A B' }));
    const newEmail = uniqueName('moved');
    const put = await org.scim('PUT', `/Users/${created.body.id}`, scimUser(created.body.userName, { emails: [{ value: newEmail, primary: true, type: 'work' }], name: { givenName: 'C' } }));
    expect(put.status).toBe(200);
    expect(put.body.name).toEqual({ givenName: 'C' });
    expect(put.body.displayName).toBeUndefined();
    expect(put.body.meta.version).not.toBe(created.body.meta.version);
    const admin = await org.admin('GET', `/orgs/${org.orgId}/users/${created.body.id}`);
    expect(admin.body).toMatchObject({ email: newEmail, firstName: 'C' });
    expect(admin.body.lastName).toBeUndefined();
  });

  it('refuses a write with a stale If-Match with 412 and accepts the current one', async () => {
    const created = await create(scimUser(uniqueName()));
    const first = await org.scim('PUT', `/Users/${created.body.id}`, scimUser(created.body.userName, { displayName: 'one' }), { 'if-match': created.body.meta.version });
    expect(first.status).toBe(200);
    const stale = await org.scim('PUT', `/Users/${created.body.id}`, scimUser(created.body.userName, { displayName: 'two' }), { 'if-match': created.body.meta.version });
    expect(stale.status).toBe(412);
    expect((await org.scim('GET', `/Users/${created.body.id}`)).body.displayName).toBe('one');
  });

  it('removes a user with DELETE (204, then 404) and writes user.scim_deleted', async () => {
    const created = await create(scimUser(uniqueName()));
    expect((await org.scim('DELETE', `/Users/${created.body.id}`)).status).toBe(204);
    expect((await org.scim('GET', `/Users/${created.body.id}`)).status).toBe(404);
    expect((await org.scim('DELETE', `/Users/${created.body.id}`)).status).toBe(404);
    const events = await org.admin('GET', `/orgs/${org.orgId}/audit-events?type=user.scim_deleted`);
    expect(events.body.items.some((event: { target: { id: string } }) => event.target.id === created.body.id)).toBe(true);
    // The userName is free again.
    await create(scimUser(created.body.userName));
  });
});

describe('removal by an admin', () => {
  it('frees the userName when an admin removes a SCIM user, so the IdP can push it again', async () => {
    const userName = `freed-${++counter}`;
    const created = await create(scimUser(userName));
    expect((await org.admin('DELETE', `/orgs/${org.orgId}/users/${created.body.id}`)).status).toBe(204);
    const again = await org.scim('POST', '/Users', scimUser(userName.toUpperCase()));
    expect(again.status).toBe(201);
  });
});

describe('attribute selection', () => {
  it('returns only the attributes asked for (and id, schemas) on GET and on the answer to POST', async () => {
    const userName = uniqueName();
    const created = await org.scim('POST', '/Users?attributes=userName', scimUser(userName, { displayName: 'D' }));
    expect(created.status).toBe(201);
    expect(Object.keys(created.body).sort()).toEqual(['id', 'schemas', 'userName']);
    const read = await org.scim('GET', `/Users/${created.body.id}?attributes=name.givenName,emails.value`);
    expect(Object.keys(read.body).sort()).toEqual(['id', 'schemas']);
    const excluded = await org.scim('GET', `/Users/${created.body.id}?excludedAttributes=meta,displayName`);
    expect(excluded.body).toMatchObject({ userName, active: true });
    expect(excluded.body.meta).toBeUndefined();
    expect(excluded.body.displayName).toBeUndefined();
  });
});
