/**
 * What the relying party tells its caller about how far a refused callback got: whether
 * the ID token's signature verified. The callback folds the failures of requests that
 * prove nothing (shared/login/failure-fold.ts).
 */
import { describe, expect, it } from 'vitest';
import type { ErrorCode } from '../../../shared/errors.js';
import { callback, FakeProvider, idTokenClaims, loginErrorOf, newSigningKey, relyingPartyFor, T0_SECONDS } from '../../support/fake-oidc-provider.js';

async function progressOf(provider: FakeProvider, code: ErrorCode): Promise<{ signatureVerified?: boolean }> {
  const progress: { signatureVerified?: boolean } = {};
  const { rp } = relyingPartyFor(provider);
  await loginErrorOf(rp.completeLogin(callback({ progress })), code);
  return progress;
}

describe('ID token verification progress', () => {
  it('reports no verified signature when the code exchange fails', async () => {
    const provider = await FakeProvider.create();
    provider.tokenEndpoint = () => Response.json({ error: 'invalid_grant' }, { status: 400 });

    expect(await progressOf(provider, 'OIDC_TOKEN_EXCHANGE_FAILED')).toEqual({});
  });

  it('reports no verified signature for a token signed by a key the provider does not publish', async () => {
    const provider = await FakeProvider.create();
    await provider.issue(idTokenClaims(), await newSigningKey('attacker-key'));

    expect(await progressOf(provider, 'ID_TOKEN_INVALID')).toEqual({});
  });

  it.each<[string, Record<string, unknown>, ErrorCode]>([
    ['another audience', { aud: 'other-client' }, 'ID_TOKEN_INVALID'],
    ['an expired token', { iat: T0_SECONDS - 700, exp: T0_SECONDS - 61 }, 'ID_TOKEN_INVALID'],
    ["another login's nonce", { nonce: 'nonce-of-another-login' }, 'NONCE_MISMATCH'],
  ])('reports a verified signature for a signed token refused for %s', async (_name, claims, code) => {
    const provider = await FakeProvider.create();
    await provider.issue(idTokenClaims(claims));

    expect(await progressOf(provider, code)).toEqual({ signatureVerified: true });
  });
});
