/**
 * The audit trail's storage port. `shared/storage/` implements it (DynamoDB and in
 * memory); the domain depends on this interface only.
 */
import type { Page } from '../paging.js';
import type { AuditEvent } from './model.js';

/** What makes repeated events one: the same `key` in the same org, within `windowSeconds` of the first. */
export interface FoldRule {
  /** Opaque and bounded (a hash): it names what makes two events "the same" within an org. */
  key: string;
  /** How long after the first event of a fold later ones still join it; the next one after that starts a new event. */
  windowSeconds: number;
}

export interface AuditRepository {
  record(event: AuditEvent): Promise<void>;
  /**
   * Records `event`, or counts it into the event that opened its fold. The first event
   * of a fold is stored as given, at its own `at`, with `details.count` 1 and
   * `details.firstAt` and `details.lastAt` equal to its `at`. Each later event of the same
   * org and `fold.key` whose `at` is less than `windowSeconds` after that `firstAt` adds 1
   * to `count` and moves `lastAt` forward (never back); nothing else of it is kept.
   * Concurrent calls for one fold never lose a count and never create a second event.
   *
   * Why: anyone can repeat an unauthenticated failure at will; one event with a count
   * keeps the trail readable (API.md "Provisioning rules the login routes apply").
   */
  recordFolded(event: AuditEvent, fold: FoldRule): Promise<void>;
  /** Newest first. */
  list(orgId: string, options: { type?: string; limit: number; cursor?: string }): Promise<Page<AuditEvent>>;
}
