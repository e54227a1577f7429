/**
 * The service as the tests drive it: every handler behind the local HTTP server (the
 * same API Gateway v2 events Lambda gets), on fresh DynamoDB Local tables, with a clock
 * the test sets. `createSamlOrg` configures an org through the settings domain
 * functions, with a test IdP whose keys are made at test time.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { createRuntime, type Runtime, type RuntimeOverrides } from '../../functions/runtime.js';
import { ROUTES } from '../../functions/routes.js';
import { createHandlers } from '../../local/handlers.js';
import { createLocalServer, listenLocalServer, type HttpLambdaHandler } from '../../local/http-server.js';
import { createSamlIdpKeys, type SamlIdpKeys } from '../../local/saml-idp.js';
import { fixedClock } from '../../shared/clock.js';
import type { SpKeyPair } from '../../shared/saml/authn-request.js';
import { staticSpKeySource } from '../../shared/saml/sp-keys.js';
import { LocalSealer } from '../../shared/secrets/local-sealer.js';
import { staticKeySource } from '../../shared/sessions/key-sources.js';
import { createOrg } from '../../shared/settings/orgs.js';
import { addRoleMapping } from '../../shared/settings/role-mappings.js';
import { updateProvisioningSettings, updateSsoSettings } from '../../shared/settings/settings-service.js';
import { orgUrls, type OrgUrls } from '../../shared/settings/urls.js';
import { useTestTables, type TestTables, type TestTablesOptions } from './dynamodb.js';

export interface TestService {
  baseUrl: string;
  rt: Runtime;
  clock: ReturnType<typeof fixedClock>;
  db: TestTables;
  close(): Promise<void>;
}

let orgCounter = 0;

export interface TestServiceOptions {
  /** The deployment's SP key pair (signs AuthnRequests); none by default. */
  spKey?: SpKeyPair;
  /** What OIDC requests go through; the real fetch by default (loopback providers). */
  fetch?: typeof globalThis.fetch;
  /** Metrics to emit to (disabled in tests unless a test turns them on). */
  metrics?: Metrics;
  /**
   * Another instance of the same service: share its tables (and its clock) instead of
   * making new ones, as a second warm Lambda container shares DynamoDB.
   */
  sameDataAs?: TestService;
  /** How long this instance keeps an org's settings in memory (default 5 s). */
  settingsCacheSeconds?: number;
  /** Another DynamoDB than the run's shared one, or other client bounds. */
  dynamodb?: TestTablesOptions;
  /** The built admin console the Console function serves (default: `dist/console`). */
  consoleDir?: string;
  /** How `saml.idpMetadataUrl` is resolved and fetched (loopback is allowed, as on the local stack). */
  metadataFetch?: RuntimeOverrides['metadataFetch'];
  /** The DNS server domain verification asks (`host:port`, DNS_RESOLVER): a test's own. */
  dnsResolver?: string;
}

export async function startTestService(options: TestServiceOptions = {}): Promise<TestService> {
  const db = options.sameDataAs?.db ?? (await useTestTables(options.dynamodb));
  const clock = options.sameDataAs?.clock ?? fixedClock(new Date());
  const handlers: Record<string, HttpLambdaHandler> = {};
  const server = createLocalServer({ routes: ROUTES, handlers });
  const { url, close } = await listenLocalServer(server);
  const rt = createRuntime(
    {
      // Instances of one service share its public BASE_URL (SP entity ID, ACS URL, token issuer).
      baseUrl: options.sameDataAs?.rt.baseUrl ?? url,
      tables: db.names,
      dynamodbEndpoint: db.endpoint,
      sessionKeys: { kind: 'none' },
      sessionTtlSeconds: 8 * 3600,
      settingsCacheSeconds: options.settingsCacheSeconds,
      secretSealing: { kind: 'none' },
      spKeys: { kind: 'none' },
      ...(options.consoleDir ? { consoleDir: options.consoleDir } : {}),
      allowLoopbackMetadata: true,
      ...(options.dnsResolver ? { dnsResolver: options.dnsResolver } : {}),
    },
    {
      clock,
      dynamo: db.client,
      sessionKeys: staticKeySource('test-session-secret-that-is-long-enough-0123456789'),
      sealer: new LocalSealer('test-sealing-secret-that-is-long-enough-0123456789'),
      spKeys: staticSpKeySource(options.spKey),
      fetch: options.fetch,
      metrics: options.metrics,
      metadataFetch: options.metadataFetch,
      logger: new Logger({ serviceName: 'sso-jit-test', logLevel: 'SILENT' }),
    },
  );
  Object.assign(handlers, createHandlers(rt));
  return { baseUrl: url, rt, clock, db, close };
}

export interface SamlOrgOptions {
  idp?: SamlIdpKeys;
  sso?: Record<string, unknown>;
  saml?: Record<string, unknown>;
  provisioning?: Record<string, unknown>;
  roleMappings?: Record<string, unknown>[];
}

export interface SamlOrg {
  orgId: string;
  adminEmail: string;
  idp: SamlIdpKeys;
  urls: OrgUrls;
}

const cli = { type: 'cli', id: 'test' } as const;

/** Creates an org with SAML SSO and JIT on (roles from the IdP's `groups` attribute by default). */
export async function createSamlOrg(service: TestService, options: SamlOrgOptions = {}): Promise<SamlOrg> {
  const orgId = nextOrgId();
  const adminEmail = `admin@${orgId}.test`;
  const idp = options.idp ?? (await createSamlIdpKeys(`https://idp.example.com/${orgId}`));
  const { rt } = service;
  await createOrg(rt, { orgId, name: `Org ${orgId}`, adminEmail }, cli);
  const context = { orgId, actor: cli };
  await updateSsoSettings(rt, context, {
    enabled: true,
    protocol: 'saml',
    ...options.sso,
    saml: { idpEntityId: idp.entityId, certificates: [idp.certificatePem], ...options.saml },
  });
  for (const mapping of options.roleMappings ?? [{ roleId: 'account-admin', groupIds: ['default'], idpValue: 'Admins' }]) {
    await addRoleMapping(rt, context, mapping);
  }
  await updateProvisioningSettings(rt, context, {
    method: 'jit',
    jit: { roleSource: 'idp', roleAttribute: 'groups', onNoRoleMatch: 'deny' },
    ...options.provisioning,
  });
  return { orgId, adminEmail, idp, urls: orgUrls(service.baseUrl, orgId) };
}

/** POSTs a SAMLResponse (and RelayState) as a browser form would, without following the redirect. */
export function postAcs(service: TestService, orgId: string, fields: Record<string, string>, headers: Record<string, string> = { accept: 'application/json' }) {
  return fetch(`${service.baseUrl}/sso/${orgId}/saml/acs`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(fields).toString(),
  });
}

/** The session cookie's value from a response's Set-Cookie. */
export function sessionCookieOf(response: Response): string | undefined {
  const cookie = response.headers.getSetCookie().find((value) => value.startsWith('session='));
  return cookie?.slice('session='.length).split(';')[0];
}

export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

/** A JSON client for the admin routes, acting with `token` (or anonymously). */
export function apiClient(service: TestService, token?: string) {
  return async <T = any>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse<T>> => {
    const response = await fetch(`${service.baseUrl}${path}`, {
      method,
      headers: {
        accept: 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text ? (JSON.parse(text) as T) : (undefined as T) };
  };
}

/** A session token for an existing user of the org, as the CLI would print it. */
export async function tokenFor(service: TestService, orgId: string, email: string): Promise<string> {
  const user = await service.rt.users.findByEmail(orgId, email);
  if (!user) throw new Error(`no user ${email} in ${orgId}`);
  return service.rt.sessions.issue(user);
}

/** A fresh org id, unique in this run. */
export const nextOrgId = (prefix = 'org'): string => `${prefix}-${process.pid}-${++orgCounter}`;

export interface OidcOrgOptions {
  /** Known in advance when the provider must list our redirect URI before the org exists (see `nextOrgId`). */
  orgId?: string;
  issuer: string;
  clientId: string;
  clientSecret?: string;
  provisioning?: Record<string, unknown>;
  roleMappings?: Record<string, unknown>[];
  sso?: Record<string, unknown>;
}

export interface OidcOrg {
  orgId: string;
  adminEmail: string;
  urls: OrgUrls;
}

/** Creates an org with OIDC SSO and JIT on (roles from the `groups` claim by default). */
export async function createOidcOrg(service: TestService, options: OidcOrgOptions): Promise<OidcOrg> {
  const orgId = options.orgId ?? nextOrgId('oidc');
  const adminEmail = `admin@${orgId}.test`;
  const { rt } = service;
  const context = { orgId, actor: cli };
  await createOrg(rt, { orgId, name: `Org ${orgId}`, adminEmail }, cli);
  await updateSsoSettings(rt, context, {
    enabled: true,
    protocol: 'oidc',
    ...options.sso,
    oidc: { issuer: options.issuer, clientId: options.clientId, ...(options.clientSecret ? { clientSecret: options.clientSecret } : {}), scopes: ['openid', 'email', 'profile', 'groups'] },
  });
  for (const mapping of options.roleMappings ?? [{ roleId: 'account-admin', groupIds: ['default'], idpValue: 'Engineering' }]) {
    await addRoleMapping(rt, context, mapping);
  }
  await updateProvisioningSettings(rt, context, {
    method: 'jit',
    jit: { roleSource: 'idp', roleAttribute: 'groups', onNoRoleMatch: 'deny' },
    ...options.provisioning,
  });
  return { orgId, adminEmail, urls: orgUrls(service.baseUrl, orgId) };
}
