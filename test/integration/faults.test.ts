/**
 * A DynamoDB fault is a clear answer, never a hang or a half-write: throttles, timeouts
 * and refused connections are injected into the service's real DynamoDB client (on
 * DynamoDB Local) and every route answers `503 SERVICE_UNAVAILABLE` with `Retry-After`,
 * as JSON or, to a browser at a login route, as the HTML page; a transaction whose answer
 * was lost after it landed is retried with the same ClientRequestToken and applied once.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildSignedLoginResponse } from '../../local/saml-idp.js';
import type { DynamoDbLimits } from '../../shared/config.js';
import { injectFaults, type FaultInjector } from '../support/faults.js';
import { apiClient, createSamlOrg, postAcs, startTestService, tokenFor, type SamlOrg, type TestService } from '../support/service.js';

/** Two attempts of 1.5 s at most: a call that gets no answer ends in about three seconds. */
const LIMITS: DynamoDbLimits = { connectTimeoutMs: 1_000, requestTimeoutMs: 1_500, maxAttempts: 2 };

let service: TestService;
let faults: FaultInjector;
let org: SamlOrg;
let adminToken: string;

beforeAll(async () => {
  service = await startTestService({ dynamodb: { limits: LIMITS } });
  faults = await injectFaults(service.db.client);
  org = await createSamlOrg(service);
  adminToken = await tokenFor(service, org.orgId, org.adminEmail);
});
afterEach(() => {
  faults.heal();
  faults.clearAttempts();
  vi.restoreAllMocks();
});
afterAll(async () => {
  await faults?.close();
  await service?.close();
});

function loginResponse(target: SamlOrg, email: string): string {
  return buildSignedLoginResponse({
    idp: target.idp,
    spEntityId: target.urls.spEntityId,
    acsUrl: target.urls.acsUrl,
    nameId: email,
    attributes: { groups: ['Admins'] },
    now: service.clock.now(),
  });
}

async function usersNamed(orgId: string, email: string) {
  return (await service.rt.users.list(orgId, { limit: 100 })).items.filter((user) => user.email === email);
}

async function eventsOf(orgId: string, type: string, userId: string) {
  return (await service.rt.audit.list(orgId, { type, limit: 100 })).items.filter((event) => event.target?.id === userId);
}

/** The JSON error of a response, checked to be the contract's shape and nothing more (no stack, no cause). */
async function jsonErrorOf(response: Response) {
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  const body = (await response.json()) as { error: { code: string; message: string } };
  expect(Object.keys(body)).toEqual(['error']);
  expect(Object.keys(body.error).sort()).toEqual(['code', 'message']);
  expect(body.error.message).not.toMatch(/\bat \S+ \(|Exception|TimeoutError|ECONN/);
  return body.error;
}

describe('a throttled DynamoDB', () => {
  it('answers an admin route 503 SERVICE_UNAVAILABLE with Retry-After, as JSON', async () => {
    faults.inject({ kind: 'throttle' });

    const response = await fetch(`${service.baseUrl}/orgs/${org.orgId}/users`, { headers: { accept: 'application/json', authorization: `Bearer ${adminToken}` } });

    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('2');
    const error = await jsonErrorOf(response);
    expect(error.code).toBe('SERVICE_UNAVAILABLE');
    expect(error.message).toMatch(/Try again in 2 seconds\.$/);
  });

  it('gives up after the configured attempts, each one throttled', async () => {
    faults.inject({ kind: 'throttle' });

    await fetch(`${service.baseUrl}/me`, { headers: { authorization: `Bearer ${adminToken}` } });

    // The user and the session's revocation marker are read side by side, each tried at most
    // twice (maxAttempts 2); the answer goes as soon as one of them gives up.
    const attempts = faults.attempts();
    expect(attempts.length).toBeGreaterThanOrEqual(2);
    expect(attempts.length).toBeLessThanOrEqual(4);
    for (const attempt of attempts) expect(attempt).toMatchObject({ command: 'GetItemCommand', fault: 'throttle' });
  });

  it('answers GET /me 503 with Retry-After, as JSON', async () => {
    faults.inject({ kind: 'throttle' });

    const response = await fetch(`${service.baseUrl}/me`, { headers: { authorization: `Bearer ${adminToken}` } });

    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('2');
    expect((await jsonErrorOf(response)).code).toBe('SERVICE_UNAVAILABLE');
  });

  it('answers POST /login/discover 503 with Retry-After, as JSON', async () => {
    faults.inject({ kind: 'throttle' });

    const response = await fetch(`${service.baseUrl}/login/discover`, {
      method: 'POST',
      headers: { accept: 'application/json', 'content-type': 'application/json' },
      body: JSON.stringify({ email: org.adminEmail }),
    });

    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('2');
    expect((await jsonErrorOf(response)).code).toBe('SERVICE_UNAVAILABLE');
  });

  it('answers a browser at the ACS with the HTML sign-in page, 503 and Retry-After', async () => {
    const fresh = await createSamlOrg(service);
    faults.inject({ kind: 'throttle' });

    const response = await postAcs(service, fresh.orgId, { SAMLResponse: 'not a SAML response' }, {});

    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('2');
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    const page = await response.text();
    expect(page).toContain('<code>SERVICE_UNAVAILABLE</code>');
    expect(page).toContain('Try again in 2 seconds.');
    expect(page).not.toMatch(/Exception|\bat \S+ \(/);
  });

  it('leaves a log line with the org and the code of a login it refused, since the audit table cannot be written', async () => {
    const fresh = await createSamlOrg(service);
    const warn = vi.spyOn(service.rt.logger, 'warn');
    // The settings are read; the user read and the audit write are throttled.
    faults.inject({ kind: 'throttle', commands: ['GetItemCommand', 'PutItemCommand', 'TransactWriteItemsCommand'] });

    const response = await postAcs(service, fresh.orgId, { SAMLResponse: loginResponse(fresh, 'grace@acme.test') });

    expect(response.status).toBe(503);
    expect(warn).toHaveBeenCalledWith('request refused: a dependency is unavailable', expect.objectContaining({ code: 'SERVICE_UNAVAILABLE', orgId: fresh.orgId, fault: 'throttled' }));
    expect(warn).toHaveBeenCalledWith('could not record a login failure', expect.objectContaining({ code: 'SERVICE_UNAVAILABLE', orgId: fresh.orgId }));
    expect(faults.attempts().map((attempt) => attempt.command)).toContain('PutItemCommand');
    faults.heal();
    expect(await usersNamed(fresh.orgId, 'grace@acme.test')).toEqual([]);
  });
});

describe('a DynamoDB that does not answer', () => {
  it('answers GET /me 503 with Retry-After after the configured attempts, each ended by the request timeout', async () => {
    faults.inject({ kind: 'timeout' });

    const response = await fetch(`${service.baseUrl}/me`, { headers: { authorization: `Bearer ${adminToken}` } });

    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('5');
    expect((await jsonErrorOf(response)).code).toBe('SERVICE_UNAVAILABLE');
    // The user and the session's revocation marker are read side by side, each tried at most
    // twice (maxAttempts 2); the answer goes as soon as one of them gives up.
    const attempts = faults.attempts();
    expect(attempts.length).toBeGreaterThanOrEqual(2);
    expect(attempts.length).toBeLessThanOrEqual(4);
    for (const attempt of attempts) expect(attempt).toMatchObject({ command: 'GetItemCommand', fault: 'timeout' });
  });

  it('answers an admin write 503 and changes nothing', async () => {
    const api = apiClient(service, adminToken);
    faults.inject({ kind: 'timeout', commands: ['TransactWriteItemsCommand'] });

    const response = await api('POST', `/orgs/${org.orgId}/groups`, { name: 'Written during an outage' });

    expect(response.status).toBe(503);
    expect(response.body.error.code).toBe('SERVICE_UNAVAILABLE');
    faults.heal();
    const groups = await api('GET', `/orgs/${org.orgId}/groups`);
    expect(groups.body.items.map((group: { name: string }) => group.name)).not.toContain('Written during an outage');
  });
});

describe('a DynamoDB that is gone', () => {
  it('answers POST /login/discover 503 with Retry-After when every connection is refused', async () => {
    faults.inject({ kind: 'refuse' });

    const response = await fetch(`${service.baseUrl}/login/discover`, {
      method: 'POST',
      headers: { accept: 'application/json', 'content-type': 'application/json' },
      body: JSON.stringify({ email: org.adminEmail }),
    });

    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('5');
    expect((await jsonErrorOf(response)).message).toBe('The service could not reach its database. Try again in 5 seconds.');
  });
});

describe('a first login whose transaction landed but whose answer was lost', () => {
  it('is retried with the same ClientRequestToken and creates exactly one user and one user.jit_created event', async () => {
    faults.inject({ kind: 'drop-response', commands: ['TransactWriteItemsCommand'], times: 1 });

    const response = await postAcs(service, org.orgId, { SAMLResponse: loginResponse(org, 'ada@acme.test') });

    expect(response.status).toBe(302);
    const transactions = faults.attempts().filter((attempt) => attempt.command === 'TransactWriteItemsCommand');
    expect(transactions.map((attempt) => attempt.fault)).toEqual(['drop-response', undefined]);
    expect(transactions[0]!.clientRequestToken).toMatch(/^[0-9a-f-]{36}$/);
    expect(transactions[1]!.clientRequestToken).toBe(transactions[0]!.clientRequestToken);
    const users = await usersNamed(org.orgId, 'ada@acme.test');
    expect(users).toHaveLength(1);
    expect(users[0]!.assignments).toEqual([{ groupId: 'default', roleId: 'account-admin' }]);
    expect(await eventsOf(org.orgId, 'user.jit_created', users[0]!.id)).toHaveLength(1);
    expect(await eventsOf(org.orgId, 'login.succeeded', users[0]!.id)).toHaveLength(1);
  });

  it('answers 503 when every answer is lost, leaves the user whole, and a new sign-in finds them', async () => {
    faults.inject({ kind: 'drop-response', commands: ['TransactWriteItemsCommand'] });

    const lost = await postAcs(service, org.orgId, { SAMLResponse: loginResponse(org, 'lin@acme.test') });

    expect(lost.status).toBe(503);
    faults.heal();
    const [user] = await usersNamed(org.orgId, 'lin@acme.test');
    expect(user?.assignments).toEqual([{ groupId: 'default', roleId: 'account-admin' }]);
    expect(await eventsOf(org.orgId, 'user.jit_created', user!.id)).toHaveLength(1);

    const again = await postAcs(service, org.orgId, { SAMLResponse: loginResponse(org, 'lin@acme.test') });

    expect(again.status).toBe(302);
    expect(await usersNamed(org.orgId, 'lin@acme.test')).toHaveLength(1);
    expect(await eventsOf(org.orgId, 'user.jit_created', user!.id)).toHaveLength(1);
  });
});
