/**
 * What the browser tests share: Chromium (Debian's, driven by playwright-core), a watch
 * on every page for console errors, page errors, failed requests and error responses
 * (except those a test declares expected), the CLI as a newcomer runs it, the
 * development IdP's form, the admin API with a bearer token, and axe.
 */
import AxeBuilder from '@axe-core/playwright';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import type { StackInfo } from './stack.js';
import { REPO_ROOT } from './stack.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const VIEWPORT = { width: 1280, height: 800 };
/** How long a test waits for what the page should show. */
export const WAIT_MS = 15_000;

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
}

export function newContext(browser: Browser, stack: StackInfo): Promise<BrowserContext> {
  return browser.newContext({ baseURL: stack.baseUrl, viewport: VIEWPORT });
}

/** A response a test expects to be an error (e.g. `GET /me` 401 on the sign-in page). */
export interface ExpectedFailure {
  method: string;
  /** Matched against the URL's path and query. */
  path: RegExp;
  status: number;
}

/**
 * Everything that went wrong on a page: console errors, uncaught page errors, requests
 * that failed, and responses ≥ 400 that no test declared expected. Chromium also logs an
 * expected 4xx as a console error ("Failed to load resource"); those are matched against
 * the declared expectations by URL.
 */
export class PageWatch {
  readonly problems: string[] = [];
  private readonly expected: ExpectedFailure[] = [];
  private readonly expectedUrls = new Set<string>();

  constructor(readonly page: Page) {
    page.on('console', (message) => {
      if (message.type() !== 'error') return;
      const url = message.location().url;
      if (/Failed to load resource/.test(message.text()) && this.expectedUrls.has(url)) return;
      this.problems.push(`console error: ${message.text()} (${url})`);
    });
    page.on('pageerror', (error) => this.problems.push(`page error: ${error.message}`));
    page.on('requestfailed', (request) => {
      const failure = request.failure()?.errorText ?? '';
      // A navigation that replaces the page aborts the previous page's reads: not a failure.
      if (failure === 'net::ERR_ABORTED') return;
      this.problems.push(`request failed: ${request.method()} ${request.url()} ${failure}`);
    });
    page.on('response', (response) => {
      if (response.status() < 400) return;
      const request = response.request();
      const url = new URL(response.url());
      const declared = this.expected.some(
        (expected) => expected.method === request.method() && expected.status === response.status() && expected.path.test(`${url.pathname}${url.search}`),
      );
      if (declared) this.expectedUrls.add(response.url());
      else this.problems.push(`response ${response.status()}: ${request.method()} ${url.pathname}${url.search}`);
    });
  }

  /** Declares an error response this test expects (it is then not a problem). */
  expect(method: string, path: RegExp, status: number): this {
    this.expected.push({ method, path, status });
    return this;
  }

  /** Throws with every problem seen so far. */
  assertClean(): void {
    if (this.problems.length > 0) throw new Error(`problems on ${this.page.url()}:\n  ${this.problems.join('\n  ')}`);
  }
}

/** A page of `context` with a watch; `GET /me` 401 is expected whenever `signedOut`. */
export async function watchedPage(context: BrowserContext, options: { signedOut?: boolean } = {}): Promise<{ page: Page; watch: PageWatch }> {
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT_MS);
  const watch = new PageWatch(page);
  if (options.signedOut) watch.expect('GET', /^\/me$/, 401);
  return { page, watch };
}

/** Waits until `locator` is visible (fails the test after WAIT_MS otherwise). */
export async function visible(locator: Locator): Promise<Locator> {
  await locator.first().waitFor({ state: 'visible', timeout: WAIT_MS });
  return locator;
}

/** Polls `check` until it holds (fails with `what` after WAIT_MS): for what the page shows that no locator state expresses. */
export async function eventually(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`still not true after ${WAIT_MS} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Waits until a console page's `<h1>` reads `title` and nothing on it is still loading. */
export async function pageReady(page: Page, title: string | RegExp): Promise<void> {
  await visible(page.getByRole('heading', { level: 1, name: title }));
  await page.getByText(/^Loading/).first().waitFor({ state: 'detached', timeout: WAIT_MS }).catch(() => undefined);
  await page.waitForFunction('!document.querySelector(".loading, [aria-busy=true]")', undefined, { timeout: WAIT_MS });
}

/** The shell's environment without what vitest adds for Vite (`BASE_URL=/` would be the CLI's base URL). */
function newcomerEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of ['BASE_URL', 'MODE', 'DEV', 'PROD', 'SSR']) delete env[name];
  return env;
}

/** Runs `npx sso-jit …` against the stack, as `npm start` tells a newcomer to. */
export async function cli(stack: StackInfo, args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)('npx', ['sso-jit', ...args], {
    cwd: REPO_ROOT,
    env: { ...newcomerEnv(), DYNAMODB_ENDPOINT: stack.dynamodbEndpoint, PORT: String(stack.port) },
  });
  return stdout.trim();
}

let orgCounter = 0;
/** A fresh org id, unique within this run. */
export function uniqueOrgId(prefix: string): string {
  orgCounter += 1;
  return `${prefix}-${process.pid}-${orgCounter}-${Date.now().toString(36)}`.toLowerCase();
}

/** A new org made with the CLI; returns its admin's email. */
export async function createOrg(stack: StackInfo, orgId: string, name = orgId): Promise<string> {
  const adminEmail = `admin@${orgId}.example`;
  const created = JSON.parse(await cli(stack, ['org', 'create', '--org', orgId, '--name', name, '--admin-email', adminEmail])) as { orgId: string };
  if (created.orgId !== orgId) throw new Error(`org create printed ${JSON.stringify(created)}`);
  return adminEmail;
}

export const loginLink = (stack: StackInfo, orgId: string, email: string) => cli(stack, ['login-link', '--org', orgId, '--email', email]);
export const sessionToken = (stack: StackInfo, orgId: string, email: string) => cli(stack, ['token', '--org', orgId, '--email', email]);

/** Opens a one-time sign-in link and waits for the console's Overview. */
export async function signInByLink(page: Page, link: string): Promise<void> {
  await page.goto(link);
  await pageReady(page, 'Overview');
}

export interface DevIdpAnswer {
  email: string;
  firstName?: string;
  lastName?: string;
  /** Role values offered as checkboxes to tick (the first offered one is ticked by default and is unticked unless listed). */
  roles?: string[];
  /** A value typed into "Other value". */
  otherRole?: string;
}

/** Fills the development IdP's form (the page must be showing it) and signs in. */
export async function answerAtDevIdp(page: Page, answer: DevIdpAnswer): Promise<void> {
  await visible(page.getByRole('heading', { name: /Development IdP for/ }));
  await page.getByLabel('Email').fill(answer.email);
  await page.getByLabel('First name').fill(answer.firstName ?? 'Ada');
  await page.getByLabel('Last name').fill(answer.lastName ?? 'Lovelace');
  const boxes = page.locator('fieldset input[type=checkbox]');
  for (const box of await boxes.all()) {
    const value = (await box.getAttribute('value')) ?? '';
    await box.setChecked((answer.roles ?? []).includes(value));
  }
  if (answer.otherRole !== undefined) await page.getByLabel('Other value').fill(answer.otherRole);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** The admin API with a bearer token. */
export async function adminApi(stack: StackInfo, token: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${stack.baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, etag: response.headers.get('etag'), body: text ? (JSON.parse(text) as Record<string, any>) : undefined };
}

/** The development IdP's metadata for `orgId`, as an admin downloads it to paste. */
export async function devIdpMetadata(stack: StackInfo, orgId: string): Promise<string> {
  const response = await fetch(`${stack.baseUrl}/dev/idp/${orgId}/metadata`);
  if (!response.ok) throw new Error(`metadata: ${response.status}`);
  return response.text();
}

/** Fails with a readable list when axe finds a serious or critical violation. */
export async function assertAccessible(page: Page, what: string): Promise<void> {
  const results = await new AxeBuilder({ page }).analyze();
  const bad = results.violations.filter((violation) => violation.impact === 'serious' || violation.impact === 'critical');
  if (bad.length === 0) return;
  const lines = bad.map((violation) => `${violation.impact} ${violation.id}: ${violation.help}\n      ${violation.nodes.map((node) => node.target.join(' ')).slice(0, 5).join('\n      ')}`);
  throw new Error(`axe on ${what} (${page.url()}):\n  ${lines.join('\n  ')}`);
}

/** Configures SAML with the development IdP, SSO on, JIT on with `groups` and the given mappings, through the admin API. */
export async function configureOrgByApi(stack: StackInfo, token: string, orgId: string, mappings: { roleId: string; groupIds: string[]; idpValue?: string }[]): Promise<void> {
  const sso = await adminApi(stack, token, 'PUT', `/orgs/${orgId}/settings/sso`, {
    enabled: true,
    protocol: 'saml',
    saml: { metadataXml: await devIdpMetadata(stack, orgId) },
  });
  if (sso.status !== 200) throw new Error(`PUT settings/sso: ${sso.status} ${JSON.stringify(sso.body)}`);
  const put = await adminApi(stack, token, 'PUT', `/orgs/${orgId}/settings/role-mappings`, { items: mappings });
  if (put.status !== 200) throw new Error(`PUT role-mappings: ${put.status} ${JSON.stringify(put.body)}`);
  const jit = await adminApi(stack, token, 'PUT', `/orgs/${orgId}/settings/provisioning`, {
    method: 'jit',
    jit: { roleSource: 'idp', roleAttribute: 'groups', onNoRoleMatch: 'deny' },
  });
  if (jit.status !== 200) throw new Error(`PUT settings/provisioning: ${jit.status} ${JSON.stringify(jit.body)}`);
}
