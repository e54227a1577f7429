/**
 * Handing the IdP side to the customer's IT: an admin makes a setup link on "Setup
 * links"; whoever opens it (a fresh browser, no account) lands on the setup wizard,
 * sees the guide, and can edit only the SSO connection.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { adminApi, createOrg, devIdpMetadata, launchBrowser, loginLink, newContext, pageReady, sessionToken, signInByLink, uniqueOrgId, visible, watchedPage } from './support/browser.js';

const stack = inject('stack');
const orgId = uniqueOrgId('setup');
let browser: Browser;
let adminEmail: string;

beforeAll(async () => {
  browser = await launchBrowser();
  adminEmail = await createOrg(stack, orgId, 'Setup Corp');
});

afterAll(async () => {
  await browser?.close();
});

describe('a setup link for the customer’s IT admin', () => {
  it('is made by an admin, opens the setup wizard in a fresh browser, and lets its holder edit only SSO', async () => {
    const adminContext = await newContext(browser, stack);
    const admin = await watchedPage(adminContext);
    await signInByLink(admin.page, await loginLink(stack, orgId, adminEmail));
    await admin.page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Setup links' }).click();
    await pageReady(admin.page, 'Setup links');
    await admin.page.getByLabel('Note (optional)').fill('Jane at Setup Corp IT');
    await admin.page.getByRole('button', { name: 'Create setup link' }).click();
    const linkField = admin.page.getByLabel('Setup link', { exact: true });
    await visible(linkField);
    const url = await linkField.inputValue();
    expect(url).toMatch(new RegExp(`^${stack.baseUrl}/console/setup\\?token=[\\w-]+$`));
    await visible(admin.page.getByRole('cell', { name: 'Jane at Setup Corp IT' }));
    admin.watch.assertClean();

    // The IT admin: another browser, no account here.
    const itContext = await newContext(browser, stack);
    const it_ = await watchedPage(itContext);
    await it_.page.goto(url);
    await pageReady(it_.page, 'Set up single sign-on');
    expect(new URL(it_.page.url()).pathname).toBe('/console/setup');
    await visible(it_.page.getByText(`You were invited to connect organization ${orgId} to your identity provider.`));
    await visible(it_.page.getByRole('banner').getByText(`Setting up SSO for organization ${orgId}`));
    // No way into the rest of the console.
    expect(await it_.page.getByRole('navigation', { name: 'Console' }).count()).toBe(0);

    // The guide for the chosen IdP, with our values to paste there.
    await it_.page.getByRole('radio', { name: 'Another SAML 2.0 identity provider' }).check();
    await visible(it_.page.getByRole('heading', { name: /2\. Create the application in/ }));
    await visible(it_.page.getByRole('heading', { name: '3. Send these attributes' }));
    expect(await it_.page.getByRole('textbox', { name: 'ACS URL' }).inputValue()).toBe(`${stack.baseUrl}/sso/${orgId}/saml/acs`);

    // Step 4: paste the IdP's metadata, enable SSO, save.
    await it_.page.getByLabel('IdP metadata XML').fill(await devIdpMetadata(stack, orgId));
    await it_.page.getByLabel('Enable SSO').check();
    await it_.page.getByRole('button', { name: 'Save', exact: true }).click();
    await visible(it_.page.getByText('Saved. Now run a test sign-in.'));
    await visible(it_.page.getByRole('heading', { name: '5. Test the connection' }));

    // Another console page is still the wizard; the admin routes outside SSO are refused.
    await it_.page.goto('/console/users');
    await pageReady(it_.page, 'Set up single sign-on');
    expect(new URL(it_.page.url()).pathname).toBe('/console/setup');
    const users = await itContext.request.get(`/orgs/${orgId}/users`);
    expect(users.status()).toBe(403);
    it_.watch.assertClean();

    // What the IT admin saved is the org's SSO connection.
    const token = await sessionToken(stack, orgId, adminEmail);
    const sso = await adminApi(stack, token, 'GET', `/orgs/${orgId}/settings/sso`);
    expect(sso.body).toMatchObject({ enabled: true, protocol: 'saml', saml: { idpEntityId: `${stack.baseUrl}/dev/idp/${orgId}` } });
    await itContext.close();
    await adminContext.close();
  });
});
