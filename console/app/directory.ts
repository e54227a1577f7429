/** The org's roles and account groups, for selects and for showing assignments by name. */
import { api, useFetch, type ApiError } from '../api/client.js';
import type { Group, Role } from '../api/types.js';
import { sessionAllows, useSession } from './session.js';

export interface Directory {
  roles: Role[];
  groups: Group[];
  /** Why roles or groups are missing (no permission, or a failed read). */
  problems: ApiError[];
  reload: () => void;
}

export function useDirectory(): Directory {
  const session = useSession();
  const { orgId } = session;
  const roles = useFetch(sessionAllows(session, 'roles:view') ? `roles:${orgId}` : null, (signal) => api.roles.list(orgId, signal));
  const groups = useFetch(sessionAllows(session, 'groups:view') ? `groups:${orgId}` : null, (signal) => api.groups.list(orgId, signal));
  return {
    roles: roles.data?.items ?? [],
    groups: groups.data?.items ?? [],
    problems: [roles.error, groups.error].filter((error): error is ApiError => error !== null),
    reload: () => {
      roles.reload();
      groups.reload();
    },
  };
}
