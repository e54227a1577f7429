/**
 * Time and identifiers, injected everywhere so tests set them by value.
 */
import { randomBytes, randomUUID } from 'node:crypto';

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** A clock fixed at (or moved to) a given instant: for tests and benchmarks. */
export function fixedClock(at: Date | string): Clock & { set(at: Date | string): void; advance(ms: number): void } {
  let current = new Date(at);
  return {
    now: () => new Date(current),
    set: (next) => {
      current = new Date(next);
    },
    advance: (ms) => {
      current = new Date(current.getTime() + ms);
    },
  };
}

export interface IdGenerator {
  /** A new opaque, unguessable id (user ids, mapping ids, audit event ids). */
  newId(): string;
}

export const randomIds: IdGenerator = { newId: () => randomUUID() };

/** A URL-safe random token of `bytes` bytes of entropy (state, relay references). */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

export const epochSeconds = (date: Date): number => Math.floor(date.getTime() / 1000);
