/**
 * Defaults shared by `npm start` and the CLI on a developer's machine, so a token the
 * CLI prints is accepted by the server started from the same checkout.
 */
import { fileURLToPath } from 'node:url';
import { localEnv } from '../shared/config.js';

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Git-ignored: the local session signing secret lives here, never in git. */
export const LOCAL_DIR = `${REPO_ROOT}.local`;
export const LOCAL_SESSION_KEY_FILE = `${LOCAL_DIR}/session-keys.json`;
/** The local SP key pair (made by `npm start` on first run) that signs AuthnRequests. */
export const LOCAL_SP_KEY_FILE = `${LOCAL_DIR}/sp-key.json`;
export const LOCAL_TABLE_PREFIX = 'sso-jit-local';
/** Where `npm start` builds the admin console and the Console function reads it (git-ignored). */
export const LOCAL_CONSOLE_DIR = `${REPO_ROOT}dist/console`;

type Env = Record<string, string | undefined>;

const PASSED_THROUGH = ['SETTINGS_CACHE_SECONDS', 'DYNAMODB_CONNECT_TIMEOUT_MS', 'DYNAMODB_REQUEST_TIMEOUT_MS', 'DYNAMODB_MAX_ATTEMPTS'] as const;

/** The functions' environment for a local stack on `port` against `dynamodbEndpoint`. */
export function localStackEnv(env: Env, dynamodbEndpoint: string): Env {
  const port = Number(env.PORT ?? 3000);
  return {
    ...localEnv({
      baseUrl: env.BASE_URL ?? `http://localhost:${port}`,
      tablePrefix: env.TABLE_PREFIX ?? LOCAL_TABLE_PREFIX,
      dynamodbEndpoint,
      sessionKeyFile: env.SESSION_KEY_FILE ?? LOCAL_SESSION_KEY_FILE,
      spKeyFile: env.SP_KEY_FILE ?? LOCAL_SP_KEY_FILE,
    }),
    CONSOLE_DIR: env.CONSOLE_DIR ?? LOCAL_CONSOLE_DIR,
    // Tuning the developer may pass on: how long settings stay in memory (two local
    // instances on one DynamoDB are two warm containers) and the DynamoDB call bounds.
    ...Object.fromEntries(PASSED_THROUGH.filter((name) => env[name]).map((name) => [name, env[name]])),
  };
}
