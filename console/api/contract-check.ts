/**
 * Holds the console's API types against the server's own models, at type-check time
 * only (`npm run typecheck:console`): a renamed field or a new permission on the server
 * fails the console's type-check instead of a screen. Imports are type-only, so nothing
 * of the server reaches the bundle, and no module imports this one.
 */
import type {
  Group as ServerGroup,
  JitSettings as ServerJitSettings,
  Permission as ServerPermission,
  ProvisioningSettings as ServerProvisioningSettings,
  Role as ServerRole,
  RoleMapping as ServerRoleMapping,
} from '../../shared/settings/model.js';
import type { Assignment as ServerAssignment, ProvisionedBy, UserStatus } from '../../shared/users/model.js';
import type { Assignment, Group, JitSettings, Permission, ProvisioningSettings, Role, RoleMapping, User } from './types.js';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Assert<T extends true> = T;

export type Checks = [
  Assert<Equal<Permission, ServerPermission>>,
  Assert<Equal<Role, ServerRole>>,
  Assert<Equal<Group, ServerGroup>>,
  Assert<Equal<RoleMapping, ServerRoleMapping>>,
  Assert<Equal<JitSettings['roleSource'], ServerJitSettings['roleSource']>>,
  Assert<Equal<JitSettings['onNoRoleMatch'], ServerJitSettings['onNoRoleMatch']>>,
  Assert<Equal<keyof JitSettings, keyof ServerJitSettings>>,
  Assert<Equal<keyof JitSettings['attributes'], keyof ServerJitSettings['attributes']>>,
  Assert<Equal<ProvisioningSettings['method'], ServerProvisioningSettings['method']>>,
  Assert<Equal<Assignment, ServerAssignment>>,
  Assert<Equal<User['status'], UserStatus>>,
  Assert<Equal<User['provisionedBy'], ProvisionedBy>>,
];
