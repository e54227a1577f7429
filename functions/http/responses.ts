/**
 * Response shapes for API Gateway HTTP API (payload v2) and the small helpers that
 * read requests: the only HTTP knowledge the handlers share.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { SESSION_COOKIE } from '../../shared/sessions/session-tokens.js';

export type HttpEvent = APIGatewayProxyEventV2;
export type HttpResult = APIGatewayProxyStructuredResultV2;

const SECURITY_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json; charset=utf-8', ...SECURITY_HEADERS, ...headers },
    body: JSON.stringify(body),
  };
}

export function html(statusCode: number, page: string, headers: Record<string, string> = {}): HttpResult {
  return {
    statusCode,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      ...SECURITY_HEADERS,
      'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
      ...headers,
    },
    body: page,
  };
}

export function xml(statusCode: number, body: string, contentType = 'application/samlmetadata+xml'): HttpResult {
  return { statusCode, headers: { 'content-type': `${contentType}; charset=utf-8`, 'x-content-type-options': 'nosniff' }, body };
}

export function redirect(location: string, cookies: string[] = []): HttpResult {
  return { statusCode: 302, headers: { location, ...SECURITY_HEADERS }, cookies, body: '' };
}

export const noContent = (cookies: string[] = []): HttpResult => ({ statusCode: 204, headers: SECURITY_HEADERS, cookies, body: '' });

/** The request body as text (API Gateway base64-encodes non-text bodies). */
export function bodyText(event: HttpEvent): string {
  if (!event.body) return '';
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
}

/** Fields of an `application/x-www-form-urlencoded` body; the first value of each name. */
export function formFields(event: HttpEvent): Record<string, string | undefined> {
  const fields: Record<string, string | undefined> = Object.create(null);
  for (const [name, value] of new URLSearchParams(bodyText(event))) fields[name] ??= value;
  return fields;
}

/** Whether the caller asked for JSON (`Accept: application/json`). */
export const wantsJson = (event: HttpEvent): boolean => /application\/json/i.test(event.headers?.accept ?? '');

/** A cookie's value from the v2 event's `cookies` (or a raw Cookie header). */
export function cookie(event: HttpEvent, name: string): string | undefined {
  const all = event.cookies ?? (event.headers?.cookie ?? '').split(';');
  for (const entry of all) {
    const index = entry.indexOf('=');
    if (index > 0 && entry.slice(0, index).trim() === name) return entry.slice(index + 1).trim();
  }
  return undefined;
}

/** The token of `Authorization: Bearer …`. */
export const bearerToken = (event: HttpEvent): string | undefined => /^Bearer\s+(\S+)$/i.exec(event.headers?.authorization ?? '')?.[1];

/** The session token from `Authorization: Bearer …` or the `session` cookie (GET /me). */
export const sessionToken = (event: HttpEvent): string | undefined => bearerToken(event) ?? cookie(event, SESSION_COOKIE);

export const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[char]!);

const PAGE_STYLE =
  'body{font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#1f2933}code{background:#eef2f6;padding:.1rem .3rem;border-radius:.2rem}h1{font-size:1.4rem}';

/**
 * A minimal page (no scripts, no external resources). Its style is inline unless a
 * `stylesheet` (a same-origin URL) is given: under the console's CSP (`style-src 'self'`)
 * an inline style would be refused, so console pages link the console's stylesheet.
 * The empty `data:` icon keeps browsers from asking for `/favicon.ico`.
 */
export function page(title: string, bodyHtml: string, options: { stylesheet?: string } = {}): string {
  const style = options.stylesheet ? `<link rel="stylesheet" href="${escapeHtml(options.stylesheet)}">` : `<style>${PAGE_STYLE}</style>`;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${escapeHtml(title)}</title><link rel="icon" href="data:,">${style}</head><body>${bodyHtml}</body></html>`;
}
