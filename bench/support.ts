/**
 * What every part of the benchmark shares: runtimes built like the real ones (logs and
 * metrics produced as in Lambda, but written to a sink), API Gateway v2 events and a
 * Lambda context, and orgs configured through the same domain functions as the
 * settings API and `npm start`.
 */
import { Console } from 'node:console';
import { Writable } from 'node:stream';
import { Logger } from '@aws-lambda-powertools/logger';
import { SAML, ValidateInResponseTo } from '@node-saml/node-saml';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../functions/observability.js';
import { createRuntime, type Runtime, type RuntimeOverrides } from '../functions/runtime.js';
import type { Clock } from '../shared/clock.js';
import type { Config } from '../shared/config.js';
import type { SamlIdpKeys } from '../local/saml-idp.js';
import { staticSpKeySource } from '../shared/saml/sp-keys.js';
import { LocalSealer } from '../shared/secrets/local-sealer.js';
import { staticKeySource } from '../shared/sessions/key-sources.js';
import { createOrg } from '../shared/settings/orgs.js';
import { addRoleMapping } from '../shared/settings/role-mappings.js';
import { updateProvisioningSettings, updateSsoSettings } from '../shared/settings/settings-service.js';
import type { OrgUrls } from '../shared/settings/urls.js';
import { tableNamesFor, type TableNames } from '../shared/storage/tables.js';

const SECRET = 'bench-secret-that-is-long-enough-0123456789abcdef';
const cli = { type: 'cli', id: 'bench' } as const;

/**
 * A Logger at INFO and enabled Metrics, as in Lambda, whose console writes to a sink: the
 * log lines and EMF documents are still built and serialised (their CPU counts), but
 * never reach the table. Powertools keeps its console in a field it exposes to no option,
 * and `singleMetric()` (the per-code failure metric) makes a new Metrics with its own.
 */
function observability(): { logger: Logger; metrics: Metrics } {
  const sink = new Console({ stdout: new Writable({ write: (_chunk, _encoding, done) => done() }) });
  const toSink = <T extends Logger | Metrics>(target: T): T => {
    (target as unknown as { console: Console }).console = sink;
    return target;
  };
  const metrics = toSink(new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME }));
  const singleMetric = metrics.singleMetric.bind(metrics);
  metrics.singleMetric = () => toSink(singleMetric());
  return { logger: toSink(new Logger({ serviceName: SERVICE_NAME, logLevel: 'INFO' })), metrics };
}

export interface BenchRuntimeOptions {
  baseUrl: string;
  clock: Clock;
  /** DynamoDB Local (the DynamoDB adapters); without it, `overrides.repositories` must be given. */
  dynamo?: { endpoint: string; tables: TableNames };
  overrides?: RuntimeOverrides;
}

/** A runtime with fixed session and sealing secrets, no SP key, and sink-bound logs and metrics. */
export function benchRuntime(options: BenchRuntimeOptions): Runtime {
  const config: Config = {
    baseUrl: options.baseUrl,
    tables: options.dynamo?.tables ?? tableNamesFor('bench-memory'),
    dynamodbEndpoint: options.dynamo?.endpoint,
    sessionKeys: { kind: 'none' },
    sessionTtlSeconds: 8 * 3600,
    secretSealing: { kind: 'none' },
    spKeys: { kind: 'none' },
  };
  return createRuntime(config, {
    clock: options.clock,
    sessionKeys: staticKeySource(SECRET),
    sealer: new LocalSealer(SECRET),
    spKeys: staticSpKeySource(undefined),
    ...observability(),
    ...options.overrides,
  });
}

export interface OrgSetup {
  orgId: string;
  /** The `sso` settings body (protocol section included), as an admin would PUT it. */
  sso: Record<string, unknown>;
  /** IdP role values mapped to built-in roles in the default group. */
  mappings: Readonly<Record<string, string>>;
  onNoRoleMatch: 'deny' | 'default';
}

/** Creates an org and configures SSO, role mappings and JIT (roles from `groups`), like `npm start`'s seed. */
export async function seedOrg(rt: Runtime, setup: OrgSetup): Promise<void> {
  const context = { orgId: setup.orgId, actor: cli };
  await createOrg(rt, { orgId: setup.orgId, name: `Bench ${setup.orgId}`, adminEmail: `admin@${setup.orgId}.example` }, cli);
  await updateSsoSettings(rt, context, setup.sso);
  for (const [idpValue, roleId] of Object.entries(setup.mappings)) await addRoleMapping(rt, context, { roleId, groupIds: ['default'], idpValue });
  await updateProvisioningSettings(rt, context, { method: 'jit', jit: { roleSource: 'idp', roleAttribute: 'groups', onNoRoleMatch: setup.onNoRoleMatch } });
}

export interface EventInput {
  method: 'GET' | 'POST';
  /** API Gateway route path, `{name}` segments. */
  route: string;
  pathParameters?: Record<string, string>;
  query?: Record<string, string>;
  /** Form fields, sent as API Gateway sends a form post: base64, `isBase64Encoded`. */
  form?: Record<string, string>;
}

/** The API Gateway HTTP API (payload 2.0) event for one request, as the local server builds it. */
export function apiEvent(input: EventInput): APIGatewayProxyEventV2 {
  const rawPath = input.route.replace(/\{(\w+)\}/g, (_match, name: string) => encodeURIComponent(input.pathParameters?.[name] ?? ''));
  const rawQueryString = new URLSearchParams(input.query ?? {}).toString();
  const body = input.form === undefined ? undefined : Buffer.from(new URLSearchParams(input.form).toString()).toString('base64');
  return {
    version: '2.0',
    routeKey: `${input.method} ${input.route}`,
    rawPath,
    rawQueryString,
    headers: {
      host: 'sso.bench.example',
      accept: 'application/json',
      ...(body === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded' }),
    },
    ...(input.query ? { queryStringParameters: input.query } : {}),
    ...(input.pathParameters ? { pathParameters: input.pathParameters } : {}),
    requestContext: {
      accountId: 'bench',
      apiId: 'bench',
      domainName: 'sso.bench.example',
      domainPrefix: 'sso',
      http: { method: input.method, path: rawPath, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'bench' },
      requestId: 'bench',
      routeKey: `${input.method} ${input.route}`,
      stage: '$default',
      time: new Date().toISOString(),
      timeEpoch: Date.now(),
    },
    ...(body === undefined ? { isBase64Encoded: false } : { body, isBase64Encoded: true }),
  };
}

/** A Lambda context with what the Powertools middlewares read. */
export const lambdaContext: Context = {
  callbackWaitsForEmptyEventLoop: false,
  functionName: 'bench',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:local:000000000000:function:bench',
  memoryLimitInMB: '512',
  awsRequestId: 'bench-request',
  logGroupName: '/aws/lambda/bench',
  logStreamName: 'bench',
  getRemainingTimeInMillis: () => 10_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
};

/**
 * node-saml as an integrator would configure it for this SP: the baseline the CPU
 * figures are compared with. `signed` says which signatures it requires.
 */
export function nodeSamlFor(idp: SamlIdpKeys, urls: OrgUrls, signed: { assertion: boolean; response: boolean }, clockSkewSeconds = 60): SAML {
  return new SAML({
    idpCert: idp.certificatePem,
    idpIssuer: idp.entityId,
    issuer: urls.spEntityId,
    audience: urls.spEntityId,
    callbackUrl: urls.acsUrl,
    validateInResponseTo: ValidateInResponseTo.never,
    acceptedClockSkewMs: clockSkewSeconds * 1000,
    wantAssertionsSigned: signed.assertion,
    wantAuthnResponseSigned: signed.response,
  });
}

/** One login posted to the org's ACS as the IdP's browser form would be; its HTTP status, or the network error. */
export async function postLoginForm(baseUrl: string, orgId: string, SAMLResponse: string): Promise<number | string> {
  try {
    const answer = await fetch(`${baseUrl}/sso/${orgId}/saml/acs`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({ SAMLResponse }).toString(),
    });
    await answer.arrayBuffer();
    return answer.status;
  } catch (error) {
    return `network error: ${error instanceof Error ? error.message : String(error)}`;
  }
}
