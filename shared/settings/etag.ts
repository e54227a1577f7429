/**
 * ETags of settings documents: a hash of the document's canonical JSON, so the same
 * content always has the same tag whatever order DynamoDB returns attributes in.
 */
import { createHash } from 'node:crypto';
import { AppError } from '../errors.js';

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, entry]) => entry !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([key, entry]) => [key, canonical(entry)]),
    );
  }
  return value;
}

export function etagOf(document: unknown): string {
  return `"${createHash('sha256').update(JSON.stringify(canonical(document))).digest('base64url').slice(0, 22)}"`;
}

/**
 * Refuses a write whose `If-Match` does not name the current document.
 * Absent `If-Match` is accepted (API.md); `*` matches any existing document.
 * @throws AppError `PRECONDITION_FAILED`
 */
export function checkIfMatch(ifMatch: string | undefined, current: unknown): void {
  if (ifMatch === undefined || ifMatch.trim() === '*') return;
  const tags = ifMatch.split(',').map((tag) => tag.trim().replace(/^W\//, ''));
  if (!tags.includes(etagOf(current))) {
    throw new AppError('PRECONDITION_FAILED', 'The settings changed since you read them (If-Match is stale): read them again and retry.');
  }
}
