/**
 * Every console page, signed in as the admin of an org set up like the demo (SAML with
 * the development IdP, JIT, roles denied when no value matches): it loads with no console
 * error, no page error, no failed request and no error response, and axe finds no
 * serious or critical violation on it.
 */
import { afterAll, beforeAll, describe, inject, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { assertAccessible, configureOrgByApi, createOrg, launchBrowser, loginLink, newContext, pageReady, sessionToken, signInByLink, uniqueOrgId, visible, watchedPage, type PageWatch } from './support/browser.js';
import { CONSOLE_TOUR, runTestSignIn } from './support/tour.js';

const stack = inject('stack');
const orgId = uniqueOrgId('pages');
let browser: Browser;
let context: BrowserContext;
let page: Page;
let watch: PageWatch;

beforeAll(async () => {
  browser = await launchBrowser();
  context = await newContext(browser, stack);
  ({ page, watch } = await watchedPage(context));
  const adminEmail = await createOrg(stack, orgId, 'Pages Co');
  await configureOrgByApi(stack, await sessionToken(stack, orgId, adminEmail), orgId, [
    { roleId: 'organization-admin', groupIds: ['default'], idpValue: 'Admins' },
    { roleId: 'account-admin', groupIds: ['default'], idpValue: 'Engineering' },
  ]);
  await signInByLink(page, await loginLink(stack, orgId, adminEmail));
});

afterAll(async () => {
  await context?.close();
  await browser?.close();
});

describe('every console page is clean and accessible', () => {
  for (const stop of CONSOLE_TOUR) {
    it(`${stop.name}: no errors, no failed requests, no serious axe violation`, async () => {
      await stop.go(page);
      await pageReady(page, stop.title);
      await assertAccessible(page, stop.name);
      watch.assertClean();
    });
  }

  it('a test sign-in result (success and failure): no errors, no serious axe violation', async () => {
    await runTestSignIn(page, `tour@${orgId}.example`, ['Engineering']);
    await visible(page.getByRole('heading', { name: /This sign-in would succeed/ }));
    await assertAccessible(page, 'a successful test result');
    await runTestSignIn(page, `tour@${orgId}.example`, [], { otherRole: 'engineering ' });
    await visible(page.getByRole('heading', { name: /This sign-in would fail/ }));
    await visible(page.getByText('ROLE_NOT_MAPPED').first());
    await assertAccessible(page, 'a failed test result');
    watch.assertClean();
  });

  it('an expanded test sign-in in the audit log: no serious axe violation', async () => {
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Audit log' }).click();
    await pageReady(page, 'Audit log');
    await page.getByRole('button', { name: /^Show details of / }).first().click();
    await assertAccessible(page, 'an audit event’s details');
    watch.assertClean();
  });

  it('the sign-in page: no errors but the expected 401 of GET /me, no serious axe violation', async () => {
    const stranger = await newContext(browser, stack);
    const signedOut = await watchedPage(stranger, { signedOut: true });
    await signedOut.page.goto('/console/audit');
    await pageReady(signedOut.page, 'Sign in to the sso-jit console');
    await assertAccessible(signedOut.page, 'the sign-in page');
    signedOut.watch.assertClean();
    await stranger.close();
  });
});
