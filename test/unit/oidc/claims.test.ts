/**
 * From verified claims to the AssertedIdentity the provisioning rules read: every claim
 * as strings, and userinfo asked only for missing profile claims, never trusted over the
 * ID token or for another subject.
 */
import { describe, expect, it } from 'vitest';
import { claimsToAttributes } from '../../../shared/oidc/relying-party.js';
import { ACCESS_TOKEN, callback, FakeProvider, idTokenClaims, loginErrorOf, relyingPartyFor, SUBJECT } from '../../support/fake-oidc-provider.js';

describe('OIDC claims mapping', () => {
  it('maps a groups array to the list of its strings', async () => {
    const provider = await FakeProvider.create();
    await provider.issue(idTokenClaims({ groups: ['engineering', 'admins'] }));
    const { rp } = relyingPartyFor(provider);

    const identity = await rp.completeLogin(callback());

    expect(identity.attributes.get('groups')).toEqual(['engineering', 'admins']);
  });

  it("maps email_verified false to 'false'", async () => {
    const provider = await FakeProvider.create();
    await provider.issue(idTokenClaims({ email_verified: false }));
    const { rp } = relyingPartyFor(provider);

    const identity = await rp.completeLogin(callback());

    expect(identity.attributes.get('email_verified')).toEqual(['false']);
  });

  it('maps strings, numbers and booleans and skips objects and nulls', () => {
    const attributes = claimsToAttributes({
      email: 'ada@acme.com',
      iat: 1740830400,
      email_verified: true,
      address: { country: 'UK' },
      middle_name: null,
      roles: ['a', 1, false, { nested: true }],
      empty: [],
    });

    expect(Object.fromEntries(attributes)).toEqual({
      email: ['ada@acme.com'],
      iat: ['1740830400'],
      email_verified: ['true'],
      roles: ['a', '1', 'false'],
      empty: [],
    });
  });

  it('asserts the subject, issuer and protocol of the ID token', async () => {
    const provider = await FakeProvider.create();
    await provider.issue();
    const { rp } = relyingPartyFor(provider);

    const identity = await rp.completeLogin(callback());

    expect(identity.protocol).toBe('oidc');
    expect(identity.issuer).toBe(provider.issuer);
    expect(identity.subject).toBe(SUBJECT);
    expect(identity.attributes.get('sub')).toEqual([SUBJECT]);
    expect(identity.attributes.get('email')).toEqual(['ada@acme.com']);
  });
});

describe('OIDC userinfo', () => {
  it('does not call userinfo when the ID token has the email and both names', async () => {
    const provider = await FakeProvider.create();
    await provider.issue();
    const { rp } = relyingPartyFor(provider);

    await rp.completeLogin(callback());

    expect(provider.requestsTo('/userinfo')).toHaveLength(0);
  });

  it('fills a missing email from userinfo, asked with the access token', async () => {
    const provider = await FakeProvider.create();
    await provider.issue(idTokenClaims({ email: undefined, email_verified: undefined }));
    provider.userinfo = { sub: SUBJECT, email: 'ada@acme.com', email_verified: true };
    const { rp } = relyingPartyFor(provider);

    const identity = await rp.completeLogin(callback());

    expect(identity.attributes.get('email')).toEqual(['ada@acme.com']);
    expect(provider.requestsTo('/userinfo')[0]!.headers.get('authorization')).toBe(`Bearer ${ACCESS_TOKEN}`);
  });

  it('refuses a userinfo answer about another subject', async () => {
    const provider = await FakeProvider.create();
    await provider.issue(idTokenClaims({ email: undefined }));
    provider.userinfo = { sub: 'someone-else', email: 'victim@acme.com' };
    const { rp } = relyingPartyFor(provider);

    const error = await loginErrorOf(rp.completeLogin(callback()), 'ID_TOKEN_INVALID');

    expect(error.details).toMatchObject({ reason: 'userinfo_sub_mismatch', expected: SUBJECT, received: 'someone-else' });
  });

  it('keeps the ID token claims over userinfo claims', async () => {
    const provider = await FakeProvider.create();
    await provider.issue(idTokenClaims({ family_name: undefined }));
    provider.userinfo = { sub: SUBJECT, given_name: 'Mallory', family_name: 'Lovelace', email: 'mallory@evil.com' };
    const { rp } = relyingPartyFor(provider);

    const identity = await rp.completeLogin(callback());

    expect(identity.attributes.get('given_name')).toEqual(['Ada']);
    expect(identity.attributes.get('email')).toEqual(['ada@acme.com']);
    expect(identity.attributes.get('family_name')).toEqual(['Lovelace']);
  });

  it('ignores a failing userinfo endpoint and leaves the email missing for provisioning to report', async () => {
    const provider = await FakeProvider.create();
    await provider.issue(idTokenClaims({ email: undefined }));
    provider.userinfoEndpoint = () => new Response('oops', { status: 500 });
    const { rp } = relyingPartyFor(provider);

    const identity = await rp.completeLogin(callback());

    expect(identity.attributes.has('email')).toBe(false);
    expect(identity.attributes.get('given_name')).toEqual(['Ada']);
  });

  it('does not call userinfo when the provider publishes no userinfo endpoint', async () => {
    const provider = await FakeProvider.create();
    delete provider.discovery.userinfo_endpoint;
    await provider.issue(idTokenClaims({ email: undefined }));
    const { rp } = relyingPartyFor(provider);

    const identity = await rp.completeLogin(callback());

    expect(identity.attributes.has('email')).toBe(false);
    expect(provider.requestsTo('/userinfo')).toHaveLength(0);
  });
});
