/**
 * "What recent logins sent" (shared/audit/attribute-names.ts), over the in-memory audit
 * repository: the last 200 login events only, test sign-ins and other events left out.
 */
import { describe, expect, it } from 'vitest';
import { recentAttributeNames } from '../../../shared/audit/attribute-names.js';
import type { AuditEvent } from '../../../shared/audit/model.js';
import { fixedClock } from '../../../shared/clock.js';
import { createMemoryRepositories } from '../../../shared/storage/memory.js';

const ORG = 'acme';
let n = 0;

function loginEvent(type: AuditEvent['type'], second: number, attributeNames?: string[]): AuditEvent {
  return {
    id: `evt-${++n}`,
    orgId: ORG,
    at: new Date(Date.UTC(2026, 0, 1, 0, 0, second)).toISOString(),
    type,
    outcome: type === 'login.failed' ? 'failure' : 'success',
    actor: { type: 'idp', id: 'https://idp.acme.test' },
    details: attributeNames ? { attributeNames } : {},
  };
}

describe('recentAttributeNames', () => {
  it('reads only the newest 200 login events', async () => {
    const { audit } = createMemoryRepositories(fixedClock('2026-01-01T01:00:00Z'));
    await audit.record(loginEvent('login.succeeded', 0, ['tooOld']));
    for (let second = 1; second <= 200; second += 1) await audit.record(loginEvent(second % 2 ? 'login.failed' : 'login.succeeded', second, ['groups']));

    const { items } = await recentAttributeNames({ audit }, ORG);

    expect(items).toEqual([{ name: 'groups', lastSeenAt: '2026-01-01T00:03:20.000Z' }]);
  });

  it('leaves out test sign-ins and events of other kinds, which do not take a place among the 200', async () => {
    const { audit } = createMemoryRepositories(fixedClock('2026-01-01T01:00:00Z'));
    await audit.record(loginEvent('login.succeeded', 0, ['department']));
    for (let second = 1; second <= 250; second += 1) await audit.record(loginEvent('login.tested', second, ['testOnly']));
    await audit.record(loginEvent('user.jit_updated', 251, ['notALogin']));
    await audit.record(loginEvent('login.failed', 252));

    const { items } = await recentAttributeNames({ audit }, ORG);

    expect(items).toEqual([{ name: 'department', lastSeenAt: '2026-01-01T00:00:00.000Z' }]);
  });
});
