/**
 * Session tokens: JWTs signed with the deployment's Ed25519 key (`kid` in the header),
 * verifiable with the public JWKS. The `session` cookie carries the token itself.
 */
import { errors as joseErrors, jwtVerify, SignJWT, type JWK } from 'jose';
import { randomToken, type Clock } from '../clock.js';
import { AppError } from '../errors.js';
import type { User } from '../users/model.js';
import { deriveSigningKey, type SessionKeySource, type SigningKey } from './keys.js';

export const SESSION_COOKIE = 'session';
export const DEFAULT_SESSION_TTL_SECONDS = 8 * 3600;
const AUDIENCE = 'sso-jit';
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

export interface SessionClaims {
  sub: string;
  org: string;
  email: string;
  /** This token's own id: what `POST /logout` revokes. */
  jti: string;
  iat: number;
  exp: number;
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

  /** A session token for the user, valid `ttlSeconds` (default 8 hours) or `ttlSeconds` given. */
  async issue(user: Pick<User, 'id' | 'orgId' | 'email'>, ttlSeconds = this.options.ttlSeconds ?? DEFAULT_SESSION_TTL_SECONDS): Promise<string> {
    const { current } = await this.keys();
    const iat = Math.floor(this.options.clock.now().getTime() / 1000);
    return new SignJWT({ org: user.orgId, email: user.email })
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
    let { current, previous } = await this.keys();
    const kid = kidOf(token);
    if (kid !== undefined && kid !== current.kid && kid !== previous?.kid) {
      // A key rotated in after this container loaded its keys: reload now (at most every
      // few seconds, so unknown kids cannot make every request read the secret).
      ({ current, previous } = await this.keys(true));
    }
    try {
      const { payload } = await jwtVerify(
        token,
        (header) => {
          const key = [current, previous].find((candidate) => candidate?.kid === header.kid);
          if (!key) throw new joseErrors.JWKSNoMatchingKey();
          return key.publicKey;
        },
        {
          algorithms: ['EdDSA'],
          issuer: this.options.issuer,
          audience: AUDIENCE,
          requiredClaims: ['sub', 'org', 'email', 'jti', 'iat', 'exp'],
          currentDate: this.options.clock.now(),
        },
      );
      if (typeof payload.org !== 'string' || typeof payload.email !== 'string' || typeof payload.jti !== 'string') throw new Error('malformed claims');
      return payload as unknown as SessionClaims;
    } catch (cause) {
      throw new AppError('UNAUTHENTICATED', 'Your session is missing, invalid or expired. Sign in again.', { cause });
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
