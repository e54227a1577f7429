/**
 * The OpenID Connect relying party: builds the authorization request (state, nonce,
 * PKCE S256) and completes a login from the callback's code: token exchange, ID token
 * verification (jose, with the checks jose leaves to the caller: `iat` in the future,
 * `azp`, `nonce`), userinfo for missing profile claims, and the protocol-neutral
 * `AssertedIdentity` the provisioning rules read.
 *
 * Every network call goes through the injected `fetch`; every time check uses the
 * injected clock. Failures are `LoginError`s whose details say what failed, never a
 * secret, code or token (API.md "Fine points": Signatures).
 */
import { createHash } from 'node:crypto';
import { createRemoteJWKSet, customFetch, decodeProtectedHeader, errors, jwtVerify, type JWTPayload, type JWTVerifyOptions } from 'jose';
import { epochSeconds, randomToken, type Clock } from '../clock.js';
import { LoginError, type ErrorDetails } from '../errors.js';
import type { AssertedIdentity } from '../provisioning/identity.js';
import type { OidcDiscovery, OidcDiscoveryCache } from './discovery.js';
import { fetchJson, isRecord, limitedFetch, MAX_IDP_RESPONSE_CHARS, safeIdpText, type FetchFunction, type HttpFailure } from './http.js';

/** ID token algorithms accepted: asymmetric only, never `none`, never HMAC (DESIGN.md "OIDC"). */
export const ALLOWED_ID_TOKEN_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;
export type IdTokenAlgorithm = (typeof ALLOWED_ID_TOKEN_ALGORITHMS)[number];

export const DEFAULT_CLOCK_SKEW_SECONDS = 60;
/** After a JWKS fetch, an unknown `kid` refetches only once this long has passed (jose's default). */
export const DEFAULT_JWKS_COOLDOWN_MS = 30_000;
/** A fetched JWKS is used this long before it is fetched again (jose's default). */
export const DEFAULT_JWKS_CACHE_MAX_AGE_MS = 10 * 60_000;
const JWKS_TIMEOUT_MS = 5_000;
/** Key sets remembered at once; the oldest is forgotten first. */
const MAX_CACHED_JWKS = 200;

// ---------------------------------------------------------------------------------------
// Authorization request

export interface AuthorizationRequest {
  /** Where to send the browser. */
  url: string;
  /** To store with the pending login: single use, checked at the callback. */
  state: string;
  nonce: string;
  codeVerifier: string;
}

/** BASE64URL(SHA-256(verifier)): the PKCE S256 code challenge (RFC 7636 4.2). */
export function pkceChallenge(codeVerifier: string): string {
  return createHash('sha256').update(codeVerifier, 'ascii').digest('base64url');
}

/**
 * A fresh authorization code request: 256-bit random `state`, `nonce` and PKCE verifier
 * (43 base64url characters, RFC 7636 4.1), `response_type=code`, `code_challenge_method=S256`.
 * `openid` is added to the scopes when missing. Query parameters already in the
 * authorization endpoint are kept.
 */
export function createAuthorizationRequest(
  discovery: OidcDiscovery,
  params: { clientId: string; redirectUri: string; scopes: string[] },
): AuthorizationRequest {
  const state = randomToken(32);
  const nonce = randomToken(32);
  const codeVerifier = randomToken(32);
  const scopes = [...new Set(['openid', ...params.scopes])];

  const url = new URL(discovery.authorization_endpoint);
  const query: Record<string, string> = {
    response_type: 'code',
    client_id: params.clientId,
    redirect_uri: params.redirectUri,
    scope: scopes.join(' '),
    state,
    nonce,
    code_challenge: pkceChallenge(codeVerifier),
    code_challenge_method: 'S256',
  };
  for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
  return { url: url.href, state, nonce, codeVerifier };
}

// ---------------------------------------------------------------------------------------
// Callback

export interface CallbackInput {
  code: string;
  /** The pending login's issuer: the ID token must come from it (mix-up defence). */
  issuer: string;
  nonce: string;
  codeVerifier: string;
  clientId: string;
  clientSecret?: string;
  redirectUri: string;
  /** Tolerance for `exp` and `iat`, in seconds. Default 60. */
  clockSkewSeconds?: number;
  /**
   * Filled in as the login goes, so a caller recording a failure knows how far it got:
   * `signatureVerified` is set once the ID token's signature has verified (its claims
   * may still fail). Before that, a failure proves nothing about the IdP. Optional.
   */
  progress?: { signatureVerified?: boolean };
}

export type TokenEndpointAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'none';

/**
 * How the client authenticates at the token endpoint: `none` without a secret (a public
 * client, `client_id` in the body); `client_secret_post` only when the provider lists it
 * and not `client_secret_basic`; otherwise `client_secret_basic`, the OAuth default.
 */
export function tokenEndpointAuthMethod(discovery: OidcDiscovery, clientSecret: string | undefined): TokenEndpointAuthMethod {
  if (!clientSecret) return 'none';
  const supported = discovery.token_endpoint_auth_methods_supported;
  if (supported && supported.includes('client_secret_post') && !supported.includes('client_secret_basic')) return 'client_secret_post';
  return 'client_secret_basic';
}

/** application/x-www-form-urlencoded encoding of one value (RFC 6749 2.3.1, Appendix B). */
function formEncode(value: string): string {
  return new URLSearchParams([['', value]]).toString().slice(1);
}

/** The `Authorization` header of `client_secret_basic`: id and secret form-encoded, then base64. */
export function basicAuthorization(clientId: string, clientSecret: string): string {
  return `Basic ${Buffer.from(`${formEncode(clientId)}:${formEncode(clientSecret)}`, 'utf8').toString('base64')}`;
}

interface TokenResponse {
  idToken: string;
  accessToken?: string;
}

/** Claims the ID token should carry for the profile; userinfo is asked when one is missing. */
const PROFILE_CLAIMS = ['email', 'given_name', 'family_name'] as const;

export interface OidcRelyingPartyOptions {
  fetch: FetchFunction;
  clock: Clock;
  discovery: OidcDiscoveryCache;
  /** Least time between two JWKS fetches caused by an unknown `kid`. Default 30 s. */
  jwksCooldownMs?: number;
  /** How long a fetched JWKS is used before it is fetched again. Default 10 min. */
  jwksCacheMaxAgeMs?: number;
}

type RemoteJwks = ReturnType<typeof createRemoteJWKSet>;

/**
 * Completes OIDC logins for any issuer. One instance serves a warm Lambda: it keeps a
 * remote JWKS per `jwks_uri`, so an unknown `kid` refetches at most once per cooldown.
 */
export class OidcRelyingParty {
  readonly #fetch: FetchFunction;
  readonly #clock: Clock;
  readonly #discovery: OidcDiscoveryCache;
  readonly #jwksCooldownMs: number;
  readonly #jwksCacheMaxAgeMs: number;
  readonly #jwks = new Map<string, RemoteJwks>();

  constructor(options: OidcRelyingPartyOptions) {
    this.#fetch = options.fetch;
    this.#clock = options.clock;
    this.#discovery = options.discovery;
    this.#jwksCooldownMs = options.jwksCooldownMs ?? DEFAULT_JWKS_COOLDOWN_MS;
    this.#jwksCacheMaxAgeMs = options.jwksCacheMaxAgeMs ?? DEFAULT_JWKS_CACHE_MAX_AGE_MS;
  }

  /**
   * code → tokens → verified ID token (+ userinfo for missing profile claims) → identity
   * (`protocol: 'oidc'`, `issuer`, `subject` = `sub`, every claim as strings).
   * The caller has already consumed the single-use `state` and found the pending login.
   * @throws LoginError `OIDC_TOKEN_EXCHANGE_FAILED`, `ID_TOKEN_INVALID`, `NONCE_MISMATCH`
   */
  async completeLogin(input: CallbackInput): Promise<AssertedIdentity> {
    const discovery = await this.#discovery.get(input.issuer);
    const tokens = await this.#exchangeCode(discovery, input);
    const claims = await this.#verifyIdToken(discovery, tokens.idToken, input);
    const userinfo = await this.#userinfo(discovery, tokens, claims);
    return {
      protocol: 'oidc',
      issuer: input.issuer,
      subject: claims.sub,
      // ID token claims win: they are signed, userinfo only fills what they lack.
      attributes: claimsToAttributes({ ...userinfo, ...claims }),
    };
  }

  async #exchangeCode(discovery: OidcDiscovery, input: CallbackInput): Promise<TokenResponse> {
    const body = new URLSearchParams({
      grant_type: 'authorization_code',
      code: input.code,
      redirect_uri: input.redirectUri,
      code_verifier: input.codeVerifier,
    });
    const headers: Record<string, string> = {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    };
    const method = tokenEndpointAuthMethod(discovery, input.clientSecret);
    if (method === 'client_secret_basic') {
      headers.authorization = basicAuthorization(input.clientId, input.clientSecret!);
    } else {
      body.set('client_id', input.clientId);
      if (method === 'client_secret_post') body.set('client_secret', input.clientSecret!);
    }

    const secrets = [input.clientSecret, input.code, input.codeVerifier];
    const result = await fetchJson(this.#fetch, discovery.token_endpoint, { method: 'POST', headers, body: body.toString() });
    if (!result.ok) throw tokenExchangeFailed(httpFailureReason(result.failure), 'status' in result.failure ? { status: result.failure.status } : {});

    const { status, body: json } = result;
    if (isRecord(json) && json.error !== undefined) {
      throw tokenExchangeFailed('the token endpoint returned an OAuth error', {
        status,
        error: safeIdpText(json.error, secrets) ?? 'invalid error field',
        errorDescription: safeIdpText(json.error_description, secrets),
      });
    }
    if (status < 200 || status > 299) throw tokenExchangeFailed('the token endpoint did not answer 2xx', { status });
    if (!isRecord(json)) throw tokenExchangeFailed('the token response is not a JSON object', { status });
    if (typeof json.id_token !== 'string' || json.id_token === '') throw tokenExchangeFailed('the token response has no id_token', { status });
    return {
      idToken: json.id_token,
      ...(typeof json.access_token === 'string' && json.access_token !== '' ? { accessToken: json.access_token } : {}),
    };
  }

  async #verifyIdToken(discovery: OidcDiscovery, idToken: string, input: CallbackInput): Promise<JWTPayload & { sub: string }> {
    const supported = discovery.id_token_signing_alg_values_supported;
    const algorithms = supported ? ALLOWED_ID_TOKEN_ALGORITHMS.filter((alg) => supported.includes(alg)) : [...ALLOWED_ID_TOKEN_ALGORITHMS];
    if (algorithms.length === 0) {
      throw idTokenInvalid('no_allowed_algorithm', { expected: [...ALLOWED_ID_TOKEN_ALGORITHMS], received: supported });
    }
    const skew = input.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS;
    const now = this.#clock.now();
    const options: JWTVerifyOptions = {
      algorithms,
      issuer: input.issuer,
      audience: input.clientId,
      requiredClaims: ['exp', 'iat', 'sub'],
      currentDate: now,
      clockTolerance: skew,
    };

    let payload: JWTPayload;
    try {
      payload = await verifyWithJwks(idToken, this.#remoteJwks(discovery.jwks_uri), options);
    } catch (error) {
      // jose checks the claims only once the signature has verified.
      if ((error instanceof errors.JWTClaimValidationFailed || error instanceof errors.JWTExpired) && input.progress) input.progress.signatureVerified = true;
      throw joseFailure(error, idToken, options);
    }
    if (input.progress) input.progress.signatureVerified = true;

    // jose checks `iat` only when `maxTokenAge` is set, so a token from the future passes it.
    const iat = payload.iat!;
    if (iat > epochSeconds(now) + skew) {
      throw idTokenInvalid('iat_in_future', { expected: `iat <= ${new Date((epochSeconds(now) + skew) * 1000).toISOString()}`, received: new Date(iat * 1000).toISOString() });
    }
    if (typeof payload.sub !== 'string' || payload.sub === '') throw idTokenInvalid('sub_invalid', { expected: 'a non-empty string' });
    if (Array.isArray(payload.aud) && payload.aud.length > 1 && payload.azp === undefined) {
      throw idTokenInvalid('azp_missing', { expected: input.clientId, received: payload.aud });
    }
    if (payload.azp !== undefined && payload.azp !== input.clientId) {
      throw idTokenInvalid('azp_mismatch', { expected: input.clientId, received: payload.azp });
    }
    if (typeof payload.nonce !== 'string' || payload.nonce !== input.nonce) {
      throw new LoginError('NONCE_MISMATCH', 'This sign-in response does not belong to the sign-in you started. Start again from the login page.', {
        details: { reason: payload.nonce === undefined ? 'nonce_missing' : 'nonce_mismatch' },
      });
    }
    return payload as JWTPayload & { sub: string };
  }

  /** Userinfo claims when the ID token lacks a profile claim; `{}` when unavailable. */
  async #userinfo(discovery: OidcDiscovery, tokens: TokenResponse, claims: JWTPayload & { sub: string }): Promise<Record<string, unknown>> {
    const missing = PROFILE_CLAIMS.some((claim) => typeof claims[claim] !== 'string' || claims[claim] === '');
    if (!missing || !discovery.userinfo_endpoint || !tokens.accessToken) return {};

    const result = await fetchJson(this.#fetch, discovery.userinfo_endpoint, {
      method: 'GET',
      headers: { authorization: `Bearer ${tokens.accessToken}`, accept: 'application/json' },
    });
    // Userinfo only adds optional claims: when it fails, provisioning reports what is missing.
    if (!result.ok || result.status !== 200 || !isRecord(result.body)) return {};
    if (result.body.sub !== claims.sub) {
      throw idTokenInvalid('userinfo_sub_mismatch', { expected: claims.sub, received: typeof result.body.sub === 'string' ? result.body.sub : null });
    }
    return result.body;
  }

  #remoteJwks(jwksUri: string): RemoteJwks {
    let jwks = this.#jwks.get(jwksUri);
    if (!jwks) {
      jwks = createRemoteJWKSet(new URL(jwksUri), {
        [customFetch]: limitedFetch(this.#fetch, MAX_IDP_RESPONSE_CHARS),
        cooldownDuration: this.#jwksCooldownMs,
        cacheMaxAge: this.#jwksCacheMaxAgeMs,
        timeoutDuration: JWKS_TIMEOUT_MS,
      });
      this.#jwks.set(jwksUri, jwks);
      while (this.#jwks.size > MAX_CACHED_JWKS) {
        const oldest = this.#jwks.keys().next().value;
        if (oldest === undefined) break;
        this.#jwks.delete(oldest);
      }
    }
    return jwks;
  }
}

/**
 * `jwtVerify` with a remote key set. When several keys match (a JWKS without `kid`s and a
 * token without one), jose 6 throws `JWKSMultipleMatchingKeys` and leaves trying each
 * candidate to the caller: the first whose signature verifies decides.
 */
async function verifyWithJwks(token: string, jwks: RemoteJwks, options: JWTVerifyOptions): Promise<JWTPayload> {
  try {
    return (await jwtVerify(token, jwks, options)).payload;
  } catch (error) {
    if (!(error instanceof errors.JWKSMultipleMatchingKeys)) throw error;
    for await (const key of error) {
      try {
        return (await jwtVerify(token, key, options)).payload;
      } catch (candidateError) {
        if (!(candidateError instanceof errors.JWSSignatureVerificationFailed)) throw candidateError;
      }
    }
    throw new errors.JWSSignatureVerificationFailed();
  }
}

// ---------------------------------------------------------------------------------------
// Claims

/**
 * Every claim as a list of strings: a string as `[s]`, an array by its string, number and
 * boolean members, a boolean or number stringified (`email_verified: false` → `['false']`).
 * Objects (`address`) and nulls are skipped; an empty array stays empty.
 */
export function claimsToAttributes(claims: Record<string, unknown>): Map<string, string[]> {
  const attributes = new Map<string, string[]>();
  for (const [name, value] of Object.entries(claims)) {
    if (Array.isArray(value)) {
      const values = value.map(scalarToString).filter((item): item is string => item !== undefined);
      // An empty array is kept (the IdP says "none"); an array of objects only is skipped.
      if (values.length > 0 || value.length === 0) attributes.set(name, values);
      continue;
    }
    const scalar = scalarToString(value);
    if (scalar !== undefined) attributes.set(name, [scalar]);
  }
  return attributes;
}

function scalarToString(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))) return String(value);
  return undefined;
}

// ---------------------------------------------------------------------------------------
// Errors

function tokenExchangeFailed(reason: string, details: ErrorDetails = {}): LoginError {
  return new LoginError(
    'OIDC_TOKEN_EXCHANGE_FAILED',
    'Signing in with your identity provider failed: the sign-in could not be completed with it. Try again, or ask your administrator to check the OIDC settings.',
    { details: { stage: 'token', reason, ...withoutUndefined(details) } },
  );
}

function idTokenInvalid(reason: string, details: ErrorDetails = {}, cause?: unknown): LoginError {
  return new LoginError(
    'ID_TOKEN_INVALID',
    'The sign-in from your identity provider could not be verified. Try again, or ask your administrator to check the OIDC settings.',
    { details: { reason, ...withoutUndefined(details) }, cause },
  );
}

function withoutUndefined(details: ErrorDetails): ErrorDetails {
  return Object.fromEntries(Object.entries(details).filter(([, value]) => value !== undefined));
}

function httpFailureReason(failure: HttpFailure): string {
  switch (failure.kind) {
    case 'timeout':
      return 'the token request timed out';
    case 'unreachable':
      return 'the token endpoint could not be reached';
    case 'too_large':
      return 'the token response is too large';
    case 'not_json':
      return 'the token response is not JSON';
  }
}

function headerOf(token: string): { alg?: unknown; kid?: unknown } {
  try {
    return decodeProtectedHeader(token);
  } catch {
    return {};
  }
}

const isoOf = (seconds: unknown): unknown => (typeof seconds === 'number' && Number.isFinite(seconds) ? new Date(seconds * 1000).toISOString() : seconds);

/** A jose failure as `ID_TOKEN_INVALID`, by error class (never by name strings). */
function joseFailure(error: unknown, token: string, options: JWTVerifyOptions): LoginError {
  if (error instanceof LoginError) return error;
  const header = headerOf(token);
  if (error instanceof errors.JOSEAlgNotAllowed) {
    return idTokenInvalid('algorithm_not_allowed', { expected: options.algorithms, received: header.alg }, error);
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return idTokenInvalid('signature_invalid', {}, error);
  if (error instanceof errors.JWKSNoMatchingKey) return idTokenInvalid('unknown_key', { received: { alg: header.alg, kid: header.kid } }, error);
  if (error instanceof errors.JWKSTimeout) return idTokenInvalid('jwks_timeout', {}, error);
  if (error instanceof errors.JWKSInvalid || error instanceof errors.JWKInvalid) return idTokenInvalid('jwks_invalid', {}, error);
  if (error instanceof errors.JWTExpired) {
    // JWTExpired is a claim failure of `exp`, or of `iat` with maxTokenAge (not used here).
    const earliest = new Date((options.currentDate?.getTime() ?? 0) - Number(options.clockTolerance ?? 0) * 1000);
    return idTokenInvalid('expired', { claim: error.claim, expected: `${error.claim} after ${earliest.toISOString()}`, received: isoOf(error.payload[error.claim]) }, error);
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    const claim = error.claim;
    const expected = claim === 'iss' ? options.issuer : claim === 'aud' ? options.audience : undefined;
    const received = ['exp', 'iat', 'nbf'].includes(claim) ? isoOf(error.payload[claim]) : error.payload[claim];
    return idTokenInvalid(`${claim}_${error.reason}`, { claim, expected, received }, error);
  }
  if (error instanceof errors.JOSENotSupported) return idTokenInvalid('not_supported', { received: header.alg }, error);
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid) return idTokenInvalid('malformed', {}, error);
  // What is left of jose's errors is the JWKS response (not 200, not JSON).
  if (error instanceof errors.JOSEError) return idTokenInvalid('jwks_unavailable', {}, error);
  // fetch's own errors (network) and anything unexpected; the cause is kept for the log.
  return idTokenInvalid('verification_failed', {}, error);
}
