/**
 * The few HTTP helpers the relying party shares: a bounded, timed JSON fetch whose
 * failures are described in words an admin can act on, never with the request's secrets.
 */

/** Time allowed for one request to the IdP (discovery, token, userinfo). */
export const IDP_REQUEST_TIMEOUT_MS = 5_000;

/** The largest IdP response read (discovery documents and token responses are a few KiB). */
export const MAX_IDP_RESPONSE_CHARS = 512 * 1024;

/** Longest IdP-supplied text (an OAuth `error_description`) kept in error details. */
export const MAX_IDP_TEXT_CHARS = 200;

export type FetchFunction = typeof globalThis.fetch;

/** Why a request to the IdP failed, before any protocol meaning is given to its body. */
export type HttpFailure =
  | { kind: 'timeout' }
  | { kind: 'unreachable' }
  | { kind: 'too_large' }
  | { kind: 'not_json'; status: number };

export type JsonResult = { ok: true; status: number; body: unknown } | { ok: false; failure: HttpFailure };

/**
 * Sends one request with a timeout and reads its body as JSON, whatever the status (an
 * OAuth error arrives as a JSON 400). Redirects are not followed: an IdP endpoint that
 * redirects is a misconfiguration, and following it could leave the configured host.
 */
export async function fetchJson(fetchImpl: FetchFunction, url: string, init: RequestInit, timeoutMs = IDP_REQUEST_TIMEOUT_MS): Promise<JsonResult> {
  const signal = AbortSignal.timeout(timeoutMs);
  let text: string;
  let status: number;
  try {
    const response = await fetchImpl(url, { ...init, redirect: 'manual', signal });
    status = response.status;
    const limited = await readLimited(response, MAX_IDP_RESPONSE_CHARS);
    if (limited === undefined) return { ok: false, failure: { kind: 'too_large' } };
    text = limited;
  } catch {
    // The abort reason is the only reliable timeout signal; error names are not matched.
    return { ok: false, failure: signal.aborted ? { kind: 'timeout' } : { kind: 'unreachable' } };
  }
  try {
    return { ok: true, status, body: JSON.parse(text) as unknown };
  } catch {
    return { ok: false, failure: { kind: 'not_json', status } };
  }
}

/**
 * A response body as text, read no further than `maxBytes`: undefined when it is
 * larger (by its Content-Length or as it streams). A hostile IdP cannot make a warm
 * function buffer more than that.
 */
export async function readLimited(response: Response, maxBytes: number): Promise<string | undefined> {
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel();
    return undefined;
  }
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * A fetch whose response bodies are cut off past `maxBytes` (an oversized body becomes a
 * 502 with no body): for libraries that read the body themselves, such as jose's JWKS.
 */
export function limitedFetch(fetchImpl: FetchFunction, maxBytes: number): FetchFunction {
  return async (input, init) => {
    const response = await fetchImpl(input, init);
    const text = await readLimited(response, maxBytes);
    if (text === undefined) return new Response(null, { status: 502, statusText: 'response too large' });
    return new Response(text, { status: response.status, statusText: response.statusText, headers: response.headers });
  };
}

/** IdP-supplied text cut to {@link MAX_IDP_TEXT_CHARS}, with any of `secrets` blanked out. */
export function safeIdpText(value: unknown, secrets: readonly (string | undefined)[] = []): string | undefined {
  if (typeof value !== 'string') return undefined;
  let text = value;
  for (const secret of secrets) {
    if (secret) text = text.split(secret).join('[redacted]');
  }
  return text.length > MAX_IDP_TEXT_CHARS ? `${text.slice(0, MAX_IDP_TEXT_CHARS)}…` : text;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
