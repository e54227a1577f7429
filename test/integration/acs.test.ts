/**
 * POST /sso/{orgId}/saml/acs end to end: real signed responses made at test time,
 * through the local API Gateway adapter and the handler, on DynamoDB Local.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildLoginResponseXml,
  buildSignedLoginResponse,
  createSamlIdpKeys,
  encodeSamlResponse,
  NAMEID_PERSISTENT,
  signLoginResponseXml,
  type LoginResponseInput,
  type SamlIdpKeys,
} from '../../local/saml-idp.js';
import { orgUrls } from '../../shared/settings/urls.js';
import { countRoundTrips } from '../support/dynamodb.js';
import { createSamlOrg, postAcs, sessionCookieOf, startTestService, type SamlOrg, type TestService } from '../support/service.js';

let service: TestService;
let idp: SamlIdpKeys;

beforeAll(async () => {
  service = await startTestService();
  idp = await createSamlIdpKeys('https://idp.example.com/shared');
});
afterAll(() => service?.close());

type ResponseOptions = Partial<Omit<LoginResponseInput, 'idp'>>;

function responseFor(org: SamlOrg, options: ResponseOptions = {}): string {
  return buildSignedLoginResponse({
    idp: org.idp,
    spEntityId: org.urls.spEntityId,
    acsUrl: org.urls.acsUrl,
    nameId: 'ada@acme.test',
    attributes: { groups: ['Admins'], firstName: 'Ada', lastName: 'Lovelace' },
    now: service.clock.now(),
    ...options,
  });
}

async function errorOf(response: Response): Promise<{ status: number; code: string; message: string }> {
  const body = (await response.json()) as { error: { code: string; message: string } };
  return { status: response.status, ...body.error };
}

async function usersOf(orgId: string) {
  return (await service.rt.users.list(orgId, { limit: 100 })).items;
}

async function lastFailure(orgId: string) {
  const { items } = await service.rt.audit.list(orgId, { type: 'login.failed', limit: 1 });
  return items[0];
}

describe('a first login through the ACS', () => {
  it.each(['assertion', 'response', 'both'] as const)('creates the user from a %s-signed response and starts a session', async (sign) => {
    const org = await createSamlOrg(service, { idp });

    const response = await postAcs(service, org.orgId, { SAMLResponse: responseFor(org, { sign }) });

    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe(`${service.baseUrl}/me`);
    expect(response.headers.getSetCookie()[0]).toMatch(/^session=[^;]+; HttpOnly; Secure; SameSite=Lax; Path=\//);
    const [user] = await usersOf(org.orgId).then((users) => users.filter((u) => u.email === 'ada@acme.test'));
    expect(user).toMatchObject({
      email: 'ada@acme.test',
      firstName: 'Ada',
      lastName: 'Lovelace',
      status: 'active',
      provisionedBy: 'jit',
      jitProvisioned: true,
      assignments: [{ groupId: 'default', roleId: 'account-admin' }],
    });
  });

  it('shows the signed-in user at /me with the session cookie or as a bearer token', async () => {
    const org = await createSamlOrg(service, { idp });
    const login = await postAcs(service, org.orgId, { SAMLResponse: responseFor(org) });
    const token = sessionCookieOf(login)!;

    const byCookie = await fetch(`${service.baseUrl}/me`, { headers: { cookie: `session=${token}` } });
    const byBearer = await fetch(`${service.baseUrl}/me`, { headers: { authorization: `Bearer ${token}` } });

    expect(byCookie.status).toBe(200);
    expect(await byCookie.json()).toMatchObject({ email: 'ada@acme.test', orgId: org.orgId, jitProvisioned: true });
    expect(byBearer.status).toBe(200);
    expect((await fetch(`${service.baseUrl}/me`)).status).toBe(401);
  });

  it('records login.succeeded and user.jit_created, naming the IdP', async () => {
    const org = await createSamlOrg(service, { idp });

    await postAcs(service, org.orgId, { SAMLResponse: responseFor(org) });

    const { items } = await service.rt.audit.list(org.orgId, { limit: 10 });
    const user = (await usersOf(org.orgId)).find((u) => u.email === 'ada@acme.test')!;
    expect(items.filter((e) => e.target?.id === user.id).map((e) => e.type).sort()).toEqual(['login.succeeded', 'user.jit_created']);
    expect(items.find((e) => e.type === 'user.jit_created')?.actor).toEqual({ type: 'idp', id: idp.entityId });
  });

  it('redirects to a relative RelayState target on our own origin', async () => {
    const org = await createSamlOrg(service, { idp });

    const response = await postAcs(service, org.orgId, { SAMLResponse: responseFor(org), RelayState: '/projects/42?tab=audit' });

    expect(response.headers.get('location')).toBe(`${service.baseUrl}/projects/42?tab=audit`);
  });
});

describe('a later login', () => {
  it('re-provisions names and roles from the IdP and records what changed', async () => {
    const org = await createSamlOrg(service, {
      idp,
      roleMappings: [
        { roleId: 'account-admin', groupIds: ['default'], idpValue: 'Admins' },
        { roleId: 'regular-user', groupIds: ['default'], idpValue: 'Staff' },
      ],
    });
    await postAcs(service, org.orgId, { SAMLResponse: responseFor(org) });

    const response = await postAcs(service, org.orgId, {
      SAMLResponse: responseFor(org, { attributes: { groups: 'Staff', firstName: 'Augusta', lastName: 'King' } }),
    });

    expect(response.status).toBe(302);
    const users = (await usersOf(org.orgId)).filter((u) => u.email === 'ada@acme.test');
    expect(users).toHaveLength(1);
    expect(users[0]).toMatchObject({ firstName: 'Augusta', lastName: 'King', assignments: [{ groupId: 'default', roleId: 'regular-user' }] });
    const { items } = await service.rt.audit.list(org.orgId, { type: 'user.jit_updated', limit: 1 });
    expect(Object.keys(items[0]!.details.changed as object).sort()).toEqual(['assignments', 'firstName', 'lastName']);
  });

  it('matches the NameID email case-insensitively and stores it lowercased', async () => {
    const org = await createSamlOrg(service, { idp });
    await postAcs(service, org.orgId, { SAMLResponse: responseFor(org, { nameId: 'Ada@ACME.test' }) });

    await postAcs(service, org.orgId, { SAMLResponse: responseFor(org, { nameId: 'ADA@acme.TEST' }) });

    expect((await usersOf(org.orgId)).filter((u) => u.email === 'ada@acme.test')).toHaveLength(1);
  });
});

describe('the DynamoDB cost of a warm login', () => {
  it('is one GetItem and one TransactWriteItems, for a new user and a returning one', async () => {
    const org = await createSamlOrg(service, { idp });
    await postAcs(service, org.orgId, { SAMLResponse: responseFor(org, { nameId: 'warm-up@acme.test' }) }); // caches the settings
    const trips = countRoundTrips(service.db.client);

    await postAcs(service, org.orgId, { SAMLResponse: responseFor(org, { nameId: 'new@acme.test' }) });
    const forNew = trips.commands();
    trips.reset();
    await postAcs(service, org.orgId, { SAMLResponse: responseFor(org, { nameId: 'new@acme.test' }) });
    const forReturning = trips.commands();

    expect(forNew).toEqual(['GetItemCommand', 'TransactWriteItemsCommand']);
    expect(forReturning).toEqual(['GetItemCommand', 'TransactWriteItemsCommand']);
  });
});

describe('twenty concurrent first logins of one person', () => {
  it('create exactly one user and one creation event', async () => {
    const org = await createSamlOrg(service, { idp });
    const responses = Array.from({ length: 20 }, () => responseFor(org, { nameId: 'rush@acme.test' }));

    const results = await Promise.all(responses.map((SAMLResponse) => postAcs(service, org.orgId, { SAMLResponse })));

    expect(results.map((r) => r.status)).toEqual(Array(20).fill(302));
    expect((await usersOf(org.orgId)).filter((u) => u.email === 'rush@acme.test')).toHaveLength(1);
    expect((await service.rt.audit.list(org.orgId, { type: 'user.jit_created', limit: 100 })).items).toHaveLength(1);
    expect((await service.rt.audit.list(org.orgId, { type: 'login.succeeded', limit: 100 })).items).toHaveLength(20);
  });
});

/** Each refusal: status, code, a login.failed event with that code, and no user created. */
describe('refused logins', () => {
  interface Case {
    name: string;
    status: number;
    code: string;
    org?: Parameters<typeof createSamlOrg>[1];
    post: (org: SamlOrg) => Record<string, string> | Promise<Record<string, string>>;
    /** Fields the login.failed event must carry. */
    audit?: (org: SamlOrg) => Record<string, unknown>;
  }

  const cases: Case[] = [
    { name: 'a post without SAMLResponse', status: 400, code: 'SAML_MALFORMED', post: () => ({}) },
    { name: 'a SAMLResponse that is not XML', status: 400, code: 'SAML_MALFORMED', post: () => ({ SAMLResponse: Buffer.from('hello').toString('base64') }) },
    { name: 'an absolute RelayState', status: 400, code: 'RELAY_STATE_INVALID', post: (org) => ({ SAMLResponse: responseFor(org), RelayState: 'https://evil.example/' }) },
    { name: 'a protocol-relative RelayState', status: 400, code: 'RELAY_STATE_INVALID', post: (org) => ({ SAMLResponse: responseFor(org), RelayState: '//evil.example/' }) },
    {
      name: 'an org whose SSO is off',
      status: 403,
      code: 'SSO_NOT_ENABLED',
      org: { sso: { enabled: false }, provisioning: { method: 'manual' } },
      post: (org) => ({ SAMLResponse: responseFor(org) }),
    },
    { name: 'an unsigned response', status: 401, code: 'SIGNATURE_INVALID', post: (org) => ({ SAMLResponse: responseFor(org, { sign: 'none' }) }) },
    {
      name: 'a response from another IdP entity',
      status: 401,
      code: 'IDP_ISSUER_MISMATCH',
      post: async (org) => ({ SAMLResponse: responseFor(org, { idp: { ...org.idp, entityId: 'https://evil.example/idp' } } as ResponseOptions) }),
      audit: (org) => ({ expected: org.idp.entityId, received: 'https://evil.example/idp' }),
    },
    {
      name: 'an assertion for another org\'s audience',
      status: 401,
      code: 'AUDIENCE_MISMATCH',
      post: (org) => ({ SAMLResponse: responseFor(org, { spEntityId: orgUrls(service.baseUrl, 'other-org').spEntityId }) }),
      audit: (org) => ({ expected: org.urls.spEntityId }),
    },
    {
      name: 'a response for another ACS',
      status: 401,
      code: 'DESTINATION_MISMATCH',
      post: (org) => ({ SAMLResponse: responseFor(org, { acsUrl: orgUrls(service.baseUrl, 'other-org').acsUrl }) }),
    },
    {
      name: 'an expired assertion',
      status: 401,
      code: 'ASSERTION_EXPIRED',
      post: (org) => ({ SAMLResponse: responseFor(org, { now: new Date(service.clock.now().getTime() - 3_600_000) }) }),
    },
    {
      name: 'an assertion not valid yet',
      status: 401,
      code: 'ASSERTION_NOT_YET_VALID',
      post: (org) => ({ SAMLResponse: responseFor(org, { now: new Date(service.clock.now().getTime() + 3_600_000) }) }),
    },
    {
      name: 'an answer to a request this service never made',
      status: 401,
      code: 'IN_RESPONSE_TO_INVALID',
      post: (org) => ({ SAMLResponse: responseFor(org, { inResponseTo: '_never-sent' }) }),
      audit: () => ({ received: '_never-sent' }),
    },
    {
      name: 'an IdP-initiated login when the org allows only SP-initiated',
      status: 403,
      code: 'IDP_INITIATED_DISABLED',
      org: { saml: { allowIdpInitiated: false } },
      post: (org) => ({ SAMLResponse: responseFor(org) }),
    },
    {
      name: 'an unknown user when JIT is off',
      status: 403,
      code: 'USER_NOT_PROVISIONED',
      org: { provisioning: { method: 'manual' } },
      post: (org) => ({ SAMLResponse: responseFor(org) }),
    },
    {
      name: 'no email in the NameID or the email attributes',
      status: 403,
      code: 'EMAIL_MISSING',
      post: (org) => ({ SAMLResponse: responseFor(org, { nameId: 'ada', nameIdFormat: NAMEID_PERSISTENT, attributes: { groups: 'Admins', name: 'Ada Lovelace' } }) }),
      audit: () => ({ attributeNames: ['groups', 'name'] }),
    },
    {
      name: 'no role attribute',
      status: 403,
      code: 'ROLE_ATTRIBUTE_MISSING',
      post: (org) => ({ SAMLResponse: responseFor(org, { attributes: { firstName: 'Ada' } }) }),
      audit: () => ({ expected: 'groups', roleAttribute: 'groups' }),
    },
    {
      name: 'a role value that differs only in case',
      status: 403,
      code: 'ROLE_NOT_MAPPED',
      post: (org) => ({ SAMLResponse: responseFor(org, { attributes: { groups: ['admins', 'Admins '] } }) }),
      audit: () => ({ expected: ['Admins'], received: ['admins', 'Admins '], roleValues: ['admins', 'Admins '] }),
    },
  ];

  it.each(cases)('refuses $name with $status $code, records it, and creates no user', async ({ status, code, org: options, post, audit }) => {
    const org = await createSamlOrg(service, { idp, ...options });

    const response = await postAcs(service, org.orgId, await post(org));

    expect(await errorOf(response)).toMatchObject({ status, code });
    expect((await usersOf(org.orgId)).map((u) => u.email)).toEqual([org.adminEmail]);
    const event = await lastFailure(org.orgId);
    expect(event).toMatchObject({ type: 'login.failed', outcome: 'failure', code });
    if (audit) expect(event?.details).toMatchObject(audit(org));
  });

  it('refuses an unknown org with 404 ORG_NOT_FOUND', async () => {
    const response = await postAcs(service, 'no-such-org', { SAMLResponse: 'x' });

    expect(await errorOf(response)).toEqual({ status: 404, code: 'ORG_NOT_FOUND', message: expect.any(String) });
  });

  it('refuses a replay of an accepted response with ASSERTION_REPLAYED', async () => {
    const org = await createSamlOrg(service, { idp });
    const SAMLResponse = responseFor(org);
    expect((await postAcs(service, org.orgId, { SAMLResponse })).status).toBe(302);

    const replayed = await postAcs(service, org.orgId, { SAMLResponse });

    expect(await errorOf(replayed)).toMatchObject({ status: 401, code: 'ASSERTION_REPLAYED' });
    expect((await lastFailure(org.orgId))?.code).toBe('ASSERTION_REPLAYED');
  });

  it('refuses a blocked user with USER_BLOCKED and never re-creates them', async () => {
    const org = await createSamlOrg(service, { idp });
    await postAcs(service, org.orgId, { SAMLResponse: responseFor(org) });
    const user = (await usersOf(org.orgId)).find((u) => u.email === 'ada@acme.test')!;
    await service.db.client.send(
      new (await import('@aws-sdk/lib-dynamodb')).UpdateCommand({
        TableName: service.db.names.users,
        Key: { pk: `ORG#${org.orgId}`, sk: 'USER#ada@acme.test' },
        UpdateExpression: 'SET #s = :b',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':b': 'blocked' },
      }),
    );

    const response = await postAcs(service, org.orgId, { SAMLResponse: responseFor(org) });

    expect(await errorOf(response)).toMatchObject({ status: 403, code: 'USER_BLOCKED' });
    expect((await usersOf(org.orgId)).filter((u) => u.email === 'ada@acme.test')).toEqual([expect.objectContaining({ id: user.id, status: 'blocked' })]);
  });

  it('refuses the same email under another persistent subject with SUBJECT_MISMATCH and changes nothing', async () => {
    const org = await createSamlOrg(service, { idp });
    const asSubject = (subject: string, firstName: string) =>
      responseFor(org, { nameId: subject, nameIdFormat: NAMEID_PERSISTENT, attributes: { emailAddress: 'ada@acme.test', groups: 'Admins', firstName } });
    await postAcs(service, org.orgId, { SAMLResponse: asSubject('00u-ada', 'Ada') });

    const response = await postAcs(service, org.orgId, { SAMLResponse: asSubject('00u-mallory', 'Mallory') });

    expect(await errorOf(response)).toMatchObject({ status: 403, code: 'SUBJECT_MISMATCH' });
    const user = (await usersOf(org.orgId)).find((u) => u.email === 'ada@acme.test');
    expect(user).toMatchObject({ firstName: 'Ada', idpSubject: { issuer: idp.entityId, subject: '00u-ada' } });
    expect((await lastFailure(org.orgId))?.details).toMatchObject({ expected: '00u-ada', received: '00u-mallory' });
  });

  it('refuses a body over 256 KiB with 413 PAYLOAD_TOO_LARGE', async () => {
    const org = await createSamlOrg(service, { idp });

    const response = await postAcs(service, org.orgId, { SAMLResponse: 'A'.repeat(300 * 1024) });

    expect(await errorOf(response)).toMatchObject({ status: 413, code: 'PAYLOAD_TOO_LARGE' });
  });

  it('answers a browser with an HTML page showing the code and the message', async () => {
    const org = await createSamlOrg(service, { idp });

    const response = await postAcs(service, org.orgId, { SAMLResponse: responseFor(org, { sign: 'none' }) }, { accept: 'text/html' });

    expect(response.status).toBe(401);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await response.text()).toContain('SIGNATURE_INVALID');
  });
});

describe('an IdP status error', () => {
  it('is refused with IDP_STATUS_ERROR and the status recorded for the admin', async () => {
    const org = await createSamlOrg(service, { idp });
    const xml = buildLoginResponseXml({ idp, spEntityId: org.urls.spEntityId, acsUrl: org.urls.acsUrl, nameId: 'ada@acme.test', now: service.clock.now() }).replace(
      '<samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/>',
      '<samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Responder"><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:AuthnFailed"/></samlp:StatusCode><samlp:StatusMessage>User is not assigned to this application</samlp:StatusMessage>',
    );

    const response = await postAcs(service, org.orgId, { SAMLResponse: encodeSamlResponse(signLoginResponseXml(xml, idp, 'response')) });

    expect(await errorOf(response)).toMatchObject({ status: 401, code: 'IDP_STATUS_ERROR' });
    expect(JSON.stringify((await lastFailure(org.orgId))?.details)).toContain('AuthnFailed');
  });
});
