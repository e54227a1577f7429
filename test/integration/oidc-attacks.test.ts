/**
 * The OIDC callback against a deliberately hostile provider, through the handlers on
 * DynamoDB Local. The provider (test/support/fake-oidc-provider.ts) is reached only
 * through the `fetch` the service is given; it signs whatever the test asks for.
 * Every attack is refused with its code and leaves no user behind.
 */
import { SignJWT } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { base64url, CLIENT_ID, FakeProvider, idTokenClaims, ISSUER, newSigningKey, SUBJECT } from '../support/fake-oidc-provider.js';
import { createOidcOrg, startTestService, type OidcOrg, type TestService } from '../support/service.js';

let service: TestService;
let provider: FakeProvider;
let org: OidcOrg;

beforeAll(async () => {
  provider = await FakeProvider.create();
  service = await startTestService({ fetch: provider.fetch });
  org = await createOidcOrg(service, { issuer: ISSUER, clientId: CLIENT_ID, clientSecret: 's3cret', roleMappings: [{ roleId: 'account-admin', groupIds: ['default'], idpValue: 'Engineering' }] });
});
afterAll(() => service?.close());
beforeEach(() => {
  service.clock.advance(1000);
  provider.tokenEndpoint = () =>
    new Response(JSON.stringify({ access_token: 'access-token-1', token_type: 'Bearer', id_token: provider.idToken }), { headers: { 'content-type': 'application/json' } });
});

const get = (url: string, cookie?: string) => fetch(url, { redirect: 'manual', headers: { accept: 'application/json', ...(cookie ? { cookie } : {}) } });

/** Starts a login at our route; what the provider would see: state and nonce. */
async function startLogin(orgId = org.orgId) {
  const start = await get(`${service.baseUrl}/sso/${orgId}/login?fwd=/`);
  const url = new URL(start.headers.get('location')!);
  browser = start.headers.getSetCookie().find((cookie) => cookie.startsWith('sso_browser='))!.split(';')[0]!;
  return { state: url.searchParams.get('state')!, nonce: url.searchParams.get('nonce')! };
}

/** The login binding cookie of the browser that started the last login. */
let browser = '';

const now = () => Math.floor(service.clock.now().getTime() / 1000);
/** Good claims for this login, at the service's time, with `overrides` (undefined removes a claim). */
const claims = (nonce: string, overrides: Record<string, unknown> = {}) =>
  Object.fromEntries(
    Object.entries(idTokenClaims({ iat: now(), exp: now() + 600, nonce, email: 'victim@acme.test', groups: ['Engineering'], ...overrides })).filter(([, value]) => value !== undefined),
  );

const callback = (state: string | undefined, orgId = org.orgId, extra = '') =>
  get(`${service.baseUrl}/sso/${orgId}/oidc/callback?code=code-1${state === undefined ? '' : `&state=${encodeURIComponent(state)}`}${extra}`, browser);

async function refusal(response: Response) {
  return { status: response.status, code: ((await response.json()) as { error: { code: string } }).error.code };
}

async function noVictim() {
  return (await service.rt.users.list(org.orgId, { email: 'victim@acme.test', limit: 1 })).items;
}

describe('a good login through the fake provider', () => {
  it('works, so the refusals below are about what each one changes', async () => {
    const { state, nonce } = await startLogin();
    await provider.issue(claims(nonce, { email: 'control@acme.test' }));

    const response = await callback(state);

    expect(response.status).toBe(302);
    // client_secret_basic with the sealed secret, opened only to call the token endpoint.
    const token = provider.requestsTo('/token').at(-1)!;
    expect(token.headers.get('authorization')).toBe(`Basic ${Buffer.from(`${CLIENT_ID}:s3cret`).toString('base64')}`);
    expect(new URLSearchParams(token.body).get('code_verifier')).toMatch(/^[A-Za-z0-9_-]{43,}$/);
  });
});

describe('the OIDC callback refuses a hostile provider', () => {
  const tokenAttacks: [string, string, (nonce: string) => Promise<string>][] = [
    ['an unsigned token (alg none)', 'ID_TOKEN_INVALID', async (nonce) => `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url(claims(nonce))}.`],
    [
      'an HS256 token keyed with the RSA public key',
      'ID_TOKEN_INVALID',
      async (nonce) => new SignJWT(claims(nonce)).setProtectedHeader({ alg: 'HS256', kid: provider.signingKey.kid }).sign(new TextEncoder().encode(JSON.stringify(provider.signingKey.publicJwk))),
    ],
    ['a token signed by an unknown key', 'ID_TOKEN_INVALID', async (nonce) => provider.sign(claims(nonce), await newSigningKey('attacker-key'))],
    ['another issuer', 'ID_TOKEN_INVALID', async (nonce) => provider.sign(claims(nonce, { iss: 'https://evil.example' }))],
    ['another audience', 'ID_TOKEN_INVALID', async (nonce) => provider.sign(claims(nonce, { aud: 'another-client' }))],
    ['several audiences without azp', 'ID_TOKEN_INVALID', async (nonce) => provider.sign(claims(nonce, { aud: [CLIENT_ID, 'another-client'] }))],
    ['an azp of another client', 'ID_TOKEN_INVALID', async (nonce) => provider.sign(claims(nonce, { aud: [CLIENT_ID, 'another-client'], azp: 'another-client' }))],
    ['an expired token', 'ID_TOKEN_INVALID', async (nonce) => provider.sign(claims(nonce, { iat: now() - 3600, exp: now() - 120 }))],
    ['a token issued in the future', 'ID_TOKEN_INVALID', async (nonce) => provider.sign(claims(nonce, { iat: now() + 600, exp: now() + 1200 }))],
    ['a token without exp', 'ID_TOKEN_INVALID', async (nonce) => provider.sign(claims(nonce, { exp: undefined }))],
    ['a token without nonce', 'NONCE_MISMATCH', async (nonce) => provider.sign(claims(nonce, { nonce: undefined }))],
    ['another login\'s nonce', 'NONCE_MISMATCH', async () => provider.sign(claims('nonce-of-another-login'))],
    ['email_verified false', 'EMAIL_NOT_VERIFIED', async (nonce) => provider.sign(claims(nonce, { email_verified: false }))],
    ['no email claim', 'EMAIL_MISSING', async (nonce) => provider.sign(claims(nonce, { email: undefined }))],
    ['no role claim', 'ROLE_ATTRIBUTE_MISSING', async (nonce) => provider.sign(claims(nonce, { groups: undefined }))],
  ];

  it.each(tokenAttacks)('refuses %s with %s and creates no user', async (_name, code, token) => {
    const { state, nonce } = await startLogin();
    provider.idToken = await token(nonce);
    provider.userinfo = { sub: SUBJECT };

    const response = await callback(state);

    expect(await refusal(response)).toMatchObject({ code });
    expect(await noVictim()).toEqual([]);
    const { items } = await service.rt.audit.list(org.orgId, { type: 'login.failed', limit: 1 });
    expect(items[0]?.code).toBe(code);
  });

  it('refuses a token endpoint error (a replayed code) with OIDC_TOKEN_EXCHANGE_FAILED, without echoing the secret', async () => {
    const { state, nonce } = await startLogin();
    await provider.issue(claims(nonce));
    provider.tokenEndpoint = () => new Response(JSON.stringify({ error: 'invalid_grant', error_description: 'code already used' }), { status: 400, headers: { 'content-type': 'application/json' } });

    const response = await callback(state);

    expect(await refusal(response)).toEqual({ status: 401, code: 'OIDC_TOKEN_EXCHANGE_FAILED' });
    const { items } = await service.rt.audit.list(org.orgId, { type: 'login.failed', limit: 1 });
    expect(items[0]?.details).toMatchObject({ error: 'invalid_grant' });
    expect(JSON.stringify(items[0])).not.toContain('s3cret');
  });

  it('refuses a token endpoint that fails with 500', async () => {
    const { state } = await startLogin();
    provider.tokenEndpoint = () => new Response('oops', { status: 500 });

    expect(await refusal(await callback(state))).toEqual({ status: 401, code: 'OIDC_TOKEN_EXCHANGE_FAILED' });
  });

  it('reports an error the provider sent back instead of a code as IDP_STATUS_ERROR', async () => {
    const { state } = await startLogin();

    const response = await get(`${service.baseUrl}/sso/${org.orgId}/oidc/callback?state=${state}&error=access_denied&error_description=User%20cancelled`, browser);

    expect(await refusal(response)).toEqual({ status: 401, code: 'IDP_STATUS_ERROR' });
  });
});

describe('the OIDC callback guards its state', () => {
  it.each([
    ['missing', undefined],
    ['unknown', 'made-up-state'],
  ])('refuses a %s state with STATE_INVALID', async (_name, state) => {
    expect(await refusal(await callback(state))).toEqual({ status: 401, code: 'STATE_INVALID' });
  });

  it('refuses a state finished in another browser (login CSRF), and the state is spent', async () => {
    const { state, nonce } = await startLogin();
    await provider.issue(claims(nonce, { email: 'csrf@acme.test' }));
    const starter = browser;

    browser = 'sso_browser=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
    const elsewhere = await callback(state);
    browser = starter;

    expect(await refusal(elsewhere)).toEqual({ status: 401, code: 'STATE_INVALID' });
    expect(await refusal(await callback(state))).toEqual({ status: 401, code: 'STATE_INVALID' });
  });

  it('refuses an authorization response whose iss names another issuer (RFC 9207)', async () => {
    const { state, nonce } = await startLogin();
    await provider.issue(claims(nonce, { email: 'mixup@acme.test' }));

    const response = await callback(state, org.orgId, `&iss=${encodeURIComponent('https://other-idp.example')}`);

    expect(await refusal(response)).toEqual({ status: 401, code: 'STATE_INVALID' });
  });

  it('refuses a reused state with STATE_INVALID', async () => {
    const { state, nonce } = await startLogin();
    await provider.issue(claims(nonce, { email: 'reuse@acme.test' }));
    expect((await callback(state)).status).toBe(302);

    expect(await refusal(await callback(state))).toEqual({ status: 401, code: 'STATE_INVALID' });
  });

  it('refuses a state started for org A at org B, and it is spent', async () => {
    const other = await createOidcOrg(service, { issuer: ISSUER, clientId: CLIENT_ID, clientSecret: 's3cret' });
    const { state, nonce } = await startLogin(org.orgId);
    await provider.issue(claims(nonce));

    const atB = await callback(state, other.orgId);
    const atA = await callback(state, org.orgId);

    expect(await refusal(atB)).toEqual({ status: 401, code: 'STATE_INVALID' });
    expect(await refusal(atA)).toEqual({ status: 401, code: 'STATE_INVALID' });
    expect(await noVictim()).toEqual([]);
  });

  it('refuses a state that expired', async () => {
    const { state, nonce } = await startLogin();
    await provider.issue(claims(nonce));
    service.clock.advance(11 * 60_000);

    const response = await callback(state);

    service.clock.advance(-11 * 60_000);
    expect(await refusal(response)).toEqual({ status: 401, code: 'STATE_INVALID' });
  });
});
