/**
 * Session tokens (API.md "Session"): EdDSA JWTs with a `kid` from the JWKS, 8 hours by
 * default, verified against the current and the previous key after a rotation.
 */
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { describe, expect, it } from 'vitest';
import { fixedClock } from '../../../shared/clock.js';
import { deriveSigningKey } from '../../../shared/sessions/keys.js';
import { staticKeySource } from '../../../shared/sessions/key-sources.js';
import { claimsSetupScope, DEFAULT_SESSION_TTL_SECONDS, SessionTokens, sessionCookie } from '../../../shared/sessions/session-tokens.js';

const SECRET_A = 'a'.repeat(16) + '-first-session-secret-0123456789';
const SECRET_B = 'b'.repeat(16) + '-second-session-secret-987654321';
const ISSUER = 'https://sso.example.com';
const T0 = '2025-03-01T12:00:00.000Z';
const USER = { id: 'user-1', orgId: 'acme', email: 'ada@acme.com' };

function tokens(options: { current?: string; previous?: string; issuer?: string; clock?: ReturnType<typeof fixedClock> } = {}) {
  const clock = options.clock ?? fixedClock(T0);
  const sessions = new SessionTokens({ keys: staticKeySource(options.current ?? SECRET_A, options.previous), clock, issuer: options.issuer ?? ISSUER });
  return { sessions, clock };
}

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('SessionTokens', () => {
  it('carries the IdP session of an SSO login (claim idp) and gives it back verified', async () => {
    const { sessions } = tokens();
    const idp = { protocol: 'saml' as const, issuer: 'https://idp.acme.com', nameId: 'ada@acme.com', nameIdFormat: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress', sessionIndex: '_s1' };

    const claims = await sessions.verify(await sessions.issue(USER, undefined, idp));

    expect(claims.idp).toEqual(idp);
  });

  it('issues no idp claim without an IdP session, and ignores one of another shape', async () => {
    const { sessions } = tokens();

    expect((await sessions.verify(await sessions.issue(USER))).idp).toBeUndefined();
    expect((await sessions.verify(await sessions.issue(USER, undefined, { protocol: 'ldap', issuer: 'x' } as never))).idp).toBeUndefined();
  });

  it('issues an EdDSA JWT whose kid is the kid the JWKS publishes', async () => {
    const { sessions } = tokens();

    const token = await sessions.issue(USER);
    const { keys } = await sessions.jwks();

    const header = decodeProtectedHeader(token);
    expect(header.alg).toBe('EdDSA');
    expect(keys).toHaveLength(1);
    expect(header.kid).toBe(keys[0]!.kid);
  });

  it('puts sub, org, email, iat and an exp 8 hours later in the token', async () => {
    const { sessions } = tokens();

    const claims = decodeJwt(await sessions.issue(USER));

    const iat = Date.parse(T0) / 1000;
    expect(claims).toMatchObject({ sub: 'user-1', org: 'acme', email: 'ada@acme.com', iat, exp: iat + 8 * 3600, iss: ISSUER });
    expect(DEFAULT_SESSION_TTL_SECONDS).toBe(8 * 3600);
  });

  it('gives every token its own jti, which logout revokes', async () => {
    const { sessions } = tokens();

    const [first, second] = [decodeJwt(await sessions.issue(USER)), decodeJwt(await sessions.issue(USER))];

    expect(first.jti).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(second.jti).not.toBe(first.jti);
    expect((await sessions.verify(await sessions.issue(USER))).jti).toEqual(expect.any(String));
  });

  it('honours a lifetime given at issue time', async () => {
    const { sessions } = tokens();

    const claims = decodeJwt(await sessions.issue(USER, 60));

    expect(claims.exp! - claims.iat!).toBe(60);
  });

  it('verifies its own token and returns the claims', async () => {
    const { sessions } = tokens();
    const token = await sessions.issue(USER);

    await expect(sessions.verify(token)).resolves.toMatchObject({ sub: 'user-1', org: 'acme', email: 'ada@acme.com' });
  });

  it('still verifies a token just before it expires', async () => {
    const { sessions, clock } = tokens();
    const token = await sessions.issue(USER);

    clock.advance((8 * 3600 - 1) * 1000);

    await expect(sessions.verify(token)).resolves.toMatchObject({ sub: 'user-1' });
  });

  it('refuses an expired token with UNAUTHENTICATED', async () => {
    const { sessions, clock } = tokens();
    const token = await sessions.issue(USER);

    clock.advance((8 * 3600 + 1) * 1000);

    await expect(sessions.verify(token)).rejects.toMatchObject({ code: 'UNAUTHENTICATED', status: 401 });
  });

  it('refuses a token signed with another secret', async () => {
    const foreign = await tokens({ current: SECRET_B }).sessions.issue(USER);

    await expect(tokens().sessions.verify(foreign)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('refuses a token whose payload was tampered with', async () => {
    const { sessions } = tokens();
    const [header, payload, signature] = (await sessions.issue(USER)).split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString('utf8'));
    const tampered = `${header}.${b64url({ ...claims, org: 'other-org' })}.${signature}`;

    await expect(sessions.verify(tampered)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('refuses an unsigned alg "none" token, even one naming the right kid', async () => {
    const { sessions } = tokens();
    const genuine = await sessions.issue(USER);
    const { kid } = decodeProtectedHeader(genuine);
    const unsigned = `${b64url({ alg: 'none', kid, typ: 'JWT' })}.${genuine.split('.')[1]}.`;

    await expect(sessions.verify(unsigned)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('refuses a token issued for another issuer', async () => {
    const other = await tokens({ issuer: 'https://other.example.com' }).sessions.issue(USER);

    await expect(tokens().sessions.verify(other)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('refuses something that is not a JWT', async () => {
    await expect(tokens().sessions.verify('not-a-token')).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  describe('after a rotation', () => {
    it('still verifies a token signed by the previous key', async () => {
      const old = await tokens({ current: SECRET_A }).sessions.issue(USER);
      const rotated = tokens({ current: SECRET_B, previous: SECRET_A }).sessions;

      await expect(rotated.verify(old)).resolves.toMatchObject({ sub: 'user-1' });
    });

    it('signs new tokens with the new key', async () => {
      const rotated = tokens({ current: SECRET_B, previous: SECRET_A }).sessions;
      const newKey = await deriveSigningKey(SECRET_B);

      expect(decodeProtectedHeader(await rotated.issue(USER)).kid).toBe(newKey.kid);
    });

    it('publishes both keys in the JWKS, current first', async () => {
      const rotated = tokens({ current: SECRET_B, previous: SECRET_A }).sessions;
      const [oldKey, newKey] = await Promise.all([deriveSigningKey(SECRET_A), deriveSigningKey(SECRET_B)]);

      const { keys } = await rotated.jwks();

      expect(keys.map((key) => key.kid)).toEqual([newKey.kid, oldKey.kid]);
    });

    it('picks up a rotation at once when a token names a key it has not loaded yet, reading the keys once', async () => {
      // A warm verifier loaded its keys before the rotation; another container signs with the new key.
      let secrets: { current: string; previous?: string } = { current: SECRET_A };
      let loads = 0;
      const verifier = new SessionTokens({ keys: { load: async () => (loads++, secrets) }, clock: fixedClock(T0), issuer: ISSUER });
      await verifier.jwks();
      secrets = { current: SECRET_B, previous: SECRET_A };
      const fresh = await tokens({ current: SECRET_B, previous: SECRET_A }).sessions.issue(USER);

      await expect(verifier.verify(fresh)).resolves.toMatchObject({ sub: 'user-1' });
      expect(loads).toBe(2);
      // An unknown kid again right after does not read the keys again.
      const forged = await tokens({ current: 'd'.repeat(40) }).sessions.issue(USER);
      await expect(verifier.verify(forged)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
      expect(loads).toBe(2);
    });

    it('refuses a token of the previous key once that key has left the rotation', async () => {
      const old = await tokens({ current: SECRET_A }).sessions.issue(USER);
      const twiceRotated = tokens({ current: SECRET_B, previous: 'c'.repeat(40) }).sessions;

      await expect(twiceRotated.verify(old)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    });
  });

  it('publishes only public key material in the JWKS', async () => {
    const { keys } = await tokens().sessions.jwks();

    expect(keys[0]).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig' });
    expect(keys[0]).not.toHaveProperty('d');
  });
});

describe('deriveSigningKey', () => {
  it('derives the same key and kid from the same secret', async () => {
    const [first, second] = await Promise.all([deriveSigningKey(SECRET_A), deriveSigningKey(SECRET_A)]);

    expect(second.kid).toBe(first.kid);
    expect(second.publicJwk).toEqual(first.publicJwk);
  });

  it('derives different keys from different secrets', async () => {
    const [a, b] = await Promise.all([deriveSigningKey(SECRET_A), deriveSigningKey(SECRET_B)]);

    expect(b.kid).not.toBe(a.kid);
    expect(b.publicJwk.x).not.toBe(a.publicJwk.x);
  });

  it('refuses a secret shorter than 32 characters', async () => {
    await expect(deriveSigningKey('x'.repeat(31))).rejects.toThrow(/at least 32 characters/);
  });
});

describe('sessionCookie', () => {
  it('sets the token as an HttpOnly, Secure, SameSite=Lax cookie on Path=/', () => {
    const cookie = sessionCookie('tok.en.value');
    const [pair, ...attributes] = cookie.split('; ');

    expect(pair).toBe('session=tok.en.value');
    expect(attributes).toEqual(expect.arrayContaining(['HttpOnly', 'Secure', 'SameSite=Lax', 'Path=/']));
  });

  it('lasts 8 hours by default', () => {
    expect(sessionCookie('t').split('; ')).toContain(`Max-Age=${8 * 3600}`);
  });
});

describe('setup session tokens', () => {
  const LINK = { id: 'link-1', orgId: 'acme', expiresAt: new Date('2025-03-02T12:00:00.000Z') };

  it('carry scope "setup", sub setup:{linkId}, the org, and expire with the link', async () => {
    const { sessions } = tokens();

    const token = await sessions.issueSetup(LINK);

    expect(decodeJwt(token)).toMatchObject({ scope: 'setup', sub: 'setup:link-1', org: 'acme', exp: Date.parse('2025-03-02T12:00:00.000Z') / 1000 });
    expect(await sessions.verifySetup(token)).toMatchObject({ scope: 'setup', sub: 'setup:link-1', org: 'acme' });
    expect(claimsSetupScope(token)).toBe(true);
  });

  it('never verify as a user session, and a user session never verifies as a setup session', async () => {
    const { sessions } = tokens();
    const setupToken = await sessions.issueSetup(LINK);
    const userToken = await sessions.issue(USER);

    await expect(sessions.verify(setupToken)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    await expect(sessions.verifySetup(userToken)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(claimsSetupScope(userToken)).toBe(false);
  });

  it('are refused after the link expires', async () => {
    const { sessions, clock } = tokens();
    const token = await sessions.issueSetup(LINK);

    clock.set('2025-03-02T12:00:01.000Z');

    await expect(sessions.verifySetup(token)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('are refused when signed with another key', async () => {
    const forged = await tokens({ current: SECRET_B }).sessions.issueSetup(LINK);

    await expect(tokens().sessions.verifySetup(forged)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });
});
