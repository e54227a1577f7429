/**
 * The code-for-tokens exchange: what the relying party sends to the token endpoint
 * (grant, PKCE verifier, client authentication chosen from discovery) and how every bad
 * answer becomes OIDC_TOKEN_EXCHANGE_FAILED without echoing the secret or the code.
 */
import { describe, expect, it } from 'vitest';
import { basicAuthorization, tokenEndpointAuthMethod } from '../../../shared/oidc/relying-party.js';
import type { OidcDiscovery } from '../../../shared/oidc/discovery.js';
import { callback, CLIENT_ID, CODE, CODE_VERIFIER, FakeProvider, loginErrorOf, REDIRECT_URI, relyingPartyFor } from '../../support/fake-oidc-provider.js';

/** A secret with the characters RFC 6749 2.3.1 requires to be form-encoded before base64. */
const SECRET = 'pa:ss%w0rd +/é';
/** application/x-www-form-urlencoded of SECRET, written out by hand. */
const SECRET_FORM_ENCODED = 'pa%3Ass%25w0rd+%2B%2F%C3%A9';

const DISCOVERY: OidcDiscovery = {
  issuer: 'https://idp.example.com',
  authorization_endpoint: 'https://idp.example.com/authorize',
  token_endpoint: 'https://idp.example.com/token',
  jwks_uri: 'https://idp.example.com/jwks',
};

async function providerWithToken(): Promise<FakeProvider> {
  const provider = await FakeProvider.create();
  await provider.issue();
  return provider;
}

const tokenRequestOf = (provider: FakeProvider) => {
  const [request] = provider.requestsTo('/token');
  return { request: request!, form: new URLSearchParams(request!.body) };
};

describe('OidcRelyingParty token exchange', () => {
  describe('the request', () => {
    it('posts the authorization code grant with the redirect URI and the PKCE verifier', async () => {
      const provider = await providerWithToken();
      const { rp } = relyingPartyFor(provider);

      await rp.completeLogin(callback({ clientSecret: SECRET }));

      const { request, form } = tokenRequestOf(provider);
      expect(request.method).toBe('POST');
      expect(request.headers.get('content-type')).toBe('application/x-www-form-urlencoded');
      expect(form.get('grant_type')).toBe('authorization_code');
      expect(form.get('code')).toBe(CODE);
      expect(form.get('redirect_uri')).toBe(REDIRECT_URI);
      expect(form.get('code_verifier')).toBe(CODE_VERIFIER);
    });

    it('authenticates with client_secret_basic, form-encoding id and secret before base64', async () => {
      const provider = await providerWithToken();
      const { rp } = relyingPartyFor(provider);

      await rp.completeLogin(callback({ clientSecret: SECRET }));

      const { request, form } = tokenRequestOf(provider);
      const expected = `Basic ${Buffer.from(`${CLIENT_ID}:${SECRET_FORM_ENCODED}`).toString('base64')}`;
      expect(request.headers.get('authorization')).toBe(expected);
      expect(form.has('client_secret')).toBe(false);
    });

    it('uses client_secret_basic when the provider lists both basic and post', async () => {
      const provider = await providerWithToken();
      provider.discovery.token_endpoint_auth_methods_supported = ['client_secret_post', 'client_secret_basic'];
      const { rp } = relyingPartyFor(provider);

      await rp.completeLogin(callback({ clientSecret: SECRET }));

      const { request, form } = tokenRequestOf(provider);
      expect(request.headers.get('authorization')).toMatch(/^Basic /);
      expect(form.has('client_secret')).toBe(false);
    });

    it('uses client_secret_post when the provider lists post but not basic', async () => {
      const provider = await providerWithToken();
      provider.discovery.token_endpoint_auth_methods_supported = ['client_secret_post', 'private_key_jwt'];
      const { rp } = relyingPartyFor(provider);

      await rp.completeLogin(callback({ clientSecret: SECRET }));

      const { request, form } = tokenRequestOf(provider);
      expect(request.headers.get('authorization')).toBeNull();
      expect(form.get('client_id')).toBe(CLIENT_ID);
      expect(form.get('client_secret')).toBe(SECRET);
      expect(request.body).toContain(`client_secret=${SECRET_FORM_ENCODED}`);
    });

    it('sends only client_id in the body for a public client without secret', async () => {
      const provider = await providerWithToken();
      const { rp } = relyingPartyFor(provider);

      await rp.completeLogin(callback());

      const { request, form } = tokenRequestOf(provider);
      expect(request.headers.get('authorization')).toBeNull();
      expect(form.get('client_id')).toBe(CLIENT_ID);
      expect(form.has('client_secret')).toBe(false);
    });

    it('chooses the client authentication from the discovery document', () => {
      expect(tokenEndpointAuthMethod(DISCOVERY, undefined)).toBe('none');
      expect(tokenEndpointAuthMethod(DISCOVERY, 's')).toBe('client_secret_basic');
      expect(tokenEndpointAuthMethod({ ...DISCOVERY, token_endpoint_auth_methods_supported: ['client_secret_post'] }, 's')).toBe('client_secret_post');
      expect(tokenEndpointAuthMethod({ ...DISCOVERY, token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'] }, 's')).toBe(
        'client_secret_basic',
      );
    });

    it('form-encodes a client id with reserved characters in the Basic header', () => {
      const header = basicAuthorization('client:1', 'secret');

      expect(Buffer.from(header.slice('Basic '.length), 'base64').toString()).toBe('client%3A1:secret');
    });
  });

  describe('bad answers', () => {
    it('refuses a replayed code (400 invalid_grant) and records the OAuth error', async () => {
      const provider = await providerWithToken();
      provider.tokenEndpoint = () => Response.json({ error: 'invalid_grant', error_description: 'Authorization code already used' }, { status: 400 });
      const { rp } = relyingPartyFor(provider);

      const error = await loginErrorOf(rp.completeLogin(callback({ clientSecret: SECRET })), 'OIDC_TOKEN_EXCHANGE_FAILED');

      expect(error.details).toMatchObject({ status: 400, error: 'invalid_grant', errorDescription: 'Authorization code already used' });
    });

    it('never echoes the client secret or the code, even when the provider repeats them', async () => {
      const provider = await providerWithToken();
      provider.tokenEndpoint = () =>
        Response.json({ error: 'invalid_client', error_description: `client_secret ${SECRET} is wrong for code ${CODE}` }, { status: 401 });
      const { rp } = relyingPartyFor(provider);

      const error = await loginErrorOf(rp.completeLogin(callback({ clientSecret: SECRET })), 'OIDC_TOKEN_EXCHANGE_FAILED');

      const reported = JSON.stringify({ message: error.message, details: error.details });
      expect(reported).not.toContain(SECRET);
      expect(reported).not.toContain(CODE);
      expect(reported).toContain('invalid_client');
    });

    it('cuts a long error description to 200 characters', async () => {
      const provider = await providerWithToken();
      provider.tokenEndpoint = () => Response.json({ error: 'invalid_request', error_description: 'x'.repeat(5000) }, { status: 400 });
      const { rp } = relyingPartyFor(provider);

      const error = await loginErrorOf(rp.completeLogin(callback()), 'OIDC_TOKEN_EXCHANGE_FAILED');

      expect((error.details.errorDescription as string).length).toBeLessThanOrEqual(201);
    });

    it('refuses a 500 answer and records the status', async () => {
      const provider = await providerWithToken();
      provider.tokenEndpoint = () => Response.json({}, { status: 500 });
      const { rp } = relyingPartyFor(provider);

      const error = await loginErrorOf(rp.completeLogin(callback()), 'OIDC_TOKEN_EXCHANGE_FAILED');

      expect(error.details).toMatchObject({ status: 500 });
    });

    it('refuses an answer that is not JSON', async () => {
      const provider = await providerWithToken();
      provider.tokenEndpoint = () => new Response('<html>Service unavailable</html>', { status: 200, headers: { 'content-type': 'text/html' } });
      const { rp } = relyingPartyFor(provider);

      const error = await loginErrorOf(rp.completeLogin(callback()), 'OIDC_TOKEN_EXCHANGE_FAILED');

      expect(error.details).toMatchObject({ status: 200, reason: 'the token response is not JSON' });
    });

    it('refuses an OAuth error even when it arrives with status 200', async () => {
      const provider = await providerWithToken();
      provider.tokenEndpoint = () => Response.json({ error: 'access_denied' });
      const { rp } = relyingPartyFor(provider);

      const error = await loginErrorOf(rp.completeLogin(callback()), 'OIDC_TOKEN_EXCHANGE_FAILED');

      expect(error.details).toMatchObject({ error: 'access_denied' });
    });

    it('refuses a token response without id_token', async () => {
      const provider = await providerWithToken();
      provider.tokenEndpoint = () => Response.json({ access_token: 'a', token_type: 'Bearer' });
      const { rp } = relyingPartyFor(provider);

      const error = await loginErrorOf(rp.completeLogin(callback()), 'OIDC_TOKEN_EXCHANGE_FAILED');

      expect(error.details).toMatchObject({ reason: 'the token response has no id_token' });
    });

    it('refuses when the token endpoint cannot be reached', async () => {
      const provider = await providerWithToken();
      provider.tokenEndpoint = () => {
        throw new TypeError('fetch failed');
      };
      const { rp } = relyingPartyFor(provider);

      const error = await loginErrorOf(rp.completeLogin(callback()), 'OIDC_TOKEN_EXCHANGE_FAILED');

      expect(error.details).toMatchObject({ reason: 'the token endpoint could not be reached' });
    });
  });
});
