/**
 * The composition root shared by every function: builds the clients, repositories
 * and services once per Lambda container, from the typed config. Handlers receive
 * what they need through their `create*Handler(runtime)` factory, so tests build a
 * runtime against DynamoDB Local with the same code.
 */
import type { TxtResolver } from '../shared/settings/domains.js';
import { createTxtResolver } from '../shared/settings/dns-txt.js';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { randomIds, systemClock, type Clock, type IdGenerator } from '../shared/clock.js';
import { DEFAULT_DYNAMODB_LIMITS, readConfig, type Config } from '../shared/config.js';
import { CachingSealer } from '../shared/secrets/caching-sealer.js';
import { KmsSealer } from '../shared/secrets/kms-sealer.js';
import { LocalSealer } from '../shared/secrets/local-sealer.js';
import type { SecretSealer } from '../shared/secrets/sealer.js';
import { FileKeySource, SecretsManagerKeySource } from '../shared/sessions/key-sources.js';
import type { SessionKeySource } from '../shared/sessions/keys.js';
import { SessionTokens } from '../shared/sessions/session-tokens.js';
import { DEFAULT_SETTINGS_TTL_MS, SettingsCache } from '../shared/settings/settings-cache.js';
import { OidcDiscoveryCache } from '../shared/oidc/discovery.js';
import { OidcRelyingParty } from '../shared/oidc/relying-party.js';
import { FileSpKeySource, SecretsManagerSpKeySource, staticSpKeySource, type SpKeySource } from '../shared/saml/sp-keys.js';
import {
  DynamoAuditRepository,
  DynamoLoginLinks,
  DynamoLoginStateRepository,
  DynamoSessionRevocations,
  DynamoSettingsRepository,
  DynamoSetupLinkRepository,
  DynamoSingleLogoutStore,
  DynamoSsoTestRepository,
  DynamoUserRepository,
} from '../shared/storage/dynamo.js';
import type { AuditRepository } from '../shared/audit/ports.js';
import type { LoginStateRepository, SsoTestRepository } from '../shared/login/ports.js';
import type { SetupLinkRepository } from '../shared/setup/ports.js';
import { createMetadataFetcher, type IdpMetadataFetcher, type MetadataFetchOptions } from '../shared/settings/metadata-fetch.js';
import type { LoginLinkStore, SessionRevocations, SingleLogoutStore } from '../shared/sessions/ports.js';
import type { SettingsRepository } from '../shared/settings/ports.js';
import type { UserRepository } from '../shared/users/ports.js';
import { answerFaultsAsUnavailable } from '../shared/storage/faults.js';
import type { ScimDirectory, ScimTokenRepository } from '../shared/scim/ports.js';
import { ScimAuthenticator } from '../shared/scim/tokens.js';
import { DynamoScimDirectory, DynamoScimTokenRepository } from '../shared/storage/scim-dynamo.js';
import { METRICS_NAMESPACE, SERVICE_NAME } from './observability.js';
import type { FunctionDefinition } from './routes.js';

export interface Runtime {
  config: Config;
  clock: Clock;
  ids: IdGenerator;
  logger: Logger;
  metrics: Metrics;
  settingsRepository: SettingsRepository;
  settings: SettingsCache;
  users: UserRepository;
  audit: AuditRepository;
  sessions: SessionTokens;
  sealer: SecretSealer;
  loginState: LoginStateRepository;
  revocations: SessionRevocations;
  /** Single logout: our pending LogoutRequests and the IdP LogoutRequest IDs already used. */
  singleLogout: SingleLogoutStore;
  /** One-time console sign-in links (`sso-jit login-link`). */
  loginLinks: LoginLinkStore;
  spKeys: SpKeySource;
  oidcDiscovery: OidcDiscoveryCache;
  oidc: OidcRelyingParty;
  baseUrl: string;
  ssoTests: SsoTestRepository;
  setupLinks: SetupLinkRepository;
  fetchIdpMetadata: IdpMetadataFetcher;
  /** TXT lookups of domain verification (`DNS_RESOLVER`, else the system's DNS). */
  resolveTxt: TxtResolver;
  /** SCIM (issue 14): users and groups as SCIM writes them, its tokens, and who presents one. */
  scim: ScimDirectory;
  scimTokens: ScimTokenRepository;
  scimAuth: ScimAuthenticator;
}

export interface RuntimeOverrides {
  clock?: Clock;
  ids?: IdGenerator;
  logger?: Logger;
  metrics?: Metrics;
  dynamo?: DynamoDBDocumentClient;
  sessionKeys?: SessionKeySource;
  sealer?: SecretSealer;
  spKeys?: SpKeySource;
  /** What OIDC discovery, JWKS, token and userinfo requests go through. */
  fetch?: typeof globalThis.fetch;
  /** Other repositories (the in-memory ones, for benchmarks): replaces the DynamoDB adapters. */
  repositories?: {
    settings: SettingsRepository;
    users: UserRepository;
    audit: AuditRepository;
    loginState: LoginStateRepository;
    revocations: SessionRevocations;
    singleLogout?: SingleLogoutStore;
    loginLinks: LoginLinkStore;
    ssoTests?: SsoTestRepository;
    setupLinks?: SetupLinkRepository;
    scim?: ScimDirectory;
    scimTokens?: ScimTokenRepository;
  };
  /** How `saml.idpMetadataUrl` is resolved and fetched, and how long it may take (tests). */
  metadataFetch?: Omit<MetadataFetchOptions, 'allowLoopback'>;
  resolveTxt?: TxtResolver;
}

/**
 * The one DynamoDB client factory (functions, the CLI, the local stack and the tests).
 * Every call is bounded by `config.dynamodbLimits`: without them a DynamoDB that accepts
 * connections and never answers holds a call for the SDK's 5-minute socket default.
 * Faults left after the SDK's retries are answered as `503 SERVICE_UNAVAILABLE`
 * (shared/storage/faults.ts).
 */
export function documentClient(config: Pick<Config, 'dynamodbEndpoint' | 'dynamodbLimits'>): DynamoDBDocumentClient {
  const local = config.dynamodbEndpoint
    ? { endpoint: config.dynamodbEndpoint, region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }
    : {};
  const limits = config.dynamodbLimits ?? DEFAULT_DYNAMODB_LIMITS;
  const client = new DynamoDBClient({
    ...local,
    maxAttempts: limits.maxAttempts,
    requestHandler: {
      connectionTimeout: limits.connectTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      // Without it the SDK only logs a warning when `requestTimeout` passes, and waits on.
      throwOnRequestTimeout: true,
      // Also bounds a response that stops half-way.
      socketTimeout: limits.requestTimeoutMs,
    },
  });
  answerFaultsAsUnavailable(client);
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

function keySource(keys: Config['sessionKeys']): SessionKeySource {
  switch (keys.kind) {
    case 'file':
      return new FileKeySource(keys.path);
    case 'secretsManager':
      return new SecretsManagerKeySource(new SecretsManagerClient({}), keys.secretId);
    case 'none':
      return { load: () => Promise.reject(new Error('this function is not granted the session signing key')) };
  }
}

function sealerFor(sealing: Config['secretSealing'], clock: Clock): SecretSealer {
  switch (sealing.kind) {
    case 'kms':
      return new KmsSealer(new KMSClient({}), sealing.keyId);
    case 'file':
      return new LocalSealer(new FileKeySource(sealing.path), clock);
    case 'none': {
      const refuse = () => Promise.reject(new Error('this function is not granted the secret sealing key'));
      return { seal: refuse, open: refuse };
    }
  }
}

function spKeySource(spKeys: Config['spKeys'], clock: Clock): SpKeySource {
  switch (spKeys.kind) {
    case 'secretsManager':
      return new SecretsManagerSpKeySource(new SecretsManagerClient({}), spKeys.secretId, clock);
    case 'file':
      return new FileSpKeySource(spKeys.path, clock);
    case 'none':
      return staticSpKeySource(undefined);
  }
}

/** Builds a runtime from a config; anything in `overrides` replaces the default part. */
export function createRuntime(config: Config, overrides: RuntimeOverrides = {}): Runtime {
  const clock = overrides.clock ?? systemClock;
  const client = overrides.dynamo ?? documentClient(config);
  const store = { client, tables: config.tables, clock };
  const settingsRepository = overrides.repositories?.settings ?? new DynamoSettingsRepository(store);
  const sessionKeys = overrides.sessionKeys ?? keySource(config.sessionKeys);
  const fetch = overrides.fetch ?? globalThis.fetch;
  const oidcDiscovery = new OidcDiscoveryCache({ fetch, clock });
  const scimTokens = overrides.repositories?.scimTokens ?? new DynamoScimTokenRepository(store);
  return {
    config,
    clock,
    ids: overrides.ids ?? randomIds,
    logger: overrides.logger ?? new Logger({ serviceName: SERVICE_NAME }),
    metrics: overrides.metrics ?? new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME }),
    settingsRepository,
    settings: new SettingsCache(settingsRepository, clock, (config.settingsCacheSeconds ?? DEFAULT_SETTINGS_TTL_MS / 1000) * 1000),
    users: overrides.repositories?.users ?? new DynamoUserRepository(store),
    audit: overrides.repositories?.audit ?? new DynamoAuditRepository(store),
    sessions: new SessionTokens({ keys: sessionKeys, clock, issuer: config.baseUrl, ttlSeconds: config.sessionTtlSeconds }),
    sealer: new CachingSealer(overrides.sealer ?? sealerFor(config.secretSealing, clock), clock),
    loginState: overrides.repositories?.loginState ?? new DynamoLoginStateRepository(store),
    revocations: overrides.repositories?.revocations ?? new DynamoSessionRevocations(store),
    singleLogout: overrides.repositories?.singleLogout ?? new DynamoSingleLogoutStore(store),
    loginLinks: overrides.repositories?.loginLinks ?? new DynamoLoginLinks(store),
    spKeys: overrides.spKeys ?? spKeySource(config.spKeys, clock),
    oidcDiscovery,
    oidc: new OidcRelyingParty({ fetch, clock, discovery: oidcDiscovery }),
    baseUrl: config.baseUrl,
    ssoTests: overrides.repositories?.ssoTests ?? new DynamoSsoTestRepository(store),
    setupLinks: overrides.repositories?.setupLinks ?? new DynamoSetupLinkRepository(store),
    fetchIdpMetadata: createMetadataFetcher({ allowLoopback: config.allowLoopbackMetadata ?? false, ...overrides.metadataFetch }),
    resolveTxt: overrides.resolveTxt ?? createTxtResolver({ server: config.dnsResolver }),
    scim: overrides.repositories?.scim ?? new DynamoScimDirectory(store),
    scimTokens,
    scimAuth: new ScimAuthenticator({ scimTokens, clock }),
  };
}

let shared: Runtime | undefined;

/** The container's runtime for one function, built from `process.env` on first use. */
export function runtime(fn: FunctionDefinition): Runtime {
  shared ??= createRuntime(
    readConfig(process.env, {
      tables: Object.keys(fn.tables) as (keyof Config['tables'])[],
      sessionKeys: fn.sessionKeys !== 'none',
      secretSealing: Boolean(fn.sealsSecrets),
    }),
  );
  return shared;
}

type Handler<E, R> = (event: E, context: import('aws-lambda').Context) => Promise<R>;

/**
 * A Lambda handler whose runtime is built on the first invocation, not at import:
 * importing a function module costs only its imports.
 */
export function lazyHandler<E, R>(build: () => Handler<E, R>): Handler<E, R> {
  let built: Handler<E, R> | undefined;
  return (event, context) => (built ??= build())(event, context);
}
