/**
 * POST /orgs/{orgId}/users (API.md "Admin routes", docs/console.md "Users"): an admin
 * creates a user by hand. Over HTTP through the settings handler on DynamoDB Local:
 * the answer, what is stored (by email and by id), the audit event, the refusals
 * (existing email, strict input, unknown role or group, more than the actor holds),
 * and a manually created user signing in through SSO with JIT off.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSignedLoginResponse } from '../../local/saml-idp.js';
import type { Permission } from '../../shared/settings/model.js';
import { apiClient, createSamlOrg, postAcs, startTestService, tokenFor, type SamlOrg, type TestService } from '../support/service.js';

let service: TestService;
let org: SamlOrg;
let admin: ReturnType<typeof apiClient>;
let adminId: string;
let users: string;

beforeAll(async () => {
  service = await startTestService();
  org = await createSamlOrg(service);
  admin = apiClient(service, await tokenFor(service, org.orgId, org.adminEmail));
  adminId = (await service.rt.users.findByEmail(org.orgId, org.adminEmail))!.id;
  users = `/orgs/${org.orgId}/users`;
});
afterAll(() => service?.close());

let counter = 0;
const email = (name = 'user') => `${name}-${++counter}@acme.test`;
const REGULAR = [{ groupId: 'default', roleId: 'regular-user' }];

async function eventsFor(userId: string) {
  const { body } = await admin('GET', `/orgs/${org.orgId}/audit-events?type=user.created&limit=100`);
  return (body.items as { target?: { id: string } }[]).filter((event) => event.target?.id === userId);
}

describe('POST /orgs/{orgId}/users', () => {
  it('creates an active, manually provisioned user and answers 201 with it', async () => {
    const address = email('grace');

    const response = await admin('POST', users, { email: address.toUpperCase(), firstName: ' Grace ', lastName: 'Hopper', assignments: [{ groupId: 'default', roleId: 'account-admin' }] });

    expect(response.status).toBe(201);
    expect(response.body).toEqual({
      id: expect.any(String),
      email: address,
      firstName: 'Grace',
      lastName: 'Hopper',
      status: 'active',
      provisionedBy: 'manual',
      jitProvisioned: false,
      assignments: [{ groupId: 'default', roleId: 'account-admin' }],
      createdAt: service.clock.now().toISOString(),
      updatedAt: service.clock.now().toISOString(),
    });
    expect((await admin('GET', `${users}/${response.body.id}`)).body).toEqual(response.body);
  });

  it('stores the user under its email and its id, in the same write', async () => {
    const address = email();

    const { body } = await admin('POST', users, { email: address, assignments: REGULAR });

    const key = (sk: string) => service.db.client.send(new GetCommand({ TableName: service.db.names.users, Key: { pk: `ORG#${org.orgId}`, sk } }));
    expect((await key(`USER#${address}`)).Item).toMatchObject({ id: body.id, email: address, provisionedBy: 'manual' });
    expect((await key(`ID#${body.id}`)).Item).toMatchObject({ emailRef: address });
    expect(await service.rt.users.findById(org.orgId, body.id)).toMatchObject({ email: address });
    expect(await service.rt.users.orgsForEmail(address)).toEqual([org.orgId]);
  });

  it('records user.created naming the admin, the user and the assignments', async () => {
    const address = email();

    const { body } = await admin('POST', users, { email: address, assignments: REGULAR });

    expect(await eventsFor(body.id)).toEqual([
      expect.objectContaining({
        type: 'user.created',
        outcome: 'success',
        actor: { type: 'user', id: adminId },
        target: { type: 'user', id: body.id },
        details: { email: address, provisionedBy: 'manual', assignments: REGULAR },
      }),
    ]);
  });

  it('accepts a user without names and without assignments', async () => {
    const response = await admin('POST', users, { email: email(), assignments: [] });

    expect(response.status).toBe(201);
    expect(response.body.assignments).toEqual([]);
    expect(response.body).not.toHaveProperty('firstName');
  });

  it('answers 409 CONFLICT when the email exists in the org, whatever its case, and changes nothing', async () => {
    const address = email('dup');
    const first = await admin('POST', users, { email: address, firstName: 'First', assignments: REGULAR });

    const second = await admin('POST', users, { email: address.toUpperCase(), firstName: 'Second', assignments: REGULAR });

    expect(second.status).toBe(409);
    expect(second.body).toEqual({ error: { code: 'CONFLICT', message: expect.stringContaining(address) } });
    expect(await service.rt.users.findByEmail(org.orgId, address)).toMatchObject({ id: first.body.id, firstName: 'First' });
    const { body: page } = await admin('GET', `/orgs/${org.orgId}/audit-events?type=user.created&limit=100`);
    expect(page.items.filter((event: { details: { email: string } }) => event.details.email === address)).toHaveLength(1);
  });

  it('answers 409 CONFLICT for the email of the org admin', async () => {
    const response = await admin('POST', users, { email: org.adminEmail, assignments: REGULAR });

    expect(response.status).toBe(409);
    expect(response.body.error.code).toBe('CONFLICT');
  });

  it('creates the same email in another org: emails are unique per org', async () => {
    const other = await createSamlOrg(service);
    const address = email('twice');
    await admin('POST', users, { email: address, assignments: REGULAR });

    const response = await apiClient(service, await tokenFor(service, other.orgId, other.adminEmail))('POST', `/orgs/${other.orgId}/users`, { email: address, assignments: REGULAR });

    expect(response.status).toBe(201);
    expect((await service.rt.users.orgsForEmail(address)).sort()).toEqual([org.orgId, other.orgId].sort());
  });

  it.each([
    ['an unknown field', { email: 'x@acme.test', assignments: [], status: 'blocked' }, /"status"/],
    ['an unknown field in an assignment', { email: 'x@acme.test', assignments: [{ groupId: 'default', roleId: 'regular-user', scope: 'all' }] }, /^assignments\.0: .*"scope"/],
    ['no email', { assignments: [] }, /^email: /],
    ['a malformed email', { email: 'not an email', assignments: [] }, /^email: /],
    ['two emails in one', { email: 'a@acme.test,b@acme.test', assignments: [] }, /^email: /],
    ['no assignments', { email: 'x@acme.test' }, /^assignments: /],
    ['an empty first name', { email: 'x@acme.test', firstName: ' ', assignments: [] }, /^firstName: /],
  ])('refuses %s with 400 VALIDATION_FAILED naming the field', async (_case, body, message) => {
    const response = await admin('POST', users, body);

    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('VALIDATION_FAILED');
    expect(response.body.error.message).toMatch(message);
    expect(await service.rt.users.findByEmail(org.orgId, 'x@acme.test')).toBeUndefined();
  });

  it.each([
    ['role', { groupId: 'default', roleId: 'no-such-role' }, 'assignments[1].roleId'],
    ['group', { groupId: 'no-such-group', roleId: 'regular-user' }, 'assignments[1].groupId'],
  ])('refuses an unknown %s with 400 VALIDATION_FAILED naming the assignment', async (_kind, assignment, field) => {
    const address = email();

    const response = await admin('POST', users, { email: address, assignments: [...REGULAR, assignment] });

    expect(response.status).toBe(400);
    expect(response.body.error).toEqual({ code: 'VALIDATION_FAILED', message: expect.stringContaining(`${field}: `) });
    expect(await service.rt.users.findByEmail(org.orgId, address)).toBeUndefined();
  });
});

describe('nobody creates a user who holds more than they do', () => {
  /** A client acting as a user whose one role holds exactly `permissions`. */
  async function actingWith(permissions: Permission[]) {
    const role = await admin('POST', `/orgs/${org.orgId}/roles`, { name: `role-${++counter}`, permissions });
    const actor = email('actor');
    expect((await admin('POST', users, { email: actor, assignments: [{ groupId: 'default', roleId: role.body.id }] })).status).toBe(201);
    return apiClient(service, await tokenFor(service, org.orgId, actor));
  }

  it('refuses a users:edit holder who creates an Organization Admin, with 403 FORBIDDEN, and creates nobody', async () => {
    const api = await actingWith(['users:view', 'users:edit']);
    const address = email('escalate');

    const response = await api('POST', users, { email: address, assignments: [{ groupId: 'default', roleId: 'organization-admin' }] });

    expect(response.status).toBe(403);
    expect(response.body.error).toEqual({ code: 'FORBIDDEN', message: expect.stringMatching(/security:edit/) });
    expect(await service.rt.users.findByEmail(org.orgId, address)).toBeUndefined();
  });

  it('lets a users:edit holder create a user with a role they hold all the permissions of', async () => {
    const api = await actingWith(['users:view', 'users:edit']);

    const response = await api('POST', users, { email: email(), assignments: REGULAR });

    expect(response.status).toBe(201);
  });
});

describe('a user created by hand', () => {
  it('signs in through SSO while JIT is off, where an unknown user is refused', async () => {
    const manual = await createSamlOrg(service, { provisioning: { method: 'manual' } });
    const api = apiClient(service, await tokenFor(service, manual.orgId, manual.adminEmail));
    const address = email('manual');
    expect((await api('POST', `/orgs/${manual.orgId}/users`, { email: address, assignments: REGULAR })).status).toBe(201);
    const login = (nameId: string) =>
      postAcs(service, manual.orgId, {
        SAMLResponse: buildSignedLoginResponse({
          idp: manual.idp,
          spEntityId: manual.urls.spEntityId,
          acsUrl: manual.urls.acsUrl,
          nameId,
          attributes: { groups: ['Admins'] },
          now: service.clock.now(),
        }),
      });

    const known = await login(address);
    const unknown = await login(email('stranger'));

    expect(known.status).toBe(302);
    expect(unknown.status).toBe(403);
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe('USER_NOT_PROVISIONED');
    expect(await service.rt.users.findByEmail(manual.orgId, address)).toMatchObject({ provisionedBy: 'manual', jitProvisioned: false, lastLoginAt: expect.any(String) });
  });
});
