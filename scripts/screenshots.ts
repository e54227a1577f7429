/**
 * `npm run screenshots`: starts the local stack as the browser tests do, signs in as the
 * demo org's admin, makes a little history (a few sign-ins, a failed one, a test
 * sign-in, a setup link), and writes a 1280×800 PNG of each console area to
 * docs/screenshots/. Needs Debian's chromium (see the README's Tests section).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { adminApi, answerAtDevIdp, VIEWPORT, launchBrowser, loginLink, newContext, pageReady, signInByLink, visible } from '../test/browser/support/browser.js';
import { REPO_ROOT, startLocalStack } from '../test/browser/support/stack.js';
import { CONSOLE_TOUR, runTestSignIn } from '../test/browser/support/tour.js';

const OUT_DIR = join(REPO_ROOT, 'docs/screenshots');

async function shot(page: Page, name: string): Promise<void> {
  // Caret, focus ring and hover out of the picture; fonts settled.
  await page.mouse.move(VIEWPORT.width - 1, VIEWPORT.height - 1);
  await page.evaluate('document.activeElement && document.activeElement.blur && document.activeElement.blur()');
  await page.evaluate('document.fonts.ready');
  const path = join(OUT_DIR, `${name}.png`);
  await page.screenshot({ path });
  console.log(`  ${path.slice(REPO_ROOT.length)}`);
}

async function main(): Promise<void> {
  mkdirSync(OUT_DIR, { recursive: true });
  console.log('starting the local stack…');
  const stack = await startLocalStack();
  const browser = await launchBrowser();
  try {
    // Role values that match no mapping are refused (the demo gives the default role), so the audit log has a failure to explain.
    const denied = await adminApi(stack, stack.adminToken, 'PUT', '/orgs/demo/settings/provisioning', {
      method: 'jit',
      jit: { roleSource: 'idp', roleAttribute: 'groups', onNoRoleMatch: 'deny' },
    });
    if (denied.status !== 200) throw new Error(`PUT provisioning: ${denied.status} ${JSON.stringify(denied.body)}`);

    // Some people sign in through the development IdP (JIT creates them); one is refused.
    const people = await newContext(browser, stack);
    const person = await people.newPage();
    for (const [email, firstName, lastName, roles, other] of [
      ['grace@demo.example', 'Grace', 'Hopper', ['Engineering'], undefined],
      ['linus@demo.example', 'Linus', 'Torvalds', ['Staff'], undefined],
      ['mallory@demo.example', 'Mallory', 'Example', [], 'admins'],
    ] as const) {
      await person.goto('/sso/demo/login?fwd=/console');
      await answerAtDevIdp(person, { email, firstName, lastName, roles: [...roles], ...(other ? { otherRole: other } : {}) });
      await person.waitForURL((url) => url.pathname.startsWith('/console') || url.pathname.includes('/saml/acs'));
      await people.clearCookies();
    }
    await people.close();

    // The sign-in page, as a stranger sees it.
    const stranger = await newContext(browser, stack);
    const strangerPage = await stranger.newPage();
    await strangerPage.goto('/console');
    await pageReady(strangerPage, 'Sign in to the sso-jit console');
    console.log('writing screenshots:');
    await shot(strangerPage, 'sign-in');
    await stranger.close();

    const context = await newContext(browser, stack);
    const page = await context.newPage();
    await signInByLink(page, await loginLink(stack, 'demo', 'admin@demo.example'));

    // A setup link in the list.
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Setup links' }).click();
    await pageReady(page, 'Setup links');
    await page.getByLabel('Note (optional)').fill('Jane at Demo IT');
    await page.getByRole('button', { name: 'Create setup link' }).click();
    await visible(page.getByLabel('Setup link', { exact: true }));
    await page.getByRole('button', { name: 'Done' }).click();

    for (const stop of CONSOLE_TOUR) {
      await stop.go(page);
      await pageReady(page, stop.title);
      if (stop.name === 'audit-log') {
        await page.getByRole('row').filter({ hasText: 'ROLE_NOT_MAPPED' }).first().getByRole('button', { name: /^Show details of / }).click();
      }
      if (stop.name === 'user') {
        // A user JIT made, rather than the first admin.
        await page.getByRole('link', { name: 'All users' }).click();
        await pageReady(page, 'Users');
        await page.getByRole('link', { name: 'grace@demo.example' }).click();
        await pageReady(page, 'grace@demo.example');
      }
      if (stop.name === 'setup-wizard') {
        await page.getByRole('radio', { name: 'Okta' }).check();
        await visible(page.getByRole('heading', { name: '2. Create the application in Okta' }));
      }
      await shot(page, stop.name);
      if (stop.name === 'user-provisioning') {
        await page.evaluate("document.getElementById('prov-mappings').scrollIntoView()");
        await shot(page, 'role-mappings');
      }
    }

    // The preview box with an answer.
    await CONSOLE_TOUR.find((stop) => stop.name === 'user-provisioning')!.go(page);
    await pageReady(page, 'User Provisioning');
    await page.getByLabel('Role values to try').fill('Engineering, Staff');
    await page.getByRole('button', { name: 'Preview' }).click();
    await visible(page.getByText('A sign-in with these values would get:'));
    await page.evaluate("document.getElementById('prov-preview').scrollIntoView()");
    await shot(page, 'preview');

    await runTestSignIn(page, 'ada@demo.example', ['Admins'], { firstName: 'Ada' });
    await shot(page, 'test-result');
    await runTestSignIn(page, 'ada@demo.example', [], { otherRole: 'admins' });
    await shot(page, 'test-result-failure');
    await context.close();
  } finally {
    await browser.close();
    await stack.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
