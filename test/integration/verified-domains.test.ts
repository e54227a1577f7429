/**
 * Verified domains (API.md "SAML as enterprises run it", "Verified domains"): a listed
 * domain routes `POST /login/discover` only after its org published the TXT record we
 * name and called the verify route; one org's verified domain cannot be taken by
 * another; the scheduled re-check ends the routing when the record is definitely gone.
 * DNS is a real server on loopback (dns2), reached as DNS_RESOLVER.
 */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recheckVerifiedDomains } from '../../shared/settings/domains.js';
import { tableKey } from '../../shared/storage/tables.js';
import { startTestDnsServer, type TestDnsServer } from '../support/dns-server.js';
import { apiClient, createSamlOrg, startTestService, tokenFor, type TestService } from '../support/service.js';

let service: TestService;
let dns: TestDnsServer;

beforeAll(async () => {
  dns = await startTestDnsServer();
  service = await startTestService({ dnsResolver: dns.address });
});
afterAll(async () => {
  await service?.close();
  await dns?.close();
});

let domainCounter = 0;
const newDomain = () => `d${process.pid}-${++domainCounter}.example.com`;

/** An org with SSO on listing `domains`, and its admin's API client. */
async function orgListing(...domains: string[]) {
  const org = await createSamlOrg(service, { sso: { domains } });
  const api = apiClient(service, await tokenFor(service, org.orgId, org.adminEmail));
  const sso = await api('GET', `/orgs/${org.orgId}/settings/sso`);
  expect(sso.status).toBe(200);
  const statusOf = (domain: string) => (sso.body.domainStatus as Array<Record<string, any>>).find((entry) => entry.domain === domain)!;
  const verify = (domain: string) => api('POST', `/orgs/${org.orgId}/settings/sso/domains/${encodeURIComponent(domain)}/verify`);
  /** Publishes the org's TXT record for `domain` on the test DNS server. */
  const publish = (domain: string, ...extra: string[]) => dns.setTxt(statusOf(domain).txtName, [...extra, statusOf(domain).txtValue]);
  return { ...org, api, sso: sso.body, statusOf, verify, publish };
}

const discover = async (email: string) => {
  const response = await fetch(`${service.baseUrl}/login/discover`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ email }),
  });
  return { status: response.status, body: await response.json() };
};

const loginUrlOf = (orgId: string) => `${service.baseUrl}/sso/${orgId}/login?fwd=%2F`;

describe('a listed domain', () => {
  it('shows its TXT record to publish, unverified, and routes nobody yet', async () => {
    const domain = newDomain();
    const org = await orgListing(domain);

    expect(org.sso.domainStatus).toEqual([
      { domain, verified: false, txtName: `_sso-jit-challenge.${domain}`, txtValue: expect.stringMatching(/^sso-jit-verification=[A-Za-z0-9_-]{32}$/), verifiedAt: null },
    ]);
    expect(await discover(`stranger@${domain}`)).toMatchObject({ status: 404, body: { error: { code: 'NO_SSO_FOR_EMAIL' } } });
  });

  it('still routes the emails of existing users, verified or not', async () => {
    const org = await orgListing(newDomain());

    expect(await discover(org.adminEmail)).toEqual({ status: 200, body: { loginUrl: loginUrlOf(org.orgId) } });
  });

  it('keeps its token across writes of the settings, and a domain added later gets its own', async () => {
    const first = newDomain();
    const org = await orgListing(first);
    const second = newDomain();

    const response = await org.api('PUT', `/orgs/${org.orgId}/settings/sso`, { ...org.sso, domains: [first, second], saml: { idpEntityId: org.idp.entityId, certificates: [org.idp.certificatePem] } });

    expect(response.status).toBe(200);
    const [a, b] = response.body.domainStatus;
    expect(a).toEqual(org.statusOf(first));
    expect(b.txtValue).not.toBe(a.txtValue);
  });
});

describe('POST /orgs/{orgId}/settings/sso/domains/{domain}/verify', () => {
  it('verifies a domain whose TXT record carries the token: it routes any email of it, and the event says who proved it', async () => {
    const domain = newDomain();
    const org = await orgListing(domain);
    org.publish(domain, 'v=spf1 -all');

    const response = await org.verify(domain.toUpperCase());

    expect(response.status).toBe(200);
    expect(response.body).toEqual({ ...org.statusOf(domain), verified: true, verifiedAt: service.clock.now().toISOString() });
    expect((await org.api('GET', `/orgs/${org.orgId}/settings/sso`)).body.domainStatus[0].verified).toBe(true);
    expect(await discover(`someone.new@${domain.toUpperCase()}`)).toEqual({ status: 200, body: { loginUrl: loginUrlOf(org.orgId) } });
    const events = await service.rt.audit.list(org.orgId, { type: 'settings.sso.domain_verified', limit: 5 });
    expect(events.items).toEqual([expect.objectContaining({ outcome: 'success', actor: { type: 'user', id: expect.any(String) }, details: { domain, txtName: `_sso-jit-challenge.${domain}` } })]);
  });

  it('refuses while the record is missing with 409 DOMAIN_NOT_VERIFIED, and says what it expected', async () => {
    const domain = newDomain();
    const org = await orgListing(domain);

    const response = await org.verify(domain);

    expect(response.status).toBe(409);
    expect(response.body.error).toEqual({ code: 'DOMAIN_NOT_VERIFIED', message: expect.stringContaining(`expected a TXT record "${org.statusOf(domain).txtValue}", found no TXT record`) });
    expect(await discover(`x@${domain}`)).toMatchObject({ status: 404 });
  });

  it('refuses a record with another token (another org’s, say), naming the values found', async () => {
    const domain = newDomain();
    const org = await orgListing(domain);
    dns.setTxt(`_sso-jit-challenge.${domain}`, ['sso-jit-verification=someone-elses-token']);

    const response = await org.verify(domain);

    expect(response.status).toBe(409);
    expect(response.body.error.code).toBe('DOMAIN_NOT_VERIFIED');
    expect(response.body.error.message).toContain('found "sso-jit-verification=someone-elses-token"');
    expect((await org.api('GET', `/orgs/${org.orgId}/settings/sso`)).body.domainStatus[0].verified).toBe(false);
  });

  it('refuses when DNS does not answer, changing nothing', async () => {
    const domain = newDomain();
    const org = await orgListing(domain);
    dns.fail(`_sso-jit-challenge.${domain}`);

    const response = await org.verify(domain);

    expect(response.status).toBe(409);
    expect(response.body.error.message).toContain('DNS did not answer');
  });

  it('answers a domain the org does not list with 404 NOT_FOUND', async () => {
    const org = await orgListing(newDomain());

    expect((await org.verify('not-listed.example.com')).status).toBe(404);
    expect((await org.verify('not a domain')).status).toBe(404);
  });

  it('refuses a domain another org verified first with 409 CONFLICT: it keeps routing to the first', async () => {
    const domain = newDomain();
    const owner = await orgListing(domain);
    owner.publish(domain);
    expect((await owner.verify(domain)).status).toBe(200);
    const squatter = await orgListing(domain);
    // The squatter even publishes its own token beside the owner's.
    dns.setTxt(owner.statusOf(domain).txtName, [owner.statusOf(domain).txtValue, squatter.statusOf(domain).txtValue]);

    const response = await squatter.verify(domain);

    expect(response.status).toBe(409);
    expect(response.body.error.code).toBe('CONFLICT');
    expect((await squatter.api('GET', `/orgs/${squatter.orgId}/settings/sso`)).body.domainStatus[0].verified).toBe(false);
    expect(await discover(`x@${domain}`)).toEqual({ status: 200, body: { loginUrl: loginUrlOf(owner.orgId) } });
  });

  it('lets a domain claimed before verification existed (an old claim) go to the org that proves it', async () => {
    const domain = newDomain();
    // What the first-come claim of earlier versions stored: an owner without verifiedAt.
    await service.db.client.send(new PutCommand({ TableName: service.db.names.mappings, Item: { pk: tableKey.domain(domain), sk: 'DOMAIN', orgId: 'squatter-org' } }));
    expect(await discover(`x@${domain}`)).toMatchObject({ status: 404 });
    const org = await orgListing(domain);
    org.publish(domain);

    expect((await org.verify(domain)).status).toBe(200);

    expect(await discover(`x@${domain}`)).toEqual({ status: 200, body: { loginUrl: loginUrlOf(org.orgId) } });
  });

  it('needs security:edit', async () => {
    const domain = newDomain();
    const org = await orgListing(domain);
    const created = await org.api('POST', `/orgs/${org.orgId}/users`, { email: `viewer@${org.orgId}.test`, assignments: [{ groupId: 'default', roleId: 'account-admin' }] });
    expect(created.status).toBe(201);
    const viewer = apiClient(service, await tokenFor(service, org.orgId, `viewer@${org.orgId}.test`));
    org.publish(domain);

    const response = await viewer('POST', `/orgs/${org.orgId}/settings/sso/domains/${domain}/verify`);

    expect(response.status).toBe(403);
    expect(await discover(`x@${domain}`)).toMatchObject({ status: 404 });
  });
});

describe('removing a verified domain from domains', () => {
  it('ends its routing, and frees it for another org to verify', async () => {
    const domain = newDomain();
    const org = await orgListing(domain);
    org.publish(domain);
    expect((await org.verify(domain)).status).toBe(200);
    const sso = (await org.api('GET', `/orgs/${org.orgId}/settings/sso`)).body;

    const response = await org.api('PUT', `/orgs/${org.orgId}/settings/sso`, { ...sso, domains: [], domainStatus: undefined, saml: { idpEntityId: org.idp.entityId, certificates: [org.idp.certificatePem] } });

    expect(response.status).toBe(200);
    expect(await discover(`x@${domain}`)).toMatchObject({ status: 404 });
    const next = await orgListing(domain);
    next.publish(domain);
    expect((await next.verify(domain)).status).toBe(200);
  });
});

describe('the scheduled re-check', () => {
  const system = { type: 'system', id: 'scheduled-check' } as const;

  it('keeps a domain whose record is still there, and one whose DNS does not answer', async () => {
    const [kept, unanswered] = [newDomain(), newDomain()];
    const org = await orgListing(kept, unanswered);
    for (const domain of [kept, unanswered]) {
      org.publish(domain);
      expect((await org.verify(domain)).status).toBe(200);
    }
    dns.fail(org.statusOf(unanswered).txtName);

    const results = await recheckVerifiedDomains(service.rt, org.orgId, system);

    expect(results).toEqual([
      { domain: kept, outcome: 'still' },
      { domain: unanswered, outcome: 'unknown' },
    ]);
    expect(await discover(`x@${kept}`)).toMatchObject({ status: 200 });
    expect(await discover(`x@${unanswered}`)).toMatchObject({ status: 200 });
  });

  it('ends the routing of a domain whose record is gone, with a failure event, and the domain stays listed, unverified', async () => {
    const domain = newDomain();
    const org = await orgListing(domain);
    org.publish(domain);
    expect((await org.verify(domain)).status).toBe(200);
    dns.remove(org.statusOf(domain).txtName);

    const results = await recheckVerifiedDomains(service.rt, org.orgId, system);

    expect(results).toEqual([{ domain, outcome: 'gone' }]);
    expect(await discover(`x@${domain}`)).toMatchObject({ status: 404 });
    const sso = (await org.api('GET', `/orgs/${org.orgId}/settings/sso`)).body;
    expect(sso.domains).toEqual([domain]);
    expect(sso.domainStatus[0]).toMatchObject({ verified: false, verifiedAt: null, txtValue: org.statusOf(domain).txtValue });
    const events = await service.rt.audit.list(org.orgId, { type: 'settings.sso.domain_unverified', limit: 5 });
    expect(events.items).toEqual([expect.objectContaining({ outcome: 'failure', actor: system, details: expect.objectContaining({ domain }) })]);
  });
});
