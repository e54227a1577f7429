/**
 * "What recent logins sent" (docs/console.md): the attribute (claim) names the org's IdP
 * sent in its recent logins, so an admin picks the role attribute from what really
 * arrives instead of guessing its spelling. Read from the login events' `attributeNames`.
 */
import type { AuditEvent } from './model.js';
import type { AuditRepository } from './ports.js';

/** How many of the newest login events are read. */
export const ATTRIBUTE_NAME_EVENTS = 200;
const LOGIN_EVENT_TYPES = ['login.succeeded', 'login.failed'] as const;

export interface SeenAttributeName {
  name: string;
  /** When the newest login that carried it happened. */
  lastSeenAt: string;
}

const newestFirst = (a: AuditEvent, b: AuditEvent) => (`${b.at}#${b.id}` > `${a.at}#${a.id}` ? 1 : -1);

/**
 * The attribute names of the org's last 200 login events (succeeded and failed), newest
 * first, each once with when it was last seen.
 */
export async function recentAttributeNames(deps: { audit: AuditRepository }, orgId: string): Promise<{ items: SeenAttributeName[] }> {
  const pages = await Promise.all(LOGIN_EVENT_TYPES.map((type) => deps.audit.list(orgId, { type, limit: ATTRIBUTE_NAME_EVENTS })));
  const events = pages
    .flatMap((page) => page.items)
    .sort(newestFirst)
    .slice(0, ATTRIBUTE_NAME_EVENTS);
  const seen = new Map<string, string>();
  for (const event of events) {
    const names = event.details.attributeNames;
    if (!Array.isArray(names)) continue;
    for (const name of names) if (typeof name === 'string' && !seen.has(name)) seen.set(name, event.at);
  }
  return { items: [...seen].map(([name, lastSeenAt]) => ({ name, lastSeenAt })) };
}
