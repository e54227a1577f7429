/**
 * "What recent logins sent" (docs/console.md): the attribute (claim) names the org's IdP
 * sent in its recent logins, so an admin picks the role attribute from what really
 * arrives instead of guessing its spelling. Read from the login events' `attributeNames`.
 */
import type { AuditEvent } from './model.js';
import type { AuditRepository } from './ports.js';

/** How many of the newest login events are read. */
export const ATTRIBUTE_NAME_EVENTS = 200;
const LOGIN_EVENT_TYPES: ReadonlySet<string> = new Set(['login.succeeded', 'login.failed']);
/** A guard against paging on for ever through an org whose `login.*` events are mostly other kinds. */
const MAX_PAGES = 10;

export interface SeenAttributeName {
  name: string;
  /** When the newest login that carried it happened. */
  lastSeenAt: string;
}

/**
 * The attribute names of the org's last 200 login events (succeeded and failed), newest
 * first, each once with when it was last seen. One newest-first read of `login.*`
 * (test sign-ins are left out: their answers are not logins).
 */
export async function recentAttributeNames(deps: { audit: AuditRepository }, orgId: string): Promise<{ items: SeenAttributeName[] }> {
  const events: AuditEvent[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < MAX_PAGES && events.length < ATTRIBUTE_NAME_EVENTS; page += 1) {
    const read = await deps.audit.list(orgId, { type: 'login.*', limit: ATTRIBUTE_NAME_EVENTS, cursor });
    events.push(...read.items.filter((event) => LOGIN_EVENT_TYPES.has(event.type)));
    cursor = read.cursor;
    if (!cursor) break;
  }
  const seen = new Map<string, string>();
  for (const event of events.slice(0, ATTRIBUTE_NAME_EVENTS)) {
    const names = event.details.attributeNames;
    if (!Array.isArray(names)) continue;
    for (const name of names) if (typeof name === 'string' && !seen.has(name)) seen.set(name, event.at);
  }
  return { items: [...seen].map(([name, lastSeenAt]) => ({ name, lastSeenAt })) };
}
