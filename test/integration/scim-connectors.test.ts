/**
 * The request sequences the two connectors send, replayed end to end (issue 14). The
 * bodies follow the examples the vendors publish: Okta's "Okta and SCIM Version 2.0"
 * reference (developer.okta.com/docs/api/openapi/okta-scim/guides/scim-20) and
 * Microsoft's "Tutorial: Develop and plan provisioning for a SCIM endpoint in Microsoft
 * Entra ID" (its "User Operations" and "Group Operations" request examples, which the
 * Entra SCIM validator sends), with ids and names made unique per run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSignedLoginResponse } from '../../local/saml-idp.js';
import { createScimOrg, type ScimOrg } from '../support/scim.js';
import { postAcs, sessionCookieOf, startTestService, type TestService } from '../support/service.js';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const LIST = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';

let service: TestService;

beforeAll(async () => {
  service = await startTestService();
});
afterAll(async () => {
  await service?.close();
});

const q = (filter: string) => encodeURIComponent(filter);

describe('Okta', () => {
  let org: ScimOrg;
  beforeAll(async () => {
    org = await createScimOrg(service, { jit: { onNoRoleMatch: 'deny' } });
  });

  it('replays test connection, create, update, deactivate, reactivate and group push', async () => {
    // Test connection: a read of one page of users.
    const connection = await org.scim('GET', '/Users?startIndex=1&count=2');
    expect(connection.status).toBe(200);
    expect(connection.body).toMatchObject({ schemas: [LIST], startIndex: 1 });

    // Create: is the userName known? No: create the user as Okta sends it.
    const userName = `test.user.${process.pid}@okta.local`;
    const lookup = await org.scim('GET', `/Users?filter=${q(`userName eq "${userName}"`)}&startIndex=1&count=100`);
    expect(lookup.body).toMatchObject({ schemas: [LIST], totalResults: 0, Resources: [] });
    const created = await org.scim('POST', '/Users', {
      schemas: [USER],
      userName,
      name: { givenName: 'Test', familyName: 'User' },
      emails: [{ primary: true, value: userName, type: 'work' }],
      displayName: 'Test User',
      locale: 'en-US',
      externalId: '00ujl29u0le5T6Aj10h7',
      groups: [],
      password: '1mz050nq',
      active: true,
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ userName, active: true, externalId: '00ujl29u0le5T6Aj10h7', name: { givenName: 'Test', familyName: 'User' } });
    expect(JSON.stringify(created.body)).not.toContain('1mz050nq');
    const id = created.body.id as string;
    const found = await org.scim('GET', `/Users?filter=${q(`userName eq "${userName}"`)}&startIndex=1&count=100`);
    expect(found.body.Resources.map((resource: { id: string }) => resource.id)).toEqual([id]);

    // Update: Okta reads the user, then PUTs the whole user back with the change.
    const current = (await org.scim('GET', `/Users/${id}`)).body;
    const updated = await org.scim('PUT', `/Users/${id}`, { ...current, name: { givenName: 'Another', familyName: 'User' }, password: 'ignored' });
    expect(updated.status).toBe(200);
    expect(updated.body.name).toEqual({ givenName: 'Another', familyName: 'User' });
    expect((await org.admin('GET', `/orgs/${org.orgId}/users/${id}`)).body).toMatchObject({ firstName: 'Another', lastName: 'User', status: 'active' });

    // Group push: the group is created empty, then members are PATCHed in.
    const displayName = 'Admins';
    expect((await org.scim('GET', `/Groups?filter=${q(`displayName eq "${displayName}"`)}`)).body.totalResults).toBe(0);
    const group = await org.scim('POST', '/Groups', { schemas: [GROUP], displayName, members: [] });
    expect(group.status).toBe(201);
    const push = await org.scim('PATCH', `/Groups/${group.body.id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'add', path: 'members', value: [{ value: id, display: userName }] }],
    });
    expect(push.status).toBe(200);
    expect(push.body.members).toEqual([{ value: id }]);
    expect((await org.admin('GET', `/orgs/${org.orgId}/users/${id}`)).body.assignments).toEqual([{ groupId: 'default', roleId: 'account-admin' }]);
    // Okta renames with a path-less replace that repeats the id.
    const rename = await org.scim('PATCH', `/Groups/${group.body.id}`, { schemas: [PATCH], Operations: [{ op: 'replace', value: { id: group.body.id, displayName: 'Engineering' } }] });
    expect(rename.body.displayName).toBe('Engineering');
    expect((await org.admin('GET', `/orgs/${org.orgId}/users/${id}`)).body.assignments).toEqual([{ groupId: 'default', roleId: 'regular-user' }]);

    // The user signs in while active.
    const signIn = () =>
      postAcs(service, org.orgId, {
        SAMLResponse: buildSignedLoginResponse({ idp: org.idp, spEntityId: org.urls.spEntityId, acsUrl: org.urls.acsUrl, nameId: userName, attributes: { groups: ['Admins'] }, now: service.clock.now() }),
      });
    const session = sessionCookieOf(await signIn());
    expect(session).toBeDefined();

    // Deactivate: a path-less replace of active.
    const deactivated = await org.scim('PATCH', `/Users/${id}`, { schemas: [PATCH], Operations: [{ op: 'replace', value: { active: false } }] });
    expect(deactivated.status).toBe(200);
    expect(deactivated.body.active).toBe(false);
    expect((await fetch(`${service.baseUrl}/me`, { headers: { authorization: `Bearer ${session}` } })).status).toBe(401);
    expect((await signIn()).status).toBe(403);

    // Reactivate.
    const reactivated = await org.scim('PATCH', `/Users/${id}`, { schemas: [PATCH], Operations: [{ op: 'replace', value: { active: true } }] });
    expect(reactivated.body.active).toBe(true);
    expect((await signIn()).status).toBe(302);

    // Group push removes a member by a value filter.
    const removed = await org.scim('PATCH', `/Groups/${group.body.id}`, { schemas: [PATCH], Operations: [{ op: 'remove', path: `members[value eq "${id}"]` }] });
    expect(removed.body.members).toEqual([]);
    expect((await org.admin('GET', `/orgs/${org.orgId}/users/${id}`)).body.assignments).toEqual([]);
  });
});

describe('Microsoft Entra ID (the SCIM validator\'s sequence)', () => {
  let org: ScimOrg;
  beforeAll(async () => {
    org = await createScimOrg(service, { jit: { onNoRoleMatch: 'default' } });
  });

  it('replays user create, filter, patch (multi- and single-valued), disable and delete', async () => {
    const tag = `${process.pid}-${Date.now()}`;
    const create = await org.scim('POST', '/Users', {
      schemas: [USER, 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'],
      externalId: `0a21f0f2-8d2a-4f8e-bf98-${tag}`,
      userName: `Test_User_ab6490ee-${tag}`,
      active: true,
      emails: [{ primary: true, type: 'work', value: `Test_User_fd0ea19b-${tag}@testuser.com` }],
      meta: { resourceType: 'User' },
      name: { formatted: 'givenName familyName', familyName: 'familyName', givenName: 'givenName' },
      roles: [],
    });
    expect(create.status).toBe(201);
    const id = create.body.id as string;
    expect(create.body.emails).toEqual([{ primary: true, type: 'work', value: `Test_User_fd0ea19b-${tag}@testuser.com` }]);

    // Get user by query, then one that matches nothing.
    const byQuery = await org.scim('GET', `/Users?filter=${q(`userName eq "Test_User_ab6490ee-${tag}"`)}`);
    expect(byQuery.body).toMatchObject({ totalResults: 1, Resources: [{ id, active: true }] });
    const none = await org.scim('GET', `/Users?filter=${q('userName eq "non-existent user"')}`);
    expect(none.body).toMatchObject({ schemas: [LIST], totalResults: 0, Resources: [], startIndex: 1, itemsPerPage: 0 });
    const byExternalId = await org.scim('GET', `/Users?filter=${q(`externalId eq "0a21f0f2-8d2a-4f8e-bf98-${tag}"`)}`);
    expect(byExternalId.body.Resources.map((resource: { id: string }) => resource.id)).toEqual([id]);

    // Update user [multi-valued properties].
    const multi = await org.scim('PATCH', `/Users/${id}`, {
      schemas: [PATCH],
      Operations: [
        { op: 'Replace', path: 'emails[type eq "work"].value', value: `updatedEmail-${tag}@microsoft.com` },
        { op: 'Replace', path: 'name.familyName', value: 'updatedFamilyName' },
      ],
    });
    expect(multi.status).toBe(200);
    expect(multi.body.emails).toEqual([{ primary: true, type: 'work', value: `updatedEmail-${tag}@microsoft.com` }]);
    expect(multi.body.name).toEqual({ givenName: 'givenName', familyName: 'updatedFamilyName' });
    expect((await org.admin('GET', `/orgs/${org.orgId}/users/${id}`)).body.email).toBe(`updatedemail-${tag}@microsoft.com`);

    // Update user [single-valued properties].
    const single = await org.scim('PATCH', `/Users/${id}`, { schemas: [PATCH], Operations: [{ op: 'Replace', path: 'userName', value: `5b50642d-${tag}@testuser.com` }] });
    expect(single.body.userName).toBe(`5b50642d-${tag}@testuser.com`);
    expect((await org.scim('GET', `/Users?filter=${q(`userName eq "5b50642d-${tag}@testuser.com"`)}`)).body.totalResults).toBe(1);
    expect((await org.scim('GET', `/Users?filter=${q(`userName eq "Test_User_ab6490ee-${tag}"`)}`)).body.totalResults).toBe(0);

    // A path-less Add with dotted keys, as Entra sends on attribute changes.
    const pathless = await org.scim('PATCH', `/Users/${id}`, { schemas: [PATCH], Operations: [{ op: 'Add', value: { 'name.givenName': 'Newgiven', displayName: 'New Display' } }] });
    expect(pathless.body).toMatchObject({ name: { givenName: 'Newgiven' }, displayName: 'New Display' });

    // Disable user, with the boolean as a string.
    const disabled = await org.scim('PATCH', `/Users/${id}`, { schemas: [PATCH], Operations: [{ op: 'Replace', path: 'active', value: 'False' }] });
    expect(disabled.body.active).toBe(false);
    const filtered = await org.scim('GET', `/Users?filter=${q(`userName eq "5b50642d-${tag}@testuser.com"`)}`);
    expect(filtered.body.Resources[0].active).toBe(false);

    // Delete user.
    expect((await org.scim('DELETE', `/Users/${id}`)).status).toBe(204);
    expect((await org.scim('GET', `/Users/${id}`)).status).toBe(404);
  });

  it('replays group create, read without members, filter by displayName, rename, add and remove members, delete', async () => {
    const tag = `${process.pid}-${Date.now()}`;
    const member = await org.scim('POST', '/Users', { schemas: [USER], userName: `member-${tag}@testuser.com`, active: true });
    const memberId = member.body.id as string;
    const create = await org.scim('POST', '/Groups', {
      schemas: [GROUP, 'http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/Group'],
      externalId: `8aa1a0c0-c4c3-4bc0-b4a5-${tag}`,
      displayName: `displayName-${tag}`,
      meta: { resourceType: 'Group' },
    });
    expect(create.status).toBe(201);
    const id = create.body.id as string;
    expect(create.body).toMatchObject({ displayName: `displayName-${tag}`, externalId: `8aa1a0c0-c4c3-4bc0-b4a5-${tag}`, members: [] });

    const read = await org.scim('GET', `/Groups/${id}?excludedAttributes=members`);
    expect(read.body).toMatchObject({ id, displayName: `displayName-${tag}` });
    expect(read.body.members).toBeUndefined();
    const byName = await org.scim('GET', `/Groups?excludedAttributes=members&filter=${q(`displayName eq "displayName-${tag}"`)}`);
    expect(byName.body).toMatchObject({ totalResults: 1, Resources: [{ id }] });
    const byExternalId = await org.scim('GET', `/Groups?filter=${q(`externalId eq "8aa1a0c0-c4c3-4bc0-b4a5-${tag}"`)}`);
    expect(byExternalId.body.totalResults).toBe(1);

    // Update group [non-member attributes]: the rename that makes it a role value.
    const renamed = await org.scim('PATCH', `/Groups/${id}`, { schemas: [PATCH], Operations: [{ op: 'Replace', path: 'displayName', value: 'Admins' }] });
    expect(renamed.body.displayName).toBe('Admins');

    // Update group [add members], with the "$ref": null Entra sends.
    const added = await org.scim('PATCH', `/Groups/${id}`, { schemas: [PATCH], Operations: [{ op: 'Add', path: 'members', value: [{ $ref: null, value: memberId }] }] });
    expect(added.status).toBe(200);
    expect(added.body.members).toEqual([{ value: memberId }]);
    expect((await org.admin('GET', `/orgs/${org.orgId}/users/${memberId}`)).body.assignments).toEqual([{ groupId: 'default', roleId: 'account-admin' }]);
    expect((await org.scim('GET', `/Users/${memberId}`)).body.groups).toEqual([{ value: id, display: 'Admins' }]);

    // Update group [remove members].
    const removed = await org.scim('PATCH', `/Groups/${id}`, { schemas: [PATCH], Operations: [{ op: 'Remove', path: 'members', value: [{ $ref: null, value: memberId }] }] });
    expect(removed.body.members).toEqual([]);
    expect((await org.admin('GET', `/orgs/${org.orgId}/users/${memberId}`)).body.assignments).toEqual([{ groupId: 'default', roleId: 'regular-user' }]);

    expect((await org.scim('DELETE', `/Groups/${id}`)).status).toBe(204);
    expect((await org.scim('GET', `/Groups/${id}`)).status).toBe(404);
  });
});
