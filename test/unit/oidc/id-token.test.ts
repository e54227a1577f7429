/**
 * ID token verification (DESIGN.md "OIDC", API.md "Signatures"): every check that fails
 * is ID_TOKEN_INVALID, except the nonce (NONCE_MISMATCH). The tokens come from a fake
 * provider reached through the injected fetch; attacks are built byte by byte.
 */
import { exportSPKI, importJWK, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import type { LoginError } from '../../../shared/errors.js';
import { ALLOWED_ID_TOKEN_ALGORITHMS } from '../../../shared/oidc/relying-party.js';
import {
  base64url,
  callback,
  CLIENT_ID,
  FakeProvider,
  idTokenClaims,
  ISSUER,
  loginErrorOf,
  newSigningKey,
  relyingPartyFor,
  SUBJECT,
  T0_SECONDS,
} from '../../support/fake-oidc-provider.js';

describe('OidcRelyingParty ID token verification', () => {
  it('accepts a good ID token and asserts its issuer and subject', async () => {
    const provider = await FakeProvider.create();
    await provider.issue();
    const { rp } = relyingPartyFor(provider);

    const identity = await rp.completeLogin(callback());

    expect(identity).toMatchObject({ protocol: 'oidc', issuer: ISSUER, subject: SUBJECT });
  });

  it('never allows none or an HMAC algorithm', () => {
    expect(ALLOWED_ID_TOKEN_ALGORITHMS).not.toContain('none');
    expect(ALLOWED_ID_TOKEN_ALGORITHMS.some((alg) => alg.startsWith('HS'))).toBe(false);
  });

  describe('signatures and keys', () => {
    it('refuses an unsigned token (alg none)', async () => {
      const provider = await FakeProvider.create();
      provider.idToken = `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url(idTokenClaims())}.`;
      const { rp } = relyingPartyFor(provider);

      const error = await loginErrorOf(rp.completeLogin(callback()), 'ID_TOKEN_INVALID');

      expect(error.details).toMatchObject({ reason: 'algorithm_not_allowed', received: 'none' });
    });

    it('refuses an HS256 token whose HMAC secret is the provider RSA public key', async () => {
      const provider = await FakeProvider.create();
      const publicKey = await importJWK(provider.signingKey.publicJwk, 'RS256', { extractable: true });
      const publicPem = await exportSPKI(publicKey as CryptoKey);
      provider.idToken = await new SignJWT(idTokenClaims())
        .setProtectedHeader({ alg: 'HS256', kid: provider.signingKey.kid })
        .sign(new TextEncoder().encode(publicPem));
      const { rp } = relyingPartyFor(provider);

      const error = await loginErrorOf(rp.completeLogin(callback()), 'ID_TOKEN_INVALID');

      expect(error.details).toMatchObject({ reason: 'algorithm_not_allowed', received: 'HS256' });
    });

    it('refuses a token whose signature does not verify', async () => {
      const provider = await FakeProvider.create();
      const good = await provider.sign();
      const [header, , signature] = good.split('.');
      provider.idToken = `${header}.${base64url(idTokenClaims({ sub: 'admin' }))}.${signature}`;
      const { rp } = relyingPartyFor(provider);

      const error = await loginErrorOf(rp.completeLogin(callback()), 'ID_TOKEN_INVALID');

      expect(error.details).toMatchObject({ reason: 'signature_invalid' });
    });

    it('refuses a token signed by a key the provider does not publish', async () => {
      const provider = await FakeProvider.create();
      const attackerKey = await newSigningKey('attacker-key');
      await provider.issue(idTokenClaims(), attackerKey);
      const { rp } = relyingPartyFor(provider);

      const error = await loginErrorOf(rp.completeLogin(callback()), 'ID_TOKEN_INVALID');

      expect(error.details).toMatchObject({ reason: 'unknown_key', received: { kid: 'attacker-key' } });
    });

    it('refuses a token signed by an attacker key that reuses the published kid', async () => {
      const provider = await FakeProvider.create();
      const attackerKey = { ...(await newSigningKey('ignored')), kid: provider.signingKey.kid };
      await provider.issue(idTokenClaims(), attackerKey);
      const { rp } = relyingPartyFor(provider);

      const error = await loginErrorOf(rp.completeLogin(callback()), 'ID_TOKEN_INVALID');

      expect(error.details).toMatchObject({ reason: 'signature_invalid' });
    });

    it('refuses an algorithm the discovery document does not list for ID tokens', async () => {
      const provider = await FakeProvider.create();
      provider.discovery.id_token_signing_alg_values_supported = ['ES256'];
      await provider.issue();
      const { rp } = relyingPartyFor(provider);

      const error = await loginErrorOf(rp.completeLogin(callback()), 'ID_TOKEN_INVALID');

      expect(error.details).toMatchObject({ reason: 'algorithm_not_allowed', expected: ['ES256'], received: 'RS256' });
    });

    it('fetches the JWKS at most twice while an attacker sends many tokens with unknown kids', async () => {
      const provider = await FakeProvider.create();
      const { rp } = relyingPartyFor(provider, { jwksCooldownMs: 60_000 });
      await provider.issue();
      await rp.completeLogin(callback());
      const attackerKey = await newSigningKey('unused');
      const forged = await Promise.all(
        Array.from({ length: 25 }, (_, index) => provider.sign(idTokenClaims(), { ...attackerKey, kid: `attacker-${index}` })),
      );

      provider.tokenEndpoint = (request) => {
        const index = Number(new URLSearchParams(request.body).get('code')!.replace('attack-', ''));
        return Response.json({ access_token: 'a', token_type: 'Bearer', id_token: forged[index] });
      };

      const outcomes = await Promise.allSettled(forged.map((_, index) => rp.completeLogin(callback({ code: `attack-${index}` }))));

      const reasons = outcomes.map((outcome) => (outcome.status === 'rejected' ? (outcome.reason as LoginError).details.reason : 'accepted'));
      expect(new Set(reasons)).toEqual(new Set(['unknown_key']));
      expect(provider.requestsTo('/jwks').length).toBeLessThanOrEqual(2);
    });

    it('picks up a rotated signing key by refetching the JWKS once the cooldown has passed', async () => {
      const provider = await FakeProvider.create();
      const { rp } = relyingPartyFor(provider, { jwksCooldownMs: 0 });
      await provider.issue();
      await rp.completeLogin(callback());
      const rotated = await newSigningKey('key-2');
      provider.jwks = { keys: [rotated.publicJwk] };
      await provider.issue(idTokenClaims(), rotated);

      const identity = await rp.completeLogin(callback());

      expect(identity.subject).toBe(SUBJECT);
      expect(provider.requestsTo('/jwks')).toHaveLength(2);
    });

    it('verifies a token without kid against a key set whose keys have no kid', async () => {
      const provider = await FakeProvider.create();
      const other = await newSigningKey('other');
      const strip = ({ kid: _kid, ...jwk }: Record<string, unknown>) => jwk;
      provider.jwks = { keys: [strip(other.publicJwk), strip(provider.signingKey.publicJwk)] };
      provider.idToken = await new SignJWT(idTokenClaims()).setProtectedHeader({ alg: 'RS256' }).sign(provider.signingKey.privateKey);
      const { rp } = relyingPartyFor(provider);

      const identity = await rp.completeLogin(callback());

      expect(identity.subject).toBe(SUBJECT);
    });
  });

  describe('claims', () => {
    it('refuses a token from another issuer (mix-up)', async () => {
      const provider = await FakeProvider.create();
      await provider.issue(idTokenClaims({ iss: 'https://evil.example.com' }));
      const { rp } = relyingPartyFor(provider);

      const error = await loginErrorOf(rp.completeLogin(callback()), 'ID_TOKEN_INVALID');

      expect(error.details).toMatchObject({ claim: 'iss', expected: ISSUER, received: 'https://evil.example.com' });
    });

    it('refuses a token issued for another client', async () => {
      const provider = await FakeProvider.create();
      await provider.issue(idTokenClaims({ aud: 'other-client' }));
      const { rp } = relyingPartyFor(provider);

      const error = await loginErrorOf(rp.completeLogin(callback()), 'ID_TOKEN_INVALID');

      expect(error.details).toMatchObject({ claim: 'aud', expected: CLIENT_ID, received: 'other-client' });
    });

    it('refuses a token with several audiences and no azp', async () => {
      const provider = await FakeProvider.create();
      await provider.issue(idTokenClaims({ aud: [CLIENT_ID, 'other-client'] }));
      const { rp } = relyingPartyFor(provider);

      const error = await loginErrorOf(rp.completeLogin(callback()), 'ID_TOKEN_INVALID');

      expect(error.details).toMatchObject({ reason: 'azp_missing', expected: CLIENT_ID });
    });

    it('accepts a token with several audiences whose azp is this client', async () => {
      const provider = await FakeProvider.create();
      await provider.issue(idTokenClaims({ aud: [CLIENT_ID, 'other-client'], azp: CLIENT_ID }));
      const { rp } = relyingPartyFor(provider);

      const identity = await rp.completeLogin(callback());

      expect(identity.subject).toBe(SUBJECT);
    });

    it('refuses a token whose azp is another client', async () => {
      const provider = await FakeProvider.create();
      await provider.issue(idTokenClaims({ azp: 'other-client' }));
      const { rp } = relyingPartyFor(provider);

      const error = await loginErrorOf(rp.completeLogin(callback()), 'ID_TOKEN_INVALID');

      expect(error.details).toMatchObject({ reason: 'azp_mismatch', expected: CLIENT_ID, received: 'other-client' });
    });

    it('refuses a token that expired beyond the clock skew', async () => {
      const provider = await FakeProvider.create();
      await provider.issue(idTokenClaims({ iat: T0_SECONDS - 700, exp: T0_SECONDS - 61 }));
      const { rp } = relyingPartyFor(provider);

      const error = await loginErrorOf(rp.completeLogin(callback()), 'ID_TOKEN_INVALID');

      expect(error.details).toMatchObject({ reason: 'expired', received: new Date((T0_SECONDS - 61) * 1000).toISOString() });
    });

    it('accepts a token that expired within the clock skew', async () => {
      const provider = await FakeProvider.create();
      await provider.issue(idTokenClaims({ iat: T0_SECONDS - 700, exp: T0_SECONDS - 30 }));
      const { rp } = relyingPartyFor(provider);

      const identity = await rp.completeLogin(callback());

      expect(identity.subject).toBe(SUBJECT);
    });

    it('refuses a token issued in the future beyond the clock skew', async () => {
      const provider = await FakeProvider.create();
      await provider.issue(idTokenClaims({ iat: T0_SECONDS + 120, exp: T0_SECONDS + 720 }));
      const { rp } = relyingPartyFor(provider);

      const error = await loginErrorOf(rp.completeLogin(callback()), 'ID_TOKEN_INVALID');

      expect(error.details).toMatchObject({ reason: 'iat_in_future' });
    });

    it('accepts a token issued in the future within the clock skew', async () => {
      const provider = await FakeProvider.create();
      await provider.issue(idTokenClaims({ iat: T0_SECONDS + 30, exp: T0_SECONDS + 630 }));
      const { rp } = relyingPartyFor(provider);

      const identity = await rp.completeLogin(callback());

      expect(identity.subject).toBe(SUBJECT);
    });

    it('honours a smaller clock skew given by the pending login', async () => {
      const provider = await FakeProvider.create();
      await provider.issue(idTokenClaims({ iat: T0_SECONDS + 30, exp: T0_SECONDS + 630 }));
      const { rp } = relyingPartyFor(provider);

      const error = await loginErrorOf(rp.completeLogin(callback({ clockSkewSeconds: 10 })), 'ID_TOKEN_INVALID');

      expect(error.details).toMatchObject({ reason: 'iat_in_future' });
    });

    it.each(['exp', 'iat', 'sub'])('refuses a token without %s', async (claim) => {
      const provider = await FakeProvider.create();
      await provider.issue(idTokenClaims({ [claim]: undefined }));
      const { rp } = relyingPartyFor(provider);

      const error = await loginErrorOf(rp.completeLogin(callback()), 'ID_TOKEN_INVALID');

      expect(error.details).toMatchObject({ claim, reason: `${claim}_missing` });
    });
  });

  describe('nonce', () => {
    it('refuses a token without nonce with NONCE_MISMATCH', async () => {
      const provider = await FakeProvider.create();
      await provider.issue(idTokenClaims({ nonce: undefined }));
      const { rp } = relyingPartyFor(provider);

      const error = await loginErrorOf(rp.completeLogin(callback()), 'NONCE_MISMATCH');

      expect(error.details).toMatchObject({ reason: 'nonce_missing' });
    });

    it('refuses a token whose nonce belongs to another login', async () => {
      const provider = await FakeProvider.create();
      await provider.issue(idTokenClaims({ nonce: 'nonce-of-another-login' }));
      const { rp } = relyingPartyFor(provider);

      const error = await loginErrorOf(rp.completeLogin(callback()), 'NONCE_MISMATCH');

      expect(error.details).toMatchObject({ reason: 'nonce_mismatch' });
    });

    it('compares the nonce exactly, not case-insensitively or by prefix', async () => {
      const provider = await FakeProvider.create();
      await provider.issue(idTokenClaims({ nonce: 'NONCE-0123456789' }));
      const { rp } = relyingPartyFor(provider);

      await loginErrorOf(rp.completeLogin(callback({ nonce: 'nonce-0123456789' })), 'NONCE_MISMATCH');
    });
  });

  describe('the injected clock', () => {
    it('accepts a token valid at the injected time although the machine clock is long past its expiry', async () => {
      const provider = await FakeProvider.create();
      await provider.issue();
      const { rp } = relyingPartyFor(provider);

      const identity = await rp.completeLogin(callback());

      expect(Date.now() / 1000).toBeGreaterThan(T0_SECONDS + 600);
      expect(identity.subject).toBe(SUBJECT);
    });

    it('refuses the same token once the injected clock passes its expiry and the skew', async () => {
      const provider = await FakeProvider.create();
      await provider.issue();
      const { rp, clock } = relyingPartyFor(provider);
      clock.advance((600 + 61) * 1000);

      const error = await loginErrorOf(rp.completeLogin(callback()), 'ID_TOKEN_INVALID');

      expect(error.details).toMatchObject({ reason: 'expired' });
    });
  });
});
