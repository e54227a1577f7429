/**
 * The admin directory routes end to end (API.md "Admin routes", "Rules", "Objects"):
 * role mappings and their preview, roles, groups, users and the audit trail, driven over
 * HTTP with an org admin's token, through the local API Gateway adapter on DynamoDB Local.
 * JIT users are made the way the IdP makes them: by logging in through the ACS.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSignedLoginResponse, createSamlIdpKeys, NAMEID_PERSISTENT, type LoginResponseInput, type SamlIdpKeys } from '../../local/saml-idp.js';
import { apiClient, createSamlOrg, postAcs, startTestService, tokenFor, type ApiResponse, type SamlOrg, type SamlOrgOptions, type TestService } from '../support/service.js';

let service: TestService;
let idp: SamlIdpKeys;

beforeAll(async () => {
  service = await startTestService();
  idp = await createSamlIdpKeys('https://idp.example.com/admin-directory');
});
afterAll(() => service?.close());

type Api = ReturnType<typeof apiClient>;

interface Assignment {
  groupId: string;
  roleId: string;
}

interface AdminOrg extends SamlOrg {
  /** Acts as the org's first user, an Organization Admin. */
  api: Api;
  adminId: string;
  /** `/orgs/{orgId}`: the prefix of every admin route. */
  base: string;
}

/**
 * An org with SAML SSO and JIT from the IdP's `groups` attribute, whose mappings are
 * "Owners" → Organization Admin and "Admins" → Account Admin, both in the default group.
 */
async function adminOrg(options: SamlOrgOptions = {}): Promise<AdminOrg> {
  const org = await createSamlOrg(service, {
    idp,
    roleMappings: [
      { roleId: 'organization-admin', groupIds: ['default'], idpValue: 'Owners' },
      { roleId: 'account-admin', groupIds: ['default'], idpValue: 'Admins' },
    ],
    ...options,
  });
  const api = apiClient(service, await tokenFor(service, org.orgId, org.adminEmail));
  const base = `/orgs/${org.orgId}`;
  const admins = await api('GET', `${base}/users?email=${encodeURIComponent(org.adminEmail)}`);
  return { ...org, api, base, adminId: admins.body.items[0].id };
}

type ResponseOptions = Partial<Omit<LoginResponseInput, 'idp'>>;

/** Signs in through the ACS as the IdP would, by default as ada@acme.test in "Admins". */
function login(org: SamlOrg, options: ResponseOptions = {}) {
  const SAMLResponse = buildSignedLoginResponse({
    idp: org.idp,
    spEntityId: org.urls.spEntityId,
    acsUrl: org.urls.acsUrl,
    nameId: 'ada@acme.test',
    attributes: { groups: ['Admins'], firstName: 'Ada', lastName: 'Lovelace' },
    now: service.clock.now(),
    ...options,
  });
  return postAcs(service, org.orgId, { SAMLResponse });
}

/** A login asserting exactly these role values; `[]` leaves the role attribute out. */
const loginWithRoles = (org: SamlOrg, values: string[], nameId = 'ada@acme.test') =>
  login(org, { nameId, attributes: { ...(values.length > 0 ? { groups: values } : {}), firstName: 'Ada', lastName: 'Lovelace' } });

/** Makes a JIT user by logging in, and returns it as the admin API shows it. */
async function jitUser(org: AdminOrg, email = 'ada@acme.test') {
  const response = await login(org, { nameId: email });
  expect(response.status).toBe(302);
  return userByEmail(org, email);
}

async function userByEmail(org: AdminOrg, email: string) {
  const { body } = await org.api('GET', `${org.base}/users?email=${encodeURIComponent(email)}`);
  return body.items[0];
}

async function errorOf(response: Response): Promise<{ status: number; code: string }> {
  const body = (await response.json()) as { error: { code: string } };
  return { status: response.status, code: body.error.code };
}

/** The status and error code of an API answer, for one-line assertions. */
const outcome = (response: ApiResponse) => ({ status: response.status, code: response.body?.error?.code });

/** Moves the service's clock on, so the next audit event is strictly the newest. */
const tick = () => service.clock.advance(1000);

async function newestEvent(org: AdminOrg) {
  const { body } = await org.api('GET', `${org.base}/audit-events?limit=1`);
  return body.items[0];
}

const ADMIN_PERMISSIONS = ['security:edit', 'users:edit'];

describe('role mappings', () => {
  it('lists the org\'s mappings with their ids', async () => {
    const org = await adminOrg();

    const response = await org.api('GET', `${org.base}/settings/role-mappings`);

    expect(response.status).toBe(200);
    expect(response.body.items).toHaveLength(2);
    expect(response.body.items).toEqual(
      expect.arrayContaining([
        { id: expect.any(String), roleId: 'organization-admin', groupIds: ['default'], idpValue: 'Owners' },
        { id: expect.any(String), roleId: 'account-admin', groupIds: ['default'], idpValue: 'Admins' },
      ]),
    );
  });

  it('adds a mapping with POST, answering 201 with its new id', async () => {
    const org = await adminOrg();

    const response = await org.api('POST', `${org.base}/settings/role-mappings`, { roleId: 'regular-user', groupIds: ['default'], idpValue: 'Staff' });

    expect(response.status).toBe(201);
    expect(response.body).toEqual({ id: expect.any(String), roleId: 'regular-user', groupIds: ['default'], idpValue: 'Staff' });
    const { body } = await org.api('GET', `${org.base}/settings/role-mappings`);
    expect(body.items).toContainEqual(response.body);
  });

  it.each([
    { name: 'an unknown role', mapping: { roleId: 'no-such-role', groupIds: ['default'] }, field: 'roleId' },
    { name: 'an unknown group', mapping: { roleId: 'regular-user', groupIds: ['default', 'no-such-group'] }, field: 'groupIds' },
    { name: 'an unknown field', mapping: { roleId: 'regular-user', groupIds: ['default'], priority: 1 }, field: 'priority' },
  ])('refuses a mapping that references $name with 400 naming the field', async ({ mapping, field }) => {
    const org = await adminOrg();

    const response = await org.api('POST', `${org.base}/settings/role-mappings`, mapping);

    expect(outcome(response)).toEqual({ status: 400, code: 'VALIDATION_FAILED' });
    expect(response.body.error.message).toContain(field);
    expect((await org.api('GET', `${org.base}/settings/role-mappings`)).body.items).toHaveLength(2);
  });

  it('replaces every mapping with PUT, ignoring ids in the body and dropping the old ones', async () => {
    const org = await adminOrg();
    const before = (await org.api('GET', `${org.base}/settings/role-mappings`)).body.items as { id: string }[];
    const items = [
      { id: before[0]!.id, roleId: 'organization-admin', groupIds: ['default'], idpValue: 'Platform Owners' },
      { id: 'chosen-by-client', roleId: 'regular-user', groupIds: ['default'], idpValue: 'Staff' },
    ];

    const response = await org.api('PUT', `${org.base}/settings/role-mappings`, { items });

    expect(response.status).toBe(200);
    expect(response.body.items).toHaveLength(2);
    expect(response.body.items).toEqual(
      expect.arrayContaining([
        { id: expect.any(String), roleId: 'organization-admin', groupIds: ['default'], idpValue: 'Platform Owners' },
        { id: expect.any(String), roleId: 'regular-user', groupIds: ['default'], idpValue: 'Staff' },
      ]),
    );
    const newIds = response.body.items.map((item: { id: string }) => item.id);
    expect(newIds).not.toContain('chosen-by-client');
    expect(newIds).not.toContain(before[0]!.id);
    const stored = (await org.api('GET', `${org.base}/settings/role-mappings`)).body.items;
    expect(stored).toEqual(expect.arrayContaining(response.body.items));
    expect(stored).toHaveLength(2);
    expect(stored.map((item: { idpValue: string }) => item.idpValue)).not.toContain('Admins');
  });

  it('deletes a mapping with 204 and it is gone', async () => {
    const org = await adminOrg();
    const items = (await org.api('GET', `${org.base}/settings/role-mappings`)).body.items as { id: string; idpValue: string }[];
    const admins = items.find((item) => item.idpValue === 'Admins')!;

    const response = await org.api('DELETE', `${org.base}/settings/role-mappings/${admins.id}`);

    expect(response.status).toBe(204);
    const after = (await org.api('GET', `${org.base}/settings/role-mappings`)).body.items;
    expect(after.map((item: { id: string }) => item.id)).toEqual(items.filter((item) => item !== admins).map((item) => item.id));
  });

  it('answers 404 NOT_FOUND when deleting a mapping that does not exist', async () => {
    const org = await adminOrg();

    const response = await org.api('DELETE', `${org.base}/settings/role-mappings/no-such-mapping`);

    expect(outcome(response)).toEqual({ status: 404, code: 'NOT_FOUND' });
  });
});

describe('the last administrative mapping', () => {
  /**
   * An org whose only mapping granting a role with both security:edit and users:edit is
   * "Leads" → Security Lead (a custom role); "Admins" → Account Admin does not qualify.
   */
  async function orgWithOneAdminMapping() {
    const org = await adminOrg({ roleMappings: [{ roleId: 'account-admin', groupIds: ['default'], idpValue: 'Admins' }] });
    await org.api('POST', `${org.base}/roles`, { id: 'security-lead', name: 'Security Lead', permissions: [...ADMIN_PERMISSIONS, 'security:view'] });
    const leads = await org.api('POST', `${org.base}/settings/role-mappings`, { roleId: 'security-lead', groupIds: ['default'], idpValue: 'Leads' });
    expect(leads.status).toBe(201);
    return { org, leadsId: leads.body.id as string };
  }

  type Setup = Awaited<ReturnType<typeof orgWithOneAdminMapping>>;

  interface Case {
    name: string;
    act: (setup: Setup, query: string) => Promise<ApiResponse>;
    /** Whether the administrative mapping still grants administration. */
    adminMappingIntact: (setup: Setup) => Promise<boolean>;
  }

  const mappingsOf = async ({ org }: Setup) => (await org.api('GET', `${org.base}/settings/role-mappings`)).body.items as { id: string; roleId: string }[];
  const leadsMappingExists = async (setup: Setup) => (await mappingsOf(setup)).some((mapping) => mapping.id === setup.leadsId);
  const leadRoleIsAdmin = async ({ org }: Setup) => {
    const roles = (await org.api('GET', `${org.base}/roles`)).body.items as { id: string; permissions: string[] }[];
    const lead = roles.find((role) => role.id === 'security-lead');
    return ADMIN_PERMISSIONS.every((permission) => lead?.permissions.includes(permission));
  };

  const cases: Case[] = [
    {
      name: 'deleting it',
      act: ({ org, leadsId }, query) => org.api('DELETE', `${org.base}/settings/role-mappings/${leadsId}${query}`),
      adminMappingIntact: leadsMappingExists,
    },
    {
      name: 'replacing all mappings without it',
      act: ({ org }, query) =>
        org.api('PUT', `${org.base}/settings/role-mappings${query}`, { items: [{ roleId: 'account-admin', groupIds: ['default'], idpValue: 'Admins' }] }),
      adminMappingIntact: async (setup) => (await mappingsOf(setup)).some((mapping) => mapping.roleId === 'security-lead'),
    },
    {
      name: 'editing its role to drop security:edit',
      act: ({ org }, query) => org.api('PUT', `${org.base}/roles/security-lead${query}`, { name: 'Security Lead', permissions: ['security:view', 'users:edit'] }),
      adminMappingIntact: leadRoleIsAdmin,
    },
  ];

  it.each(cases)('refuses $name with 409 LAST_ADMIN_MAPPING while roles come from the IdP, and changes nothing', async ({ act, adminMappingIntact }) => {
    const setup = await orgWithOneAdminMapping();

    const response = await act(setup, '');

    expect(outcome(response)).toEqual({ status: 409, code: 'LAST_ADMIN_MAPPING' });
    expect(await adminMappingIntact(setup)).toBe(true);
  });

  it.each(cases)('accepts $name with ?force=true', async ({ act, adminMappingIntact }) => {
    const setup = await orgWithOneAdminMapping();

    const response = await act(setup, '?force=true');

    expect(response.status).toBeLessThan(300);
    expect(await adminMappingIntact(setup)).toBe(false);
  });

  it.each(cases)('accepts $name without force when jit.roleSource is "app"', async ({ act, adminMappingIntact }) => {
    const setup = await orgWithOneAdminMapping();
    const provisioning = await setup.org.api('PUT', `${setup.org.base}/settings/provisioning`, {
      method: 'jit',
      jit: { roleSource: 'app', roleAttribute: 'groups', onNoRoleMatch: 'deny' },
    });
    expect(provisioning.status).toBe(200);

    const response = await act(setup, '');

    expect(response.status).toBeLessThan(300);
    expect(await adminMappingIntact(setup)).toBe(false);
  });

  it('allows deleting an administrative mapping while another one remains', async () => {
    const { org } = await orgWithOneAdminMapping();
    const owners = await org.api('POST', `${org.base}/settings/role-mappings`, { roleId: 'organization-admin', groupIds: ['default'], idpValue: 'Owners' });

    const response = await org.api('DELETE', `${org.base}/settings/role-mappings/${owners.body.id}`);

    expect(response.status).toBe(204);
  });
});

describe('the role mapping preview', () => {
  /** Mappings: "Admins" → Account Admin, and Regular User matched by its name. */
  const mappings = [
    { roleId: 'account-admin', groupIds: ['default'], idpValue: 'Admins' },
    { roleId: 'regular-user', groupIds: ['default'] },
  ];
  const denyOrg = () => adminOrg({ roleMappings: mappings });
  const defaultOrg = () =>
    adminOrg({
      roleMappings: [mappings[0]!],
      provisioning: {
        method: 'jit',
        jit: { roleSource: 'idp', roleAttribute: 'groups', onNoRoleMatch: 'default', defaultGroupId: 'default', defaultRoleId: 'regular-user' },
      },
    });

  interface Case {
    name: string;
    mode: 'deny' | 'default';
    values: string[];
    expected: { assignments: Assignment[] } | { error: { code: string; message: unknown } };
  }

  /** Mapping order is storage order: compare assignments as a set. */
  const inAnyOrder = (body: Case['expected']) =>
    'assignments' in body ? { assignments: [...body.assignments].sort((a, b) => a.roleId.localeCompare(b.roleId) || a.groupId.localeCompare(b.groupId)) } : body;

  const notMapped = { error: { code: 'ROLE_NOT_MAPPED', message: expect.any(String) } };
  const cases: Case[] = [
    { name: 'a mapped idpValue', mode: 'deny', values: ['Admins'], expected: { assignments: [{ groupId: 'default', roleId: 'account-admin' }] } },
    { name: 'a role name as match key', mode: 'deny', values: ['Regular User'], expected: { assignments: [{ groupId: 'default', roleId: 'regular-user' }] } },
    {
      name: 'two mapped values',
      mode: 'deny',
      values: ['Regular User', 'Admins'],
      expected: {
        assignments: [
          { groupId: 'default', roleId: 'account-admin' },
          { groupId: 'default', roleId: 'regular-user' },
        ],
      },
    },
    { name: 'an unmapped value', mode: 'deny', values: ['Engineering'], expected: notMapped },
    { name: 'a value differing only in case', mode: 'deny', values: ['admins'], expected: notMapped },
    { name: 'a value with a trailing space', mode: 'deny', values: ['Admins '], expected: notMapped },
    { name: 'a role name without its space', mode: 'deny', values: ['RegularUser'], expected: notMapped },
    { name: 'no values', mode: 'deny', values: [], expected: { error: { code: 'ROLE_ATTRIBUTE_MISSING', message: expect.any(String) } } },
    { name: 'no values', mode: 'default', values: [], expected: { assignments: [{ groupId: 'default', roleId: 'regular-user' }] } },
    { name: 'an unmapped value', mode: 'default', values: ['Engineering'], expected: { assignments: [{ groupId: 'default', roleId: 'regular-user' }] } },
    { name: 'a mapped idpValue', mode: 'default', values: ['Admins'], expected: { assignments: [{ groupId: 'default', roleId: 'account-admin' }] } },
  ];

  it.each(cases)('answers $name under onNoRoleMatch "$mode" with 200 and what the login would get', async ({ mode, values, expected }) => {
    const org = await (mode === 'deny' ? denyOrg() : defaultOrg());

    const response = await org.api('POST', `${org.base}/settings/role-mappings/preview`, { values });

    expect(response.status).toBe(200);
    expect(inAnyOrder(response.body)).toEqual(inAnyOrder(expected));
  });

  it.each(cases)('agrees with an ACS login asserting $name under onNoRoleMatch "$mode"', async ({ mode, values }) => {
    const org = await (mode === 'deny' ? denyOrg() : defaultOrg());
    const preview = (await org.api('POST', `${org.base}/settings/role-mappings/preview`, { values })).body;

    const response = await loginWithRoles(org, values);

    if ('error' in preview) {
      expect(await errorOf(response)).toEqual({ status: 403, code: preview.error.code });
      expect(await userByEmail(org, 'ada@acme.test')).toBeUndefined();
    } else {
      expect(response.status).toBe(302);
      expect((await userByEmail(org, 'ada@acme.test')).assignments).toEqual(preview.assignments);
    }
  });

  it('refuses a preview body with an unknown field with 400', async () => {
    const org = await denyOrg();

    const response = await org.api('POST', `${org.base}/settings/role-mappings/preview`, { values: ['Admins'], roleAttribute: 'groups' });

    expect(outcome(response)).toEqual({ status: 400, code: 'VALIDATION_FAILED' });
  });
});

describe('roles', () => {
  it('lists the three built-in roles with their ids and names', async () => {
    const org = await adminOrg();

    const response = await org.api('GET', `${org.base}/roles`);

    expect(response.status).toBe(200);
    expect(response.body.items).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ id: 'organization-admin', name: 'Organization Admin', builtIn: true }),
        expect.objectContaining({ id: 'account-admin', name: 'Account Admin', builtIn: true }),
        expect.objectContaining({ id: 'regular-user', name: 'Regular User', builtIn: true }),
      ]),
    );
  });

  it('creates a role with the id it is given', async () => {
    const org = await adminOrg();

    const response = await org.api('POST', `${org.base}/roles`, { id: 'auditor', name: 'Auditor', permissions: ['audit:view'] });

    expect(response.status).toBe(201);
    expect(response.body).toEqual({ id: 'auditor', name: 'Auditor', builtIn: false, permissions: ['audit:view'] });
    expect((await org.api('GET', `${org.base}/roles`)).body.items).toContainEqual(response.body);
  });

  it('creates a role without an id and gives it one', async () => {
    const org = await adminOrg();

    const response = await org.api('POST', `${org.base}/roles`, { name: 'Helpdesk', permissions: ['users:view', 'users:edit'] });

    expect(response.status).toBe(201);
    expect(response.body).toEqual({ id: expect.stringMatching(/.+/), name: 'Helpdesk', builtIn: false, permissions: ['users:view', 'users:edit'] });
    expect((await org.api('GET', `${org.base}/roles`)).body.items).toContainEqual(response.body);
  });

  it.each([
    { name: 'a custom role', taken: 'Auditor' },
    { name: 'a built-in role', taken: 'Account Admin' },
  ])('refuses a role named like $name with 409 CONFLICT', async ({ taken }) => {
    const org = await adminOrg();
    await org.api('POST', `${org.base}/roles`, { id: 'auditor', name: 'Auditor', permissions: ['audit:view'] });

    const response = await org.api('POST', `${org.base}/roles`, { name: taken, permissions: [] });

    expect(outcome(response)).toEqual({ status: 409, code: 'CONFLICT' });
  });

  it('updates a custom role', async () => {
    const org = await adminOrg();
    await org.api('POST', `${org.base}/roles`, { id: 'auditor', name: 'Auditor', permissions: ['audit:view'] });

    const response = await org.api('PUT', `${org.base}/roles/auditor`, { name: 'Auditors', permissions: ['audit:view', 'users:view'] });

    expect(response.status).toBe(200);
    expect(response.body).toEqual({ id: 'auditor', name: 'Auditors', builtIn: false, permissions: ['audit:view', 'users:view'] });
    expect((await org.api('GET', `${org.base}/roles`)).body.items).toContainEqual(response.body);
  });

  it('deletes an unused custom role with 204', async () => {
    const org = await adminOrg();
    await org.api('POST', `${org.base}/roles`, { id: 'auditor', name: 'Auditor', permissions: ['audit:view'] });

    const response = await org.api('DELETE', `${org.base}/roles/auditor`);

    expect(response.status).toBe(204);
    const ids = (await org.api('GET', `${org.base}/roles`)).body.items.map((role: { id: string }) => role.id);
    expect(ids).not.toContain('auditor');
  });

  it.each([
    ['PUT', 'organization-admin'],
    ['PUT', 'account-admin'],
    ['PUT', 'regular-user'],
    ['DELETE', 'organization-admin'],
    ['DELETE', 'account-admin'],
    ['DELETE', 'regular-user'],
  ])('refuses %s of the built-in role %s with 409 CONFLICT', async (method, roleId) => {
    const org = await adminOrg();
    const before = (await org.api('GET', `${org.base}/roles`)).body.items;

    const response = await org.api(method, `${org.base}/roles/${roleId}`, method === 'PUT' ? { name: 'Renamed', permissions: ['audit:view'] } : undefined);

    expect(outcome(response)).toEqual({ status: 409, code: 'CONFLICT' });
    expect((await org.api('GET', `${org.base}/roles`)).body.items).toEqual(before);
  });

  it('refuses to delete a role that a mapping uses with 409 CONFLICT', async () => {
    const org = await adminOrg();
    await org.api('POST', `${org.base}/roles`, { id: 'auditor', name: 'Auditor', permissions: ['audit:view'] });
    await org.api('POST', `${org.base}/settings/role-mappings`, { roleId: 'auditor', groupIds: ['default'] });

    const response = await org.api('DELETE', `${org.base}/roles/auditor`);

    expect(outcome(response)).toEqual({ status: 409, code: 'CONFLICT' });
  });

  it('refuses an unknown permission with 400 naming the field', async () => {
    const org = await adminOrg();

    const response = await org.api('POST', `${org.base}/roles`, { name: 'Root', permissions: ['audit:view', 'everything:edit'] });

    expect(outcome(response)).toEqual({ status: 400, code: 'VALIDATION_FAILED' });
    expect(response.body.error.message).toContain('permissions');
  });

  it.each([
    ['PUT', { name: 'Ghost', permissions: [] }],
    ['DELETE', undefined],
  ])('answers %s of an unknown role with 404 NOT_FOUND', async (method, body) => {
    const org = await adminOrg();

    const response = await org.api(method, `${org.base}/roles/no-such-role`, body);

    expect(outcome(response)).toEqual({ status: 404, code: 'NOT_FOUND' });
  });
});

describe('groups', () => {
  it('include the default group, marked isDefault', async () => {
    const org = await adminOrg();

    const response = await org.api('GET', `${org.base}/groups`);

    expect(response.status).toBe(200);
    expect(response.body.items).toContainEqual({ id: 'default', name: 'Default', isDefault: true });
  });

  it('can be created and renamed', async () => {
    const org = await adminOrg();
    const created = await org.api('POST', `${org.base}/groups`, { name: 'Engineering' });

    const renamed = await org.api('PUT', `${org.base}/groups/${created.body.id}`, { name: 'Platform Engineering' });

    expect(created.status).toBe(201);
    expect(created.body).toEqual({ id: expect.any(String), name: 'Engineering', isDefault: false });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toEqual({ id: created.body.id, name: 'Platform Engineering', isDefault: false });
    expect((await org.api('GET', `${org.base}/groups`)).body.items).toContainEqual(renamed.body);
  });

  it('can be created with a chosen id and deleted when unused', async () => {
    const org = await adminOrg();
    await org.api('POST', `${org.base}/groups`, { id: 'contractors', name: 'Contractors' });

    const response = await org.api('DELETE', `${org.base}/groups/contractors`);

    expect(response.status).toBe(204);
    const ids = (await org.api('GET', `${org.base}/groups`)).body.items.map((group: { id: string }) => group.id);
    expect(ids).toEqual(['default']);
  });

  it('refuses to delete the default group with 409 CONFLICT', async () => {
    const org = await adminOrg();

    const response = await org.api('DELETE', `${org.base}/groups/default`);

    expect(outcome(response)).toEqual({ status: 409, code: 'CONFLICT' });
  });

  it('refuses to delete a group that a mapping uses with 409 CONFLICT', async () => {
    const org = await adminOrg();
    await org.api('POST', `${org.base}/groups`, { id: 'engineering', name: 'Engineering' });
    await org.api('POST', `${org.base}/settings/role-mappings`, { roleId: 'regular-user', groupIds: ['engineering'], idpValue: 'Eng' });

    const response = await org.api('DELETE', `${org.base}/groups/engineering`);

    expect(outcome(response)).toEqual({ status: 409, code: 'CONFLICT' });
  });

  it.each([
    { name: 'creating a group', act: (org: AdminOrg) => org.api('POST', `${org.base}/groups`, { name: 'Engineering' }) },
    { name: 'renaming a group', act: (org: AdminOrg) => org.api('PUT', `${org.base}/groups/sales`, { name: 'Engineering' }) },
    { name: 'naming a group like the default one', act: (org: AdminOrg) => org.api('POST', `${org.base}/groups`, { name: 'Default' }) },
  ])('refuses $name with a name already taken with 409 CONFLICT', async ({ act }) => {
    const org = await adminOrg();
    await org.api('POST', `${org.base}/groups`, { id: 'engineering', name: 'Engineering' });
    await org.api('POST', `${org.base}/groups`, { id: 'sales', name: 'Sales' });

    const response = await act(org);

    expect(outcome(response)).toEqual({ status: 409, code: 'CONFLICT' });
  });
});

describe('the user list', () => {
  it.each([
    { name: 'an email in another case', query: 'email=ADA@Acme.TEST', emails: ['ada@acme.test'] },
    { name: 'an email nobody has', query: 'email=nobody@acme.test', emails: [] },
    { name: 'jit=true', query: 'jit=true', emails: ['ada@acme.test', 'grace@acme.test'] },
    { name: 'jit=false', query: 'jit=false', emails: ['admin'] },
    { name: 'an email and jit=false', query: 'email=ada@acme.test&jit=false', emails: [] },
  ])('filters by $name', async ({ query, emails }) => {
    const org = await adminOrg();
    await jitUser(org, 'ada@acme.test');
    await jitUser(org, 'grace@acme.test');

    const response = await org.api('GET', `${org.base}/users?${query}`);

    expect(response.status).toBe(200);
    const expected = emails.map((email) => (email === 'admin' ? org.adminEmail : email));
    expect(response.body.items.map((user: { email: string }) => user.email).sort()).toEqual(expected.sort());
  });

  it('walks every user a page at a time without duplicates or gaps, ending with cursor null', async () => {
    const org = await adminOrg();
    const emails = Array.from({ length: 7 }, (_, index) => `person${index}@acme.test`);
    for (const email of emails) await jitUser(org, email);

    const pages: { items: { id: string; email: string }[]; cursor: string | null }[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor === null ? 'limit=3' : `limit=3&cursor=${encodeURIComponent(cursor)}`;
      const response = await org.api('GET', `${org.base}/users?${query}`);
      expect(response.status).toBe(200);
      pages.push(response.body);
      cursor = response.body.cursor;
    } while (cursor !== null && pages.length < 10);

    expect(pages.map((page) => page.items.length)).toEqual([3, 3, 2]);
    expect(pages.at(-1)!.cursor).toBeNull();
    const seen = pages.flatMap((page) => page.items.map((user) => user.email));
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.sort()).toEqual([org.adminEmail, ...emails].sort());
  });
});

describe('a user', () => {
  it('is read by id', async () => {
    const org = await adminOrg();
    const ada = await jitUser(org);

    const response = await org.api('GET', `${org.base}/users/${ada.id}`);

    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      id: ada.id,
      email: 'ada@acme.test',
      firstName: 'Ada',
      lastName: 'Lovelace',
      status: 'active',
      provisionedBy: 'jit',
      jitProvisioned: true,
      assignments: [{ groupId: 'default', roleId: 'account-admin' }],
    });
  });

  it('that does not exist answers 404 NOT_FOUND', async () => {
    const org = await adminOrg();

    const response = await org.api('GET', `${org.base}/users/no-such-user`);

    expect(outcome(response)).toEqual({ status: 404, code: 'NOT_FOUND' });
  });

  it.each([
    { field: 'firstName', patch: { firstName: 'Augusta' }, from: 'Ada', to: 'Augusta' },
    { field: 'lastName', patch: { lastName: 'King' }, from: 'Lovelace', to: 'King' },
    { field: 'status', patch: { status: 'blocked' }, from: 'active', to: 'blocked' },
    {
      field: 'assignments',
      patch: { assignments: [{ groupId: 'default', roleId: 'regular-user' }] },
      from: [{ groupId: 'default', roleId: 'account-admin' }],
      to: [{ groupId: 'default', roleId: 'regular-user' }],
    },
  ])('has its $field changed by PATCH, recorded as user.updated with that field', async ({ field, patch, from, to }) => {
    const org = await adminOrg();
    const ada = await jitUser(org);
    tick();

    const response = await org.api('PATCH', `${org.base}/users/${ada.id}`, patch);

    expect(response.status).toBe(200);
    expect(response.body[field]).toEqual(to);
    expect((await org.api('GET', `${org.base}/users/${ada.id}`)).body[field]).toEqual(to);
    expect(await newestEvent(org)).toMatchObject({
      type: 'user.updated',
      outcome: 'success',
      actor: { type: 'user', id: org.adminId },
      target: { type: 'user', id: ada.id },
      details: { changed: { [field]: { from, to } } },
    });
  });

  it.each([
    { name: 'an assignment to an unknown role', patch: { assignments: [{ groupId: 'default', roleId: 'no-such-role' }] }, field: 'assignments[0].roleId' },
    { name: 'an assignment to an unknown group', patch: { assignments: [{ groupId: 'no-such-group', roleId: 'regular-user' }] }, field: 'assignments[0].groupId' },
    { name: 'an unknown field', patch: { email: 'eve@acme.test' }, field: 'email' },
    { name: 'a read-only field', patch: { provisionedBy: 'manual' }, field: 'provisionedBy' },
    { name: 'an unknown status', patch: { status: 'suspended' }, field: 'status' },
  ])('refuses a PATCH with $name with 400 naming the field, and changes nothing', async ({ patch, field }) => {
    const org = await adminOrg();
    const ada = await jitUser(org);

    const response = await org.api('PATCH', `${org.base}/users/${ada.id}`, patch);

    expect(outcome(response)).toEqual({ status: 400, code: 'VALIDATION_FAILED' });
    expect(response.body.error.message).toContain(field);
    expect((await org.api('GET', `${org.base}/users/${ada.id}`)).body).toEqual(ada);
  });

  it('is unlinked from its IdP subject by PATCH idpSubject null, so a login under another subject succeeds', async () => {
    const org = await adminOrg();
    const asSubject = (subject: string) =>
      login(org, { nameId: subject, nameIdFormat: NAMEID_PERSISTENT, attributes: { emailAddress: 'ada@acme.test', groups: 'Admins', firstName: 'Ada' } });
    expect((await asSubject('00u-old')).status).toBe(302);
    const ada = await userByEmail(org, 'ada@acme.test');
    expect(ada.idpSubject).toEqual({ issuer: idp.entityId, subject: '00u-old' });
    expect(await errorOf(await asSubject('00u-new'))).toEqual({ status: 403, code: 'SUBJECT_MISMATCH' });

    const unlinked = await org.api('PATCH', `${org.base}/users/${ada.id}`, { idpSubject: null });

    expect(unlinked.status).toBe(200);
    expect(unlinked.body.idpSubject).toBeUndefined();
    const relogin = await asSubject('00u-new');
    expect(relogin.status).toBe(302);
    expect(await userByEmail(org, 'ada@acme.test')).toMatchObject({ id: ada.id, idpSubject: { issuer: idp.entityId, subject: '00u-new' } });
  });

  it('records the unlinking as user.updated with idpSubject changed', async () => {
    const org = await adminOrg();
    await login(org, { nameId: '00u-ada', nameIdFormat: NAMEID_PERSISTENT, attributes: { emailAddress: 'ada@acme.test', groups: 'Admins' } });
    const ada = await userByEmail(org, 'ada@acme.test');
    tick();

    await org.api('PATCH', `${org.base}/users/${ada.id}`, { idpSubject: null });

    expect(await newestEvent(org)).toMatchObject({
      type: 'user.updated',
      actor: { type: 'user', id: org.adminId },
      details: { changed: { idpSubject: { from: { issuer: idp.entityId, subject: '00u-ada' }, to: null } } },
    });
  });

  it('cannot be blocked by themselves: 409 CONFLICT', async () => {
    const org = await adminOrg();

    const response = await org.api('PATCH', `${org.base}/users/${org.adminId}`, { status: 'blocked' });

    expect(outcome(response)).toEqual({ status: 409, code: 'CONFLICT' });
    expect((await org.api('GET', `${org.base}/users/${org.adminId}`)).body.status).toBe('active');
  });

  it('who is blocked is refused at the ACS with 403 USER_BLOCKED', async () => {
    const org = await adminOrg();
    const ada = await jitUser(org);
    await org.api('PATCH', `${org.base}/users/${ada.id}`, { status: 'blocked' });

    const response = await login(org);

    expect(await errorOf(response)).toEqual({ status: 403, code: 'USER_BLOCKED' });
    expect(await userByEmail(org, 'ada@acme.test')).toMatchObject({ id: ada.id, status: 'blocked' });
  });

  it('who is unblocked can sign in again', async () => {
    const org = await adminOrg();
    const ada = await jitUser(org);
    await org.api('PATCH', `${org.base}/users/${ada.id}`, { status: 'blocked' });

    await org.api('PATCH', `${org.base}/users/${ada.id}`, { status: 'active' });

    expect((await login(org)).status).toBe(302);
  });

  it('is removed by DELETE with 204 and then answers 404', async () => {
    const org = await adminOrg();
    const ada = await jitUser(org);

    const response = await org.api('DELETE', `${org.base}/users/${ada.id}`);

    expect(response.status).toBe(204);
    expect(outcome(await org.api('GET', `${org.base}/users/${ada.id}`))).toEqual({ status: 404, code: 'NOT_FOUND' });
    expect(await userByEmail(org, 'ada@acme.test')).toBeUndefined();
  });

  it('who was removed is provisioned again by JIT at their next login, as a new user', async () => {
    const org = await adminOrg();
    const ada = await jitUser(org);
    await org.api('DELETE', `${org.base}/users/${ada.id}`);
    tick();

    const response = await login(org);

    expect(response.status).toBe(302);
    const again = await userByEmail(org, 'ada@acme.test');
    expect(again).toMatchObject({ email: 'ada@acme.test', provisionedBy: 'jit', jitProvisioned: true, status: 'active' });
    expect(again.id).not.toBe(ada.id);
    const created = (await org.api('GET', `${org.base}/audit-events?type=user.jit_created`)).body.items;
    expect(created.map((event: { target: { id: string } }) => event.target.id)).toEqual([again.id, ada.id]);
  });

  it('cannot remove themselves: 409 CONFLICT', async () => {
    const org = await adminOrg();

    const response = await org.api('DELETE', `${org.base}/users/${org.adminId}`);

    expect(outcome(response)).toEqual({ status: 409, code: 'CONFLICT' });
    expect((await org.api('GET', `${org.base}/users/${org.adminId}`)).status).toBe(200);
  });

  it('that does not exist answers PATCH and DELETE with 404 NOT_FOUND', async () => {
    const org = await adminOrg();

    const patched = await org.api('PATCH', `${org.base}/users/no-such-user`, { firstName: 'Ghost' });
    const deleted = await org.api('DELETE', `${org.base}/users/no-such-user`);

    expect([outcome(patched), outcome(deleted)]).toEqual([
      { status: 404, code: 'NOT_FOUND' },
      { status: 404, code: 'NOT_FOUND' },
    ]);
  });
});

describe('the audit trail', () => {
  interface Case {
    type: string;
    /** Prepares what the change needs (not timed), then returns the change itself. */
    arrange?: (org: AdminOrg) => Promise<Record<string, string>>;
    act: (org: AdminOrg, ids: Record<string, string>) => Promise<ApiResponse>;
    target: (org: AdminOrg, ids: Record<string, string>, response: ApiResponse) => Record<string, unknown>;
    details?: Record<string, unknown>;
  }

  const createAuditor = (org: AdminOrg) => org.api('POST', `${org.base}/roles`, { id: 'auditor', name: 'Auditor', permissions: ['audit:view'] }).then(() => ({}));
  const createSales = (org: AdminOrg) => org.api('POST', `${org.base}/groups`, { id: 'sales', name: 'Sales' }).then(() => ({}));

  const cases: Case[] = [
    {
      type: 'role_mapping.created',
      act: (org) => org.api('POST', `${org.base}/settings/role-mappings`, { roleId: 'regular-user', groupIds: ['default'], idpValue: 'Staff' }),
      target: (_org, _ids, response) => ({ type: 'role-mapping', id: response.body.id }),
    },
    {
      type: 'role_mapping.deleted',
      arrange: async (org) => {
        const response = await org.api('POST', `${org.base}/settings/role-mappings`, { roleId: 'regular-user', groupIds: ['default'], idpValue: 'Staff' });
        return { mappingId: response.body.id };
      },
      act: (org, { mappingId }) => org.api('DELETE', `${org.base}/settings/role-mappings/${mappingId}`),
      target: (_org, { mappingId }) => ({ type: 'role-mapping', id: mappingId }),
    },
    {
      type: 'role_mapping.replaced',
      act: (org) => org.api('PUT', `${org.base}/settings/role-mappings`, { items: [{ roleId: 'organization-admin', groupIds: ['default'], idpValue: 'Owners' }] }),
      target: () => ({ type: 'role-mapping' }),
    },
    {
      type: 'role.created',
      act: (org) => org.api('POST', `${org.base}/roles`, { id: 'auditor', name: 'Auditor', permissions: ['audit:view'] }),
      target: () => ({ type: 'role', id: 'auditor' }),
    },
    {
      type: 'role.updated',
      arrange: createAuditor,
      act: (org) => org.api('PUT', `${org.base}/roles/auditor`, { name: 'Auditor', permissions: ['audit:view', 'users:view'] }),
      target: () => ({ type: 'role', id: 'auditor' }),
      details: { changed: ['permissions'] },
    },
    {
      type: 'role.deleted',
      arrange: createAuditor,
      act: (org) => org.api('DELETE', `${org.base}/roles/auditor`),
      target: () => ({ type: 'role', id: 'auditor' }),
    },
    {
      type: 'group.created',
      act: (org) => org.api('POST', `${org.base}/groups`, { id: 'sales', name: 'Sales' }),
      target: () => ({ type: 'group', id: 'sales' }),
    },
    {
      type: 'group.updated',
      arrange: createSales,
      act: (org) => org.api('PUT', `${org.base}/groups/sales`, { name: 'Field Sales' }),
      target: () => ({ type: 'group', id: 'sales' }),
      details: { changed: ['name'] },
    },
    {
      type: 'group.deleted',
      arrange: createSales,
      act: (org) => org.api('DELETE', `${org.base}/groups/sales`),
      target: () => ({ type: 'group', id: 'sales' }),
    },
    {
      type: 'user.updated',
      arrange: async (org) => ({ userId: (await jitUser(org)).id }),
      act: (org, { userId }) => org.api('PATCH', `${org.base}/users/${userId}`, { firstName: 'Augusta', lastName: 'King' }),
      target: (_org, { userId }) => ({ type: 'user', id: userId }),
      details: { changed: { firstName: { from: 'Ada', to: 'Augusta' }, lastName: { from: 'Lovelace', to: 'King' } } },
    },
    {
      type: 'user.deleted',
      arrange: async (org) => ({ userId: (await jitUser(org)).id }),
      act: (org, { userId }) => org.api('DELETE', `${org.base}/users/${userId}`),
      target: (_org, { userId }) => ({ type: 'user', id: userId }),
    },
  ];

  it.each(cases)('records $type naming the admin who made the change', async ({ type, arrange, act, target, details }) => {
    const org = await adminOrg();
    const ids = arrange ? await arrange(org) : {};
    tick();

    const response = await act(org, ids);

    expect(response.status).toBeLessThan(300);
    const event = await newestEvent(org);
    expect(event).toMatchObject({ type, outcome: 'success', actor: { type: 'user', id: org.adminId }, target: target(org, ids, response) });
    expect(event.at).toBe(service.clock.now().toISOString());
    if (details) expect(event.details).toMatchObject(details);
  });

  it('writes no event for a refused change', async () => {
    const org = await adminOrg();
    const before = await newestEvent(org);
    tick();

    await org.api('DELETE', `${org.base}/groups/default`);

    expect(await newestEvent(org)).toEqual(before);
  });

  it('lists events newest first', async () => {
    const org = await adminOrg();
    tick();
    await org.api('POST', `${org.base}/groups`, { id: 'first', name: 'First' });
    tick();
    await org.api('POST', `${org.base}/roles`, { id: 'second', name: 'Second', permissions: [] });
    tick();
    await org.api('PUT', `${org.base}/groups/first`, { name: 'Third' });

    const response = await org.api('GET', `${org.base}/audit-events`);

    expect(response.status).toBe(200);
    const items = response.body.items as { type: string; at: string; target: { id: string } }[];
    expect(items.slice(0, 3).map((event) => [event.type, event.target.id])).toEqual([
      ['group.updated', 'first'],
      ['role.created', 'second'],
      ['group.created', 'first'],
    ]);
    const times = items.map((event) => event.at);
    expect(times).toEqual([...times].sort().reverse());
  });

  /** An org with two group.created, one group.updated, role.created/updated/deleted, and the setup's role_mapping.created. */
  async function busyOrg() {
    const org = await adminOrg();
    const steps: [string, string, unknown?][] = [
      ['POST', '/groups', { id: 'sales', name: 'Sales' }],
      ['POST', '/roles', { id: 'auditor', name: 'Auditor', permissions: ['audit:view'] }],
      ['POST', '/groups', { id: 'support', name: 'Support' }],
      ['PUT', '/roles/auditor', { name: 'Auditors', permissions: ['audit:view'] }],
      ['PUT', '/groups/sales', { name: 'Field Sales' }],
      ['DELETE', '/roles/auditor'],
    ];
    for (const [method, path, body] of steps) {
      tick();
      expect((await org.api(method, `${org.base}${path}`, body)).status).toBeLessThan(300);
    }
    return org;
  }

  it.each([
    { filter: 'group.created', types: ['group.created', 'group.created'] },
    { filter: 'role.*', types: ['role.deleted', 'role.updated', 'role.created'] },
    { filter: 'group.*', types: ['group.updated', 'group.created', 'group.created'] },
    { filter: 'role_mapping.*', types: ['role_mapping.created', 'role_mapping.created'] },
    { filter: 'user.deleted', types: [] },
  ])('filters by type $filter', async ({ filter, types }) => {
    const org = await busyOrg();

    const response = await org.api('GET', `${org.base}/audit-events?type=${encodeURIComponent(filter)}`);

    expect(response.status).toBe(200);
    expect(response.body.items.map((event: { type: string }) => event.type)).toEqual(types);
  });

  it('pages through events with limit and cursor, in order, without duplicates or gaps', async () => {
    const org = await busyOrg();
    const all = (await org.api('GET', `${org.base}/audit-events?limit=100`)).body.items.map((event: { id: string }) => event.id);

    const pages: string[][] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor === null ? 'limit=4' : `limit=4&cursor=${encodeURIComponent(cursor)}`;
      const response = await org.api('GET', `${org.base}/audit-events?${query}`);
      expect(response.status).toBe(200);
      pages.push(response.body.items.map((event: { id: string }) => event.id));
      cursor = response.body.cursor;
    } while (cursor !== null && pages.length < 20);

    expect(cursor).toBeNull();
    expect(pages.every((page) => page.length <= 4)).toBe(true);
    expect(pages[0]).toHaveLength(4);
    expect(pages.flat()).toEqual(all);
    expect(all.length).toBeGreaterThan(8);
  });

  it('pages through a type filter with limit and cursor', async () => {
    const org = await busyOrg();

    const first = await org.api('GET', `${org.base}/audit-events?type=role.*&limit=2`);
    const second = await org.api('GET', `${org.base}/audit-events?type=role.*&limit=2&cursor=${encodeURIComponent(first.body.cursor)}`);

    expect(first.body.items.map((event: { type: string }) => event.type)).toEqual(['role.deleted', 'role.updated']);
    expect(second.body.items.map((event: { type: string }) => event.type)).toEqual(['role.created']);
    expect(second.body.cursor).toBeNull();
  });

  it.each(['0', '101', '-1', 'ten'])('refuses limit=%s with 400 naming limit', async (limit) => {
    const org = await adminOrg();

    const response = await org.api('GET', `${org.base}/audit-events?limit=${limit}`);

    expect(outcome(response)).toEqual({ status: 400, code: 'VALIDATION_FAILED' });
    expect(response.body.error.message).toContain('limit');
  });

  it('refuses a cursor it did not issue with 400', async () => {
    const org = await adminOrg();

    const response = await org.api('GET', `${org.base}/audit-events?cursor=not-a-cursor`);

    expect(outcome(response)).toEqual({ status: 400, code: 'VALIDATION_FAILED' });
  });
});

describe('PUT role-mappings with what GET showed', () => {
  it('keeps every mapping, its id and the ETag', async () => {
    const org = await adminOrg();
    const before = await org.api('GET', `${org.base}/settings/role-mappings`);

    const put = await org.api('PUT', `${org.base}/settings/role-mappings`, before.body, { 'if-match': before.headers.get('etag')! });

    expect(put.status).toBe(200);
    expect(put.body).toEqual(before.body);
    expect(put.headers.get('etag')).toBe(before.headers.get('etag'));
  });
});

describe('concurrent writes without If-Match', () => {
  it('are all accepted: each reads again and retries when another landed first', async () => {
    const org = await adminOrg();

    const responses = await Promise.all(
      ['A', 'B', 'C'].map((name) => org.api('POST', `${org.base}/settings/role-mappings`, { roleId: 'regular-user', groupIds: ['default'], idpValue: `Concurrent ${name}` })),
    );

    expect(responses.map((response) => response.status)).toEqual([201, 201, 201]);
    const { body } = await org.api('GET', `${org.base}/settings/role-mappings`);
    expect(body.items.map((mapping: { idpValue?: string }) => mapping.idpValue).filter((value: string | undefined) => value?.startsWith('Concurrent')).sort()).toEqual([
      'Concurrent A',
      'Concurrent B',
      'Concurrent C',
    ]);
  });
});
