/**
 * The console's pages and their paths under `/console` (history routing, no hash).
 * Pure: `routeOf` parses a pathname, `pathOf` builds one.
 */

export const BASE = '/console';

export type Route =
  | { name: 'overview' }
  | { name: 'sso' }
  | { name: 'provisioning' }
  | { name: 'test' }
  | { name: 'ssoTest'; id: string }
  | { name: 'users' }
  | { name: 'user'; id: string }
  | { name: 'roles' }
  | { name: 'groups' }
  | { name: 'audit' }
  | { name: 'setupLinks' }
  | { name: 'setup' }
  | { name: 'notFound'; path: string };

const STATIC: Record<string, Route> = {
  '': { name: 'overview' },
  '/sso': { name: 'sso' },
  '/provisioning': { name: 'provisioning' },
  '/test': { name: 'test' },
  '/users': { name: 'users' },
  '/roles': { name: 'roles' },
  '/groups': { name: 'groups' },
  '/audit': { name: 'audit' },
  '/setup-links': { name: 'setupLinks' },
  '/setup': { name: 'setup' },
};

function decoded(segment: string): string | undefined {
  try {
    const value = decodeURIComponent(segment);
    return value === '' ? undefined : value;
  } catch {
    return undefined;
  }
}

/** The page a pathname shows. */
export function routeOf(pathname: string): Route {
  if (pathname !== BASE && !pathname.startsWith(`${BASE}/`)) return { name: 'notFound', path: pathname };
  const rest = pathname.slice(BASE.length).replace(/\/+$/, '');
  const fixed = STATIC[rest];
  if (fixed) return fixed;
  const test = /^\/sso\/tests\/([^/]+)$/.exec(rest);
  const testId = test?.[1] === undefined ? undefined : decoded(test[1]);
  if (testId) return { name: 'ssoTest', id: testId };
  const user = /^\/users\/([^/]+)$/.exec(rest);
  const userId = user?.[1] === undefined ? undefined : decoded(user[1]);
  if (userId) return { name: 'user', id: userId };
  return { name: 'notFound', path: pathname };
}

/** The pathname of a page. */
export function pathOf(route: Route): string {
  switch (route.name) {
    case 'ssoTest':
      return `${BASE}/sso/tests/${encodeURIComponent(route.id)}`;
    case 'user':
      return `${BASE}/users/${encodeURIComponent(route.id)}`;
    case 'notFound':
      return route.path;
    default: {
      const entry = Object.entries(STATIC).find(([, candidate]) => candidate.name === route.name);
      return `${BASE}${entry?.[0] ?? ''}`;
    }
  }
}

/**
 * The `fwd` for an SSO sign-in started on `pathname`: that page when it is a console
 * path of plain characters (the server's `fwd` rule: one leading `/`), else `/console`.
 */
export function forwardPathFor(pathname: string): string {
  return /^\/console(\/[A-Za-z0-9._~-]+)*$/.test(pathname) ? pathname : BASE;
}
