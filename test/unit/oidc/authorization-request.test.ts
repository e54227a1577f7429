/**
 * The authorization request (API.md "GET /sso/{orgId}/login"): response_type=code with a
 * fresh state, nonce and PKCE S256 challenge, where the challenge is
 * BASE64URL(SHA-256(verifier)) (RFC 7636 4.2).
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { OidcDiscovery } from '../../../shared/oidc/discovery.js';
import { createAuthorizationRequest } from '../../../shared/oidc/relying-party.js';
import { CLIENT_ID, REDIRECT_URI } from '../../support/fake-oidc-provider.js';

const DISCOVERY: OidcDiscovery = {
  issuer: 'https://idp.example.com',
  authorization_endpoint: 'https://idp.example.com/authorize',
  token_endpoint: 'https://idp.example.com/token',
  jwks_uri: 'https://idp.example.com/jwks',
};
const PARAMS = { clientId: CLIENT_ID, redirectUri: REDIRECT_URI, scopes: ['openid', 'email', 'profile'] };

describe('createAuthorizationRequest', () => {
  it('sends the browser to the authorization endpoint with an authorization code request', () => {
    const request = createAuthorizationRequest(DISCOVERY, PARAMS);

    const url = new URL(request.url);
    expect(`${url.origin}${url.pathname}`).toBe(DISCOVERY.authorization_endpoint);
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      response_type: 'code',
      client_id: CLIENT_ID,
      redirect_uri: REDIRECT_URI,
      scope: 'openid email profile',
      state: request.state,
      nonce: request.nonce,
      code_challenge_method: 'S256',
    });
  });

  it('puts BASE64URL(SHA-256(verifier)) in the URL as the code challenge', () => {
    const request = createAuthorizationRequest(DISCOVERY, PARAMS);

    const expected = createHash('sha256').update(request.codeVerifier).digest('base64url');
    expect(new URL(request.url).searchParams.get('code_challenge')).toBe(expected);
    expect(request.url).not.toContain(request.codeVerifier);
  });

  it('makes a verifier of 43 to 128 unreserved characters', () => {
    const { codeVerifier } = createAuthorizationRequest(DISCOVERY, PARAMS);

    expect(codeVerifier).toMatch(/^[A-Za-z0-9\-._~]{43,128}$/);
  });

  it('makes a state and a nonce of at least 128 random bits, new for every request', () => {
    const first = createAuthorizationRequest(DISCOVERY, PARAMS);
    const second = createAuthorizationRequest(DISCOVERY, PARAMS);

    expect(Buffer.from(first.state, 'base64url').length).toBeGreaterThanOrEqual(16);
    expect(Buffer.from(first.nonce, 'base64url').length).toBeGreaterThanOrEqual(16);
    expect(second.state).not.toBe(first.state);
    expect(second.nonce).not.toBe(first.nonce);
    expect(second.codeVerifier).not.toBe(first.codeVerifier);
    expect(first.nonce).not.toBe(first.state);
  });

  it('adds the openid scope when the configuration leaves it out', () => {
    const request = createAuthorizationRequest(DISCOVERY, { ...PARAMS, scopes: ['email'] });

    expect(new URL(request.url).searchParams.get('scope')).toBe('openid email');
  });

  it('keeps query parameters the authorization endpoint already has', () => {
    const discovery = { ...DISCOVERY, authorization_endpoint: 'https://idp.example.com/authorize?p=b2c_1_signin' };

    const request = createAuthorizationRequest(discovery, PARAMS);

    expect(new URL(request.url).searchParams.get('p')).toBe('b2c_1_signin');
  });
});
