/**
 * The development OpenID Provider as tests use it: started on a free loopback port, and
 * driven like a browser with plain `fetch`, a small cookie jar and manual redirects, so a
 * test can sign a user in at the OP and get the redirect to the relying party's callback.
 */
import { startDevOidcProvider, type DevOidcOptions, type DevOidcProvider } from '../../local/dev-oidc.js';

/** Same options as `startDevOidcProvider`, on a free port unless told otherwise. */
export function startTestOidcProvider(options: DevOidcOptions): Promise<DevOidcProvider> {
  return startDevOidcProvider({ port: 0, ...options });
}

const MAX_STEPS = 10;

/**
 * Follows an authorization request through the OP's login page as `email` and returns
 * the URL the OP finally redirects to, off the OP's origin: the client's redirect_uri
 * with `code` and `state` (or `error`). Each call has its own cookie jar, so each is a
 * fresh browser.
 *
 * @example
 * const callback = await authorizeThroughProvider(authorizationUrl, 'grace@demo-oidc.example');
 * callback.searchParams.get('code');
 */
export async function authorizeThroughProvider(authorizationUrl: string, email: string): Promise<URL> {
  const jar = new CookieJar();
  const opOrigin = new URL(authorizationUrl).origin;
  let url = new URL(authorizationUrl);
  let init: RequestInit = {};
  for (let step = 0; step < MAX_STEPS; step++) {
    const response = await fetch(url, { ...init, redirect: 'manual', headers: { ...(init.headers as Record<string, string> | undefined), ...jar.header(url) } });
    jar.store(url, response.headers.getSetCookie());
    init = {};
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location) {
      await response.body?.cancel();
      url = new URL(location, url);
      if (url.origin !== opOrigin) return url;
      continue;
    }
    const body = await response.text();
    const action = /<form method="post" action="([^"]+\/login)"/.exec(body)?.[1];
    if (response.status !== 200 || !action) {
      throw new Error(`The OP answered ${response.status} at ${url.pathname} instead of a login page: ${body.replace(/<head>.*<\/head>/s, '').replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 300)}`);
    }
    url = new URL(action.replace(/&amp;/g, '&'), url);
    init = { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ email }).toString() };
  }
  throw new Error(`No redirect off the OP within ${MAX_STEPS} steps (last at ${url.href}).`);
}

/** Just enough of a browser's cookie store: name, value and path; expiry only as deletion. */
class CookieJar {
  readonly #cookies = new Map<string, { value: string; path: string }>();

  store(url: URL, setCookies: string[]): void {
    for (const line of setCookies) {
      const [pair = '', ...attributes] = line.split(';').map((part) => part.trim());
      const at = pair.indexOf('=');
      if (at <= 0) continue;
      const name = pair.slice(0, at);
      const value = pair.slice(at + 1);
      const attribute = (wanted: string) => attributes.find((item) => item.toLowerCase().startsWith(`${wanted}=`))?.slice(wanted.length + 1);
      const path = attribute('path') ?? '/';
      const expires = attribute('expires');
      const expired = value === '' || attribute('max-age') === '0' || (expires !== undefined && Date.parse(expires) <= Date.now());
      const key = `${url.host} ${path} ${name}`;
      if (expired) this.#cookies.delete(key);
      else this.#cookies.set(key, { value, path });
    }
  }

  header(url: URL): Record<string, string> {
    const pairs: string[] = [];
    for (const [key, cookie] of this.#cookies) {
      const [host, , name] = key.split(' ');
      const pathMatches = url.pathname === cookie.path || url.pathname.startsWith(cookie.path.endsWith('/') ? cookie.path : `${cookie.path}/`);
      if (host === url.host && pathMatches) pairs.push(`${name}=${cookie.value}`);
    }
    return pairs.length > 0 ? { cookie: pairs.join('; ') } : {};
  }
}
