/**
 * Signing in to the console in Chromium: the sign-in page for a stranger, a one-time
 * link for a new org made with the CLI, and SSO through the development IdP.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { answerAtDevIdp, assertAccessible, createOrg, launchBrowser, loginLink, newContext, pageReady, signInByLink, uniqueOrgId, visible, watchedPage } from './support/browser.js';

const stack = inject('stack');
let browser: Browser;

beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

describe('signing in to the console', () => {
  it('shows the sign-in page, with both ways in, to someone without a session', async () => {
    const context = await newContext(browser, stack);
    const { page, watch } = await watchedPage(context, { signedOut: true });

    await page.goto('/console');

    await pageReady(page, 'Sign in to the sso-jit console');
    await visible(page.getByRole('heading', { name: 'With your organization’s single sign-on' }));
    await visible(page.getByRole('heading', { name: 'With a one-time sign-in link' }));
    await visible(page.getByText('npx sso-jit login-link --org ORG_ID --email YOU@EXAMPLE.COM'));
    await assertAccessible(page, 'the sign-in page');
    watch.assertClean();
    await context.close();
  });

  it('signs the first admin of a new org (made with the CLI) in with a one-time link, once', async () => {
    const orgId = uniqueOrgId('link');
    const adminEmail = await createOrg(stack, orgId, 'Link Test');
    const link = await loginLink(stack, orgId, adminEmail);
    const context = await newContext(browser, stack);
    const { page, watch } = await watchedPage(context);

    await signInByLink(page, link);

    expect(new URL(page.url()).pathname).toBe('/console');
    await visible(page.getByRole('banner').getByText(adminEmail));
    await visible(page.getByRole('banner').getByText(orgId));
    await visible(page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Single Sign On' }));
    watch.assertClean();

    // The link works once: a second browser gets the expired-link page.
    const other = await newContext(browser, stack);
    const second = await watchedPage(other);
    second.watch.expect('GET', /^\/console\/login\?token=/, 401);
    await second.page.goto(link);
    await visible(second.page.getByText(/expired or was already used/));
    second.watch.assertClean();
    await other.close();
    await context.close();
  });

  it('signs an admin of the demo org in through SSO at the development IdP and back to the console', async () => {
    const context = await newContext(browser, stack);
    const { page, watch } = await watchedPage(context);
    const email = `sso-admin-${Date.now()}@demo.example`;

    await page.goto('/sso/demo/login?fwd=/console');
    await answerAtDevIdp(page, { email, roles: ['Admins'] });

    await pageReady(page, 'Overview');
    expect(new URL(page.url()).pathname).toBe('/console');
    await visible(page.getByRole('banner').getByText(email));
    await visible(page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Audit log' }));
    watch.assertClean();
    await context.close();
  });

  it('starts SSO from the sign-in page by organization ID', async () => {
    const context = await newContext(browser, stack);
    const { page, watch } = await watchedPage(context, { signedOut: true });
    await page.goto('/console/users');
    await pageReady(page, 'Sign in to the sso-jit console');

    await page.getByLabel('Organization ID').fill('demo');
    await page.getByRole('button', { name: 'Continue with organization ID' }).click();
    await answerAtDevIdp(page, { email: `sso-user-${Date.now()}@demo.example`, roles: ['Admins'] });

    await pageReady(page, 'Users');
    expect(new URL(page.url()).pathname).toBe('/console/users');
    watch.assertClean();
    await context.close();
  });
});
