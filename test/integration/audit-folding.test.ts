/**
 * Unauthenticated traffic cannot flood the audit trail (API.md "Provisioning rules the
 * login routes apply": a failure that proves nothing, repeated, is one event with a
 * count). End to end: the local API Gateway adapter and the handlers on DynamoDB Local,
 * real signed responses made at test time, the test clock, and real source addresses
 * (requests leave from loopback aliases 127.0.0.1 and 127.0.0.2).
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSignedLoginResponse, createSamlIdpKeys, type LoginResponseInput, type SamlIdpKeys } from '../../local/saml-idp.js';
import type { AuditEvent } from '../../shared/audit/model.js';
import { orgUrls } from '../../shared/settings/urls.js';
import { CLIENT_ID, FakeProvider, ISSUER } from '../support/fake-oidc-provider.js';
import { createOidcOrg, createSamlOrg, startTestService, type SamlOrg, type TestService } from '../support/service.js';

let service: TestService;
let idp: SamlIdpKeys;

beforeAll(async () => {
  const provider = await FakeProvider.create();
  service = await startTestService({ fetch: provider.fetch });
  idp = await createSamlIdpKeys('https://idp.example.com/folding');
});
afterAll(() => service?.close());

const OTHER_ADDRESS = '127.0.0.2';

/** An HTTP request leaving from `from` (the address API Gateway would report as `sourceIp`). */
function send(method: 'GET' | 'POST', path: string, options: { from?: string; form?: Record<string, string> } = {}): Promise<{ status: number; body: string }> {
  const body = options.form ? new URLSearchParams(options.form).toString() : undefined;
  return new Promise((done, fail) => {
    const req = request(`${service.baseUrl}${path}`, {
      method,
      localAddress: options.from ?? '127.0.0.1',
      headers: { accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded' }) },
    });
    req.once('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.once('end', () => done({ status: res.statusCode ?? 0, body: text }));
      res.once('error', fail);
    });
    req.once('error', fail);
    req.end(body);
  });
}

const postAcsFrom = (org: { orgId: string }, SAMLResponse: string, from?: string) =>
  send('POST', `/sso/${org.orgId}/saml/acs`, { from, form: { SAMLResponse } });

/** Not XML at all: refused before anything is read. */
const JUNK = Buffer.from('junk').toString('base64');

function responseFor(org: SamlOrg, options: Partial<Omit<LoginResponseInput, 'idp'>> = {}): string {
  return buildSignedLoginResponse({
    idp: org.idp,
    spEntityId: org.urls.spEntityId,
    acsUrl: org.urls.acsUrl,
    nameId: 'ada@acme.test',
    attributes: { groups: ['Admins'] },
    now: service.clock.now(),
    ...options,
  });
}

async function failuresOf(orgId: string): Promise<AuditEvent[]> {
  return (await service.rt.audit.list(orgId, { type: 'login.failed', limit: 100 })).items;
}

describe('proof-less failures at the ACS', () => {
  it('fold 50 junk posts from one address into one event that counts them', async () => {
    const org = await createSamlOrg(service, { idp });
    const firstAt = service.clock.now();
    const statuses: number[] = [];

    for (let i = 0; i < 50; i += 1) {
      if (i > 0) service.clock.advance(100);
      statuses.push((await postAcsFrom(org, JUNK)).status);
    }

    expect(statuses).toEqual(Array(50).fill(400));
    const [event, ...others] = await failuresOf(org.orgId);
    expect(others).toEqual([]);
    expect(event).toMatchObject({ type: 'login.failed', outcome: 'failure', code: 'SAML_MALFORMED', at: firstAt.toISOString() });
    expect(event!.details).toMatchObject({
      count: 50,
      firstAt: firstAt.toISOString(),
      lastAt: new Date(firstAt.getTime() + 49 * 100).toISOString(),
      sourceIp: '127.0.0.1',
    });
  });

  it('count concurrent junk posts exactly, into one event', async () => {
    const org = await createSamlOrg(service, { idp });

    const results = await Promise.all(Array.from({ length: 40 }, () => postAcsFrom(org, JUNK)));

    expect(results.map((result) => result.status)).toEqual(Array(40).fill(400));
    const failures = await failuresOf(org.orgId);
    expect(failures).toHaveLength(1);
    expect(failures[0]!.details.count).toBe(40);
  });

  it('keep each source address and each code apart', async () => {
    const org = await createSamlOrg(service, { idp });
    const unsigned = responseFor(org, { sign: 'none' });

    await postAcsFrom(org, JUNK);
    await postAcsFrom(org, JUNK, OTHER_ADDRESS);
    await postAcsFrom(org, unsigned);
    await postAcsFrom(org, JUNK);

    const seen = (await failuresOf(org.orgId)).map((event) => [event.code, event.details.sourceIp, event.details.count]);
    expect(seen.sort()).toEqual([
      ['SAML_MALFORMED', '127.0.0.1', 2],
      ['SAML_MALFORMED', OTHER_ADDRESS, 1],
      ['SIGNATURE_INVALID', '127.0.0.1', 1],
    ]);
  });

  it('fold unsigned responses that claim the same NameID, and keep other NameIDs apart', async () => {
    const org = await createSamlOrg(service, { idp });

    for (const nameId of ['mallory@acme.test', 'mallory@acme.test', 'eve@acme.test', 'mallory@acme.test']) {
      expect((await postAcsFrom(org, responseFor(org, { nameId, sign: 'none' }))).status).toBe(401);
    }

    const seen = (await failuresOf(org.orgId)).map((event) => [event.code, event.details.claimed, event.details.count]);
    expect(seen).toEqual(
      expect.arrayContaining([
        ['SIGNATURE_INVALID', { issuer: idp.entityId, nameId: 'mallory@acme.test' }, 3],
        ['SIGNATURE_INVALID', { issuer: idp.entityId, nameId: 'eve@acme.test' }, 1],
      ]),
    );
    expect(seen).toHaveLength(2);
  });

  it('start a new event 60 s after the first, however recent the last repeat', async () => {
    const org = await createSamlOrg(service, { idp });
    const firstAt = service.clock.now().toISOString();

    await postAcsFrom(org, JUNK);
    service.clock.advance(50_000);
    await postAcsFrom(org, JUNK);
    service.clock.advance(10_000);
    const secondAt = service.clock.now().toISOString();
    await postAcsFrom(org, JUNK);

    const details = (await failuresOf(org.orgId)).map((event) => event.details);
    expect(details).toEqual([
      expect.objectContaining({ count: 1, firstAt: secondAt, lastAt: secondAt }),
      expect.objectContaining({ count: 2, firstAt }),
    ]);
  });
});

describe('refusals of a message the IdP signed', () => {
  it.each([
    { name: 'a role value that is not mapped', code: 'ROLE_NOT_MAPPED', options: { attributes: { groups: ['admins'] } } },
    { name: 'an assertion for another audience', code: 'AUDIENCE_MISMATCH', options: () => ({ spEntityId: orgUrls(service.baseUrl, 'other-org').spEntityId }) },
  ])('stay one event per attempt: $name', async ({ code, options }) => {
    const org = await createSamlOrg(service, { idp });
    const attempt = () => responseFor(org, typeof options === 'function' ? options() : options);

    for (let i = 0; i < 3; i += 1) await postAcsFrom(org, attempt());

    const failures = await failuresOf(org.orgId);
    expect(failures.map((event) => event.code)).toEqual([code, code, code]);
    expect(new Set(failures.map((event) => event.id)).size).toBe(3);
    expect(failures.every((event) => event.details.count === undefined && event.details.sourceIp === '127.0.0.1')).toBe(true);
  });
});

describe('proof-less failures at the OIDC callback', () => {
  it('fold callbacks with an unknown state from one address into one event', async () => {
    const org = await createOidcOrg(service, { issuer: ISSUER, clientId: CLIENT_ID, clientSecret: 's3cret' });

    for (let i = 0; i < 5; i += 1) {
      expect((await send('GET', `/sso/${org.orgId}/oidc/callback?state=forged-${i}&code=x`)).status).toBe(401);
    }

    const failures = await failuresOf(org.orgId);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ code: 'STATE_INVALID', details: { count: 5, sourceIp: '127.0.0.1', protocol: 'oidc' } });
  });
});
