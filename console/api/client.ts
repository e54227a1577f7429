/**
 * The console's one API client: every call the browser makes goes through `request`,
 * and every screen reads through `useFetch`.
 *
 * - Same origin, `credentials: 'same-origin'`: the HttpOnly `session` cookie is the only
 *   credential. The console never sees, stores or sends a token.
 * - Every write carries `Content-Type: application/json` (the server requires it); the
 *   browser adds `Origin`, which the server checks on cookie-authenticated writes.
 * - A failure is an `ApiError` with the API's own `code` and `message`; an answer that is
 *   not the contract's error body still gets a code naming what happened (`HTTP_502`,
 *   `NETWORK_ERROR`), never a generic "something went wrong".
 * - Settings documents come with their `ETag`; writes pass it back as `If-Match`.
 */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type {
  AttributeName,
  AuditEvent,
  DomainStatus,
  Group,
  Me,
  Page,
  PreviewResult,
  ProvisioningSettings,
  Role,
  RoleMapping,
  RoleMappingInput,
  SetupLink,
  SetupLinkCreated,
  SsoSettingsInput,
  SsoSettingsView,
  TestSignIn,
  TestSignInStart,
  User,
  UserInput,
  UserPatch,
} from './types.js';

/** An error answer of the API (or of the network), as the contract names it. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    /** HTTP status; 0 when the request never got an answer. */
    readonly status: number,
    /** The contract's error code (`VALIDATION_FAILED`, …), or `HTTP_<status>` / `NETWORK_ERROR`. */
    readonly code: string,
    message: string,
    /** `Retry-After` of a `503 SERVICE_UNAVAILABLE`, as sent. */
    readonly retryAfter?: string,
  ) {
    super(message);
  }
}

export const isApiError = (error: unknown): error is ApiError => error instanceof ApiError;

/** Anything thrown, as an `ApiError` (a bug in the console is reported, not swallowed). */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new ApiError(0, 'CONSOLE_ERROR', `The console failed: ${message}`);
}

/** One answer: the body, and the headers the console uses. */
export interface ApiResponse<T> {
  data: T;
  status: number;
  /** The `ETag` of a settings document, for `If-Match`. */
  etag: string | null;
  /** `Location` (e.g. `POST /logout` of a SAML session with single logout). */
  location: string | null;
}

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
type Query = Record<string, string | number | boolean | null | undefined>;

export interface RequestOptions {
  body?: unknown;
  ifMatch?: string | null;
  query?: Query;
  signal?: AbortSignal;
}

let onUnauthenticated: (() => void) | null = null;

/**
 * Called when any call other than `GET /me` answers `401 UNAUTHENTICATED`: the session
 * ended (expired, signed out elsewhere, revoked), so the app shows the sign-in page.
 */
export function setUnauthenticatedHandler(handler: (() => void) | null): void {
  onUnauthenticated = handler;
}

function urlOf(path: string, query?: Query): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  }
  const search = params.toString();
  return search ? `${path}?${search}` : path;
}

/** `/orgs/{orgId}` with the id encoded. */
export const orgPath = (orgId: string, rest = ''): string => `/orgs/${encodeURIComponent(orgId)}${rest}`;
const seg = encodeURIComponent;

async function errorOf(response: Response): Promise<ApiError> {
  const retryAfter = response.headers.get('retry-after') ?? undefined;
  let text = '';
  try {
    text = await response.text();
  } catch {
    // The status alone still says what happened.
  }
  try {
    const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
    if (body.error && typeof body.error.code === 'string') {
      return new ApiError(response.status, body.error.code, typeof body.error.message === 'string' ? body.error.message : '', retryAfter);
    }
  } catch {
    // Not JSON: a proxy or gateway answered.
  }
  const statusText = response.statusText ? ` ${response.statusText}` : '';
  return new ApiError(response.status, `HTTP_${response.status}`, `The server answered ${response.status}${statusText} without an error body.`, retryAfter);
}

/**
 * One call of the API. Resolves with the parsed body (undefined for `204`), rejects with
 * an `ApiError`; an aborted call rejects with the abort's `DOMException`.
 */
export async function request<T>(method: Method, path: string, options: RequestOptions = {}): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  let body: string | undefined;
  if (method !== 'GET') {
    headers['Content-Type'] = 'application/json';
    // A POST without a payload still sends a JSON body: `{}`.
    if (options.body !== undefined) body = JSON.stringify(options.body);
    else if (method === 'POST') body = '{}';
  }
  if (options.ifMatch) headers['If-Match'] = options.ifMatch;
  let response: Response;
  try {
    response = await fetch(urlOf(path, options.query), {
      method,
      headers,
      body,
      credentials: 'same-origin',
      cache: 'no-store',
      signal: options.signal,
    });
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw new ApiError(0, 'NETWORK_ERROR', `The request did not reach the server (${reason}). Check the connection and try again.`);
  }
  if (!response.ok) {
    const error = await errorOf(response);
    if (error.status === 401 && error.code === 'UNAUTHENTICATED' && path !== '/me') onUnauthenticated?.();
    throw error;
  }
  let data: unknown = undefined;
  if (response.status !== 204) {
    const text = await response.text();
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        throw new ApiError(response.status, 'INVALID_RESPONSE', `The server answered ${response.status} with a body that is not JSON.`);
      }
    }
  }
  return { data: data as T, status: response.status, etag: response.headers.get('etag'), location: response.headers.get('location') };
}

const get = <T>(path: string, options?: RequestOptions) => request<T>('GET', path, options);

/** Every route the console calls, typed. */
export const api = {
  me: (signal?: AbortSignal) => get<Me>('/me', { signal }),
  logout: () => request<void>('POST', '/logout'),
  discover: (email: string) => request<{ loginUrl: string }>('POST', '/login/discover', { body: { email } }),

  sso: {
    get: (org: string, signal?: AbortSignal) => get<SsoSettingsView>(orgPath(org, '/settings/sso'), { signal }),
    put: (org: string, body: SsoSettingsInput, ifMatch: string | null) => request<SsoSettingsView>('PUT', orgPath(org, '/settings/sso'), { body, ifMatch }),
    verifyDomain: (org: string, domain: string) => request<DomainStatus>('POST', orgPath(org, `/settings/sso/domains/${seg(domain)}/verify`)),
  },
  provisioning: {
    get: (org: string, signal?: AbortSignal) => get<ProvisioningSettings>(orgPath(org, '/settings/provisioning'), { signal }),
    put: (org: string, body: ProvisioningSettings, ifMatch: string | null) =>
      request<ProvisioningSettings>('PUT', orgPath(org, '/settings/provisioning'), { body, ifMatch }),
  },
  roleMappings: {
    get: (org: string, signal?: AbortSignal) => get<{ items: RoleMapping[] }>(orgPath(org, '/settings/role-mappings'), { signal }),
    put: (org: string, items: RoleMappingInput[], ifMatch: string | null, force: boolean) =>
      request<{ items: RoleMapping[] }>('PUT', orgPath(org, '/settings/role-mappings'), { body: { items }, ifMatch, query: { force: force || undefined } }),
    preview: (org: string, values: string[]) => request<PreviewResult>('POST', orgPath(org, '/settings/role-mappings/preview'), { body: { values } }),
  },
  attributeNames: (org: string, signal?: AbortSignal) => get<{ items: AttributeName[] }>(orgPath(org, '/settings/attribute-names'), { signal }),

  roles: {
    list: (org: string, signal?: AbortSignal) => get<{ items: Role[] }>(orgPath(org, '/roles'), { signal }),
    create: (org: string, body: { id?: string; name: string; permissions: string[] }) => request<Role>('POST', orgPath(org, '/roles'), { body }),
    update: (org: string, roleId: string, body: { name: string; permissions: string[] }, force: boolean) =>
      request<Role>('PUT', orgPath(org, `/roles/${seg(roleId)}`), { body, query: { force: force || undefined } }),
    remove: (org: string, roleId: string) => request<void>('DELETE', orgPath(org, `/roles/${seg(roleId)}`)),
  },
  groups: {
    list: (org: string, signal?: AbortSignal) => get<{ items: Group[] }>(orgPath(org, '/groups'), { signal }),
    create: (org: string, body: { id?: string; name: string }) => request<Group>('POST', orgPath(org, '/groups'), { body }),
    update: (org: string, groupId: string, body: { name: string }) => request<Group>('PUT', orgPath(org, `/groups/${seg(groupId)}`), { body }),
    remove: (org: string, groupId: string) => request<void>('DELETE', orgPath(org, `/groups/${seg(groupId)}`)),
  },
  users: {
    list: (org: string, query: { email?: string; jit?: boolean; limit?: number; cursor?: string | null }, signal?: AbortSignal) =>
      get<Page<User>>(orgPath(org, '/users'), { signal, query: { email: query.email, jit: query.jit || undefined, limit: query.limit, cursor: query.cursor } }),
    get: (org: string, userId: string, signal?: AbortSignal) => get<User>(orgPath(org, `/users/${seg(userId)}`), { signal }),
    create: (org: string, body: UserInput) => request<User>('POST', orgPath(org, '/users'), { body }),
    patch: (org: string, userId: string, body: UserPatch) => request<User>('PATCH', orgPath(org, `/users/${seg(userId)}`), { body }),
    remove: (org: string, userId: string) => request<void>('DELETE', orgPath(org, `/users/${seg(userId)}`)),
    revokeSessions: (org: string, userId: string) => request<void>('POST', orgPath(org, `/users/${seg(userId)}/sessions/revoke`)),
  },
  audit: {
    list: (org: string, query: { type?: string; limit?: number; cursor?: string | null }, signal?: AbortSignal) =>
      get<Page<AuditEvent>>(orgPath(org, '/audit-events'), { signal, query }),
  },
  ssoTests: {
    start: (org: string) => request<TestSignInStart>('POST', orgPath(org, '/sso/tests'), { body: {} }),
    get: (org: string, id: string, signal?: AbortSignal) => get<TestSignIn>(orgPath(org, `/sso/tests/${seg(id)}`), { signal }),
  },
  setupLinks: {
    create: (org: string, note: string) => request<SetupLinkCreated>('POST', orgPath(org, '/setup-links'), { body: note ? { note } : {} }),
    list: (org: string, signal?: AbortSignal) => get<{ items: SetupLink[] }>(orgPath(org, '/setup-links'), { signal }),
    revoke: (org: string, id: string) => request<void>('DELETE', orgPath(org, `/setup-links/${seg(id)}`)),
  },
};

/** What `useFetch` holds for one read. */
export interface FetchState<T> {
  data: T | undefined;
  etag: string | null;
  error: ApiError | null;
  loading: boolean;
  /** Reads again (after a write elsewhere, or "Reload" after a conflict). */
  reload: () => void;
  /** Replaces the data with a write's answer, without reading again. */
  setData: (data: T, etag?: string | null) => void;
}

export interface FetchOptions<T> {
  /** Reads again every `intervalMs` while this says so (a test sign-in that is still pending). */
  refreshWhile?: (data: T) => boolean;
  intervalMs?: number;
}

/**
 * Reads once per distinct `key` (null: nothing to read yet). A newer read or an unmount
 * aborts the one in flight, so a slow answer never overwrites a newer one.
 *
 * @example const sso = useFetch(`sso:${orgId}`, (signal) => api.sso.get(orgId, signal));
 */
export function useFetch<T>(key: string | null, load: (signal: AbortSignal) => Promise<ApiResponse<T>>, options: FetchOptions<T> = {}): FetchState<T> {
  const [state, setState] = useState<{ data: T | undefined; etag: string | null; error: ApiError | null; loading: boolean }>({
    data: undefined,
    etag: null,
    error: null,
    loading: key !== null,
  });
  const [generation, setGeneration] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  const optionsRef = useRef(options);
  optionsRef.current = options;

  useEffect(() => {
    if (key === null) return undefined;
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    setState((previous) => ({ ...previous, loading: true, error: null }));
    loadRef.current(controller.signal).then(
      (response) => {
        if (controller.signal.aborted) return;
        setState({ data: response.data, etag: response.etag, error: null, loading: false });
        const { refreshWhile, intervalMs = 2000 } = optionsRef.current;
        if (refreshWhile?.(response.data)) timer = setTimeout(() => setGeneration((value) => value + 1), intervalMs);
      },
      (error: unknown) => {
        if (controller.signal.aborted) return;
        setState((previous) => ({ ...previous, error: toApiError(error), loading: false }));
      },
    );
    return () => {
      controller.abort();
      if (timer) clearTimeout(timer);
    };
  }, [key, generation]);

  const reload = useCallback(() => setGeneration((value) => value + 1), []);
  const setData = useCallback((data: T, etag?: string | null) => {
    setState((previous) => ({ data, etag: etag === undefined ? previous.etag : etag, error: null, loading: false }));
  }, []);
  return { ...state, reload, setData };
}

/** What `usePages` holds: every item loaded so far, and the cursor of the next page. */
export interface PagesState<T> {
  items: T[];
  /** Null when there is nothing more to load. */
  cursor: string | null;
  loading: boolean;
  error: ApiError | null;
  loadMore: () => void;
  reload: () => void;
}

/**
 * A cursor-paged list (`{"items","cursor"}`) read through `useFetch`: the first page per
 * `key`, then "Load more" appends the next. A new key or a reload starts again.
 */
export function usePages<T>(key: string | null, load: (cursor: string | null, signal?: AbortSignal) => Promise<ApiResponse<Page<T>>>): PagesState<T> {
  const first = useFetch(key, (signal) => load(null, signal));
  const [more, setMore] = useState<{ after: Page<T> | undefined; items: T[]; cursor: string | null }>({ after: undefined, items: [], cursor: null });
  const [moreError, setMoreError] = useState<ApiError | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  // Extra pages belong to the first page they followed: a new first page drops them.
  const current = first.data && more.after === first.data ? more : { after: first.data, items: [] as T[], cursor: first.data?.cursor ?? null };

  const loadMore = () => {
    if (!current.cursor || loadingMore) return;
    setLoadingMore(true);
    setMoreError(null);
    load(current.cursor).then(
      ({ data }) => setMore({ after: current.after, items: [...current.items, ...data.items], cursor: data.cursor }),
      (error: unknown) => setMoreError(toApiError(error)),
    ).finally(() => setLoadingMore(false));
  };

  return {
    items: [...(first.data?.items ?? []), ...current.items],
    cursor: current.cursor,
    loading: first.loading || loadingMore,
    error: first.error ?? moreError,
    loadMore,
    reload: first.reload,
  };
}
