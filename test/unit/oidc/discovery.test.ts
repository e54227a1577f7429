/**
 * OIDC discovery: the document is fetched through the injected fetch, must name exactly
 * the configured issuer and only https endpoints (http on loopback), and is cached by
 * the injected clock. Every failure is OIDC_TOKEN_EXCHANGE_FAILED.
 */
import { describe, expect, it } from 'vitest';
import { fixedClock } from '../../../shared/clock.js';
import { discoveryUrl, OidcDiscoveryCache } from '../../../shared/oidc/discovery.js';
import { FakeProvider, ISSUER, loginErrorOf, T0 } from '../../support/fake-oidc-provider.js';

function cacheFor(provider: FakeProvider, ttlMs?: number) {
  const clock = fixedClock(T0);
  return { cache: new OidcDiscoveryCache({ fetch: provider.fetch, clock, ...(ttlMs === undefined ? {} : { ttlMs }) }), clock };
}

describe('OidcDiscoveryCache', () => {
  it('returns the endpoints of the configured issuer', async () => {
    const provider = await FakeProvider.create();
    const { cache } = cacheFor(provider);

    const discovery = await cache.get(ISSUER);

    expect(discovery).toEqual({
      issuer: ISSUER,
      authorization_endpoint: `${ISSUER}/authorize`,
      token_endpoint: `${ISSUER}/token`,
      jwks_uri: `${ISSUER}/jwks`,
      userinfo_endpoint: `${ISSUER}/userinfo`,
      id_token_signing_alg_values_supported: ['RS256', 'ES256'],
      code_challenge_methods_supported: ['S256'],
    });
  });

  it('appends the well-known path to an issuer with a path and a trailing slash without doubling it', async () => {
    const issuer = 'https://idp.example.com/tenants/acme/';
    const provider = await FakeProvider.create(issuer);
    const { cache } = cacheFor(provider);

    const discovery = await cache.get(issuer);

    expect(discovery.issuer).toBe(issuer);
    expect(provider.requests[0]!.url.href).toBe('https://idp.example.com/tenants/acme/.well-known/openid-configuration');
  });

  it('builds the discovery URL of an issuer without trailing slash', () => {
    expect(discoveryUrl('https://idp.example.com')).toBe('https://idp.example.com/.well-known/openid-configuration');
  });

  it('refuses a document that names another issuer', async () => {
    const provider = await FakeProvider.create();
    provider.discovery.issuer = 'https://evil.example.com';
    const { cache } = cacheFor(provider);

    const error = await loginErrorOf(cache.get(ISSUER), 'OIDC_TOKEN_EXCHANGE_FAILED');

    expect(error.details).toMatchObject({ expected: ISSUER, received: 'https://evil.example.com' });
  });

  it('compares the issuer exactly, so a trailing slash is another issuer', async () => {
    const provider = await FakeProvider.create();
    provider.discovery.issuer = `${ISSUER}/`;
    const { cache } = cacheFor(provider);

    await loginErrorOf(cache.get(ISSUER), 'OIDC_TOKEN_EXCHANGE_FAILED');
  });

  it('refuses a document with an http endpoint on a non-loopback host', async () => {
    const provider = await FakeProvider.create();
    provider.discovery.token_endpoint = 'http://idp.example.com/token';
    const { cache } = cacheFor(provider);

    const error = await loginErrorOf(cache.get(ISSUER), 'OIDC_TOKEN_EXCHANGE_FAILED');

    expect(error.details.issues).toEqual([expect.stringContaining('token_endpoint')]);
  });

  it('refuses an http issuer on a non-loopback host without fetching anything', async () => {
    const provider = await FakeProvider.create('http://idp.example.com');
    const { cache } = cacheFor(provider);

    await loginErrorOf(cache.get('http://idp.example.com'), 'OIDC_TOKEN_EXCHANGE_FAILED');

    expect(provider.requests).toHaveLength(0);
  });

  it('accepts http on a loopback host for development', async () => {
    const provider = await FakeProvider.create('http://127.0.0.1:9000');
    const { cache } = cacheFor(provider);

    const discovery = await cache.get('http://127.0.0.1:9000');

    expect(discovery.token_endpoint).toBe('http://127.0.0.1:9000/token');
  });

  it('refuses a document without jwks_uri and names the member', async () => {
    const provider = await FakeProvider.create();
    delete provider.discovery.jwks_uri;
    const { cache } = cacheFor(provider);

    const error = await loginErrorOf(cache.get(ISSUER), 'OIDC_TOKEN_EXCHANGE_FAILED');

    expect(error.details.issues).toEqual([expect.stringContaining('jwks_uri')]);
  });

  it('refuses an issuer whose discovery URL answers 404 and records the status', async () => {
    const provider = await FakeProvider.create();
    const { cache } = cacheFor(provider);

    const error = await loginErrorOf(cache.get('https://idp.example.com/unknown-tenant'), 'OIDC_TOKEN_EXCHANGE_FAILED');

    expect(error.details).toMatchObject({ status: 404 });
  });

  it('refuses when the discovery URL cannot be reached', async () => {
    const { cache } = cacheFor({ fetch: () => Promise.reject(new TypeError('fetch failed')) } as unknown as FakeProvider);

    const error = await loginErrorOf(cache.get(ISSUER), 'OIDC_TOKEN_EXCHANGE_FAILED');

    expect(error.details).toMatchObject({ reason: 'the discovery document could not be fetched' });
  });

  it('serves the cached document until the TTL passes on the injected clock', async () => {
    const provider = await FakeProvider.create();
    const { cache, clock } = cacheFor(provider, 60_000);

    await cache.get(ISSUER);
    await cache.get(ISSUER);
    clock.advance(60_001);
    await cache.get(ISSUER);

    expect(provider.requests).toHaveLength(2);
  });

  it('shares one request between concurrent logins', async () => {
    const provider = await FakeProvider.create();
    const { cache } = cacheFor(provider);

    await Promise.all([cache.get(ISSUER), cache.get(ISSUER), cache.get(ISSUER)]);

    expect(provider.requests).toHaveLength(1);
  });

  it('does not cache a failure, so the next login retries', async () => {
    const provider = await FakeProvider.create();
    provider.discovery.issuer = 'https://evil.example.com';
    const { cache } = cacheFor(provider);
    await loginErrorOf(cache.get(ISSUER), 'OIDC_TOKEN_EXCHANGE_FAILED');
    provider.discovery.issuer = ISSUER;

    const discovery = await cache.get(ISSUER);

    expect(discovery.issuer).toBe(ISSUER);
    expect(provider.requests).toHaveLength(2);
  });
});
