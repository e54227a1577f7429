/**
 * The development OP behaves as a real OpenID Provider: this file is a relying party by
 * hand (state, nonce, PKCE S256, code exchange, ID token verified with jose against the
 * OP's JWKS), so the service's own OIDC tests can trust it.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi, type MockInstance } from 'vitest';
import type { DevOidcClient, DevOidcProvider, DevOidcUser } from '../../local/dev-oidc.js';
import { authorizeThroughProvider, startTestOidcProvider } from '../support/oidc-provider.js';

const CALLBACK = 'http://localhost:3000/sso/acme/oidc/callback';
const BASIC: DevOidcClient = { clientId: 'rp-basic', clientSecret: 'basic-secret-0123456789abcdef', redirectUris: [CALLBACK] };
const POST: DevOidcClient = { clientId: 'rp-post', clientSecret: 'post-secret-0123456789abcdef', redirectUris: [CALLBACK], tokenEndpointAuthMethod: 'client_secret_post' };
const GRACE: DevOidcUser = { sub: 'op-grace', email: 'grace@demo-oidc.example', email_verified: true, given_name: 'Grace', family_name: 'Hopper', groups: ['Engineering', 'Admins'] };
const LINUS: DevOidcUser = { sub: 'op-linus', email: 'linus@demo-oidc.example', email_verified: false, given_name: 'Linus', family_name: 'Torvalds', groups: ['Staff'] };

interface Discovery {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  userinfo_endpoint: string;
  jwks_uri: string;
  scopes_supported: string[];
  claims_supported: string[];
  code_challenge_methods_supported: string[];
}

interface AuthorizationRequest {
  url: string;
  state: string;
  nonce: string;
  verifier: string;
}

let op: DevOidcProvider;
let discovery: Discovery;
const consoleSpies: MockInstance[] = [];

beforeAll(async () => {
  for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) consoleSpies.push(vi.spyOn(console, method));
  op = await startTestOidcProvider({ clients: [BASIC, POST], users: [GRACE, LINUS] });
  discovery = (await (await fetch(`${op.issuer}/.well-known/openid-configuration`)).json()) as Discovery;
});

afterAll(async () => {
  await op?.stop();
  const printed = consoleSpies.flatMap((spy) => spy.mock.calls);
  for (const spy of consoleSpies) spy.mockRestore();
  expect(printed).toEqual([]);
});

const random = () => randomBytes(32).toString('base64url');

function authorizationRequest(client: DevOidcClient = BASIC, extra: Record<string, string> = {}): AuthorizationRequest {
  const state = random();
  const nonce = random();
  const verifier = random();
  const url = new URL(discovery.authorization_endpoint);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: client.clientId,
    redirect_uri: CALLBACK,
    scope: 'openid email profile groups',
    state,
    nonce,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    ...extra,
  }).toString();
  return { url: url.href, state, nonce, verifier };
}

async function codeFor(request: AuthorizationRequest, email: string): Promise<string> {
  const callback = await authorizeThroughProvider(request.url, email);
  expect(`${callback.origin}${callback.pathname}`).toBe(CALLBACK);
  expect(callback.searchParams.get('state')).toBe(request.state);
  const code = callback.searchParams.get('code');
  if (!code) throw new Error(`No code in ${callback.href}`);
  return code;
}

async function exchange(code: string, verifier: string, client: DevOidcClient = BASIC, method: 'client_secret_basic' | 'client_secret_post' = 'client_secret_basic') {
  const form = new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: CALLBACK, code_verifier: verifier });
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
  if (method === 'client_secret_basic') {
    headers.authorization = `Basic ${Buffer.from(`${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.clientSecret)}`).toString('base64')}`;
  } else {
    form.set('client_id', client.clientId);
    form.set('client_secret', client.clientSecret);
  }
  const response = await fetch(discovery.token_endpoint, { method: 'POST', headers, body: form });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function verifyIdToken(idToken: unknown, audience: string, nonce: string) {
  if (typeof idToken !== 'string') throw new Error('no id_token in the token response');
  const { payload, protectedHeader } = await jwtVerify(idToken, createRemoteJWKSet(new URL(discovery.jwks_uri)), { issuer: op.issuer, audience, algorithms: ['RS256'] });
  expect(payload.nonce).toBe(nonce);
  expect(protectedHeader.kid).toEqual(expect.any(String));
  return payload;
}

describe('development OpenID Provider', () => {
  it('publishes discovery for a loopback issuer with S256 PKCE, the groups scope and its claims', () => {
    expect(op.issuer).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(discovery.issuer).toBe(op.issuer);
    expect(discovery.code_challenge_methods_supported).toEqual(['S256']);
    expect(discovery.scopes_supported).toEqual(expect.arrayContaining(['openid', 'email', 'profile', 'groups']));
    expect(discovery.claims_supported).toEqual(expect.arrayContaining(['email', 'email_verified', 'given_name', 'family_name', 'groups']));
    expect(discovery.userinfo_endpoint).toBe(`${op.issuer}/me`);
  });

  it('signs a user in by code flow and issues an ID token with the profile claims, verifiable through the JWKS', async () => {
    const request = authorizationRequest();

    const callback = await authorizeThroughProvider(request.url, GRACE.email);
    const code = callback.searchParams.get('code') ?? '';
    const tokens = await exchange(code, request.verifier);

    expect(callback.searchParams.get('state')).toBe(request.state);
    expect(callback.searchParams.get('iss')).toBe(op.issuer);
    expect(tokens.status).toBe(200);
    const claims = await verifyIdToken(tokens.body.id_token, BASIC.clientId, request.nonce);
    expect(claims).toMatchObject({ sub: GRACE.sub, email: GRACE.email, email_verified: true, given_name: 'Grace', family_name: 'Hopper', groups: ['Engineering', 'Admins'] });
  });

  it('serves the same claims at the userinfo endpoint for the access token', async () => {
    const request = authorizationRequest();
    const tokens = await exchange(await codeFor(request, GRACE.email), request.verifier);

    const userinfo = await fetch(discovery.userinfo_endpoint, { headers: { authorization: `Bearer ${String(tokens.body.access_token)}` } });

    expect(userinfo.status).toBe(200);
    expect(await userinfo.json()).toMatchObject({ sub: GRACE.sub, email: GRACE.email, groups: ['Engineering', 'Admins'] });
  });

  it('signs the same user in a second time with a new code', async () => {
    const first = authorizationRequest();
    const second = authorizationRequest();

    const firstCode = await codeFor(first, GRACE.email);
    const secondCode = await codeFor(second, GRACE.email);
    const secondTokens = await exchange(secondCode, second.verifier);

    expect(secondCode).not.toBe(firstCode);
    expect(secondTokens.status).toBe(200);
    expect(await verifyIdToken(secondTokens.body.id_token, BASIC.clientId, second.nonce)).toMatchObject({ sub: GRACE.sub });
  });

  it('asserts email_verified false for a user whose email is not verified', async () => {
    const request = authorizationRequest();

    const tokens = await exchange(await codeFor(request, LINUS.email), request.verifier);

    expect(await verifyIdToken(tokens.body.id_token, BASIC.clientId, request.nonce)).toMatchObject({ sub: LINUS.sub, email_verified: false, groups: ['Staff'] });
  });

  it('refuses a code used a second time with invalid_grant', async () => {
    const request = authorizationRequest();
    const code = await codeFor(request, GRACE.email);
    expect((await exchange(code, request.verifier)).status).toBe(200);

    const replay = await exchange(code, request.verifier);

    expect(replay.status).toBe(400);
    expect(replay.body.error).toBe('invalid_grant');
  });

  it('refuses a code with the wrong code_verifier', async () => {
    const request = authorizationRequest();
    const code = await codeFor(request, GRACE.email);

    const refused = await exchange(code, random());

    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe('invalid_grant');
  });

  it('refuses an authorization request without a PKCE challenge', async () => {
    const request = authorizationRequest(BASIC, { code_challenge: '', code_challenge_method: '' });

    const callback = await authorizeThroughProvider(request.url, GRACE.email);

    expect(callback.searchParams.get('error')).toBe('invalid_request');
    expect(callback.searchParams.get('code')).toBeNull();
  });

  it('makes a client_secret_post client authenticate in the body, not with Basic', async () => {
    const basicTry = authorizationRequest(POST);
    const postTry = authorizationRequest(POST);

    const refused = await exchange(await codeFor(basicTry, GRACE.email), basicTry.verifier, POST, 'client_secret_basic');
    const accepted = await exchange(await codeFor(postTry, GRACE.email), postTry.verifier, POST, 'client_secret_post');

    expect(refused.status).toBe(401);
    expect(refused.body.error).toBe('invalid_client');
    expect(accepted.status).toBe(200);
    await verifyIdToken(accepted.body.id_token, POST.clientId, postTry.nonce);
  });

  it('keeps a user on the login page when the email is not known', async () => {
    const request = authorizationRequest();

    await expect(authorizeThroughProvider(request.url, 'nobody@demo-oidc.example')).rejects.toThrow(/400 .*No user with the email nobody@demo-oidc\.example/);
  });

  it('signs in users added at run time, with the claims they have at the time', async () => {
    op.users.set('ken@demo-oidc.example', { sub: 'op-ken', email: 'ken@demo-oidc.example', groups: ['Staff'] });
    const request = authorizationRequest();

    const tokens = await exchange(await codeFor(request, 'KEN@demo-oidc.example'), request.verifier);

    const claims = await verifyIdToken(tokens.body.id_token, BASIC.clientId, request.nonce);
    expect(claims).toMatchObject({ sub: 'op-ken', email: 'ken@demo-oidc.example', email_verified: true, groups: ['Staff'] });
    expect(claims.given_name).toBeUndefined();
  });
});
