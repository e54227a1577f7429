import { describe, expect, it } from 'vitest';
import { fixedClock } from '../../../shared/clock.js';
import { CachingSealer } from '../../../shared/secrets/caching-sealer.js';
import { LocalSealer } from '../../../shared/secrets/local-sealer.js';
import type { SecretSealer } from '../../../shared/secrets/sealer.js';

const CONTEXT = { orgId: 'acme', purpose: 'oidc-client-secret' };

/** A real sealer that counts how often it opens. */
function counting(): { sealer: SecretSealer; opens: () => number } {
  const inner = new LocalSealer('a-sealing-secret-that-is-long-enough-0123456789');
  let opens = 0;
  return {
    sealer: { seal: (plaintext, context) => inner.seal(plaintext, context), open: (sealed, context) => (opens++, inner.open(sealed, context)) },
    opens: () => opens,
  };
}

describe('CachingSealer', () => {
  it('opens a sealed secret once for many logins within five minutes, then again', async () => {
    const { sealer, opens } = counting();
    const clock = fixedClock('2026-01-01T00:00:00Z');
    const cache = new CachingSealer(sealer, clock);
    const sealed = await cache.seal('client-secret', CONTEXT);

    const first = await Promise.all([cache.open(sealed, CONTEXT), cache.open(sealed, CONTEXT), cache.open(sealed, CONTEXT)]);
    clock.advance(5 * 60_000);
    const later = await cache.open(sealed, CONTEXT);

    expect([...first, later]).toEqual(['client-secret', 'client-secret', 'client-secret', 'client-secret']);
    expect(opens()).toBe(2);
  });

  it('never answers from the cache for another context', async () => {
    const { sealer } = counting();
    const cache = new CachingSealer(sealer, fixedClock('2026-01-01T00:00:00Z'));
    const sealed = await cache.seal('client-secret', CONTEXT);
    await cache.open(sealed, CONTEXT);

    await expect(cache.open(sealed, { ...CONTEXT, orgId: 'globex' })).rejects.toMatchObject({ code: 'INTERNAL' });
  });

  it('does not keep a failure: the next open asks again', async () => {
    const { sealer, opens } = counting();
    const cache = new CachingSealer(sealer, fixedClock('2026-01-01T00:00:00Z'));

    await expect(cache.open('v1.local.not-a-sealed-value', CONTEXT)).rejects.toThrow();
    await expect(cache.open('v1.local.not-a-sealed-value', CONTEXT)).rejects.toThrow();

    expect(opens()).toBe(2);
  });
});
