/**
 * A fake (and, when a test says so, hostile) OpenID provider that lives in memory and is
 * reached only through its `fetch` function: discovery, JWKS, token and userinfo
 * endpoints, with keys generated at test time and ID tokens signed by jose. It records
 * every request so tests can assert what the relying party sent.
 */
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import { expect } from 'vitest';
import { fixedClock } from '../../shared/clock.js';
import { LoginError, type ErrorCode } from '../../shared/errors.js';
import { OidcDiscoveryCache } from '../../shared/oidc/discovery.js';
import { OidcRelyingParty, type CallbackInput, type OidcRelyingPartyOptions } from '../../shared/oidc/relying-party.js';

export const ISSUER = 'https://idp.example.com';
export const CLIENT_ID = 'sso-jit-client';
export const REDIRECT_URI = 'https://sso.example.com/sso/acme/oidc/callback';
export const CODE = 'authorization-code-1';
export const CODE_VERIFIER = 'verifier-0123456789-0123456789-0123456789-abc';
export const NONCE = 'nonce-0123456789';
export const ACCESS_TOKEN = 'access-token-1';
export const SUBJECT = 'user-123';
/** The injected "now": long before the machine's clock, so only the injected one can accept tokens issued then. */
export const T0 = new Date('2025-03-01T12:00:00.000Z');
export const T0_SECONDS = T0.getTime() / 1000;

export interface RecordedRequest {
  method: string;
  url: URL;
  headers: Headers;
  body: string;
}

export interface SigningKey {
  kid: string;
  alg: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export async function newSigningKey(kid: string, alg = 'RS256'): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

const json = (body: unknown, status = 200): Response =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

/** The claims of a good ID token at T0; a test overrides or removes (`undefined`) some. */
export function idTokenClaims(overrides: Record<string, unknown> = {}): JWTPayload {
  return {
    iss: ISSUER,
    sub: SUBJECT,
    aud: CLIENT_ID,
    iat: T0_SECONDS,
    exp: T0_SECONDS + 600,
    nonce: NONCE,
    email: 'ada@acme.com',
    email_verified: true,
    given_name: 'Ada',
    family_name: 'Lovelace',
    ...overrides,
  };
}

export class FakeProvider {
  readonly issuer: string;
  /** Served at the discovery URL; tests edit it to lie. */
  discovery: Record<string, unknown>;
  /** Served at jwks_uri. */
  jwks: { keys: JWK[] };
  readonly signingKey: SigningKey;
  readonly requests: RecordedRequest[] = [];
  /** The ID token the token endpoint returns. */
  idToken = '';
  /** Answers the token endpoint; by default a good token response with {@link idToken}. */
  tokenEndpoint: (request: RecordedRequest) => Response = () =>
    json({ access_token: ACCESS_TOKEN, token_type: 'Bearer', expires_in: 300, id_token: this.idToken });
  /** Claims the userinfo endpoint returns for the right access token. */
  userinfo: Record<string, unknown> = { sub: SUBJECT };
  userinfoEndpoint: (request: RecordedRequest) => Response = (request) =>
    request.headers.get('authorization') === `Bearer ${ACCESS_TOKEN}` ? json(this.userinfo) : json({ error: 'invalid_token' }, 401);

  private constructor(issuer: string, signingKey: SigningKey) {
    this.issuer = issuer;
    this.signingKey = signingKey;
    const base = issuer.replace(/\/+$/, '');
    this.discovery = {
      issuer,
      authorization_endpoint: `${base}/authorize`,
      token_endpoint: `${base}/token`,
      jwks_uri: `${base}/jwks`,
      userinfo_endpoint: `${base}/userinfo`,
      response_types_supported: ['code'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256', 'ES256'],
      code_challenge_methods_supported: ['S256'],
    };
    this.jwks = { keys: [signingKey.publicJwk] };
  }

  static async create(issuer = ISSUER): Promise<FakeProvider> {
    return new FakeProvider(issuer, await newSigningKey('key-1'));
  }

  /** An ID token signed by this provider's key (or `key`), with `claims`. */
  async sign(claims: JWTPayload = idTokenClaims(), key: SigningKey = this.signingKey): Promise<string> {
    return new SignJWT(claims).setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' }).sign(key.privateKey);
  }

  /** Signs `claims` and makes the token endpoint return it. */
  async issue(claims: JWTPayload = idTokenClaims(), key?: SigningKey): Promise<string> {
    this.idToken = await this.sign(claims, key);
    return this.idToken;
  }

  requestsTo(path: string): RecordedRequest[] {
    return this.requests.filter((request) => request.url.pathname.endsWith(path));
  }

  readonly fetch: typeof globalThis.fetch = async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : input.toString());
    const request: RecordedRequest = {
      method: init?.method ?? 'GET',
      url,
      headers: new Headers(init?.headers),
      body: typeof init?.body === 'string' ? init.body : '',
    };
    this.requests.push(request);
    const base = this.issuer.replace(/\/+$/, '');
    switch (`${url.origin}${url.pathname}`) {
      case `${base}/.well-known/openid-configuration`:
        return json(this.discovery);
      case `${base}/jwks`:
        return json(this.jwks);
      case `${base}/token`:
        return request.method === 'POST' ? this.tokenEndpoint(request) : json({ error: 'invalid_request' }, 405);
      case `${base}/userinfo`:
        return this.userinfoEndpoint(request);
      default:
        return new Response('not found', { status: 404 });
    }
  };
}

/** A relying party wired to `provider`, with the clock at T0 unless given. */
export function relyingPartyFor(provider: FakeProvider, options: Partial<OidcRelyingPartyOptions> = {}) {
  const clock = fixedClock(T0);
  const discovery = new OidcDiscoveryCache({ fetch: provider.fetch, clock });
  const rp = new OidcRelyingParty({ fetch: provider.fetch, clock, discovery, ...options });
  return { rp, clock };
}

/** The callback of the pending login the tests complete. */
export function callback(overrides: Partial<CallbackInput> = {}): CallbackInput {
  return {
    code: CODE,
    issuer: ISSUER,
    nonce: NONCE,
    codeVerifier: CODE_VERIFIER,
    clientId: CLIENT_ID,
    redirectUri: REDIRECT_URI,
    ...overrides,
  };
}

/** The LoginError `promise` rejects with, after checking its code. */
export async function loginErrorOf(promise: Promise<unknown>, code: ErrorCode): Promise<LoginError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(LoginError);
  expect((error as LoginError).code).toBe(code);
  return error as LoginError;
}

export const base64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
