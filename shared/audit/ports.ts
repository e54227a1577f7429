/**
 * The audit trail's storage port. `shared/storage/` implements it (DynamoDB and in
 * memory); the domain depends on this interface only.
 */
import type { Page } from '../paging.js';
import type { AuditEvent } from './model.js';

export interface AuditRepository {
  record(event: AuditEvent): Promise<void>;
  /** Newest first. */
  list(orgId: string, options: { type?: string; limit: number; cursor?: string }): Promise<Page<AuditEvent>>;
}
