/**
 * Settings are not lost or forged: a concurrent change made through the API is shown as
 * a conflict and not overwritten by a stale Save; a write with the browser's session
 * cookie from a foreign origin is refused.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { adminApi, configureOrgByApi, devIdpMetadata, eventually, createOrg, launchBrowser, loginLink, newContext, pageReady, sessionToken, signInByLink, uniqueOrgId, visible, watchedPage, type PageWatch } from './support/browser.js';

const stack = inject('stack');
const orgId = uniqueOrgId('safety');
let browser: Browser;
let context: BrowserContext;
let page: Page;
let watch: PageWatch;
let token: string;

beforeAll(async () => {
  browser = await launchBrowser();
  const adminEmail = await createOrg(stack, orgId, 'Safety Ltd');
  token = await sessionToken(stack, orgId, adminEmail);
  await configureOrgByApi(stack, token, orgId, [{ roleId: 'organization-admin', groupIds: ['default'], idpValue: 'Admins' }]);
  context = await newContext(browser, stack);
  ({ page, watch } = await watchedPage(context));
  await signInByLink(page, await loginLink(stack, orgId, adminEmail));
});

afterAll(async () => {
  await context?.close();
  await browser?.close();
});

describe('concurrent edits and forged writes', () => {
  it('shows a concurrent change of the SSO settings as a conflict and does not overwrite it', async () => {
    await page.goto('/console/sso');
    await pageReady(page, 'Single Sign On');
    expect(await page.getByLabel('Force SSO').isChecked()).toBe(false);

    // Someone else changes the settings through the API meanwhile.
    const current = await adminApi(stack, token, 'GET', `/orgs/${orgId}/settings/sso`);
    const changed = await adminApi(stack, token, 'PUT', `/orgs/${orgId}/settings/sso`, { enabled: true, protocol: 'saml', domains: ['elsewhere.example'], saml: { metadataXml: await devIdpMetadata(stack, orgId) } }, { 'if-match': current.etag! });
    expect(changed.status, JSON.stringify(changed.body)).toBe(200);

    watch.expect('PUT', new RegExp(`^/orgs/${orgId}/settings/sso$`), 412);
    await page.getByLabel('Force SSO').check();
    await page.getByRole('button', { name: 'Save', exact: true }).click();

    await visible(page.getByText('Someone else changed these settings since you opened them.'));
    expect(await page.getByRole('button', { name: 'Save', exact: true }).isDisabled()).toBe(true);
    const stored = await adminApi(stack, token, 'GET', `/orgs/${orgId}/settings/sso`);
    expect(stored.body).toMatchObject({ forceSso: false, domains: ['elsewhere.example'] });

    // Reload shows the other change; the page's own change is gone.
    await page.getByRole('button', { name: 'Reload' }).click();
    await eventually('the reloaded form shows the other change', async () => (await page.getByLabel('Email domains').inputValue()) === 'elsewhere.example');
    expect(await page.getByLabel('Force SSO').isChecked()).toBe(false);
    await page.getByText('Someone else changed these settings since you opened them.').waitFor({ state: 'detached' });
    watch.assertClean();
  });

  it('shows a concurrent change of the role mappings as a conflict and does not overwrite it', async () => {
    await page.goto('/console/provisioning');
    await pageReady(page, 'User Provisioning');

    const current = await adminApi(stack, token, 'GET', `/orgs/${orgId}/settings/role-mappings`);
    const added = await adminApi(stack, token, 'PUT', `/orgs/${orgId}/settings/role-mappings`, {
      items: [...current.body!.items.map(({ roleId, groupIds, idpValue }: Record<string, unknown>) => ({ roleId, groupIds, idpValue })), { roleId: 'regular-user', groupIds: ['default'], idpValue: 'Added elsewhere' }],
    }, { 'if-match': current.etag! });
    expect(added.status).toBe(200);

    watch.expect('PUT', new RegExp(`^/orgs/${orgId}/settings/role-mappings$`), 412);
    await page.getByRole('button', { name: '+ Add mapping' }).click();
    const row = page.getByRole('group', { name: 'Mapping 2' });
    await row.getByLabel('Role', { exact: true }).selectOption({ label: 'Account Admin' });
    await row.getByLabel('Account Groups').selectOption([{ label: 'Default' }]);
    await page.getByRole('button', { name: 'Save', exact: true }).click();

    await visible(page.getByText('Someone else changed these settings since you opened them.'));
    const stored = await adminApi(stack, token, 'GET', `/orgs/${orgId}/settings/role-mappings`);
    expect(stored.body!.items.map((item: { idpValue?: string }) => item.idpValue).sort()).toEqual(['Added elsewhere', 'Admins']);
    watch.assertClean();
  });

  it('refuses a cookie-authenticated write from a foreign origin with 403 CSRF_REJECTED', async () => {
    const before = await adminApi(stack, token, 'GET', `/orgs/${orgId}/settings/sso`);
    // The browser's own session cookie, sent as a cross-site form or fetch would send it.
    const cookies = await context.cookies(stack.baseUrl);
    expect(cookies.map((cookie) => cookie.name)).toContain('session');

    const forged = await context.request.put(`/orgs/${orgId}/settings/sso`, {
      headers: { origin: 'https://attacker.example', 'content-type': 'application/json' },
      data: { enabled: false, protocol: 'saml' },
    });
    expect(forged.status()).toBe(403);
    expect((await forged.json()) as unknown).toMatchObject({ error: { code: 'CSRF_REJECTED' } });

    const forgedUser = await context.request.post(`/orgs/${orgId}/users`, {
      headers: { origin: 'null', 'content-type': 'application/json' },
      data: { email: `intruder@${orgId}.example`, assignments: [{ groupId: 'default', roleId: 'organization-admin' }] },
    });
    expect(forgedUser.status()).toBe(403);

    const after = await adminApi(stack, token, 'GET', `/orgs/${orgId}/settings/sso`);
    expect(after.etag).toBe(before.etag);
    const intruder = await adminApi(stack, token, 'GET', `/orgs/${orgId}/users?email=${encodeURIComponent(`intruder@${orgId}.example`)}`);
    expect(intruder.body?.items).toEqual([]);

    // The same cookie from the console's own origin is accepted: the refusal was the Origin.
    const own = await context.request.get(`/orgs/${orgId}/settings/sso`);
    expect(own.status()).toBe(200);
  });
});
