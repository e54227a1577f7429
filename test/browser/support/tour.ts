/**
 * Every console page, in the navigation's order, as the axe/error sweep and
 * `npm run screenshots` visit them. `runTestSignIn` leaves a test result to visit.
 */
import type { Page } from 'playwright-core';
import { answerAtDevIdp, pageReady, visible } from './browser.js';

export interface TourStop {
  /** File name of its screenshot (docs/screenshots/{name}.png). */
  name: string;
  /** The page's `<h1>`. */
  title: string | RegExp;
  /** How to get there from any console page. */
  go: (page: Page) => Promise<void>;
}

const nav = (label: string) => async (page: Page) => {
  await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: label, exact: true }).click();
};

export const CONSOLE_TOUR: readonly TourStop[] = [
  { name: 'overview', title: 'Overview', go: nav('Overview') },
  { name: 'single-sign-on', title: 'Single Sign On', go: nav('Single Sign On') },
  { name: 'user-provisioning', title: 'User Provisioning', go: nav('User Provisioning') },
  { name: 'test-sign-in', title: 'Test sign-in', go: nav('Test sign-in') },
  { name: 'users', title: 'Users', go: nav('Users') },
  {
    name: 'user',
    title: /@/,
    go: async (page) => {
      await nav('Users')(page);
      await pageReady(page, 'Users');
      await page.getByRole('table').getByRole('link').first().click();
    },
  },
  { name: 'roles', title: 'Roles', go: nav('Roles') },
  { name: 'account-groups', title: 'Account Groups', go: nav('Account Groups') },
  { name: 'audit-log', title: 'Audit log', go: nav('Audit log') },
  { name: 'setup-links', title: 'Setup links', go: nav('Setup links') },
  { name: 'setup-wizard', title: 'Set up single sign-on', go: nav('Setup wizard') },
];

/** Runs a test sign-in from the Test sign-in page through the development IdP; resolves on the result page. */
export async function runTestSignIn(page: Page, email: string, roles: string[], extra: { firstName?: string; otherRole?: string } = {}): Promise<void> {
  await nav('Test sign-in')(page);
  await pageReady(page, 'Test sign-in');
  await page.getByRole('button', { name: 'Test sign-in', exact: true }).click();
  await answerAtDevIdp(page, { email, roles, ...extra });
  await pageReady(page, 'Test sign-in result');
  await visible(page.getByRole('heading', { name: /This sign-in would (succeed|fail)/ }));
}
