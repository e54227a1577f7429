/**
 * OIDC callback CPU per operation, warm: the real callback handler (state, client secret
 * unsealed, code exchange, ID token verification, provisioning, session; in-memory
 * repositories, the in-memory fake provider reached through its `fetch`) against jose's
 * `jwtVerify` alone, with a local JWKS, on the same ID tokens.
 *
 * One pending login per operation is saved before anything is timed; its code makes the
 * provider's token endpoint answer with that login's own ID token (its own nonce).
 */
import { createLocalJWKSet, jwtVerify } from 'jose';
import { createOidcCallbackHandler } from '../functions/oidc-callback.js';
import { fixedClock } from '../shared/clock.js';
import { createMemoryRepositories } from '../shared/storage/memory.js';
import { CLIENT_ID, CODE_VERIFIER, FakeProvider, ISSUER, T0, idTokenClaims } from '../test/support/fake-oidc-provider.js';
import { figuresOf, inputsNeeded, interleave, type CpuFigures, type InterleavedOptions, type Operation } from './stats.js';
import { apiEvent, benchRuntime, lambdaContext, seedOrg } from './support.js';

const BASE_URL = 'https://sso.bench.example';
const ORG_ID = 'bench-oidc';
const PENDING_LIFETIME_MS = 10 * 60_000;

export interface OidcCpuResult {
  callback: CpuFigures;
  jose: CpuFigures;
}

const json = (body: unknown): Response => new Response(JSON.stringify(body), { headers: { 'content-type': 'application/json' } });

/** Signs one ID token per login (the same returning user, each with its own nonce); the token endpoint answers `code-{i}` with token i. */
async function issueTokens(provider: FakeProvider, count: number): Promise<string[]> {
  const tokens: string[] = [];
  for (let index = 0; index < count; index += 1) tokens.push(await provider.sign(idTokenClaims({ nonce: `nonce-${index}`, groups: ['Engineering'] })));
  provider.tokenEndpoint = (request) => {
    const code = new URLSearchParams(request.body).get('code') ?? '';
    return json({ access_token: `access-${code}`, token_type: 'Bearer', expires_in: 300, id_token: tokens[Number(code.slice('code-'.length))] });
  };
  return tokens;
}

async function callbackContender(provider: FakeProvider, count: number): Promise<Operation> {
  const clock = fixedClock(T0);
  const rt = benchRuntime({ baseUrl: BASE_URL, clock, overrides: { repositories: createMemoryRepositories(clock), fetch: provider.fetch } });
  await seedOrg(rt, {
    orgId: ORG_ID,
    sso: { enabled: true, protocol: 'oidc', oidc: { issuer: ISSUER, clientId: CLIENT_ID, clientSecret: 'bench-client-secret', scopes: ['openid', 'email', 'profile'] } },
    mappings: { Engineering: 'account-admin' },
    onNoRoleMatch: 'deny',
  });
  const expiresAt = new Date(T0.getTime() + PENDING_LIFETIME_MS);
  for (let index = 0; index < count; index += 1) {
    const pending = { orgId: ORG_ID, protocol: 'oidc', fwd: '/me', expiresAt, issuer: ISSUER, nonce: `nonce-${index}`, codeVerifier: CODE_VERIFIER } as const;
    await rt.loginState.save({ id: `state-${index}`, ...pending });
  }
  const handler = createOidcCallbackHandler(rt);
  const events = Array.from({ length: count }, (_, index) =>
    apiEvent({ method: 'GET', route: '/sso/{orgId}/oidc/callback', pathParameters: { orgId: ORG_ID }, query: { code: `code-${index}`, state: `state-${index}` } }),
  );
  return async (index) => {
    const result = await handler(events[index]!, lambdaContext);
    if (result.statusCode !== 302) throw new Error(`OIDC callback answered ${result.statusCode}: ${result.body}`);
  };
}

/** jose alone, with the options the relying party passes (shared/oidc/relying-party.ts). */
function joseContender(provider: FakeProvider, tokens: string[]): Operation {
  const jwks = createLocalJWKSet(provider.jwks);
  const options = { algorithms: ['RS256'], issuer: ISSUER, audience: CLIENT_ID, requiredClaims: ['exp', 'iat', 'sub'], currentDate: T0, clockTolerance: 60 };
  return async (index) => {
    await jwtVerify(tokens[index]!, jwks, options);
  };
}

export async function benchOidcCpu(options: InterleavedOptions): Promise<OidcCpuResult> {
  const provider = await FakeProvider.create(ISSUER);
  const count = inputsNeeded(options);
  const tokens = await issueTokens(provider, count);
  const samples = await interleave({ callback: await callbackContender(provider, count), jose: joseContender(provider, tokens) }, options);
  return { callback: figuresOf(samples.callback!), jose: figuresOf(samples.jose!) };
}
