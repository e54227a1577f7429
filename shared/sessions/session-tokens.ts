/**
 * Session tokens: JWTs signed with the deployment's Ed25519 key (`kid` in the header),
 * verifiable with the public JWKS. The `session` cookie carries the token itself.
 */
import { errors as joseErrors, jwtVerify, SignJWT, type JWK, type JWTPayload } from 'jose';
import { randomToken, type Clock } from '../clock.js';
import { AppError } from '../errors.js';
import type { User } from '../users/model.js';
import { deriveSigningKey, type SessionKeySource, type SigningKey } from './keys.js';

export const SESSION_COOKIE = 'session';
export const DEFAULT_SESSION_TTL_SECONDS = 8 * 3600;
const AUDIENCE = 'sso-jit';
/**
 * Setup sessions (a customer's IT admin, through a setup link) get their own audience and
 * a `scope` claim: a setup token never verifies as a user session, nor the reverse.
 */
const SETUP_AUDIENCE = 'sso-jit:setup';
export const SETUP_SCOPE = 'setup';
const KEY_REFRESH_MS = 5 * 60_000;
const UNKNOWN_KID_REFRESH_MS = 10_000;

/** The `kid` of a compact JWS, without verifying anything. */
function kidOf(token: string): string | undefined {
  try {
    const header = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString('utf8')) as { kid?: unknown };
    return typeof header.kid === 'string' ? header.kid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The IdP session a token was made from (claim `idp`): what single logout needs. SAML:
 * the IdP's entity ID, the NameID (and Format) and the AuthnStatement's SessionIndex, so
 * an IdP's LogoutRequest can end it and `POST /logout` can send a LogoutRequest naming
 * it. OIDC: the issuer, whose `end_session_endpoint` `POST /logout` sends the browser to.
 * The token is signed, so none of this can be forged by its holder; it holds no secret
 * (the NameID identifies the holder to their own IdP).
 */
export interface IdpSessionClaim {
  protocol: 'saml' | 'oidc';
  issuer: string;
  nameId?: string;
  nameIdFormat?: string;
  sessionIndex?: string;
}

export interface SessionClaims {
  sub: string;
  org: string;
  email: string;
  /** This token's own id: what `POST /logout` revokes. */
  jti: string;
  iat: number;
  exp: number;
  /** Set on tokens made by an SSO login. */
  idp?: IdpSessionClaim;
}

/** The `idp` claim when it has the shape {@link IdpSessionClaim} (else it is ignored). */
function idpClaimOf(value: unknown): IdpSessionClaim | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const claim = value as Record<string, unknown>;
  if ((claim.protocol !== 'saml' && claim.protocol !== 'oidc') || typeof claim.issuer !== 'string') return undefined;
  const optional = (name: 'nameId' | 'nameIdFormat' | 'sessionIndex') => (typeof claim[name] === 'string' ? { [name]: claim[name] as string } : {});
  return { protocol: claim.protocol, issuer: claim.issuer, ...optional('nameId'), ...optional('nameIdFormat'), ...optional('sessionIndex') };
}

/** A setup session's claims: `sub` is `setup:{linkId}`. */
export interface SetupSessionClaims {
  sub: string;
  org: string;
  scope: typeof SETUP_SCOPE;
  jti: string;
  iat: number;
  exp: number;
}

/** The link id of a setup session's `sub`. */
export const setupLinkIdOf = (claims: Pick<SetupSessionClaims, 'sub'>): string => claims.sub.slice('setup:'.length);

/**
 * Whether a token claims to be a setup session (unverified: only to choose the verifier;
 * `verifySetup` decides).
 */
export function claimsSetupScope(token: string): boolean {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { scope?: unknown };
    return payload.scope === SETUP_SCOPE;
  } catch {
    return false;
  }
}

export interface SessionTokensOptions {
  keys: SessionKeySource;
  clock: Clock;
  /** `iss` of every token: the deployment's BASE_URL. */
  issuer: string;
  ttlSeconds?: number;
}

export class SessionTokens {
  private cached?: { at: number; current: SigningKey; previous?: SigningKey };
  private lastForced = Number.NEGATIVE_INFINITY;

  constructor(private readonly options: SessionTokensOptions) {}

  /** Loads (and every few minutes reloads, to pick up a rotation) the signing keys. */
  private async keys(force = false): Promise<{ current: SigningKey; previous?: SigningKey }> {
    const now = this.options.clock.now().getTime();
    const forced = force && now - this.lastForced >= UNKNOWN_KID_REFRESH_MS;
    if (forced) this.lastForced = now;
    if (this.cached && !forced && now - this.cached.at < KEY_REFRESH_MS) return this.cached;
    const secrets = await this.options.keys.load();
    const current = await deriveSigningKey(secrets.current);
    const previous = secrets.previous ? await deriveSigningKey(secrets.previous) : undefined;
    this.cached = { at: now, current, previous };
    return this.cached;
  }

  /** The longest a session token lives (the configured lifetime): how long logout markers must be kept. */
  get ttlSeconds(): number {
    return this.options.ttlSeconds ?? DEFAULT_SESSION_TTL_SECONDS;
  }

  /**
   * A session token for the user, valid `ttlSeconds` (default 8 hours) or `ttlSeconds` given;
   * `idp`: the IdP session an SSO login made it from (single logout).
   */
  async issue(user: Pick<User, 'id' | 'orgId' | 'email'>, ttlSeconds = this.ttlSeconds, idp?: IdpSessionClaim): Promise<string> {
    const { current } = await this.keys();
    const iat = Math.floor(this.options.clock.now().getTime() / 1000);
    return new SignJWT({ org: user.orgId, email: user.email, ...(idp === undefined ? {} : { idp }) })
      .setProtectedHeader({ alg: 'EdDSA', kid: current.kid, typ: 'JWT' })
      .setSubject(user.id)
      .setJti(randomToken(16))
      .setIssuer(this.options.issuer)
      .setAudience(AUDIENCE)
      .setIssuedAt(iat)
      .setExpirationTime(iat + ttlSeconds)
      .sign(current.privateKey);
  }

  /**
   * Verifies a token signed by the current or the previous key.
   * @throws AppError `UNAUTHENTICATED`
   */
  async verify(token: string): Promise<SessionClaims> {
    const keys = await this.verificationKeys(token);
    try {
      const payload = await this.verifyJwt(token, keys, { audience: AUDIENCE, requiredClaims: ['sub', 'org', 'email', 'jti', 'iat', 'exp'] });
      if (typeof payload.org !== 'string' || typeof payload.email !== 'string' || typeof payload.jti !== 'string') throw new Error('malformed claims');
      // A scoped token (a setup session) is never a user session, whatever else it carries.
      if (payload.scope !== undefined) throw new Error('scoped token');
      const { idp, ...rest } = payload as unknown as SessionClaims & { idp?: unknown };
      const claim = idpClaimOf(idp);
      return { ...rest, ...(claim === undefined ? {} : { idp: claim }) } as SessionClaims;
    } catch (cause) {
      throw new AppError('UNAUTHENTICATED', 'Your session is missing, invalid or expired. Sign in again.', { cause });
    }
  }

  /** The keys that may have signed `token`: reloaded first when its `kid` is unknown. */
  private async verificationKeys(token: string): Promise<{ current: SigningKey; previous?: SigningKey }> {
    const keys = await this.keys();
    const kid = kidOf(token);
    // A key rotated in after this container loaded its keys: reload now (at most every
    // few seconds, so unknown kids cannot make every request read the secret).
    if (kid !== undefined && kid !== keys.current.kid && kid !== keys.previous?.kid) return this.keys(true);
    return keys;
  }

  /** Verifies signature (current or previous key), issuer, audience, times and the required claims. */
  private async verifyJwt(
    token: string,
    { current, previous }: { current: SigningKey; previous?: SigningKey },
    options: { audience: string; requiredClaims: string[] },
  ): Promise<JWTPayload> {
    const { payload } = await jwtVerify(
      token,
      (header) => {
        const key = [current, previous].find((candidate) => candidate?.kid === header.kid);
        if (!key) throw new joseErrors.JWKSNoMatchingKey();
        return key.publicKey;
      },
      { algorithms: ['EdDSA'], issuer: this.options.issuer, currentDate: this.options.clock.now(), ...options },
    );
    return payload;
  }

  /**
   * A setup session token for a setup link: `sub` `setup:{linkId}`, `scope: "setup"`,
   * its own audience, expiring with the link.
   */
  async issueSetup(link: { id: string; orgId: string; expiresAt: Date }): Promise<string> {
    const { current } = await this.keys();
    const iat = Math.floor(this.options.clock.now().getTime() / 1000);
    return new SignJWT({ org: link.orgId, scope: SETUP_SCOPE })
      .setProtectedHeader({ alg: 'EdDSA', kid: current.kid, typ: 'JWT' })
      .setSubject(`setup:${link.id}`)
      .setJti(randomToken(16))
      .setIssuer(this.options.issuer)
      .setAudience(SETUP_AUDIENCE)
      .setIssuedAt(iat)
      .setExpirationTime(Math.floor(link.expiresAt.getTime() / 1000))
      .sign(current.privateKey);
  }

  /**
   * Verifies a setup session token (never a user session token).
   * @throws AppError `UNAUTHENTICATED`
   */
  async verifySetup(token: string): Promise<SetupSessionClaims> {
    const keys = await this.verificationKeys(token);
    try {
      const payload = await this.verifyJwt(token, keys, { audience: SETUP_AUDIENCE, requiredClaims: ['sub', 'org', 'scope', 'jti', 'iat', 'exp'] });
      if (payload.scope !== SETUP_SCOPE || typeof payload.org !== 'string' || !payload.sub?.startsWith('setup:') || payload.email !== undefined) {
        throw new Error('not a setup session');
      }
      return payload as unknown as SetupSessionClaims;
    } catch (cause) {
      throw new AppError('UNAUTHENTICATED', 'Your setup session is missing, invalid or expired. Open the setup link again.', { cause });
    }
  }

  /** The public keys that verify session tokens (current first). */
  async jwks(): Promise<{ keys: JWK[] }> {
    const { current, previous } = await this.keys();
    return { keys: [current.publicJwk, ...(previous ? [previous.publicJwk] : [])] };
  }
}

/** The Set-Cookie value of a session (API.md: HttpOnly; Secure; SameSite=Lax; Path=/). */
export function sessionCookie(token: string, maxAgeSeconds = DEFAULT_SESSION_TTL_SECONDS): string {
  return `${SESSION_COOKIE}=${token}; HttpOnly; Secure; SameSite=Lax; Path=/; Max-Age=${maxAgeSeconds}`;
}

/** The Set-Cookie value that removes the session cookie (logout). */
export const clearedSessionCookie = (): string => `${SESSION_COOKIE}=; HttpOnly; Secure; SameSite=Lax; Path=/; Max-Age=0`;
