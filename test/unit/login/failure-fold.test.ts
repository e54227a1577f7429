/**
 * The fold rule of refused logins: which failures prove nothing and fold, and what makes
 * two of them the same (shared/login/failure-fold.ts).
 */
import { describe, expect, it } from 'vitest';
import { failureFold } from '../../../shared/login/failure-fold.js';
import type { FailureContext } from '../../../shared/login/complete-login.js';
import type { ErrorCode } from '../../../shared/errors.js';
import type { AssertedIdentity } from '../../../shared/provisioning/identity.js';

const identity: AssertedIdentity = {
  protocol: 'saml',
  issuer: 'https://idp.example.com',
  subject: 'ada@acme.test',
  attributes: new Map([['groups', ['admins']]]),
};

const junk: FailureContext = {
  protocol: 'saml',
  issuer: 'https://idp.example.com',
  claimed: { issuer: 'https://idp.example.com', nameId: 'ada@acme.test' },
  sourceIp: '203.0.113.7',
};

const keyOf = (context: FailureContext, code: ErrorCode = 'SIGNATURE_INVALID', orgId = 'acme') => failureFold(orgId, code, context)?.key;

describe('which refused logins fold', () => {
  it.each<[string, FailureContext]>([
    ['nothing read yet (a bad RelayState, SSO off, a body that is not SAML)', { protocol: 'saml', sourceIp: '203.0.113.7' }],
    ['a message read but not verified (unsigned, unknown key, bad signature)', junk],
    ['an OIDC callback before any ID token verified (bad state, failed code exchange)', { protocol: 'oidc', sourceIp: '203.0.113.7' }],
  ])('folds %s, over a 60 s window', (_name, context) => {
    expect(failureFold('acme', 'SIGNATURE_INVALID', context)).toEqual({ key: expect.any(String), windowSeconds: 60 });
  });

  it.each<[string, FailureContext]>([
    ['a message whose signature verified (wrong audience, expired, wrapped envelope)', { ...junk, signatureVerified: true }],
    ['an ID token whose signature verified (bad claim, nonce)', { protocol: 'oidc', sourceIp: '203.0.113.7', signatureVerified: true }],
    ['a verified identity the provisioning rules refused', { ...junk, signatureVerified: true, identity }],
    ['a verified identity, however the flags were left', { ...junk, identity }],
  ])('keeps %s as its own event', (_name, context) => {
    expect(failureFold('acme', 'ROLE_NOT_MAPPED', context)).toBeUndefined();
  });
});

describe('the fold key', () => {
  it('is the same for the same org, protocol, code, claimed issuer and NameID and source address', () => {
    expect(keyOf({ ...junk })).toBe(keyOf({ ...junk, claimed: { ...junk.claimed } }));
  });

  it('ignores what the request carried beyond those (the configured issuer, the message)', () => {
    expect(keyOf({ ...junk, issuer: 'https://other.example.com' })).toBe(keyOf(junk));
  });

  it.each<[string, () => string | undefined]>([
    ['another org', () => keyOf(junk, 'SIGNATURE_INVALID', 'globex')],
    ['another code', () => keyOf(junk, 'SAML_MALFORMED')],
    ['another protocol', () => keyOf({ ...junk, protocol: 'oidc' })],
    ['another claimed issuer', () => keyOf({ ...junk, claimed: { ...junk.claimed, issuer: 'https://evil.example' } })],
    ['another claimed NameID', () => keyOf({ ...junk, claimed: { ...junk.claimed, nameId: 'grace@acme.test' } })],
    ['no claimed NameID', () => keyOf({ ...junk, claimed: { issuer: junk.claimed!.issuer } })],
    ['nothing claimed', () => keyOf({ ...junk, claimed: undefined })],
    ['another source address', () => keyOf({ ...junk, sourceIp: '203.0.113.8' })],
    ['no source address', () => keyOf({ ...junk, sourceIp: undefined })],
  ])('differs for %s', (_name, other) => {
    expect(other()).toBeDefined();
    expect(other()).not.toBe(keyOf(junk));
  });

  it('cannot be made to collide by moving text between fields', () => {
    const a = keyOf({ ...junk, claimed: { issuer: 'a', nameId: 'b|c' } });
    const b = keyOf({ ...junk, claimed: { issuer: 'a|b', nameId: 'c' } });

    expect(a).not.toBe(b);
  });

  it('stays short whatever the request claimed', () => {
    expect(keyOf({ ...junk, claimed: { issuer: 'x'.repeat(100_000), nameId: 'y'.repeat(100_000) } })).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});
