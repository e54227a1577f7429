/**
 * Creating an org: its record, the default group, the built-in roles, default
 * (disabled) SSO and manual provisioning, and its first user as Organization Admin.
 */
import type { AuditActor, AuditEvent } from '../audit/model.js';
import type { Clock, IdGenerator } from '../clock.js';
import type { SettingsRepository } from './ports.js';
import { normalizeEmail, type User } from '../users/model.js';
import { z } from 'zod';
import {
  BUILT_IN_ROLES,
  DEFAULT_GROUP,
  DEFAULT_GROUP_ID,
  defaultProvisioningSettings,
  defaultSsoSettings,
  orgIdSchema,
} from './model.js';
import { parseInput } from './validation.js';

export const createOrgInputSchema = z.strictObject({
  orgId: orgIdSchema,
  name: z.string().trim().min(1, 'must not be empty').max(256),
  adminEmail: z.email('must be an email address'),
});
export type CreateOrgInput = z.input<typeof createOrgInputSchema>;

export interface OrgDeps {
  settingsRepository: SettingsRepository;
  clock: Clock;
  ids: IdGenerator;
}

/**
 * Creates an org with its first admin.
 * @throws AppError `VALIDATION_FAILED`, `CONFLICT` (the org id is taken)
 */
export async function createOrg(deps: OrgDeps, input: CreateOrgInput, actor: AuditActor): Promise<{ orgId: string; adminUserId: string }> {
  const { orgId, name, adminEmail } = parseInput(createOrgInputSchema, input);
  const at = deps.clock.now().toISOString();
  const admin: User = {
    id: deps.ids.newId(),
    orgId,
    email: normalizeEmail(adminEmail),
    status: 'active',
    provisionedBy: 'manual',
    jitProvisioned: false,
    assignments: [{ groupId: DEFAULT_GROUP_ID, roleId: 'organization-admin' }],
    createdAt: at,
    updatedAt: at,
  };
  const event = (type: AuditEvent['type'], target: AuditEvent['target'], details: Record<string, unknown>): AuditEvent => ({
    id: deps.ids.newId(),
    orgId,
    at,
    type,
    outcome: 'success',
    actor,
    target,
    details,
  });
  await deps.settingsRepository.createOrg(
    {
      org: { id: orgId, name, createdAt: at },
      sso: defaultSsoSettings(),
      provisioning: defaultProvisioningSettings(),
      roles: BUILT_IN_ROLES.map((role) => ({ ...role, permissions: [...role.permissions] })),
      groups: [{ ...DEFAULT_GROUP }],
      roleMappings: [],
      firstUser: admin,
    },
    [
      event('org.created', { type: 'org', id: orgId }, { name }),
      event('user.created', { type: 'user', id: admin.id }, { email: admin.email, assignments: admin.assignments }),
    ],
  );
  return { orgId, adminUserId: admin.id };
}
