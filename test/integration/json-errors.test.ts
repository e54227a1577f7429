/**
 * Every JSON route answers the contract's JSON error body, whatever `Accept` says
 * (API.md "Errors"): only browser login routes, and the login page's own form post to
 * discover, answer a browser with an HTML page.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from '../support/service.js';

let service: TestService;

beforeAll(async () => {
  service = await startTestService();
});
afterAll(() => service?.close());

/** What a browser sends: no JSON in Accept. */
const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

const call = (method: string, path: string, headers: Record<string, string> = {}, body?: string) =>
  fetch(`${service.baseUrl}${path}`, { method, redirect: 'manual', headers: { accept: BROWSER_ACCEPT, ...headers }, body });

async function jsonErrorOf(response: Response): Promise<{ status: number; code: string }> {
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  const body = (await response.json()) as { error: { code: string; message: string } };
  expect(body).toEqual({ error: { code: expect.any(String), message: expect.any(String) } });
  return { status: response.status, code: body.error.code };
}

describe('POST /login/discover called as JSON, from a browser', () => {
  it.each([
    { name: 'a body that is not JSON', contentType: 'application/json', body: '{"email":' },
    { name: 'a body of the wrong content type', contentType: 'text/plain', body: 'email=ada@acme.test' },
    { name: 'a body without the email', contentType: 'application/json', body: '{}' },
    { name: 'no body at all', contentType: 'application/json', body: undefined },
  ])('answers $name with the JSON error body', async ({ contentType, body }) => {
    const response = await call('POST', '/login/discover', { 'content-type': contentType }, body);

    expect(await jsonErrorOf(response)).toEqual({ status: 400, code: 'VALIDATION_FAILED' });
  });

  it('answers a body over 256 KiB with the JSON error body', async () => {
    const response = await call('POST', '/login/discover', { 'content-type': 'application/json' }, JSON.stringify({ email: `${'a'.repeat(300 * 1024)}@acme.test` }));

    expect(await jsonErrorOf(response)).toEqual({ status: 413, code: 'PAYLOAD_TOO_LARGE' });
  });

  it("still answers the login page's own form post with a page", async () => {
    const response = await call('POST', '/login/discover', { 'content-type': 'application/x-www-form-urlencoded' }, 'email=not-an-email');

    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await response.text()).toContain('VALIDATION_FAILED');
  });
});

describe('the other JSON routes, from a browser', () => {
  it.each([
    ['GET', '/me', 401, 'UNAUTHENTICATED'],
    ['GET', '/orgs/acme/settings/sso', 401, 'UNAUTHENTICATED'],
    ['GET', '/orgs/acme/audit-events', 401, 'UNAUTHENTICATED'],
  ] as const)('%s %s answers the JSON error body', async (method, path, status, code) => {
    expect(await jsonErrorOf(await call(method, path))).toEqual({ status, code });
  });
});
