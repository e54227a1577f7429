import { describe, expect, it } from 'vitest';
import { checkIfMatch, etagOf } from '../../../shared/settings/etag.js';

describe('etagOf', () => {
  it('gives the same tag whatever the order of object keys', () => {
    expect(etagOf({ a: 1, b: { c: [1, 2], d: 'x' } })).toBe(etagOf({ b: { d: 'x', c: [1, 2] }, a: 1 }));
  });

  it('gives another tag when a value or the order of an array changes', () => {
    const tag = etagOf({ list: [1, 2] });

    expect(etagOf({ list: [2, 1] })).not.toBe(tag);
    expect(etagOf({ list: [1, 3] })).not.toBe(tag);
  });

  it('ignores undefined fields, as JSON does', () => {
    expect(etagOf({ a: 1, b: undefined })).toBe(etagOf({ a: 1 }));
  });

  it('is a quoted strong entity tag', () => {
    expect(etagOf({})).toMatch(/^"[A-Za-z0-9_-]{22}"$/);
  });
});

describe('checkIfMatch', () => {
  const current = { enabled: true };

  it.each([
    ['absent', undefined],
    ['the current tag', etagOf(current)],
    ['the current tag marked weak', `W/${etagOf(current)}`],
    ['a list that includes the current tag', `"stale", ${etagOf(current)}`],
    ['*', '*'],
  ])('accepts If-Match %s', (_name, ifMatch) => {
    expect(() => checkIfMatch(ifMatch, current)).not.toThrow();
  });

  it.each([
    ['a stale tag', etagOf({ enabled: false })],
    ['an unquoted tag', etagOf(current).replace(/"/g, '')],
    ['an empty value', ''],
  ])('refuses If-Match with %s as PRECONDITION_FAILED', (_name, ifMatch) => {
    expect(() => checkIfMatch(ifMatch, current)).toThrow(expect.objectContaining({ code: 'PRECONDITION_FAILED', status: 412 }));
  });
});
