/**
 * Red-team regression suite for OIDC login, SP-initiated SAML, email discovery, sessions
 * and the admin API's authorization: a hostile OpenID provider (or two, for mix-up),
 * a man in the browser, a malicious user of another org, and a low-privileged admin,
 * each trying to get a session, a permission or a secret they should not have.
 *
 * Every test asserts the SAFE outcome. A test that fails here is an attack that works
 * (see the report that came with this file). No test asserts on elapsed time: work is
 * counted instead (requests to the provider, DynamoDB round trips, bytes read).
 */
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { createHash, generateKeyPairSync, sign as nodeSign } from 'node:crypto';
import { importPKCS8, SignJWT, type JWK } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildSignedLoginResponse, createSamlIdpKeys, type SamlIdpKeys } from '../../local/saml-idp.js';
import { deriveSigningKey } from '../../shared/sessions/keys.js';
import { createOrg } from '../../shared/settings/orgs.js';
import { updateProvisioningSettings, updateSsoSettings } from '../../shared/settings/settings-service.js';
import { countRoundTrips } from '../support/dynamodb.js';
import { base64url, FakeProvider, idTokenClaims, newSigningKey } from '../support/fake-oidc-provider.js';
import {
  apiClient,
  createOidcOrg,
  createSamlOrg,
  nextOrgId,
  postAcs,
  startTestService,
  tokenFor,
  type OidcOrg,
  type TestService,
} from '../support/service.js';

const ISSUER_A = 'https://idp-a.example';
const ISSUER_B = 'https://idp-b.example';
const ISSUER_C = 'https://idp-c.example'; // its own JWKS cache, for the refetch budget
const CLIENT_ID = 'sso-jit-client';
const SECRET = 'client-secret-Zq8vX1-do-not-leak';
const ACCESS_TOKEN = 'access-token-1';
const SESSION_SECRET = 'test-session-secret-that-is-long-enough-0123456789';
const cli = { type: 'cli', id: 'redteam' } as const;

let service: TestService;
let providerA: FakeProvider;
let providerB: FakeProvider;
let providerC: FakeProvider;
let org: OidcOrg; // issuer A, JIT, Engineering → account-admin, Staff → regular-user
/** Extra answers a test plants at any URL (checked first); every URL fetched is recorded. */
const overrides = new Map<string, (init?: RequestInit) => Response | Promise<Response>>();
const fetchedUrls: string[] = [];
/** Everything the service answered, for the "no secret ever leaves" sweep. */
const seenResponses: string[] = [];

const hostileFetch: typeof globalThis.fetch = async (input, init) => {
  const url = new URL(input instanceof Request ? input.url : input.toString());
  fetchedUrls.push(url.href);
  const planted = overrides.get(url.href);
  if (planted) return planted(init);
  for (const provider of [providerA, providerB, providerC]) {
    if (url.href.startsWith(`${provider.issuer}/`)) return provider.fetch(input, init);
  }
  return new Response('not found', { status: 404 });
};

beforeAll(async () => {
  [providerA, providerB, providerC] = await Promise.all([FakeProvider.create(ISSUER_A), FakeProvider.create(ISSUER_B), FakeProvider.create(ISSUER_C)]);
  service = await startTestService({ fetch: hostileFetch });
  org = await createOidcOrg(service, {
    issuer: ISSUER_A,
    clientId: CLIENT_ID,
    clientSecret: SECRET,
    roleMappings: [
      { roleId: 'account-admin', groupIds: ['default'], idpValue: 'Engineering' },
      { roleId: 'regular-user', groupIds: ['default'], idpValue: 'Staff' },
    ],
  });
});
afterAll(() => service?.close());
// Audit events sort by time, and the settings cache (5 s) follows the test clock.
beforeEach(() => {
  service.clock.advance(6000);
  overrides.clear();
  for (const provider of [providerA, providerB, providerC]) {
    provider.userinfo = { sub: 'unused' };
    provider.tokenEndpoint = () => json({ access_token: ACCESS_TOKEN, token_type: 'Bearer', id_token: provider.idToken });
  }
});

// ---------------------------------------------------------------------------------------
// helpers

const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

function headerList(headers: Headers): [string, string][] {
  const list: [string, string][] = [];
  headers.forEach((value, name) => list.push([name, value]));
  return list;
}

interface Seen {
  status: number;
  headers: Headers;
  text: string;
  location: string | null;
  code?: string;
  body: any;
}

async function request(path: string, init: RequestInit = {}): Promise<Seen> {
  const response = await fetch(path.startsWith('http') ? path : `${service.baseUrl}${path}`, {
    redirect: 'manual',
    ...init,
    headers: { accept: 'application/json', ...(init.headers as Record<string, string>) },
  });
  const text = await response.text();
  seenResponses.push(text, JSON.stringify(headerList(response.headers)));
  let body: any;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  return { status: response.status, headers: response.headers, text, location: response.headers.get('location'), code: body?.error?.code, body };
}

/** The session cookie a response sets. */
const cookieOf = (seen: Seen) => seen.headers.getSetCookie().find((c) => c.startsWith('session='))?.slice(8).split(';')[0] || undefined;

const get = (path: string, headers: Record<string, string> = {}) => request(path, { headers });

const now = () => Math.floor(service.clock.now().getTime() / 1000);

/** Good claims for a login at the service's time; `undefined` removes a claim. */
function claims(issuer: string, nonce: string, overrides: Record<string, unknown> = {}) {
  return Object.fromEntries(
    Object.entries(
      idTokenClaims({ iss: issuer, aud: CLIENT_ID, iat: now(), exp: now() + 600, nonce, sub: 'sub-default', email: 'someone@acme.test', groups: ['Staff'], ...overrides }),
    ).filter(([, value]) => value !== undefined),
  );
}

/** The login binding cookie (`sso_browser=…`, ready for a `cookie:` header) a login start set. */
const browserCookieOf = (seen: Seen) => seen.headers.getSetCookie().find((c) => c.startsWith('sso_browser='))?.split(';')[0];

/** The binding cookie of the browser that started each login, by its state: the callback carries it back. */
const browsers = new Map<string, string>();

/** Starts a login at our route in a fresh browser; what the provider sees, and the browser's binding cookie. */
async function start(orgId = org.orgId, fwd = '/') {
  const response = await get(`/sso/${orgId}/login?fwd=${encodeURIComponent(fwd)}`);
  expect(response.status).toBe(302);
  const browser = browserCookieOf(response);
  expect(browser).toMatch(/^sso_browser=[A-Za-z0-9_-]{43}$/);
  const url = new URL(response.location!);
  const state = url.searchParams.get('state')!;
  browsers.set(state, browser!);
  return {
    response,
    url,
    browser: browser!,
    state,
    nonce: url.searchParams.get('nonce')!,
    challenge: url.searchParams.get('code_challenge')!,
  };
}

/** The IdP sends the browser back to our callback; by default the browser that started the login (its cookie). */
const callback = (state: string, orgId = org.orgId, extra = '', headers: Record<string, string> = { cookie: browsers.get(state) ?? '' }) =>
  get(`/sso/${orgId}/oidc/callback?code=code-${state.slice(0, 6)}&state=${encodeURIComponent(state)}${extra}`, headers);

/** A whole login through `provider` for `orgId`, the ID token built from `overrides`. */
async function login(overrides: Record<string, unknown>, orgId = org.orgId, provider = providerA) {
  const { state, nonce } = await start(orgId);
  await provider.issue(claims(provider.issuer, nonce, overrides));
  return callback(state, orgId);
}

const userByEmail = (email: string, orgId = org.orgId) => service.rt.users.findByEmail(orgId, email);

/** A compact JWS signed with `key` over exactly these header and payload segments. */
async function rawJws(header: Record<string, unknown>, payloadSegment: string, key: CryptoKey): Promise<string> {
  const signingInput = `${base64url(header)}.${payloadSegment}`;
  const signature = await crypto.subtle.sign('RSASSA-PKCS1-v1_5', key, new TextEncoder().encode(signingInput));
  return `${signingInput}.${Buffer.from(signature).toString('base64url')}`;
}

/** A fresh OIDC org on `issuer` (JIT on, Engineering → account-admin). */
function oidcOrg(issuer = ISSUER_A, extra: Partial<Parameters<typeof createOidcOrg>[1]> = {}) {
  return createOidcOrg(service, { issuer, clientId: CLIENT_ID, clientSecret: SECRET, ...extra });
}

// ---------------------------------------------------------------------------------------

describe('control: a good OIDC login works', () => {
  it('signs in, records sub as idpSubject, sends PKCE S256 and the secret only to the token endpoint', async () => {
    const { state, nonce, challenge, url } = await start(org.orgId, '/projects/1');
    await providerA.issue(claims(ISSUER_A, nonce, { sub: 'sub-control', email: 'control@acme.test' }));

    const response = await callback(state);

    expect(response.status).toBe(302);
    expect(response.location).toBe(`${service.baseUrl}/projects/1`);
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    const token = providerA.requestsTo('/token').at(-1)!;
    const verifier = new URLSearchParams(token.body).get('code_verifier')!;
    expect(createHash('sha256').update(verifier).digest('base64url')).toBe(challenge);
    expect((await userByEmail('control@acme.test'))?.idpSubject).toEqual({ issuer: ISSUER_A, subject: 'sub-control' });
  });
});

describe('OIDC mix-up and state binding', () => {
  it("refuses a state made for IdP A answered with IdP B's genuinely signed token", async () => {
    const { state, nonce } = await start();
    // A's token endpoint hands over a token B really signed (B is the org of the attacker).
    providerA.idToken = await providerB.sign(claims(ISSUER_B, nonce, { sub: 'mix', email: 'mixup@acme.test' }));

    const response = await callback(state);

    expect(response.code).toBe('ID_TOKEN_INVALID');
    expect(await userByEmail('mixup@acme.test')).toBeUndefined();
  });

  it("refuses B's token even when its kid collides with A's key id", async () => {
    // Both fake providers name their key "key-1": a kid collision across issuers.
    const { state, nonce } = await start();
    providerA.idToken = await providerB.sign(claims(ISSUER_A, nonce, { sub: 'kid', email: 'kidclash@acme.test' }));

    expect((await callback(state)).code).toBe('ID_TOKEN_INVALID');
    expect(await userByEmail('kidclash@acme.test')).toBeUndefined();
  });

  it("refuses a callback after the org's issuer changed, before any code is sent to either provider", async () => {
    const moving = await oidcOrg(ISSUER_A);
    const { state, nonce } = await start(moving.orgId);
    await updateSsoSettings(service.rt, { orgId: moving.orgId, actor: cli }, { enabled: true, protocol: 'oidc', oidc: { issuer: ISSUER_B, clientId: CLIENT_ID, clientSecret: 'b-secret' } });
    service.clock.advance(6000);
    await providerB.issue(claims(ISSUER_B, nonce, { email: 'moved@acme.test' }));
    const tokenCalls = providerA.requestsTo('/token').length + providerB.requestsTo('/token').length;

    const response = await callback(state, moving.orgId);

    expect(response.code).toBe('STATE_INVALID');
    expect(providerA.requestsTo('/token').length + providerB.requestsTo('/token').length).toBe(tokenCalls);
  });

  it('refuses an authorization response whose iss parameter (RFC 9207) names another issuer', async () => {
    const { state, nonce } = await start();
    await providerA.issue(claims(ISSUER_A, nonce, { sub: 'sub-iss', email: 'issparam@acme.test' }));

    const response = await callback(state, org.orgId, `&iss=${encodeURIComponent(ISSUER_B)}`);

    expect(response).toMatchObject({ status: 401, code: 'STATE_INVALID' });
    expect(await userByEmail('issparam@acme.test')).toBeUndefined();
  });

  it('binds the state to the browser that started the login (no login CSRF / session fixation)', async () => {
    // The attacker starts a login in their own browser, signs in at the IdP as themselves,
    // and stops before the callback: the callback URL is then sent to the victim.
    const attacker = await start();
    await providerA.issue(claims(ISSUER_A, attacker.nonce, { sub: 'sub-attacker', email: 'csrf-attacker@acme.test' }));

    // The victim's browser never visited /login: it has none of the start's cookies
    // (or, having started a login of its own, a binding cookie of its own).
    const victimOwn = await start();
    const withOwnCookie = await callback(attacker.state, org.orgId, '', { cookie: victimOwn.browser });
    const withNoCookie = await callback(attacker.state, org.orgId, '', {});

    for (const victim of [withOwnCookie, withNoCookie]) {
      expect(victim).toMatchObject({ status: 401, code: 'STATE_INVALID' });
      expect(cookieOf(victim)).toBeUndefined();
    }
    expect(await userByEmail('csrf-attacker@acme.test')).toBeUndefined();
  });

  it('makes 256-bit, distinct state, nonce and PKCE verifier for each login', async () => {
    const starts = await Promise.all(Array.from({ length: 8 }, () => start()));
    for (const { state, nonce, challenge } of starts) {
      expect(state).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(nonce).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
    }
    expect(new Set(starts.flatMap((s) => [s.state, s.nonce, s.challenge])).size).toBe(24);
  });

  it('still uses PKCE S256 with a provider that lists only "plain" (no downgrade)', async () => {
    const plain = await FakeProvider.create('https://idp-plain.example');
    const previous = overrides;
    const base = 'https://idp-plain.example';
    plain.discovery.code_challenge_methods_supported = ['plain'];
    for (const path of ['/.well-known/openid-configuration', '/token', '/jwks', '/userinfo']) previous.set(`${base}${path}`, (init) => plain.fetch(`${base}${path}`, init));
    const downgraded = await oidcOrg(base);

    const { url, nonce, state, challenge } = await start(downgraded.orgId);
    await plain.issue(claims(base, nonce, { email: 'pkce@acme.test', groups: ['Engineering'] }));
    const response = await callback(state, downgraded.orgId);

    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(response.status).toBe(302);
    const verifier = new URLSearchParams(plain.requestsTo('/token').at(-1)!.body).get('code_verifier')!;
    expect(createHash('sha256').update(verifier).digest('base64url')).toBe(challenge);
  });

  it('refuses to start, and to finish, an OIDC login for an org whose SSO is off', async () => {
    const off = await oidcOrg(ISSUER_A);
    const pending = await start(off.orgId);
    await updateProvisioningSettings(service.rt, { orgId: off.orgId, actor: cli }, { method: 'manual' });
    await updateSsoSettings(service.rt, { orgId: off.orgId, actor: cli }, { enabled: false, protocol: 'oidc', oidc: { issuer: ISSUER_A, clientId: CLIENT_ID } });
    service.clock.advance(6000);
    const discoveries = providerA.requestsTo('/openid-configuration').length;
    await providerA.issue(claims(ISSUER_A, pending.nonce, { email: `admin@${off.orgId}.test` }));

    const started = await get(`/sso/${off.orgId}/login?fwd=/`);
    const finished = await callback(pending.state, off.orgId);

    expect(started).toMatchObject({ status: 403, code: 'SSO_NOT_ENABLED' });
    expect(finished).toMatchObject({ status: 403, code: 'SSO_NOT_ENABLED' });
    expect(providerA.requestsTo('/openid-configuration').length).toBe(discoveries);
  });
});

describe('ID token header tricks and key handling', () => {
  it('ignores a jku header that points at the attacker\'s key set', async () => {
    const attackerKey = await newSigningKey('key-1');
    overrides.set('https://attacker.example/jwks', () => json({ keys: [attackerKey.publicJwk] }));
    const { state, nonce } = await start();
    providerA.idToken = await new SignJWT(claims(ISSUER_A, nonce, { email: 'jku@acme.test' }))
      .setProtectedHeader({ alg: 'RS256', kid: 'key-1', jku: 'https://attacker.example/jwks' })
      .sign(attackerKey.privateKey);

    expect((await callback(state)).code).toBe('ID_TOKEN_INVALID');
    expect(fetchedUrls).not.toContain('https://attacker.example/jwks');
    expect(await userByEmail('jku@acme.test')).toBeUndefined();
  });

  it('ignores a jwk header embedding the attacker\'s key', async () => {
    const attackerKey = await newSigningKey('attacker');
    const { state, nonce } = await start();
    providerA.idToken = await new SignJWT(claims(ISSUER_A, nonce, { email: 'jwk@acme.test' }))
      .setProtectedHeader({ alg: 'RS256', jwk: { kty: attackerKey.publicJwk.kty!, n: attackerKey.publicJwk.n!, e: attackerKey.publicJwk.e! } })
      .sign(attackerKey.privateKey);

    expect((await callback(state)).code).toBe('ID_TOKEN_INVALID');
    expect(await userByEmail('jwk@acme.test')).toBeUndefined();
  });

  it('ignores an x5c header carrying a certificate the attacker made', async () => {
    const attacker: SamlIdpKeys = await createSamlIdpKeys('CN=idp-a.example');
    const der = attacker.certificatePem.replace(/-----[^-]+-----|\s/g, '');
    const { state, nonce } = await start();
    providerA.idToken = await new SignJWT(claims(ISSUER_A, nonce, { email: 'x5c@acme.test' }))
      .setProtectedHeader({ alg: 'RS256', x5c: [der] })
      .sign(await importPKCS8(attacker.privateKeyPem, 'RS256'));

    expect((await callback(state)).code).toBe('ID_TOKEN_INVALID');
    expect(await userByEmail('x5c@acme.test')).toBeUndefined();
  });

  it('refuses a provider-signed token with an unknown crit header', async () => {
    const { state, nonce } = await start();
    providerA.idToken = await rawJws(
      { alg: 'RS256', kid: 'key-1', crit: ['urn:example:must-understand'], 'urn:example:must-understand': true },
      base64url(claims(ISSUER_A, nonce, { email: 'crit@acme.test' })),
      providerA.signingKey.privateKey,
    );

    expect((await callback(state)).code).toBe('ID_TOKEN_INVALID');
    expect(await userByEmail('crit@acme.test')).toBeUndefined();
  });

  it('refuses a provider-signed token with an unencoded payload (b64: false)', async () => {
    const { state, nonce } = await start();
    const payload = JSON.stringify(claims(ISSUER_A, nonce, { email: 'b64@acme' }));
    providerA.idToken = await rawJws({ alg: 'RS256', kid: 'key-1', b64: false, crit: ['b64'] }, payload, providerA.signingKey.privateKey);

    expect((await callback(state)).code).toBe('ID_TOKEN_INVALID');
  });

  it('refuses a token signed by a 1024-bit RSA key that the JWKS publishes', async () => {
    // jose will not even make such a key: node:crypto does, as a careless IdP would.
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const weak: JWK = { ...(publicKey.export({ format: 'jwk' }) as JWK), kid: 'weak', alg: 'RS256', use: 'sig' };
    const c = await oidcOrg(ISSUER_C);
    providerC.jwks = { keys: [providerC.signingKey.publicJwk, weak] };
    const { state, nonce } = await start(c.orgId);
    const input = `${base64url({ alg: 'RS256', kid: 'weak' })}.${base64url(claims(ISSUER_C, nonce, { email: 'weak@acme.test', groups: ['Engineering'] }))}`;
    providerC.idToken = `${input}.${nodeSign('sha256', Buffer.from(input), privateKey).toString('base64url')}`;

    expect((await callback(state, c.orgId)).code).toBe('ID_TOKEN_INVALID');
    expect(await userByEmail('weak@acme.test', c.orgId)).toBeUndefined();
  });

  it('refuses an algorithm the JWK does not declare (PS256 with an RS256 key) and one discovery does not list', async () => {
    const { state, nonce } = await start();
    providerA.idToken = await new SignJWT(claims(ISSUER_A, nonce, { email: 'ps256@acme.test' }))
      .setProtectedHeader({ alg: 'PS256', kid: 'key-1' })
      .sign(await crypto.subtle.importKey('pkcs8', await crypto.subtle.exportKey('pkcs8', providerA.signingKey.privateKey), { name: 'RSA-PSS', hash: 'SHA-256' }, false, ['sign']));

    expect((await callback(state)).code).toBe('ID_TOKEN_INVALID');
  });

  it('accepts aud [client, other] only with azp = client, and then as the signed subject', async () => {
    const response = await login({ sub: 'sub-aud', email: 'aud@acme.test', aud: [CLIENT_ID, 'attacker-client'], azp: CLIENT_ID });
    expect(response.status).toBe(302);
    const refused = await login({ sub: 'sub-aud2', email: 'aud2@acme.test', aud: ['attacker-client', CLIENT_ID], azp: 'attacker-client' });
    expect(refused.code).toBe('ID_TOKEN_INVALID');
  });

  it('refetches the JWKS at most once for a burst of unknown kids', async () => {
    const c = await oidcOrg(ISSUER_C);
    const before = providerC.requestsTo('/jwks').length;
    for (let i = 0; i < 5; i += 1) {
      const { state, nonce } = await start(c.orgId);
      providerC.idToken = await providerC.sign(claims(ISSUER_C, nonce, { email: `kid${i}@acme.test` }), await newSigningKey(`unknown-${i}`));
      expect((await callback(state, c.orgId)).code).toBe('ID_TOKEN_INVALID');
    }
    expect(providerC.requestsTo('/jwks').length - before).toBeLessThanOrEqual(2);
  });
});

describe('claims: subject, email and groups', () => {
  it('refuses SUBJECT_MISMATCH when the same email comes back under another sub, and changes nothing', async () => {
    expect((await login({ sub: 'sub-kate', email: 'kate@acme.test', groups: ['Engineering'] })).status).toBe(302);
    const before = await userByEmail('kate@acme.test');

    const response = await login({ sub: 'sub-impostor', email: 'kate@acme.test', groups: ['Engineering'], given_name: 'Evil' });

    expect(response).toMatchObject({ status: 403, code: 'SUBJECT_MISMATCH' });
    expect(await userByEmail('kate@acme.test')).toEqual(before);
  });

  it('refuses an uppercased / padded variant of the email under another sub', async () => {
    const response = await login({ sub: 'sub-impostor-2', email: '  KATE@Acme.TEST ', groups: ['Engineering'] });
    expect(response.code).toBe('SUBJECT_MISMATCH');
  });

  it('never signs the Kelvin-sign email (U+212A) in as kate', async () => {
    const response = await login({ sub: 'sub-kelvin', email: '\u212Aate@acme.test', groups: ['Engineering'] });
    const kate = await userByEmail('kate@acme.test');
    expect(kate?.idpSubject?.subject).toBe('sub-kate');
    if (response.status === 302) {
      const me = await get('/me', { cookie: `session=${cookieOf(response)}` });
      expect(me.body.email).not.toBe('kate@acme.test');
      expect(me.body.id).not.toBe(kate?.id);
    }
  });

  it("does not let userinfo replace the ID token's email with another user's", async () => {
    const { state, nonce } = await start();
    // No given_name in the token: userinfo is asked, and lies about the email and groups.
    await providerA.issue(claims(ISSUER_A, nonce, { sub: 'sub-ui', email: 'ui@acme.test', given_name: undefined, groups: ['Staff'] }));
    providerA.userinfo = { sub: 'sub-ui', email: 'kate@acme.test', email_verified: true, groups: ['Engineering'] };

    expect((await callback(state)).status).toBe(302);
    expect((await userByEmail('ui@acme.test'))?.assignments).toEqual([{ groupId: 'default', roleId: 'regular-user' }]);
    expect((await userByEmail('kate@acme.test'))?.idpSubject?.subject).toBe('sub-kate');
  });

  it("refuses userinfo that describes another subject", async () => {
    const { state, nonce } = await start();
    await providerA.issue(claims(ISSUER_A, nonce, { sub: 'sub-ui2', email: undefined }));
    providerA.userinfo = { sub: 'sub-kate', email: 'kate@acme.test', email_verified: true };

    expect((await callback(state)).code).toBe('ID_TOKEN_INVALID');
  });

  it('refuses an email claim that is an array rather than one string', async () => {
    providerA.userinfo = { sub: 'sub-array' }; // consulted because email is not a string; adds nothing
    const response = await login({ sub: 'sub-array', email: ['array-attacker@acme.test', 'kate@acme.test'], groups: ['Engineering'] });
    expect(response).toMatchObject({ status: 403, code: 'EMAIL_MISSING' });
    expect(cookieOf(response)).toBeUndefined();
    expect(await userByEmail('array-attacker@acme.test')).toBeUndefined();
  });

  it('refuses email_verified "false" sent as a string', async () => {
    const response = await login({ sub: 'sub-ev', email: 'ev@acme.test', email_verified: 'false' });
    expect(response.code).toBe('EMAIL_NOT_VERIFIED');
  });

  it('reads groups as a string or an array, and never from an object', async () => {
    expect((await login({ sub: 'g1', email: 'g1@acme.test', groups: 'Engineering' })).status).toBe(302);
    expect((await userByEmail('g1@acme.test'))?.assignments).toEqual([{ groupId: 'default', roleId: 'account-admin' }]);
    expect((await login({ sub: 'g2', email: 'g2@acme.test', groups: { 0: 'Engineering', length: 1 } })).code).toBe('ROLE_ATTRIBUTE_MISSING');
    expect((await login({ sub: 'g3', email: 'g3@acme.test', groups: [['Engineering']] })).code).toBe('ROLE_ATTRIBUTE_MISSING');
    expect((await login({ sub: 'g4', email: 'g4@acme.test', groups: ['engineering', 'Engineering '] })).code).toBe('ROLE_NOT_MAPPED');
  });
});

describe('discovery documents from a hostile provider', () => {
  async function orgWithDiscovery(issuer: string, answer: (init?: RequestInit) => Response | Promise<Response>) {
    overrides.set(`${issuer}/.well-known/openid-configuration`, answer);
    return oidcOrg(issuer);
  }
  const doc = (issuer: string, extra: Record<string, unknown> = {}) => ({
    issuer,
    authorization_endpoint: `${issuer}/authorize`,
    token_endpoint: `${issuer}/token`,
    jwks_uri: `${issuer}/jwks`,
    ...extra,
  });

  it.each([
    ['an http token endpoint', { token_endpoint: 'http://idp-d.example/token' }],
    ['an http jwks_uri', { jwks_uri: 'http://idp-d.example/jwks' }],
    ['an http authorization endpoint', { authorization_endpoint: 'http://idp-d.example/authorize' }],
    ['a javascript: authorization endpoint', { authorization_endpoint: 'javascript:alert(1)' }],
    ['another issuer', { issuer: 'https://idp-d.example/' }],
  ])('refuses %s', async (_name, extra) => {
    const issuer = 'https://idp-d.example';
    const d = await orgWithDiscovery(issuer, () => json(doc(issuer, extra)));
    expect(await get(`/sso/${d.orgId}/login?fwd=/`)).toMatchObject({ status: 401, code: 'OIDC_TOKEN_EXCHANGE_FAILED' });
  });

  it('does not follow a redirect to another host', async () => {
    const issuer = 'https://idp-e.example';
    overrides.set('https://evil.example/.well-known/openid-configuration', () => json(doc(issuer)));
    const e = await orgWithDiscovery(issuer, () => new Response(null, { status: 302, headers: { location: 'https://evil.example/.well-known/openid-configuration' } }));

    expect((await get(`/sso/${e.orgId}/login?fwd=/`)).code).toBe('OIDC_TOKEN_EXCHANGE_FAILED');
    expect(fetchedUrls).not.toContain('https://evil.example/.well-known/openid-configuration');
  });

  it('stops reading a huge discovery document near the size limit instead of buffering all of it', async () => {
    const issuer = 'https://idp-f.example';
    const chunk = new TextEncoder().encode(' '.repeat(64 * 1024));
    const total = 8 * 1024 * 1024;
    let pulled = 0;
    const f = await orgWithDiscovery(issuer, () => {
      pulled = 0;
      return new Response(
        new ReadableStream<Uint8Array>({
          pull(controller) {
            if (pulled >= total) return controller.close();
            pulled += chunk.length;
            controller.enqueue(chunk);
          },
        }),
        { status: 200, headers: { 'content-type': 'application/json' } },
      );
    });

    const response = await get(`/sso/${f.orgId}/login?fwd=/`);

    expect(response.code).toBe('OIDC_TOKEN_EXCHANGE_FAILED');
    // The limit is 512 KiB: reading 16 MiB (or 1 GiB) before checking is a memory DoS on a shared Lambda.
    expect(pulled).toBeLessThanOrEqual(2 * 1024 * 1024);
  });

  it('bounds the JWKS response like the other IdP responses', async () => {
    const issuer = 'https://idp-g.example';
    const g = await FakeProvider.create(issuer);
    for (const path of ['/.well-known/openid-configuration', '/token', '/userinfo']) overrides.set(`${issuer}${path}`, (init) => g.fetch(`${issuer}${path}`, init));
    // 2 MiB of padding around a genuine key: four times the limit discovery and token responses get.
    overrides.set(`${issuer}/jwks`, () => json({ keys: g.jwks.keys, padding: 'x'.repeat(2 * 1024 * 1024) }));
    const orgG = await oidcOrg(issuer);
    const { state, nonce } = await start(orgG.orgId);
    await g.issue(claims(issuer, nonce, { email: 'bigjwks@acme.test', groups: ['Engineering'] }));
    overrides.set(`${issuer}/token`, (init) => g.fetch(`${issuer}/token`, init));

    expect((await callback(state, orgG.orgId)).status).toBe(401);
  });

  it('gives up on a discovery endpoint that never answers', async () => {
    const issuer = 'https://idp-h.example';
    const h = await orgWithDiscovery(
      issuer,
      (init) =>
        new Promise<Response>((_resolve, reject) => {
          init?.signal?.addEventListener('abort', () => reject(init.signal!.reason));
        }),
    );
    expect(await get(`/sso/${h.orgId}/login?fwd=/`)).toMatchObject({ status: 401, code: 'OIDC_TOKEN_EXCHANGE_FAILED' });
  }, 15_000);
});

describe('fwd at every entry point', () => {
  const evil = ['//evil.example', '/\\evil.example', '/%2F%2Fevil.example', '/%252F%252Fevil.example', 'https://evil.example', '/.//evil.example', '/%0d%0aSet-Cookie:x=1', '/%5Cevil.example', 'javascript:alert(1)', '/%2e%2e//evil.example', '%2F%2Fevil.example', '/\t/evil.example'];

  it.each(evil)('refuses fwd=%s on /sso/{org}/login (OIDC), /login/sso, /login and /login/discover', async (fwd) => {
    const q = encodeURIComponent(fwd);
    const pendingBefore = (await service.db.client.send(new ScanCommand({ TableName: service.db.names.loginState, Select: 'COUNT' }))).Count;
    expect((await get(`/sso/${org.orgId}/login?fwd=${q}`)).code).toBe('RELAY_STATE_INVALID');
    expect((await get(`/login/sso?idp=${encodeURIComponent(ISSUER_A)}&fwd=${q}`)).code).toBe('RELAY_STATE_INVALID');
    expect((await get(`/login?fwd=${q}`)).code).toBe('RELAY_STATE_INVALID');
    const discoverJson = await request('/login/discover', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: `admin@${org.orgId}.test`, fwd }) });
    expect(discoverJson.code).toBe('RELAY_STATE_INVALID');
    const discoverForm = await request('/login/discover', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
      body: new URLSearchParams({ email: `admin@${org.orgId}.test`, fwd }).toString(),
    });
    expect(discoverForm.status).toBe(400);
    expect(discoverForm.location).toBeNull();
    const pendingAfter = (await service.db.client.send(new ScanCommand({ TableName: service.db.names.loginState, Select: 'COUNT' }))).Count;
    expect(pendingAfter).toBe(pendingBefore);
  });

  it('keeps a legitimate fwd on our origin through the whole OIDC round trip', async () => {
    const { state, nonce } = await start(org.orgId, '/a/b?c=%2F%2Fd#frag');
    await providerA.issue(claims(ISSUER_A, nonce, { sub: 'sub-fwd', email: 'fwd@acme.test' }));
    const response = await callback(state);
    expect(new URL(response.location!).origin).toBe(new URL(service.baseUrl).origin);
  });

  it('escapes fwd in the login page', async () => {
    const page = await get(`/login?fwd=${encodeURIComponent('/x"><script>alert(1)</script>')}`, { accept: 'text/html' });
    expect(page.status).toBe(200);
    expect(page.text).not.toContain('<script>alert(1)');
  });
});

describe('discovery: /login/discover', () => {
  const discover = (email: string) => request('/login/discover', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email }) });

  it('answers an unknown email and a known user of an org without SSO identically, with the same DynamoDB work', async () => {
    const noSso = nextOrgId('nosso');
    await createOrg(service.rt, { orgId: noSso, name: 'No SSO', adminEmail: `known@${noSso}.test` }, cli);
    const trips = countRoundTrips(service.db.client);
    const measure = async (email: string) => {
      await discover(email); // warms whatever a caller can warm
      trips.reset();
      const response = await discover(email);
      const headers = Object.fromEntries(headerList(response.headers).filter(([name]) => !['date', 'content-length', 'apigw-requestid'].includes(name)));
      return { status: response.status, text: response.text, headers, trips: trips.count() };
    };

    const known = await measure(`known@${noSso}.test`);
    const unknown = await measure(`nobody-${noSso}@${noSso}.test`);

    expect(known.status).toBe(404);
    expect(known.text).toBe(unknown.text);
    expect(known.headers).toEqual(unknown.headers);
    expect(known.trips).toBe(unknown.trips);
  });

  it("is not hijacked by another org's JIT shadow copy of the victim's email", async () => {
    // The victim's org (SSO on, no domain claimed) has the victim as its admin.
    const victimOrg = await oidcOrg(ISSUER_A, { orgId: nextOrgId('victim') });
    const victimEmail = `admin@${victimOrg.orgId}.test`;
    // The attacker runs their own org with their own IdP (B), its id chosen to sort first,
    // and JIT-provisions the victim's email into it by asserting it.
    const attackerOrg = await oidcOrg(ISSUER_B, { orgId: nextOrgId('aaa') });
    expect((await login({ sub: 'shadow', email: victimEmail, groups: ['Engineering'] }, attackerOrg.orgId, providerB)).status).toBe(302);

    const response = await discover(victimEmail);

    // Sending the victim to the attacker's IdP is credential phishing.
    expect(response.body?.loginUrl ?? '').not.toContain(`/sso/${attackerOrg.orgId}/`);
  });

  it('refuses a non-email and an oversize body without a stack trace', async () => {
    expect((await discover('not-an-email')).code).toBe('VALIDATION_FAILED');
    const huge = await request('/login/discover', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'a@b.co', pad: 'x'.repeat(300 * 1024) }) });
    expect(huge.status).toBe(413);
  });
});

describe('sessions', () => {
  let adminToken: string;
  let otherOrg: OidcOrg;
  beforeAll(async () => {
    adminToken = await tokenFor(service, org.orgId, org.adminEmail);
    otherOrg = await oidcOrg(ISSUER_A);
  });

  it("answers org A's token on org B's admin routes exactly like on a nonexistent org", async () => {
    const api = apiClient(service, adminToken);
    const onB = await api('GET', `/orgs/${otherOrg.orgId}/users`);
    const onNothing = await api('GET', '/orgs/no-such-org-xyz/users');
    expect(onB.status).toBe(403);
    expect(onB.body).toEqual(onNothing.body);
    expect((await api('PATCH', `/orgs/${otherOrg.orgId}/users/${(await userByEmail(otherOrg.adminEmail, otherOrg.orgId))!.id}`, { status: 'blocked' })).status).toBe(403);
  });

  it('refuses alg none, HS256 keyed with the published public key, another key, and an expired token', async () => {
    const jwks = (await get('/.well-known/jwks.json')).body as { keys: JWK[] };
    const [claimsPart] = [adminToken.split('.')[1]!];
    const none = `${base64url({ alg: 'none', typ: 'JWT' })}.${claimsPart}.`;
    const hs = await new SignJWT(JSON.parse(Buffer.from(claimsPart, 'base64url').toString()))
      .setProtectedHeader({ alg: 'HS256', kid: jwks.keys[0]!.kid })
      .sign(Buffer.from(jwks.keys[0]!.x!, 'base64url'));
    const rotatedOut = await deriveSigningKey('a-previous-session-secret-that-was-rotated-out-0123');
    const stale = await new SignJWT({ org: org.orgId, email: org.adminEmail })
      .setProtectedHeader({ alg: 'EdDSA', kid: rotatedOut.kid })
      .setSubject((await userByEmail(org.adminEmail))!.id)
      .setIssuer(service.baseUrl)
      .setAudience('sso-jit')
      .setIssuedAt(now())
      .setExpirationTime(now() + 600)
      .sign(rotatedOut.privateKey);
    const expired = await service.rt.sessions.issue((await userByEmail(org.adminEmail))!, 60);
    service.clock.advance(120_000);

    for (const token of [none, hs, stale, expired, 'garbage', `${adminToken}x`]) {
      const me = await get('/me', { authorization: `Bearer ${token}` });
      expect(me).toMatchObject({ status: 401, code: 'UNAUTHENTICATED' });
      expect((await apiClient(service, token)('GET', `/orgs/${org.orgId}/users`)).status).toBe(401);
    }
  });

  it("refuses a correctly signed token whose org names another org than the user's", async () => {
    const key = await deriveSigningKey(SESSION_SECRET);
    const userId = (await userByEmail(org.adminEmail))!.id;
    const forged = await new SignJWT({ org: otherOrg.orgId, email: org.adminEmail })
      .setProtectedHeader({ alg: 'EdDSA', kid: key.kid })
      .setSubject(userId)
      .setIssuer(service.baseUrl)
      .setAudience('sso-jit')
      .setIssuedAt(now())
      .setExpirationTime(now() + 600)
      .sign(key.privateKey);
    expect((await apiClient(service, forged)('GET', `/orgs/${otherOrg.orgId}/users`)).status).toBe(401);
  });

  it('lets the bearer token decide when a session cookie of someone else is also sent', async () => {
    const staff = await login({ sub: 'sub-staff', email: 'staff@acme.test', groups: ['Staff'] });
    const staffToken = cookieOf(staff)!;
    const mixed = await request(`/orgs/${org.orgId}/users`, { headers: { authorization: `Bearer ${staffToken}`, cookie: `session=${adminToken}` } });
    expect(mixed.status).toBe(403);
    const badBearer = await request(`/orgs/${org.orgId}/users`, { headers: { authorization: 'Bearer not-a-token', cookie: `session=${adminToken}` } });
    expect(badBearer.status).toBe(401);
  });

  it('does not let another site change anything with the ambient session cookie (CSRF)', async () => {
    // The contract: admin routes take the cookie too (the console), but a write made with it
    // must come from BASE_URL's origin. A cookie rides along on requests another page makes;
    // a text/plain body needs no CORS preflight, and the browser names the page's origin.
    const victim = (await userByEmail('staff@acme.test'))!;
    for (const origin of [undefined, 'https://evil.example', `${service.baseUrl}.evil.example`]) {
      const response = await request(`/orgs/${org.orgId}/users/${victim.id}`, {
        method: 'PATCH',
        headers: { cookie: `session=${adminToken}`, 'content-type': 'text/plain', ...(origin ? { origin } : {}) },
        body: JSON.stringify({ status: 'blocked' }),
      });
      expect(response.status, String(origin)).toBe(403);
      expect(response.code).toBe('CSRF_REJECTED');
    }
    expect((await userByEmail('staff@acme.test'))?.status).toBe('active');
  });

  it("ends a blocked user's sessions at once", async () => {
    expect((await login({ sub: 'sub-blocked', email: 'blocked@acme.test', groups: ['Staff'] })).status).toBe(302);
    const user = (await userByEmail('blocked@acme.test'))!;
    const token = await service.rt.sessions.issue(user);
    expect((await get('/me', { authorization: `Bearer ${token}` })).status).toBe(200);
    expect((await apiClient(service, adminToken)('PATCH', `/orgs/${org.orgId}/users/${user.id}`, { status: 'blocked' })).status).toBe(200);
    expect((await get('/me', { authorization: `Bearer ${token}` })).status).toBe(401);
  });
});

describe('admin API authorization', () => {
  let adminToken: string;
  let otherOrg: OidcOrg;
  /** An org of its own for the escalation attempts, so a successful one harms no other test. */
  let esc: OidcOrg;
  beforeAll(async () => {
    adminToken = await tokenFor(service, org.orgId, org.adminEmail);
    otherOrg = await oidcOrg(ISSUER_A);
    esc = await oidcOrg(ISSUER_A, { roleMappings: [{ roleId: 'account-admin', groupIds: ['default'], idpValue: 'Engineering' }] });
  });

  async function signedIn(sub: string, email: string, groups: string[], orgId = esc.orgId) {
    const response = await login({ sub, email, groups }, orgId);
    expect(response.status).toBe(302);
    return { token: cookieOf(response)!, user: (await userByEmail(email, orgId))! };
  }

  it('does not let an Account Admin (users:edit) make themselves Organization Admin', async () => {
    const { token, user } = await signedIn('sub-acct', 'acct-admin@acme.test', ['Engineering']);
    const api = apiClient(service, token);

    const response = await api('PATCH', `/orgs/${esc.orgId}/users/${user.id}`, { assignments: [{ groupId: 'default', roleId: 'organization-admin' }] });
    // With the role it just gave itself, it may now read and rewrite the SSO settings.
    const sso = await api('GET', `/orgs/${esc.orgId}/settings/sso`);

    expect(response.status).toBe(403);
    expect((await userByEmail('acct-admin@acme.test', esc.orgId))?.assignments).toEqual([{ groupId: 'default', roleId: 'account-admin' }]);
    expect(sso.status).toBe(200); // security:view is part of Account Admin anyway
    expect((await api('PUT', `/orgs/${esc.orgId}/roles/regular-user`, { name: 'x', permissions: [] })).status).toBe(403);
  });

  it('does not let an Account Admin block the Organization Admin', async () => {
    const { token } = await signedIn('sub-acct', 'acct-admin@acme.test', ['Engineering']);
    const admin = (await userByEmail(esc.adminEmail, esc.orgId))!;
    try {
      const response = await apiClient(service, token)('PATCH', `/orgs/${esc.orgId}/users/${admin.id}`, { status: 'blocked' });
      expect(response.status).toBe(403);
      expect((await userByEmail(esc.adminEmail, esc.orgId))?.status).toBe('active');
    } finally {
      await service.rt.users.update(admin, { set: { status: 'active' }, remove: [] }, []);
    }
  });

  it('does not let a roles:edit holder grant its own role permissions it lacks', async () => {
    const admin = apiClient(service, adminToken);
    expect((await admin('POST', `/orgs/${org.orgId}/roles`, { id: 'role-editor', name: 'Role editor', permissions: ['roles:view', 'roles:edit'] })).status).toBe(201);
    // The role lives in org (where Staff is mapped), so the user signs in there.
    const { user } = await signedIn('sub-re', 'role-editor@acme.test', ['Staff'], org.orgId);
    // roleSource idp: an admin's direct assignment lasts until the next login.
    expect((await admin('PATCH', `/orgs/${org.orgId}/users/${user.id}`, { assignments: [{ groupId: 'default', roleId: 'role-editor' }] })).status).toBe(200);
    const token = await tokenFor(service, org.orgId, 'role-editor@acme.test');

    const response = await apiClient(service, token)('PUT', `/orgs/${org.orgId}/roles/role-editor`, { name: 'Role editor', permissions: ['roles:view', 'roles:edit', 'security:edit', 'users:edit'] });

    expect(response.status).toBe(403);
    const roles = (await admin('GET', `/orgs/${org.orgId}/roles`)).body;
    const list = Array.isArray(roles) ? roles : roles.items;
    expect(list.find((r: { id: string }) => r.id === 'role-editor')?.permissions).toEqual(['roles:view', 'roles:edit']);
  });

  it("answers an org A admin's PATCH of an org B user id as not found, and changes nothing", async () => {
    const bUser = (await userByEmail(otherOrg.adminEmail, otherOrg.orgId))!;
    const response = await apiClient(service, adminToken)('PATCH', `/orgs/${org.orgId}/users/${bUser.id}`, { status: 'blocked' });
    expect(response.status).toBe(404);
    expect((await userByEmail(otherOrg.adminEmail, otherOrg.orgId))?.status).toBe('active');
  });

  it.each([
    ['users', (orgId: string) => ({ pk: `ORG#${orgId}`, sk: 'USER#' })],
    ['audit-events', (orgId: string) => ({ pk: `ORG#${orgId}`, sk: 'EVT#9999' })],
  ])("refuses a %s cursor forged for another org's partition", async (path, key) => {
    const cursor = Buffer.from(JSON.stringify(key(otherOrg.orgId))).toString('base64url');
    const response = await apiClient(service, adminToken)('GET', `/orgs/${org.orgId}/${path}?cursor=${cursor}`);
    expect(response.status).toBe(400);
    expect(JSON.stringify(response.body)).not.toContain(otherOrg.adminEmail);
  });

  it.each([
    ['an extra attribute', (orgId: string) => ({ pk: `ORG#${orgId}`, sk: 'USER#a', email: 'x' })],
    ['a non-string pk type trick', (orgId: string) => ({ pk: `ORG#${orgId}`, sk: { S: 'USER#a' } })],
    ['not JSON', () => 'not json'],
  ])('answers a tampered users cursor (%s) with 400, not 500', async (_name, key) => {
    const raw = key(org.orgId);
    const cursor = Buffer.from(typeof raw === 'string' ? raw : JSON.stringify(raw)).toString('base64url');
    const response = await apiClient(service, adminToken)('GET', `/orgs/${org.orgId}/users?cursor=${cursor}`);
    expect(response.status).toBe(400);
  });

  it.each([
    ['id', { id: 'someone-else' }],
    ['idpSubject set to another subject', { idpSubject: { issuer: ISSUER_A, subject: 'sub-kate' } }],
    ['provisionedBy', { provisionedBy: 'manual' }],
    ['jitProvisioned', { jitProvisioned: false }],
    ['email', { email: 'kate@acme.test' }],
    ['orgId', { orgId: 'other' }],
    ['createdAt', { createdAt: '2000-01-01T00:00:00.000Z' }],
    ['__proto__', JSON.parse('{"__proto__":{"status":"blocked"}}')],
  ])('refuses PATCH of the read-only %s and changes nothing', async (_name, body) => {
    const target = (await userByEmail('staff@acme.test'))!;
    const response = await apiClient(service, adminToken)('PATCH', `/orgs/${org.orgId}/users/${target.id}`, body);
    expect(response).toMatchObject({ status: 400, body: { error: { code: 'VALIDATION_FAILED' } } });
    expect(await userByEmail('staff@acme.test')).toEqual(target);
  });

  it('ignores builtIn on a created role, and refuses to change a built-in role', async () => {
    const admin = apiClient(service, adminToken);
    const created = await admin('POST', `/orgs/${org.orgId}/roles`, { name: 'Fake builtin', builtIn: true, permissions: [] });
    expect(created.body.builtIn).toBe(false);
    expect((await admin('DELETE', `/orgs/${org.orgId}/roles/${created.body.id}`)).status).toBe(204);
    expect((await admin('PUT', `/orgs/${org.orgId}/roles/regular-user`, { name: 'Regular User', permissions: ['security:edit'] })).status).toBe(409);
  });

  it('refuses a write with a stale If-Match, even listed beside a wildcard-looking tag', async () => {
    const admin = apiClient(service, adminToken);
    const current = await admin('GET', `/orgs/${org.orgId}/settings/provisioning`);
    const stale = '"AAAAAAAAAAAAAAAAAAAAAA"';
    expect((await admin('PUT', `/orgs/${org.orgId}/settings/provisioning`, current.body, { 'if-match': stale })).status).toBe(412);
    expect((await admin('PUT', `/orgs/${org.orgId}/settings/provisioning`, current.body, { 'if-match': `${stale}, "*"` })).status).toBe(412);
    expect((await admin('PUT', `/orgs/${org.orgId}/settings/provisioning`, current.body, { 'if-match': current.headers.get('etag')! })).status).toBe(200);
  });

  it('ignores read-only redirectUri and clientSecretSet sent in a PUT of the SSO settings', async () => {
    const admin = apiClient(service, adminToken);
    const current = await admin('GET', `/orgs/${org.orgId}/settings/sso`);
    const body = { ...current.body, oidc: { ...current.body.oidc, redirectUri: 'https://evil.example/cb', clientSecretSet: false } };
    const response = await admin('PUT', `/orgs/${org.orgId}/settings/sso`, body);
    expect(response.status).toBe(200);
    expect(response.body.oidc.redirectUri).toBe(org.urls.oidcRedirectUri);
    expect(response.body.oidc.clientSecretSet).toBe(true);
    service.clock.advance(6000);
    const { url } = await start();
    expect(url.searchParams.get('redirect_uri')).toBe(org.urls.oidcRedirectUri);
  });

  it("never sends the stored client secret to a new issuer the secret was not entered for", async () => {
    // An admin who may edit SSO settings but can never read the write-only secret points
    // the connection at an IdP they run, leaving clientSecret out ("keeps the stored one").
    const victim = await oidcOrg(ISSUER_A, { clientSecret: 'victim-secret-only-for-idp-a' });
    const edit = await apiClient(service, await tokenFor(service, victim.orgId, victim.adminEmail))('PUT', `/orgs/${victim.orgId}/settings/sso`, {
      enabled: true,
      protocol: 'oidc',
      oidc: { issuer: ISSUER_B, clientId: CLIENT_ID },
    });
    service.clock.advance(6000);
    if (edit.status === 200) {
      const { state, nonce } = await start(victim.orgId);
      await providerB.issue(claims(ISSUER_B, nonce, { email: 'exfil@acme.test', groups: ['Engineering'] }));
      await callback(state, victim.orgId);
    }

    // The edit itself is refused: a new issuer needs the secret entered for it.
    expect(edit.status).toBe(400);
    expect(JSON.stringify(edit.body)).toContain('VALIDATION_FAILED');
    expect(JSON.stringify(edit.body)).toContain('oidc.clientSecret');

    const sentToB = providerB.requests.map((r) => `${r.headers.get('authorization') ? Buffer.from(r.headers.get('authorization')!.replace(/^Basic /, ''), 'base64').toString() : ''} ${r.body}`);
    expect(sentToB.join('\n')).not.toContain('victim-secret-only-for-idp-a');
  });
});

describe('SP-initiated SAML and /login/sso', () => {
  let idp: SamlIdpKeys;
  beforeAll(async () => {
    idp = await createSamlIdpKeys('https://idp.redteam.test/metadata');
  });

  it("refuses org A's AuthnRequest id answered at org B's ACS, and org A can still use it", async () => {
    const a = await createSamlOrg(service, { idp, saml: { ssoUrl: 'https://idp.redteam.test/sso', allowIdpInitiated: false } });
    const b = await createSamlOrg(service, { idp, saml: { ssoUrl: 'https://idp.redteam.test/sso', allowIdpInitiated: false } });
    const started = await get(`/sso/${a.orgId}/login?fwd=/a`);
    const requestId = new URL(started.location!).searchParams.get('RelayState')!;
    // The browser that started the login posts both answers: only the org is wrong at B.
    const browser = { accept: 'application/json', cookie: browserCookieOf(started)! };
    const answer = (target: typeof a) =>
      buildSignedLoginResponse({ idp, spEntityId: target.urls.spEntityId, acsUrl: target.urls.acsUrl, nameId: 'saml-x@acme.test', inResponseTo: requestId, attributes: { groups: 'Admins' }, now: service.clock.now() });

    const atB = await postAcs(service, b.orgId, { SAMLResponse: answer(b), RelayState: requestId }, browser);
    expect(atB.status).toBe(401);
    expect(((await atB.json()) as any).error.code).toBe('IN_RESPONSE_TO_INVALID');
    expect(await service.rt.users.findByEmail(b.orgId, 'saml-x@acme.test')).toBeUndefined();

    const atA = await postAcs(service, a.orgId, { SAMLResponse: answer(a), RelayState: requestId }, browser);
    expect(atA.status).toBe(302);
    expect(atA.headers.get('location')).toBe(`${service.baseUrl}/a`);
  });

  it('refuses SP-initiated SAML for an org whose SSO is off, and /login/sso for an IdP two orgs share', async () => {
    const off = await createSamlOrg(service, { saml: { ssoUrl: 'https://idp.redteam.test/sso' } });
    await updateProvisioningSettings(service.rt, { orgId: off.orgId, actor: cli }, { method: 'manual' });
    await updateSsoSettings(service.rt, { orgId: off.orgId, actor: cli }, { enabled: false, protocol: 'saml', saml: { idpEntityId: off.idp.entityId, certificates: [off.idp.certificatePem] } });
    service.clock.advance(6000);
    expect((await get(`/sso/${off.orgId}/login?fwd=/`)).code).toBe('SSO_NOT_ENABLED');
    // idp is shared by the two orgs of the test above.
    expect((await get(`/login/sso?idp=${encodeURIComponent(idp.entityId)}&fwd=/`)).code).toBe('ORG_NOT_FOUND');
  });
});

describe('no secret, code or token ever leaves in a response or an audit event', () => {
  it('sweeps every response of this file and every audit event of every org it used', async () => {
    // One more failure that tempts an echo: the provider puts our secret, the code and the verifier in its error.
    const { state } = await start();
    providerA.tokenEndpoint = (r) => {
      const body = new URLSearchParams(r.body);
      return json({ error: 'invalid_grant', error_description: `bad ${SECRET} ${body.get('code')} ${body.get('code_verifier')}` }, 400);
    };
    expect((await callback(state)).code).toBe('OIDC_TOKEN_EXCHANGE_FAILED');

    const tokenRequests = [providerA, providerB, providerC].flatMap((p) => p.requestsTo('/token'));
    const codes = tokenRequests.map((r) => new URLSearchParams(r.body).get('code')!).filter(Boolean);
    const verifiers = tokenRequests.map((r) => new URLSearchParams(r.body).get('code_verifier')!).filter(Boolean);
    const forbidden = [SECRET, 'victim-secret-only-for-idp-a', ACCESS_TOKEN, ...verifiers];

    const { Items = [] } = await service.db.client.send(new ScanCommand({ TableName: service.db.names.audit }));
    const audit = JSON.stringify(Items);
    const responses = seenResponses.join('\n');
    for (const secret of forbidden) {
      expect(audit).not.toContain(secret);
      expect(responses).not.toContain(secret);
    }
    for (const code of codes) expect(audit).not.toContain(code);
    // No ID token (three base64url segments starting with a JOSE header) anywhere in the audit trail.
    expect(audit).not.toMatch(/eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/);
    // The settings store keeps the secret only sealed.
    const { Items: mappings = [] } = await service.db.client.send(new ScanCommand({ TableName: service.db.names.mappings }));
    expect(JSON.stringify(mappings)).not.toContain(SECRET);
  });
});
