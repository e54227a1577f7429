/**
 * The Console function (docs/console.md): the app shell for every page path, the hashed
 * assets and nothing else, the console's security headers on every answer, and the
 * one-time sign-in links (`GET /console/login`). The console is built by the real build
 * script from a small fixture; everything runs over HTTP through the local API Gateway
 * adapter on DynamoDB Local.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConsoleHandler } from '../../functions/console.js';
import { ROUTES } from '../../functions/routes.js';
import { createLocalServer, listenLocalServer } from '../../local/http-server.js';
import { buildConsole, ConsoleBuildError, type ConsoleBuild } from '../../scripts/build-console.js';
import { createLoginLink } from '../../shared/sessions/login-links.js';
import { FIXTURE_MARKER, writeConsoleFixture } from '../support/console-fixture.js';
import { apiClient, createSamlOrg, sessionCookieOf, startTestService, tokenFor, type SamlOrg, type TestService } from '../support/service.js';

const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

let service: TestService;
let build: ConsoleBuild;
let org: SamlOrg;

beforeAll(async () => {
  const fixture = writeConsoleFixture();
  build = await buildConsole({ entry: fixture.entry, css: fixture.css, outDir: join(mkdtempSync(join(tmpdir(), 'sso-jit-console-')), 'console') });
  service = await startTestService({ consoleDir: build.outDir });
  org = await createSamlOrg(service);
});
afterAll(() => service?.close());

const get = (path: string, headers: Record<string, string> = {}) => fetch(`${service.baseUrl}${path}`, { redirect: 'manual', headers });

function expectSecurityHeaders(response: Response): void {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) expect(response.headers.get(name), name).toBe(value);
}

describe('the build', () => {
  it('writes one hashed script, one hashed stylesheet and an index.html that loads them and nothing inline', () => {
    const html = readFileSync(join(build.outDir, 'index.html'), 'utf8');

    expect(build.script).toMatch(/^app-[A-Z0-9]+\.js$/);
    expect(build.stylesheets).toEqual([expect.stringMatching(/^app-[A-Z0-9]+\.css$/)]);
    expect(html).toContain('<div id="app"></div>');
    expect(html).toContain(`<script type="module" src="/console/assets/${build.script}"></script>`);
    expect(html).toContain(`<link rel="stylesheet" href="/console/assets/${build.stylesheets[0]}">`);
    expect(html.match(/<script\b[^>]*>/g)).toEqual([`<script type="module" src="/console/assets/${build.script}">`]);
    expect(html).not.toMatch(/<style\b|\sstyle=|\son[a-z]+=|javascript:/i);
  });

  it('refuses to build without the app entry, naming the missing file and writing nothing', async () => {
    const missing = join(tmpdir(), `no-console-${Date.now()}`, 'main.tsx');
    const outDir = join(mkdtempSync(join(tmpdir(), 'sso-jit-console-')), 'console');

    const failed = buildConsole({ entry: missing, outDir });

    await expect(failed).rejects.toBeInstanceOf(ConsoleBuildError);
    await expect(failed).rejects.toThrow(`${missing} does not exist`);
    expect(existsSync(outDir)).toBe(false);
  });

  it('refuses an app that does not compile, with what esbuild said', async () => {
    const fixture = writeConsoleFixture();
    writeFileSync(fixture.entry, "import { missing } from './nowhere';\nmissing();\n");

    const failed = buildConsole({ entry: fixture.entry, css: fixture.css, outDir: join(fixture.dir, 'out') });

    await expect(failed).rejects.toThrow(/the admin console did not build: .*nowhere/s);
  });

  it('bundles the app with Preact, minified', () => {
    const script = readFileSync(join(build.outDir, 'assets', build.script), 'utf8');

    expect(script).toContain(FIXTURE_MARKER);
    expect(script).not.toMatch(/from\s*["']preact/);
    expect(script.split('\n').length).toBeLessThan(5);
  });
});

describe('GET /console and its page paths', () => {
  it.each(['/console', '/console/users', '/console/sso/tests/abc-123', '/console/users/u1/assignments'])('answers %s with the app shell, never cached', async (path) => {
    const response = await get(path);

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expectSecurityHeaders(response);
    expect(await response.text()).toBe(readFileSync(join(build.outDir, 'index.html'), 'utf8'));
  });
});

describe('GET /console/setup (the setup wizard and setup links)', () => {
  it('answers without a token with the app shell: where an opened setup link lands', async () => {
    const response = await get('/console/setup', { cookie: 'session=whatever' });

    expect(response.status).toBe(200);
    expectSecurityHeaders(response);
    expect(await response.text()).toBe(readFileSync(join(build.outDir, 'index.html'), 'utf8'));
  });

  it('opens a setup link: a setup session cookie and back to /console/setup without the token, under the console headers', async () => {
    const admin = apiClient(service, await tokenFor(service, org.orgId, org.adminEmail));
    const link = await admin('POST', `/orgs/${org.orgId}/setup-links`, { note: 'for IT' });
    expect(link.status).toBe(201);

    const response = await get(new URL(link.body.url).pathname + new URL(link.body.url).search);

    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe(`${service.baseUrl}/console/setup`);
    expect(response.headers.getSetCookie()).toEqual([expect.stringMatching(/^session=[^;]+; HttpOnly; Secure; SameSite=Lax; Path=\/; Max-Age=86400$/)]);
    expectSecurityHeaders(response);
  });

  it('refuses an unknown token with a page that works under the CSP', async () => {
    const response = await get(`/console/setup?token=${'A'.repeat(43)}`, { accept: 'text/html' });

    expect(response.status).toBe(401);
    expectSecurityHeaders(response);
    const page = await response.text();
    expect(page).toContain('setup link expired');
    expect(page).not.toMatch(/<style\b|\sstyle=/i);
    expect(page).toContain(`<link rel="stylesheet" href="/console/assets/${build.stylesheets[0]}">`);
  });
});

describe('a server whose console is not built', () => {
  it('answers 503 saying so, and serves the console once it is built, without a restart', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'sso-jit-console-')), 'console');
    const handler = createConsoleHandler({ ...service.rt, config: { ...service.rt.config, consoleDir: dir } });
    const server = await listenLocalServer(createLocalServer({ routes: ROUTES.filter((route) => route.functionId === 'Console'), handlers: { Console: handler } }));
    try {
      const before = await fetch(`${server.url}/console`);
      const fixture = writeConsoleFixture();
      await buildConsole({ entry: fixture.entry, css: fixture.css, outDir: dir });
      const after = await fetch(`${server.url}/console`);

      expect(before.status).toBe(503);
      expect(await before.text()).toMatch(/not built/);
      expectSecurityHeaders(before);
      expect(after.status).toBe(200);
      expect(await after.text()).toContain('<div id="app"></div>');
    } finally {
      await server.close();
    }
  });
});

describe('GET /console/assets/{file}', () => {
  it('answers the script with its type, cached for a year as immutable', async () => {
    const response = await get(`/console/assets/${build.script}`, { 'accept-encoding': 'identity' });

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(response.headers.get('content-encoding')).toBeNull();
    expectSecurityHeaders(response);
    expect(await response.text()).toBe(readFileSync(join(build.outDir, 'assets', build.script), 'utf8'));
  });

  it('answers the stylesheet as text/css', async () => {
    const response = await get(`/console/assets/${build.stylesheets[0]}`);

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(await response.text()).toBe(readFileSync(join(build.outDir, 'assets', build.stylesheets[0]!), 'utf8'));
  });

  it('gzips a text asset for a client that takes gzip', async () => {
    const response = await get(`/console/assets/${build.script}`, { 'accept-encoding': 'gzip' });

    expect(response.headers.get('content-encoding')).toBe('gzip');
    expect(response.headers.get('vary')).toBe('accept-encoding');
    expect(await response.text()).toBe(readFileSync(join(build.outDir, 'assets', build.script), 'utf8'));
  });

  it.each([
    ['a name the build does not have', '/console/assets/app-NOTBUILT.js'],
    ['the shell by its file name', '/console/assets/index.html'],
    ['an encoded ../ to the shell', '/console/assets/..%2Findex.html'],
    ['an encoded ../../ out of the build', '/console/assets/%2e%2e%2f%2e%2e%2fpackage.json'],
    ['a nested path under assets/', '/console/assets/sub/app.js'],
  ])('answers 404 to %s, with the security headers', async (_case, path) => {
    const response = await get(path);

    expect(response.status).toBe(404);
    expect(await response.text()).not.toContain('<div id="app">');
    expectSecurityHeaders(response);
  });
});

describe('GET /console/login (one-time sign-in links)', () => {
  const linkFor = (email = org.adminEmail) => createLoginLink(service.rt, org.orgId, email);
  const pathOf = (url: string) => url.slice(service.baseUrl.length);
  const tokenOf = (url: string) => new URL(url).searchParams.get('token')!;

  async function expectRefused(response: Response): Promise<void> {
    expect(response.status).toBe(401);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(response.headers.getSetCookie()).toEqual([]);
    expectSecurityHeaders(response);
    const page = await response.text();
    expect(page).toContain('This sign-in link expired or was already used');
    expect(page).toContain('UNAUTHENTICATED');
    // The CSP (style-src 'self') would refuse an inline style: the page links the console's stylesheet.
    expect(page).not.toMatch(/<style\b|\sstyle=/i);
    expect(page).toContain(`<link rel="stylesheet" href="/console/assets/${build.stylesheets[0]}">`);
    expect(page).toContain('<link rel="icon" href="data:,">');
  }

  it('makes a link to {BASE_URL}/console/login with a 256-bit base64url token', async () => {
    const url = await linkFor();

    expect(url).toMatch(new RegExp(`^${service.baseUrl.replace(/[.]/g, '\\.')}/console/login\\?token=[A-Za-z0-9_-]{43}$`));
  });

  it('signs in once: 302 /console with a session cookie that the admin routes and /me accept', async () => {
    const response = await get(pathOf(await linkFor()));

    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe('/console');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expectSecurityHeaders(response);
    const setCookie = response.headers.getSetCookie().find((value) => value.startsWith('session='));
    expect(setCookie).toMatch(/; HttpOnly; Secure; SameSite=Lax; Path=\/; Max-Age=28800$/);
    const cookie = sessionCookieOf(response)!;
    const me = await apiClient(service)('GET', '/me', undefined, { cookie: `session=${cookie}` });
    const users = await apiClient(service)('GET', `/orgs/${org.orgId}/users`, undefined, { cookie: `session=${cookie}` });
    expect(me.body).toMatchObject({ email: org.adminEmail, orgId: org.orgId });
    expect(users.status).toBe(200);
  });

  it('refuses the same link a second time with the 401 page', async () => {
    const path = pathOf(await linkFor());
    expect((await get(path)).status).toBe(302);

    const again = await get(path);

    await expectRefused(again);
  });

  it('refuses a link used 11 minutes after it was made, and accepts one used after 9', async () => {
    const [late, early] = [await linkFor(), await linkFor()];
    const madeAt = service.clock.now();
    try {
      service.clock.advance(9 * 60_000);
      expect((await get(pathOf(early))).status).toBe(302);
      service.clock.advance(2 * 60_000);

      const response = await get(pathOf(late));

      await expectRefused(response);
    } finally {
      service.clock.set(madeAt);
    }
  });

  it('refuses the link of a user blocked after it was made', async () => {
    const admin = apiClient(service, await tokenFor(service, org.orgId, org.adminEmail));
    const email = `blocked-${Date.now()}@acme.test`;
    const created = await admin('POST', `/orgs/${org.orgId}/users`, { email, assignments: [{ groupId: 'default', roleId: 'regular-user' }] });
    const url = await linkFor(email);
    expect((await admin('PATCH', `/orgs/${org.orgId}/users/${created.body.id}`, { status: 'blocked' })).status).toBe(200);

    const response = await get(pathOf(url));

    await expectRefused(response);
  });

  it('refuses to make a link for a blocked or unknown user', async () => {
    const admin = apiClient(service, await tokenFor(service, org.orgId, org.adminEmail));
    const email = `blocked-early-${Date.now()}@acme.test`;
    const created = await admin('POST', `/orgs/${org.orgId}/users`, { email, assignments: [] });
    await admin('PATCH', `/orgs/${org.orgId}/users/${created.body.id}`, { status: 'blocked' });

    await expect(linkFor(email)).rejects.toMatchObject({ code: 'USER_BLOCKED' });
    await expect(linkFor('nobody@acme.test')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it.each([
    ['no token', '/console/login'],
    ['an empty token', '/console/login?token='],
    ['a token never issued', `/console/login?token=${'A'.repeat(43)}`],
    ['a malformed token', '/console/login?token=../../etc'],
  ])('answers %s with the 401 page', async (_case, path) => {
    await expectRefused(await get(path));
  });

  it('answers a JSON caller with the contract error body', async () => {
    const response = await get(`/console/login?token=${'B'.repeat(43)}`, { accept: 'application/json' });

    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ error: { code: 'UNAUTHENTICATED', message: expect.stringContaining('expired or was already used') } });
  });

  it('stores only the SHA-256 of the token, with a 10-minute TTL, and nothing once it is used', async () => {
    const url = await linkFor();
    const token = tokenOf(url);
    const scan = async () => (await service.db.client.send(new ScanCommand({ TableName: service.db.names.loginState }))).Items ?? [];

    const items = await scan();

    expect(JSON.stringify(items)).not.toContain(token);
    const stored = items.find((item) => item.pk === `LINK#${createHash('sha256').update(token).digest('hex')}`);
    expect(stored).toMatchObject({ orgId: org.orgId, email: org.adminEmail, expiresAt: Math.floor(service.clock.now().getTime() / 1000) + 600 });
    await get(pathOf(url));
    expect((await scan()).find((item) => item.pk === stored!.pk)).toBeUndefined();
  });

  it('records user.console_link_used for the user who signed in', async () => {
    const admin = apiClient(service, await tokenFor(service, org.orgId, org.adminEmail));
    const email = `audited-${Date.now()}@acme.test`;
    const { body: user } = await admin('POST', `/orgs/${org.orgId}/users`, { email, assignments: [] });

    await get(pathOf(await linkFor(email)));

    const { body } = await admin('GET', `/orgs/${org.orgId}/audit-events?type=user.console_link_used&limit=100`);
    expect(body.items.filter((event: { target: { id: string } }) => event.target.id === user.id)).toEqual([
      expect.objectContaining({ outcome: 'success', actor: { type: 'user', id: user.id }, at: service.clock.now().toISOString(), details: { email } }),
    ]);
  });
});
