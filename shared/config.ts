/**
 * Runtime configuration, read once from the environment by each function's
 * composition root, typed, failing fast with the name of what is missing.
 * Domain code receives the typed values; it never reads `process.env`.
 */
import { DEFAULT_SESSION_TTL_SECONDS } from './sessions/session-tokens.js';
import { DEFAULT_SETTINGS_TTL_MS } from './settings/settings-cache.js';
import { tableNamesFor, TABLES, type TableNames } from './storage/tables.js';

export interface Config {
  /** Public base URL of the API, without a trailing slash. */
  baseUrl: string;
  tables: TableNames;
  /** A DynamoDB endpoint other than AWS's (DynamoDB Local). */
  dynamodbEndpoint?: string;
  /** How long one DynamoDB call may take; {@link DEFAULT_DYNAMODB_LIMITS} when absent. */
  dynamodbLimits?: DynamoDbLimits;
  /** Where the session signing secret lives: Secrets Manager in AWS, a file locally. */
  sessionKeys: { kind: 'secretsManager'; secretId: string } | { kind: 'file'; path: string } | { kind: 'none' };
  sessionTtlSeconds: number;
  /**
   * How long an instance may keep an org's settings in memory (`SETTINGS_CACHE_SECONDS`,
   * default 5). A speed device only: it never changes what a login decides.
   */
  settingsCacheSeconds?: number;
  /** How stored secrets (OIDC client secrets) are sealed: KMS in AWS, the local key file on a developer's machine. */
  secretSealing: { kind: 'kms'; keyId: string } | { kind: 'file'; path: string } | { kind: 'none' };
  /** The SP key pairs (signing AuthnRequests, decrypting assertions): a Secrets Manager secret in AWS, a file locally, or none. */
  spKeys: { kind: 'secretsManager'; secretId: string } | { kind: 'file'; path: string } | { kind: 'none' };
  /**
   * The folder holding the built admin console (`index.html`, `assets/`): `CONSOLE_DIR`,
   * set by CDK to the folder inside the Console function's bundle. Absent: `dist/console`
   * under the working directory (what `npm run build:console` writes).
   */
  consoleDir?: string;
  /**
   * Whether `saml.idpMetadataUrl` may point at loopback (and use `http` there):
   * `ALLOW_LOOPBACK_METADATA=true`, set by `npm start` and the tests, never in AWS.
   */
  allowLoopbackMetadata?: boolean;
  /** The DNS server (`host:port`) that domain verification asks, instead of the system's (`DNS_RESOLVER`). */
  dnsResolver?: string;
}

type Env = Record<string, string | undefined>;

/**
 * The bounds of every DynamoDB call (the one client factory, `documentClient` in
 * functions/runtime.ts), so a DynamoDB that is slow or gone costs a request a few
 * seconds and a clear `503`, never the function's whole timeout.
 */
export interface DynamoDbLimits {
  /** Time to open a connection, in ms (`DYNAMODB_CONNECT_TIMEOUT_MS`). */
  connectTimeoutMs: number;
  /** Time one attempt may wait for DynamoDB's answer, or sit idle while reading it, in ms (`DYNAMODB_REQUEST_TIMEOUT_MS`). */
  requestTimeoutMs: number;
  /** Attempts per call, the first included (`DYNAMODB_MAX_ATTEMPTS`): the SDK retries throttles, timeouts and 5xx with backoff. */
  maxAttempts: number;
}

/**
 * DynamoDB answers in milliseconds: a second per attempt is generous, and three attempts
 * end a call to a DynamoDB that does not answer in about 3 s (6 s at most, with the SDK's
 * throttling backoff), inside the functions' 10 s timeout and API Gateway's 30 s.
 */
export const DEFAULT_DYNAMODB_LIMITS: DynamoDbLimits = { connectTimeoutMs: 1_000, requestTimeoutMs: 1_000, maxAttempts: 3 };

/** The SDK's first backoff after a throttle (doubling on each retry); transient errors back off far less. */
const SDK_THROTTLING_BACKOFF_MS = 1_000;

/** The longest one call may take under `limits`: every attempt timing out, and the longest backoff between them. */
export function worstCaseCallMs(limits: DynamoDbLimits): number {
  let backoff = 0;
  for (let retry = 0; retry < limits.maxAttempts - 1; retry += 1) backoff += SDK_THROTTLING_BACKOFF_MS * 2 ** retry;
  return limits.maxAttempts * Math.max(limits.connectTimeoutMs, limits.requestTimeoutMs) + backoff;
}

/** One call may take at most this long, so a request that makes a few calls still answers before the function times out. */
export const MAX_DYNAMODB_CALL_MS = 10_000;

/** The environment variables besides the tables' (whose names are in shared/storage/tables.ts). CDK sets them; the CLI passes them on. */
export const ENV_VARS = {
  baseUrl: 'BASE_URL',
  sessionKeySecretArn: 'SESSION_KEY_SECRET_ARN',
  sessionKeyFile: 'SESSION_KEY_FILE',
  secretsKmsKeyArn: 'SECRETS_KMS_KEY_ARN',
  spKeySecretArn: 'SP_KEY_SECRET_ARN',
  spKeyFile: 'SP_KEY_FILE',
  consoleDir: 'CONSOLE_DIR',
  allowLoopbackMetadata: 'ALLOW_LOOPBACK_METADATA',
} as const;

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

function required(env: Env, name: string): string {
  const value = env[name];
  if (!value) throw new ConfigError(`environment variable ${name} is not set`);
  return value;
}

function wholeNumber(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, not ${raw}`);
  return value;
}

function dynamodbLimits(env: Env): DynamoDbLimits {
  const limits = {
    connectTimeoutMs: wholeNumber(env, 'DYNAMODB_CONNECT_TIMEOUT_MS', DEFAULT_DYNAMODB_LIMITS.connectTimeoutMs, 50, MAX_DYNAMODB_CALL_MS),
    requestTimeoutMs: wholeNumber(env, 'DYNAMODB_REQUEST_TIMEOUT_MS', DEFAULT_DYNAMODB_LIMITS.requestTimeoutMs, 50, MAX_DYNAMODB_CALL_MS),
    maxAttempts: wholeNumber(env, 'DYNAMODB_MAX_ATTEMPTS', DEFAULT_DYNAMODB_LIMITS.maxAttempts, 1, 10),
  };
  const worst = worstCaseCallMs(limits);
  if (worst > MAX_DYNAMODB_CALL_MS) {
    throw new ConfigError(
      `DYNAMODB_MAX_ATTEMPTS × DYNAMODB_REQUEST_TIMEOUT_MS (with the SDK's backoff) lets one DynamoDB call take ${worst} ms: keep it within ${MAX_DYNAMODB_CALL_MS} ms`,
    );
  }
  return limits;
}

/** What one function needs from the environment (functions/routes.ts says it per function). */
export interface ConfigNeeds {
  tables: readonly (keyof TableNames)[];
  sessionKeys: boolean;
  /** Seals or opens stored secrets: needs the KMS key (or, locally, the key file). */
  secretSealing?: boolean;
}

const EVERYTHING: ConfigNeeds = { tables: ['users', 'mappings', 'audit', 'loginState'], sessionKeys: true };

/**
 * Reads the config a function needs. Each function is given only its own tables and
 * key (least privilege), so a table it does not need is not required: using one
 * anyway fails at DynamoDB with a name that says why.
 */
export function readConfig(env: Env = process.env, needs: ConfigNeeds = EVERYTHING): Config {
  const baseUrl = required(env, 'BASE_URL').replace(/\/+$/, '');
  try {
    new URL(baseUrl);
  } catch {
    throw new ConfigError(`BASE_URL is not a URL: ${baseUrl}`);
  }
  const tables = Object.fromEntries(
    TABLES.map((table) => {
      const name = needs.tables.includes(table.key) ? required(env, table.envVar) : (env[table.envVar] ?? `${table.envVar}-not-granted-to-this-function`);
      return [table.key, name];
    }),
  ) as unknown as TableNames;
  const secretId = env.SESSION_KEY_SECRET_ARN;
  const keyFile = env.SESSION_KEY_FILE;
  if (needs.sessionKeys && !secretId && !keyFile) throw new ConfigError('set SESSION_KEY_SECRET_ARN (AWS) or SESSION_KEY_FILE (local)');
  if (needs.secretSealing && !env.SECRETS_KMS_KEY_ARN && !keyFile) throw new ConfigError('set SECRETS_KMS_KEY_ARN (AWS) or SESSION_KEY_FILE (local)');
  const ttl = Number(env.SESSION_TTL_SECONDS ?? DEFAULT_SESSION_TTL_SECONDS);
  if (!Number.isInteger(ttl) || ttl < 60) throw new ConfigError('SESSION_TTL_SECONDS must be a whole number of seconds, at least 60');
  const settingsCacheSeconds = Number(env.SETTINGS_CACHE_SECONDS ?? DEFAULT_SETTINGS_TTL_MS / 1000);
  if (!Number.isFinite(settingsCacheSeconds) || settingsCacheSeconds < 0) throw new ConfigError('SETTINGS_CACHE_SECONDS must be a number of seconds, 0 or more');
  return {
    baseUrl,
    tables,
    settingsCacheSeconds,
    dynamodbEndpoint: env.DYNAMODB_ENDPOINT || undefined,
    dynamodbLimits: dynamodbLimits(env),
    sessionKeys: secretId ? { kind: 'secretsManager', secretId } : keyFile ? { kind: 'file', path: keyFile } : { kind: 'none' },
    sessionTtlSeconds: ttl,
    spKeys: env.SP_KEY_SECRET_ARN
      ? { kind: 'secretsManager', secretId: env.SP_KEY_SECRET_ARN }
      : env.SP_KEY_FILE
        ? { kind: 'file', path: env.SP_KEY_FILE }
        : { kind: 'none' },
    secretSealing: env.SECRETS_KMS_KEY_ARN ? { kind: 'kms', keyId: env.SECRETS_KMS_KEY_ARN } : keyFile ? { kind: 'file', path: keyFile } : { kind: 'none' },
    ...(env.CONSOLE_DIR ? { consoleDir: env.CONSOLE_DIR } : {}),
    allowLoopbackMetadata: env.ALLOW_LOOPBACK_METADATA === 'true',
    ...(env.DNS_RESOLVER ? { dnsResolver: env.DNS_RESOLVER } : {}),
  };
}

/** The environment a local process (npm start, the CLI, tests) gives the functions. */
export function localEnv(options: { baseUrl: string; tablePrefix: string; dynamodbEndpoint: string; sessionKeyFile: string; spKeyFile?: string }): Env {
  const names = tableNamesFor(options.tablePrefix);
  const byEnvVar = Object.fromEntries(TABLES.map((table) => [table.envVar, names[table.key]]));
  return {
    BASE_URL: options.baseUrl,
    DYNAMODB_ENDPOINT: options.dynamodbEndpoint,
    SESSION_KEY_FILE: options.sessionKeyFile,
    ...(options.spKeyFile ? { SP_KEY_FILE: options.spKeyFile } : {}),
    // A developer's IdP runs on this machine: its metadata URL is on loopback.
    ALLOW_LOOPBACK_METADATA: 'true',
    ...byEnvVar,
  };
}
