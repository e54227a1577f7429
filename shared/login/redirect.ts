/**
 * Redirect targets after login (`fwd`, RelayState): relative paths on our own origin
 * only, so a crafted link can never send a signed-in person elsewhere.
 */
import { AppError } from '../errors.js';

const MAX_LENGTH = 2048;
// Control characters, including CR, LF and tab.
const CONTROL = /[\u0000-\u001f\u007f]/;

function decodeFully(value: string): string {
  // Decode until stable so double-encoded slashes (%252F) are seen for what they are.
  let current = value;
  for (let round = 0; round < 4; round += 1) {
    const next = decodeURIComponent(current);
    if (next === current) return current;
    current = next;
  }
  throw new Error('too deeply encoded');
}

/**
 * Checks a redirect target and returns the absolute URL on `baseUrl`'s origin.
 * The rule (API.md "Redirects"): one leading `/`, then neither `/` nor `\`, checked
 * after percent-decoding; no control characters.
 * @throws AppError `RELAY_STATE_INVALID`
 * @example safeRedirect('/dashboard?tab=1', 'https://sso.example.com') // 'https://sso.example.com/dashboard?tab=1'
 */
export function safeRedirect(target: string, baseUrl: string): string {
  const refuse = (why: string, cause?: unknown) =>
    new AppError('RELAY_STATE_INVALID', `The redirect target is not allowed: ${why}. It must be a relative path such as /home.`, { cause });
  if (target.length > MAX_LENGTH) throw refuse('it is too long');
  let decoded: string;
  try {
    decoded = decodeFully(target);
  } catch (cause) {
    throw refuse('it is not valid percent-encoding', cause);
  }
  for (const form of [target, decoded]) {
    if (CONTROL.test(form)) throw refuse('it contains control characters');
    if (!form.startsWith('/')) throw refuse('it does not start with /');
    if (form[1] === '/' || form[1] === '\\') throw refuse('it points at another host');
    if (form.includes('\\')) throw refuse('it contains a backslash');
  }
  const origin = new URL(baseUrl).origin;
  const url = new URL(target, origin);
  // `/.//evil` and `/a/..//evil` normalize to a path that a later relative redirect would read as a host.
  if (url.origin !== origin || url.pathname.startsWith('//')) throw refuse('it points at another host');
  return url.toString();
}
