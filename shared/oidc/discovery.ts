/**
 * OpenID Connect Discovery 1.0: reads an issuer's `/.well-known/openid-configuration`,
 * checks it (the document's `issuer` equals the configured one exactly; endpoints are
 * https, or http on loopback hosts) and caches it per issuer for an hour, by the injected
 * clock. Every failure is `OIDC_TOKEN_EXCHANGE_FAILED`: the login cannot proceed.
 */
import { z } from 'zod';
import type { Clock } from '../clock.js';
import { LoginError } from '../errors.js';
import { idpUrlSchema } from '../settings/model.js';
import { fetchJson, type FetchFunction, type HttpFailure } from './http.js';

export interface OidcDiscovery {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  jwks_uri: string;
  userinfo_endpoint?: string;
  /** OpenID RP-Initiated Logout 1.0: where `POST /logout` sends the browser. */
  end_session_endpoint?: string;
  token_endpoint_auth_methods_supported?: string[];
  id_token_signing_alg_values_supported?: string[];
  code_challenge_methods_supported?: string[];
}

/** Unknown members are allowed (and dropped): providers publish many more. */
const discoverySchema = z.object({
  issuer: z.string().min(1),
  authorization_endpoint: idpUrlSchema,
  token_endpoint: idpUrlSchema,
  jwks_uri: idpUrlSchema,
  userinfo_endpoint: idpUrlSchema.optional(),
  end_session_endpoint: idpUrlSchema.optional(),
  token_endpoint_auth_methods_supported: z.array(z.string()).optional(),
  id_token_signing_alg_values_supported: z.array(z.string()).optional(),
  code_challenge_methods_supported: z.array(z.string()).optional(),
});

export const DEFAULT_DISCOVERY_TTL_MS = 60 * 60 * 1000;
/** Issuers remembered at once; the oldest is forgotten first. */
const MAX_CACHED_ISSUERS = 200;

/**
 * The discovery URL of an issuer (OIDC Discovery 4.1): a terminating `/` of the issuer
 * is removed before `/.well-known/openid-configuration` is appended.
 * @example discoveryUrl('https://idp.example.com/tenant/') // 'https://idp.example.com/tenant/.well-known/openid-configuration'
 */
export function discoveryUrl(issuer: string): string {
  return `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
}

function discoveryFailed(reason: string, details: Record<string, unknown> = {}): LoginError {
  return new LoginError(
    'OIDC_TOKEN_EXCHANGE_FAILED',
    "Your identity provider's OpenID configuration could not be used. Ask your administrator to check the OIDC issuer.",
    { details: { stage: 'discovery', reason, ...details } },
  );
}

function httpFailureReason(failure: HttpFailure): string {
  switch (failure.kind) {
    case 'timeout':
      return 'the discovery document request timed out';
    case 'unreachable':
      return 'the discovery document could not be fetched';
    case 'too_large':
      return 'the discovery document is too large';
    case 'not_json':
      return 'the discovery document is not JSON';
  }
}

interface CacheEntry {
  expiresAt: number;
  value: Promise<OidcDiscovery>;
}

/**
 * Discovery documents by issuer, each kept `ttlMs` (default 1 hour). Concurrent logins
 * for one issuer share one request; a failure is not cached, so the next login retries.
 */
export class OidcDiscoveryCache {
  readonly #fetch: FetchFunction;
  readonly #clock: Clock;
  readonly #ttlMs: number;
  readonly #entries = new Map<string, CacheEntry>();

  constructor(options: { fetch: FetchFunction; clock: Clock; ttlMs?: number }) {
    this.#fetch = options.fetch;
    this.#clock = options.clock;
    this.#ttlMs = options.ttlMs ?? DEFAULT_DISCOVERY_TTL_MS;
  }

  /**
   * The checked discovery document of `issuer`.
   * @throws LoginError `OIDC_TOKEN_EXCHANGE_FAILED` when it cannot be fetched, is not
   *   valid, names another issuer, or lists an endpoint that is not https (loopback excepted).
   */
  get(issuer: string): Promise<OidcDiscovery> {
    const now = this.#clock.now().getTime();
    const cached = this.#entries.get(issuer);
    if (cached && cached.expiresAt > now) return cached.value;

    const value = this.#load(issuer);
    this.#entries.delete(issuer);
    this.#entries.set(issuer, { expiresAt: now + this.#ttlMs, value });
    while (this.#entries.size > MAX_CACHED_ISSUERS) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest);
    }
    value.catch(() => {
      if (this.#entries.get(issuer)?.value === value) this.#entries.delete(issuer);
    });
    return value;
  }

  async #load(issuer: string): Promise<OidcDiscovery> {
    if (!idpUrlSchema.safeParse(issuer).success) {
      throw discoveryFailed('the issuer is not an https URL (http only on loopback hosts)', { issuer });
    }
    const url = discoveryUrl(issuer);
    const result = await fetchJson(this.#fetch, url, { method: 'GET', headers: { accept: 'application/json' } });
    if (!result.ok) throw discoveryFailed(httpFailureReason(result.failure), { url, ...('status' in result.failure ? { status: result.failure.status } : {}) });
    if (result.status !== 200) throw discoveryFailed('the discovery document request did not answer 200', { url, status: result.status });

    const parsed = discoverySchema.safeParse(result.body);
    if (!parsed.success) {
      throw discoveryFailed('the discovery document is not valid', {
        url,
        issues: parsed.error.issues.map((issue) => `${issue.path.join('.') || '(document)'}: ${issue.message}`),
      });
    }
    // Mix-up and impersonation defence: a document may only speak for its own issuer.
    if (parsed.data.issuer !== issuer) {
      throw discoveryFailed('the discovery document names another issuer', { url, expected: issuer, received: parsed.data.issuer });
    }
    const document: OidcDiscovery = { ...parsed.data };
    for (const key of Object.keys(document) as (keyof OidcDiscovery)[]) {
      if (document[key] === undefined) delete document[key];
    }
    return document;
  }
}
