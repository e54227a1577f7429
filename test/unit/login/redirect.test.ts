/**
 * Redirect targets after login (API.md "Redirects"): one leading `/`, then no `/` or
 * `\`, checked after percent-decoding, no control characters, always our own origin.
 */
import { describe, expect, it } from 'vitest';
import { safeRedirect } from '../../../shared/login/redirect.js';

const BASE = 'https://sso.example.com';

describe('safeRedirect', () => {
  it.each([
    ['/', `${BASE}/`],
    ['/me', `${BASE}/me`],
    ['/a/b?x=1#y', `${BASE}/a/b?x=1#y`],
    ['/caf%C3%A9', `${BASE}/caf%C3%A9`],
  ])('accepts %s as %s', (target, expected) => {
    expect(safeRedirect(target, BASE)).toBe(expected);
  });

  it('accepts a path of exactly 2048 characters', () => {
    const target = `/${'a'.repeat(2047)}`;

    expect(safeRedirect(target, BASE)).toBe(`${BASE}${target}`);
  });

  it.each([
    ['an absolute URL', 'https://evil.com'],
    ['a protocol-relative URL', '//evil.com'],
    ['a slash and a backslash', '/\\evil.com'],
    ['encoded slashes after the leading one', '/%2F%2Fevil.com'],
    ['a fully encoded protocol-relative URL', '%2F%2Fevil.com'],
    ['an encoded backslash', '/%5Cevil.com'],
    ['double-encoded slashes', '/%252F%252Fevil.com'],
    ['a javascript: URL', 'javascript:alert(1)'],
    ['a scheme with one slash', 'http:/evil'],
    ['an encoded CR LF (header injection)', '/x%0d%0aSet-Cookie:a=b'],
    ['a raw CR LF', '/x\r\nLocation: x'],
    ['a raw tab', '/x\tz'],
    ['an encoded tab', '/x%09z'],
    ['invalid percent-encoding', '/%E0%A4%A'],
    ['a backslash later in the path', '/a\\b'],
    ['a relative path without leading slash', 'me'],
    ['an empty string', ''],
    ['a path over 2048 characters', `/${'a'.repeat(2048)}`],
    ['a dot segment that normalizes to a protocol-relative path', '/.//evil.com'],
    ['a parent segment that normalizes to a protocol-relative path', '/..//evil.com'],
    ['a deeper parent segment that normalizes to a protocol-relative path', '/a/..//evil.com'],
  ])('refuses %s (%j) with RELAY_STATE_INVALID', (_label, target) => {
    expect(() => safeRedirect(target, BASE)).toThrow(expect.objectContaining({ code: 'RELAY_STATE_INVALID', status: 400 }));
  });

  it.each(['/', '/me', '/a/b?x=1#y', '/a/../../evil.com'])(
    'returns a URL on the base URL origin for %s',
    (target) => {
      expect(new URL(safeRedirect(target, BASE)).origin).toBe(BASE);
    },
  );

  it("uses only the base URL's origin, not its path", () => {
    expect(safeRedirect('/me', 'https://sso.example.com:8443/ignored/path')).toBe('https://sso.example.com:8443/me');
  });
});
