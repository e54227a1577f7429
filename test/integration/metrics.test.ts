/**
 * The login metrics the alarms watch: what the ACS handler emits, as CloudWatch
 * embedded metric format lines, for a success (and a user created) and a refusal.
 */
import { Metrics } from '@aws-lambda-powertools/metrics';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildSignedLoginResponse } from '../../local/saml-idp.js';
import { METRIC, METRICS_NAMESPACE } from '../../functions/observability.js';
import { injectFaults } from '../support/faults.js';
import { createSamlOrg, postAcs, startTestService, tokenFor, type SamlOrg, type TestService } from '../support/service.js';

let service: TestService;
let org: SamlOrg;
let emitted: string[];

beforeAll(async () => {
  vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
  service = await startTestService({ metrics: new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'sso-jit-test' }) });
  org = await createSamlOrg(service);
});
afterAll(async () => {
  vi.unstubAllEnvs();
  await service?.close();
});
afterEach(() => vi.restoreAllMocks());

/** Captures the EMF lines written during `act`. */
async function metricsDuring(act: () => Promise<unknown>): Promise<{ metrics: string[]; dimensions: Record<string, string>[]; faults: string[] }> {
  emitted = [];
  const write = process.stdout.write.bind(process.stdout);
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array, ...rest: unknown[]) => {
    const text = chunk.toString();
    if (text.includes('"_aws"')) emitted.push(text);
    else (write as (c: string | Uint8Array, ...r: unknown[]) => boolean)(chunk, ...rest);
    return true;
  });
  await act();
  const documents = emitted.flatMap((text) => text.trim().split('\n')).map((line) => JSON.parse(line) as Record<string, unknown> & { _aws: { CloudWatchMetrics: { Namespace: string; Metrics: { Name: string }[]; Dimensions: string[][] }[] } });
  for (const document of documents) expect(document._aws.CloudWatchMetrics[0]!.Namespace).toBe(METRICS_NAMESPACE);
  return {
    metrics: documents.flatMap((document) => document._aws.CloudWatchMetrics[0]!.Metrics.map((metric) => metric.Name)),
    dimensions: documents.filter((document) => 'code' in document).map((document) => ({ code: String(document.code) })),
    faults: documents.filter((document) => 'fault' in document).map((document) => String(document.fault)),
  };
}

describe('fault metrics', () => {
  it('counts a request answered 503 SERVICE_UNAVAILABLE, in total and by the kind of fault', async () => {
    const token = await tokenFor(service, org.orgId, org.adminEmail);
    const faults = await injectFaults(service.db.client);
    faults.inject({ kind: 'throttle' });

    try {
      const { metrics, faults: kinds } = await metricsDuring(async () => expect((await fetch(`${service.baseUrl}/me`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(503));

      expect(metrics).toEqual([METRIC.serviceUnavailable, METRIC.serviceUnavailable]);
      expect(kinds).toEqual(['throttled']);
    } finally {
      await faults.close();
    }
  });
});

describe('login metrics', () => {
  it('counts a successful first login and the user it created', async () => {
    const SAMLResponse = buildSignedLoginResponse({ idp: org.idp, spEntityId: org.urls.spEntityId, acsUrl: org.urls.acsUrl, nameId: 'new@acme.test', attributes: { groups: 'Admins' }, now: service.clock.now() });

    const { metrics } = await metricsDuring(() => postAcs(service, org.orgId, { SAMLResponse }));

    expect(metrics.sort()).toEqual([METRIC.loginSucceeded, METRIC.usersCreated].sort());
  });

  it('counts a refused login in total and by its code', async () => {
    const SAMLResponse = buildSignedLoginResponse({ idp: org.idp, spEntityId: org.urls.spEntityId, acsUrl: org.urls.acsUrl, nameId: 'x@acme.test', attributes: { groups: 'Nobody' }, now: service.clock.now() });

    const { metrics, dimensions } = await metricsDuring(() => postAcs(service, org.orgId, { SAMLResponse }));

    expect(metrics).toEqual([METRIC.loginFailed, METRIC.loginFailed]);
    expect(dimensions).toEqual([{ code: 'ROLE_NOT_MAPPED' }]);
  });
});
