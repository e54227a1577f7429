/**
 * The mapping editor by keyboard alone (Tab, Enter, Space, arrow keys and typing): add a
 * row, choose its role and groups, remove a row, save.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { adminApi, configureOrgByApi, eventually, createOrg, launchBrowser, loginLink, newContext, pageReady, sessionToken, signInByLink, uniqueOrgId, visible, watchedPage } from './support/browser.js';

const stack = inject('stack');
const orgId = uniqueOrgId('keys');
let browser: Browser;
let token: string;
let adminEmail: string;

/** What has focus, as a person would read it: its accessible label or text. */
const focused = (page: Page) =>
  page.evaluate<string>(`(() => {
    const el = document.activeElement;
    if (!el) return '';
    const label = el.getAttribute('aria-label') || (el.id && document.querySelector('label[for="' + el.id + '"]')?.textContent) || el.textContent || '';
    return label.trim();
  })()`);

/** Presses Tab until `name` has focus (at most `max` times). */
async function tabTo(page: Page, name: string, max = 80): Promise<void> {
  for (let i = 0; i < max; i += 1) {
    if ((await focused(page)) === name) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`Tab never reached "${name}" (focus is on "${await focused(page)}")`);
}

beforeAll(async () => {
  browser = await launchBrowser();
  adminEmail = await createOrg(stack, orgId, 'Keys Co');
  token = await sessionToken(stack, orgId, adminEmail);
  await configureOrgByApi(stack, token, orgId, [{ roleId: 'organization-admin', groupIds: ['default'], idpValue: 'Admins' }]);
});

afterAll(async () => {
  await browser?.close();
});

describe('the mapping editor by keyboard only', () => {
  it('adds a row, chooses role and groups, removes a row and saves, without a mouse', async () => {
    const context = await newContext(browser, stack);
    const { page, watch } = await watchedPage(context);
    await signInByLink(page, await loginLink(stack, orgId, adminEmail));
    await page.goto('/console/provisioning');
    await pageReady(page, 'User Provisioning');

    // Add a row: focus lands on its Role.
    await tabTo(page, '+ Add mapping');
    await page.keyboard.press('Enter');
    const second = page.getByRole('group', { name: 'Mapping 2' });
    await visible(second);
    await eventually('focus is on the new row’s Role', async () => (await focused(page)) === 'Role');
    // Arrow keys choose the role (the first choice is the disabled "Choose a role…").
    const role = second.getByLabel('Role', { exact: true });
    for (let presses = 0; presses < 5 && (await role.inputValue()) !== 'account-admin'; presses += 1) await page.keyboard.press('ArrowDown');
    expect(await role.inputValue()).toBe('account-admin');
    // Account Groups: a listbox; an arrow key selects its first group.
    await page.keyboard.press('Tab');
    expect(await focused(page)).toBe('Account Groups');
    await page.keyboard.press('ArrowDown');
    expect(await second.getByLabel('Account Groups').inputValue()).toBe('default');
    await page.keyboard.press('Tab');
    expect(await focused(page)).toBe('IdP value');
    await page.keyboard.type('Engineering');

    // A third row, then "-" on it with Space: focus goes back to the row before.
    await tabTo(page, '+ Add mapping');
    await page.keyboard.press('Space');
    await visible(page.getByRole('group', { name: 'Mapping 3' }));
    await tabTo(page, 'Remove mapping 3');
    await page.keyboard.press('Space');
    await page.getByRole('group', { name: 'Mapping 3' }).waitFor({ state: 'detached' });
    await visible(page.getByRole('status').getByText('Mapping 3 removed. 2 mappings remain.'));
    await eventually('focus is back on a Role', async () => (await focused(page)) === 'Role');

    await tabTo(page, 'Save');
    await page.keyboard.press('Enter');
    await visible(page.getByText('Saved. Sign-ins use these settings from now on.'));

    const stored = await adminApi(stack, token, 'GET', `/orgs/${orgId}/settings/role-mappings`);
    const items = (stored.body!.items as { roleId: string; groupIds: string[]; idpValue?: string }[]).map(({ roleId, groupIds, idpValue }) => ({ roleId, groupIds, idpValue }));
    expect(items.sort((a, b) => (a.idpValue ?? '').localeCompare(b.idpValue ?? ''))).toEqual([
      { roleId: 'organization-admin', groupIds: ['default'], idpValue: 'Admins' },
      { roleId: 'account-admin', groupIds: ['default'], idpValue: 'Engineering' },
    ]);
    watch.assertClean();
    await context.close();
  });
});
