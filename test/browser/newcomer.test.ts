/**
 * The newcomer's walk through the console, in order, for one new org made with the CLI:
 * paste the development IdP's metadata and enable SSO; turn SSO JIT on and build two
 * mapping rows; preview; run a test sign-in and read what the IdP sent; sign a new user
 * in and find them and their events. Each step starts from what the previous one saved,
 * as a person would; each checks what the page shows.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import {
  adminApi,
  answerAtDevIdp,
  createOrg,
  devIdpMetadata,
  eventually,
  launchBrowser,
  loginLink,
  newContext,
  pageReady,
  sessionToken,
  signInByLink,
  uniqueOrgId,
  visible,
  watchedPage,
  type PageWatch,
} from './support/browser.js';

const stack = inject('stack');
const orgId = uniqueOrgId('newcomer');
const XSS = '<img src=x onerror=alert(1)>';
let browser: Browser;
let context: BrowserContext;
let page: Page;
let watch: PageWatch;
let adminEmail: string;
let token: string;
const dialogs: string[] = [];

/** Goes to a console area through the navigation, as a person would. */
async function open(area: string, title = area): Promise<void> {
  await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: area, exact: true }).click();
  await pageReady(page, title);
}

beforeAll(async () => {
  browser = await launchBrowser();
  adminEmail = await createOrg(stack, orgId, 'Newcomer Inc');
  token = await sessionToken(stack, orgId, adminEmail);
  context = await newContext(browser, stack);
  ({ page, watch } = await watchedPage(context));
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  await signInByLink(page, await loginLink(stack, orgId, adminEmail));
});

afterAll(async () => {
  await context?.close();
  await browser?.close();
});

describe('a newcomer sets up SSO, JIT and role mappings for a new org', () => {
  it('configures SAML by pasting the development IdP’s metadata, then enables SSO', async () => {
    await open('Single Sign On');
    const spIssuer = page.getByLabel('Service Provider Issuer', { exact: true });
    expect(await spIssuer.inputValue()).toBe(`${stack.baseUrl}/sso/${orgId}/saml/metadata`);
    expect(await spIssuer.getAttribute('readonly')).not.toBeNull();
    expect(await page.getByLabel('Enable SSO').isChecked()).toBe(false);

    await page.getByLabel('IdP metadata XML').fill(await devIdpMetadata(stack, orgId));
    await page.getByRole('button', { name: 'Save', exact: true }).click();

    await visible(page.getByText('Saved. Sign-ins use these settings from now on.'));
    // The form shows what the server took from the metadata.
    await eventually('the issuer from the metadata is shown', async () => (await page.getByLabel('Identity Provider Issuer').inputValue()) === `${stack.baseUrl}/dev/idp/${orgId}`);
    expect(await page.getByLabel('SSO URL').inputValue()).toBe(`${stack.baseUrl}/dev/idp/${orgId}`);
    await visible(page.getByRole('table').getByText(/CN=/).first());

    await page.getByLabel('Enable SSO').check();
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await visible(page.getByText('Saved. Sign-ins use these settings from now on.'));

    // What the page says is what the server stored.
    await page.reload();
    await pageReady(page, 'Single Sign On');
    expect(await page.getByLabel('Enable SSO').isChecked()).toBe(true);
    expect(await page.getByLabel('Identity Provider Issuer').inputValue()).toBe(`${stack.baseUrl}/dev/idp/${orgId}`);
    watch.assertClean();
  });

  it('turns SSO JIT on with the Role Name Attribute typed as Custom… and saves two mapping rows', async () => {
    await open('User Provisioning');
    await page.getByRole('radio', { name: 'SSO JIT' }).check();
    await page.getByRole('radio', { name: 'The identity provider' }).check();
    await page.getByLabel('Role Name Attribute').selectOption({ label: 'Custom…' });
    await page.getByLabel('Custom attribute name').fill('groups');
    await page.getByRole('radio', { name: 'Deny the sign-in' }).check();

    const mappings = page.getByRole('region', { name: 'Role mappings' });
    const addButton = page.getByRole('button', { name: '+ Add mapping' });
    for (const [role, value] of [['Organization Admin', 'Admins'], ['Account Admin', 'Temporary'], ['Regular User', 'Staff']] as const) {
      await addButton.click();
      const row = mappings.getByRole('group', { name: `Mapping ${await mappings.getByRole('listitem').count()}` });
      await row.getByLabel('Role', { exact: true }).selectOption({ label: role });
      await row.getByLabel('Account Groups').selectOption([{ label: 'Default' }]);
      await row.getByLabel('IdP value').fill(value);
    }
    // "-" takes the second row away again.
    await mappings.getByRole('button', { name: 'Remove mapping 2' }).click();
    expect(await mappings.getByRole('listitem').count()).toBe(2);

    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await visible(page.getByText('Saved. Sign-ins use these settings from now on.'));

    // Reloaded, the page shows what was stored: JIT with two rows.
    await page.reload();
    await pageReady(page, 'User Provisioning');
    expect(await page.getByRole('radio', { name: 'SSO JIT' }).isChecked()).toBe(true);
    const rows = page.getByRole('region', { name: 'Role mappings' }).getByRole('listitem');
    expect(await rows.count()).toBe(2);
    const rowShown = async (index: number) => ({
      role: await rows.nth(index).getByLabel('Role', { exact: true }).inputValue(),
      groups: await rows.nth(index).getByLabel('Account Groups').inputValue(),
      idpValue: await rows.nth(index).getByLabel('IdP value').inputValue(),
    });
    const shown = [await rowShown(0), await rowShown(1)].sort((a, b) => a.idpValue.localeCompare(b.idpValue));
    expect(shown).toEqual([
      { role: 'organization-admin', groups: 'default', idpValue: 'Admins' },
      { role: 'regular-user', groups: 'default', idpValue: 'Staff' },
    ]);
    const stored = await adminApi(stack, token, 'GET', `/orgs/${orgId}/settings/provisioning`);
    expect(stored.body).toMatchObject({ method: 'jit', jit: { roleSource: 'idp', roleAttribute: 'groups', onNoRoleMatch: 'deny' } });
    watch.assertClean();
  });

  it('previews the assignments a sign-in would get, and the code it would fail with', async () => {
    const preview = page.getByRole('region', { name: 'Preview' });
    const box = preview.getByLabel('Role values to try');
    const result = preview.getByRole('status');

    await box.fill('Staff');
    await preview.getByRole('button', { name: 'Preview' }).click();
    await visible(result.getByText('A sign-in with these values would get:'));
    await visible(result.getByText(/Regular User/));

    await box.fill('staff');
    await preview.getByRole('button', { name: 'Preview' }).click();
    await visible(result.getByText('ROLE_NOT_MAPPED'));
    await visible(result.getByText('A sign-in with these values would fail:'));
    watch.assertClean();
  });

  it('runs a test sign-in through the development IdP and shows the Issuer, NameID and every attribute verbatim', async () => {
    await open('Test sign-in');
    await page.getByRole('button', { name: 'Test sign-in', exact: true }).click();
    await answerAtDevIdp(page, { email: `ada@${orgId}.example`, firstName: XSS, lastName: 'Lovelace', roles: ['Admins'], otherRole: ' Admins' });

    await pageReady(page, 'Test sign-in result');
    expect(new URL(page.url()).pathname).toMatch(/^\/console\/sso\/tests\/[\w-]+$/);
    await visible(page.getByRole('heading', { name: /This sign-in would succeed/ }));
    await visible(page.getByText(`Would create user`));
    const sent = page.getByRole('region', { name: 'What the identity provider sent' });
    const fact = (name: string) => sent.locator('dt', { hasText: new RegExp(`^${name}$`) }).locator('xpath=following-sibling::dd[1]');
    expect(await fact('Issuer').innerText()).toBe(`${stack.baseUrl}/dev/idp/${orgId}`);
    expect(await fact('NameID').innerText()).toBe(`ada@${orgId}.example`);
    expect(await fact('NameID format').innerText()).toBe('urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress');

    const attribute = (name: string) => sent.getByRole('row').filter({ has: page.getByRole('rowheader', { name, exact: true }) });
    expect(await attribute('emailAddress').getByRole('cell').innerText()).toBe(`ada@${orgId}.example`);
    expect(await attribute('lastName').getByRole('cell').innerText()).toBe('Lovelace');
    // The markup an IdP sent is text: shown as sent, nothing injected, nothing run.
    await visible(attribute('firstName').getByText(XSS, { exact: true }));
    // A leading space is made visible, not swallowed.
    await visible(attribute('groups').getByText('(space)'));
    expect(await page.locator('img[src="x"]').count()).toBe(0);
    expect(dialogs).toEqual([]);
    watch.assertClean();

    // A test sign-in creates nobody.
    const users = await adminApi(stack, token, 'GET', `/orgs/${orgId}/users?email=${encodeURIComponent(`ada@${orgId}.example`)}`);
    expect(users.body?.items).toEqual([]);
  });

  it('signs a new user in through the development IdP and finds them in Users and their sign-in in the Audit log', async () => {
    const newUser = `grace-${Date.now()}@${orgId}.example`;
    const userContext = await newContext(browser, stack);
    const userPage = await watchedPage(userContext);
    await userPage.page.goto(`/sso/${orgId}/login?fwd=/console`);
    await answerAtDevIdp(userPage.page, { email: newUser, firstName: 'Grace', lastName: 'Hopper', roles: ['Staff'] });
    // A Regular User has no admin areas: the console says who they are and nothing more.
    await pageReady(userPage.page, 'Overview');
    await visible(userPage.page.getByRole('banner').getByText(newUser));
    userPage.watch.assertClean();
    await userContext.close();

    await open('Users');
    await page.getByLabel('Search by email').fill(newUser);
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('link', { name: newUser }).click();
    await pageReady(page, newUser);
    const userId = new URL(page.url()).pathname.split('/').pop()!;
    expect(await page.getByRole('region', { name: 'Assignments' }).getByLabel('Role', { exact: true }).inputValue()).toBe('regular-user');

    await open('Audit log');
    // Newest first: the first sign-in event is this user's; its details name them.
    const signIn = page.getByRole('row').filter({ hasText: 'login.succeeded' }).first();
    await signIn.getByRole('button', { name: /Show details of login\.succeeded/ }).click();
    const detail = page.locator('.detail-row').first();
    await visible(detail.getByText(newUser, { exact: true }));
    await visible(detail.getByText(userId));
    watch.assertClean();
  });

  it('shows an attribute value carrying markup in the audit log as text, executing nothing', async () => {
    const userContext = await newContext(browser, stack);
    const userPage = await watchedPage(userContext);
    userPage.watch.expect('POST', new RegExp(`^/sso/${orgId}/saml/acs$`), 403);
    await userPage.page.goto(`/sso/${orgId}/login?fwd=/console`);
    await answerAtDevIdp(userPage.page, { email: `mallory@${orgId}.example`, roles: [], otherRole: XSS });
    await visible(userPage.page.getByText(/ROLE_NOT_MAPPED|not mapped/).first());
    await userContext.close();

    await open('Overview');
    await open('Audit log');
    const failed = page.getByRole('row').filter({ hasText: 'login.failed' }).filter({ hasText: 'ROLE_NOT_MAPPED' }).first();
    await failed.getByRole('button', { name: /Show details of login\.failed/ }).click();
    await visible(page.getByText(XSS, { exact: true }).first());
    expect(await page.locator('img[src="x"]').count()).toBe(0);
    expect(dialogs).toEqual([]);
    watch.assertClean();
  });
});
