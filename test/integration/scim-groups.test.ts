/**
 * SCIM Groups (API.md "Group"): displayName unique and exact, members as user ids, the
 * read-only `groups` of a User, and groups as role values: every membership change
 * recomputes the members' assignments atomically, under `roleSource` and `onNoRoleMatch`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScimOrg, scimUser, type ScimOrg } from '../support/scim.js';
import { startTestService, type TestService } from '../support/service.js';

const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

let service: TestService;
let org: ScimOrg;
let counter = 0;

beforeAll(async () => {
  service = await startTestService();
  org = await createScimOrg(service);
});
afterAll(async () => {
  await service?.close();
});

async function newUser(target: ScimOrg = org): Promise<string> {
  const response = await target.scim('POST', '/Users', scimUser(`member${++counter}@acme.test`));
  expect(response.status).toBe(201);
  return response.body.id;
}

async function newGroup(displayName: string, members: string[] = [], target: ScimOrg = org) {
  const response = await target.scim('POST', '/Groups', { schemas: [GROUP], displayName, members: members.map((value) => ({ value })) });
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return response.body;
}

const assignmentsOf = async (userId: string, target: ScimOrg = org) => (await target.admin('GET', `/orgs/${target.orgId}/users/${userId}`)).body.assignments;

describe('Groups', () => {
  it('creates a group with members, 201 and Location, and shows it in the members\' groups', async () => {
    const userId = await newUser();
    const group = await newGroup(`Team ${++counter}`, [userId]);
    expect(group).toMatchObject({ schemas: [GROUP], members: [{ value: userId }], meta: { resourceType: 'Group', location: `${org.base}/Groups/${group.id}` } });
    const user = await org.scim('GET', `/Users/${userId}`);
    expect(user.body.groups).toEqual([{ value: group.id, display: group.displayName }]);
  });

  it('refuses a second group of the same displayName (409 uniqueness) but takes one differing in case', async () => {
    const name = `Dup Team ${++counter}`;
    await newGroup(name);
    const again = await org.scim('POST', '/Groups', { schemas: [GROUP], displayName: name });
    expect(again.status).toBe(409);
    expect(again.body.scimType).toBe('uniqueness');
    await newGroup(name.toUpperCase());
  });

  it('refuses a member that is not a user of the org with 400', async () => {
    const response = await org.scim('POST', '/Groups', { schemas: [GROUP], displayName: `Ghosts ${++counter}`, members: [{ value: 'nobody' }] });
    expect(response.status).toBe(400);
  });

  it('lists groups with excludedAttributes=members and filters by displayName exactly', async () => {
    const name = `Listed ${++counter}`;
    const group = await newGroup(name, [await newUser()]);
    const listed = await org.scim('GET', `/Groups?filter=${encodeURIComponent(`displayName eq "${name}"`)}&excludedAttributes=members`);
    expect(listed.body.totalResults).toBe(1);
    expect(listed.body.Resources[0]).toMatchObject({ id: group.id, displayName: name });
    expect(listed.body.Resources[0].members).toBeUndefined();
    const otherCase = await org.scim('GET', `/Groups?filter=${encodeURIComponent(`displayName eq "${name.toLowerCase()}"`)}`);
    expect(otherCase.body.totalResults).toBe(0);
    const byMember = await org.scim('GET', `/Groups?filter=${encodeURIComponent(`members.value eq "${group.members[0].value}"`)}`);
    expect(byMember.body.Resources.map((resource: { id: string }) => resource.id)).toEqual([group.id]);
  });

  it('adds and removes members with PATCH, removing by members[value eq "…"]', async () => {
    const [a, b] = [await newUser(), await newUser()];
    const group = await newGroup(`Patched ${++counter}`);
    const added = await org.scim('PATCH', `/Groups/${group.id}`, { schemas: [PATCH], Operations: [{ op: 'Add', path: 'members', value: [{ value: a }, { value: b }] }] });
    expect(added.status).toBe(200);
    expect(added.body.members.map((member: { value: string }) => member.value).sort()).toEqual([a, b].sort());
    const removed = await org.scim('PATCH', `/Groups/${group.id}`, { schemas: [PATCH], Operations: [{ op: 'Remove', path: `members[value eq "${a}"]` }] });
    expect(removed.body.members).toEqual([{ value: b }]);
    expect((await org.scim('GET', `/Users/${a}`)).body.groups).toBeUndefined();
    const byValue = await org.scim('PATCH', `/Groups/${group.id}`, { schemas: [PATCH], Operations: [{ op: 'remove', path: 'members', value: [{ value: b }] }] });
    expect(byValue.body.members).toEqual([]);
  });

  it('replaces a group with PUT and renames it, updating the members\' groups', async () => {
    const userId = await newUser();
    const group = await newGroup(`Old ${++counter}`, [userId]);
    const renamed = await org.scim('PUT', `/Groups/${group.id}`, { schemas: [GROUP], displayName: `New ${counter}`, members: [{ value: userId }] });
    expect(renamed.status).toBe(200);
    expect((await org.scim('GET', `/Users/${userId}`)).body.groups).toEqual([{ value: group.id, display: `New ${counter}` }]);
  });

  it('deletes a group (204, then 404), and a deleted user leaves their groups', async () => {
    const [a, b] = [await newUser(), await newUser()];
    const group = await newGroup(`Gone ${++counter}`, [a, b]);
    expect((await org.scim('DELETE', `/Users/${a}`)).status).toBe(204);
    expect((await org.scim('GET', `/Groups/${group.id}`)).body.members).toEqual([{ value: b }]);
    expect((await org.scim('DELETE', `/Groups/${group.id}`)).status).toBe(204);
    expect((await org.scim('GET', `/Groups/${group.id}`)).status).toBe(404);
    expect((await org.scim('GET', `/Users/${b}`)).body.groups).toBeUndefined();
    const events = await org.admin('GET', `/orgs/${org.orgId}/audit-events?type=scim_group.deleted`);
    expect(events.body.items.some((event: { target: { id: string } }) => event.target.id === group.id)).toBe(true);
  });

  it('writes a membership change in slices when it touches more members than one transaction holds', async () => {
    const many = await Promise.all(Array.from({ length: 45 }, () => newUser()));
    const group = await newGroup('Engineering', many);
    expect(group.members.length).toBe(45);
    for (const userId of [many[0]!, many[44]!]) expect(await assignmentsOf(userId)).toEqual([{ groupId: 'default', roleId: 'regular-user' }]);
    expect((await org.scim('DELETE', `/Groups/${group.id}`)).status).toBe(204);
    for (const userId of [many[0]!, many[44]!]) expect(await assignmentsOf(userId)).toEqual([]);
  });
});

describe('groups as role values', () => {
  it('gives a member the roles of the mappings their groups match exactly, and takes them away on removal', async () => {
    const userId = await newUser();
    expect(await assignmentsOf(userId)).toEqual([]);
    const admins = await newGroup('Admins', [userId]);
    expect(await assignmentsOf(userId)).toEqual([{ groupId: 'default', roleId: 'account-admin' }]);
    const events = await org.admin('GET', `/orgs/${org.orgId}/audit-events?type=scim_group.created`);
    const created = events.body.items.find((event: { target: { id: string } }) => event.target.id === admins.id);
    expect(created.details.assignments[userId]).toEqual({ from: [], to: [{ groupId: 'default', roleId: 'account-admin' }] });
    await org.scim('PATCH', `/Groups/${admins.id}`, { schemas: [PATCH], Operations: [{ op: 'remove', path: `members[value eq "${userId}"]` }] });
    expect(await assignmentsOf(userId)).toEqual([]);
  });

  it('matches displayNames exactly: "admins" is not "Admins"', async () => {
    const userId = await newUser();
    await newGroup('admins', [userId]);
    expect(await assignmentsOf(userId)).toEqual([]);
  });

  it('gives the default role in the default group when nothing matches under onNoRoleMatch "default"', async () => {
    const defaults = await createScimOrg(service, { jit: { onNoRoleMatch: 'default' } });
    const userId = await newUser(defaults);
    expect(await assignmentsOf(userId, defaults)).toEqual([{ groupId: 'default', roleId: 'regular-user' }]);
    const group = await newGroup('Admins', [userId], defaults);
    expect(await assignmentsOf(userId, defaults)).toEqual([{ groupId: 'default', roleId: 'account-admin' }]);
    await defaults.scim('DELETE', `/Groups/${group.id}`);
    expect(await assignmentsOf(userId, defaults)).toEqual([{ groupId: 'default', roleId: 'regular-user' }]);
  });

  it('changes no assignment under roleSource "app"', async () => {
    const app = await createScimOrg(service, { jit: { roleSource: 'app' } });
    const userId = await newUser(app);
    expect(await assignmentsOf(userId, app)).toEqual([{ groupId: 'default', roleId: 'regular-user' }]);
    await newGroup('Admins', [userId], app);
    expect(await assignmentsOf(userId, app)).toEqual([{ groupId: 'default', roleId: 'regular-user' }]);
  });
});
