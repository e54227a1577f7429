/** Words for user fields. */
import type { User } from '../api/types.js';

export const PROVISIONED_BY: Record<User['provisionedBy'], string> = { jit: 'SSO JIT', manual: 'Manual', scim: 'SCIM' };

export const fullName = (user: Pick<User, 'firstName' | 'lastName'>): string => [user.firstName, user.lastName].filter(Boolean).join(' ');
