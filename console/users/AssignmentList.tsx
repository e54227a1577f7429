/** Assignments shown by name ("Admin in Default"), with the ids when a name is unknown. */
import type { Assignment, Group, Role } from '../api/types.js';

export function AssignmentList({ assignments, roles, groups }: { assignments: readonly Assignment[]; roles: readonly Role[]; groups: readonly Group[] }) {
  if (assignments.length === 0) return <p class="muted">No assignment.</p>;
  return (
    <ul class="assignment-list">
      {assignments.map((assignment) => {
        const role = roles.find((candidate) => candidate.id === assignment.roleId);
        const group = groups.find((candidate) => candidate.id === assignment.groupId);
        return (
          <li key={`${assignment.groupId}:${assignment.roleId}`}>
            <strong>{role?.name ?? assignment.roleId}</strong> in <strong>{group?.name ?? assignment.groupId}</strong>
            {role && group ? null : (
              <span class="muted">
                {' '}
                (ids: role <code>{assignment.roleId}</code>, group <code>{assignment.groupId}</code>)
              </span>
            )}
          </li>
        );
      })}
    </ul>
  );
}
