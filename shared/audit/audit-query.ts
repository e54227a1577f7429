/**
 * Reading the audit trail: newest first, filtered by type, a page at a time.
 */
import { z } from 'zod';
import { parseInput } from '../settings/validation.js';
import type { AuditRepository } from './ports.js';
import type { Page } from '../paging.js';
import type { AuditEvent } from './model.js';

export const auditQuerySchema = z.strictObject({
  type: z.string().regex(/^[a-z_]+(\.[a-z_]+)*(\.\*)?$/, 'must be an event type such as login.failed, or a prefix such as role.*').optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: z.string().max(2048).optional(),
});

/** The public shape of an event (API.md "AuditEvent"). */
export function toAuditView(event: AuditEvent): Omit<AuditEvent, 'orgId'> {
  const { orgId: _orgId, ...view } = event;
  return view;
}

export async function listAuditEvents(deps: { audit: AuditRepository }, orgId: string, query: unknown): Promise<Page<Omit<AuditEvent, 'orgId'>>> {
  const { type, limit, cursor } = parseInput(auditQuerySchema, query);
  const page = await deps.audit.list(orgId, { type, limit, cursor });
  return { items: page.items.map(toAuditView), cursor: page.cursor };
}
