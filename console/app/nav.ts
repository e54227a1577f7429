/** The console's areas as the navigation lists them, each with the permission it needs to be seen. */
import type { Permission } from '../api/types.js';
import type { Route } from './routes.js';

export interface NavItem {
  label: string;
  route: Route;
  needs?: Permission;
  /** Other pages that belong to this area (marked current in the navigation). */
  also?: Route['name'][];
}

export const NAV_ITEMS: readonly NavItem[] = [
  { label: 'Overview', route: { name: 'overview' } },
  { label: 'Single Sign On', route: { name: 'sso' }, needs: 'security:view' },
  { label: 'User Provisioning', route: { name: 'provisioning' }, needs: 'security:view' },
  { label: 'Test sign-in', route: { name: 'test' }, needs: 'security:view', also: ['ssoTest'] },
  { label: 'Users', route: { name: 'users' }, needs: 'users:view', also: ['user'] },
  { label: 'Roles', route: { name: 'roles' }, needs: 'roles:view' },
  { label: 'Account Groups', route: { name: 'groups' }, needs: 'groups:view' },
  { label: 'Audit log', route: { name: 'audit' }, needs: 'audit:view' },
  { label: 'Setup links', route: { name: 'setupLinks' }, needs: 'security:view' },
  { label: 'Setup wizard', route: { name: 'setup' }, needs: 'security:edit' },
];
