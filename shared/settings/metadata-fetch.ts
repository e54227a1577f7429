/**
 * Fetching an IdP's SAML metadata from the URL an admin gives (`saml.idpMetadataUrl`),
 * server-side, without letting that URL reach inside our network (SSRF):
 *
 * - `https` only; `http` only on loopback, and loopback at all only where the runtime
 *   allows it (`allowLoopbackMetadata`: `npm start` and the tests, never AWS);
 * - the host is resolved once and every address it resolves to must be public: no
 *   private (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7), link-local
 *   (169.254/16 with the cloud metadata service 169.254.169.254, fe80::/10), loopback,
 *   unspecified, multicast, broadcast, reserved or documentation address, and no IPv6
 *   form that embeds one (IPv4-mapped, NAT64, 6to4, Teredo);
 * - the connection goes to the address that was checked (the name is not resolved
 *   again, so DNS rebinding cannot swap it), with the name kept for TLS and `Host`;
 * - redirects are followed by hand, at most 3, each target checked like the first;
 * - at most 1 MiB and 5 seconds for the whole fetch, redirects included.
 *
 * The resolver and the transport are injected, so tests can serve metadata on loopback.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { BlockList, isIP } from 'node:net';
import { AppError } from '../errors.js';

export const METADATA_FETCH_TIMEOUT_MS = 5_000;
export const MAX_METADATA_FETCH_BYTES = 1024 * 1024;
export const MAX_METADATA_REDIRECTS = 3;

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Every address a host name resolves to. */
export type HostResolver = (hostname: string) => Promise<ResolvedAddress[]>;

export interface MetadataResponse {
  status: number;
  location?: string;
  contentLength?: number;
  body: AsyncIterable<Uint8Array>;
  /** Drops the connection (a redirect, an oversize body). */
  close(): void;
}

/** One GET of `url`, connecting to `address` (already checked), given up on `signal`. */
export type MetadataTransport = (url: URL, address: ResolvedAddress, signal: AbortSignal) => Promise<MetadataResponse>;

export interface MetadataFetchOptions {
  /** Loopback hosts (and `http` on them) allowed: the local stack and tests only. */
  allowLoopback: boolean;
  resolve?: HostResolver;
  transport?: MetadataTransport;
  timeoutMs?: number;
  maxBytes?: number;
  maxRedirects?: number;
}

/** Fetches the metadata document at a URL. @throws AppError `METADATA_FETCH_FAILED` naming why */
export type IdpMetadataFetcher = (url: string) => Promise<string>;

const FIELD = 'saml.idpMetadataUrl';
const failed = (why: string, cause?: unknown) => new AppError('METADATA_FETCH_FAILED', `${FIELD}: ${why}`, { cause });

function blockList(entries: [string, number, 'ipv4' | 'ipv6'][]): BlockList {
  const list = new BlockList();
  for (const [network, prefix, type] of entries) list.addSubnet(network, prefix, type);
  return list;
}

/** Address ranges never fetched from, by what they are (the name goes into the error). IPv4-mapped IPv6 is checked as IPv4 by BlockList. */
const REFUSED_RANGES: [string, BlockList][] = [
  ['a private address', blockList([['10.0.0.0', 8, 'ipv4'], ['172.16.0.0', 12, 'ipv4'], ['192.168.0.0', 16, 'ipv4'], ['100.64.0.0', 10, 'ipv4'], ['fc00::', 7, 'ipv6']])],
  ['a link-local address', blockList([['169.254.0.0', 16, 'ipv4'], ['fe80::', 10, 'ipv6'], ['fec0::', 10, 'ipv6']])],
  ['an unspecified address', blockList([['0.0.0.0', 8, 'ipv4'], ['::', 128, 'ipv6']])],
  ['a multicast or broadcast address', blockList([['224.0.0.0', 4, 'ipv4'], ['255.255.255.255', 32, 'ipv4'], ['ff00::', 8, 'ipv6']])],
  [
    'a reserved or documentation address',
    blockList([
      ['192.0.0.0', 24, 'ipv4'],
      ['192.0.2.0', 24, 'ipv4'],
      ['198.18.0.0', 15, 'ipv4'],
      ['198.51.100.0', 24, 'ipv4'],
      ['203.0.113.0', 24, 'ipv4'],
      ['240.0.0.0', 4, 'ipv4'],
      ['2001:db8::', 32, 'ipv6'],
      ['100::', 64, 'ipv6'],
    ]),
  ],
  // Forms that carry an IPv4 address inside an IPv6 one, which could be any of the above.
  ['an IPv6 address that embeds an IPv4 one', blockList([['64:ff9b::', 96, 'ipv6'], ['64:ff9b:1::', 48, 'ipv6'], ['2002::', 16, 'ipv6'], ['2001::', 32, 'ipv6'], ['::', 96, 'ipv6']])],
];
const LOOPBACK = blockList([['127.0.0.0', 8, 'ipv4'], ['::1', 128, 'ipv6']]);

const typeOf = (address: string): 'ipv4' | 'ipv6' => (isIP(address) === 6 ? 'ipv6' : 'ipv4');

/**
 * Why an address may not be fetched from, or undefined when it may.
 * @example addressProblem('169.254.169.254', false) // 'a link-local address'
 */
export function addressProblem(address: string, allowLoopback: boolean): string | undefined {
  if (isIP(address) === 0) return 'not an IP address';
  const type = typeOf(address);
  if (LOOPBACK.check(address, type)) return allowLoopback ? undefined : 'a loopback address';
  return REFUSED_RANGES.find(([, list]) => list.check(address, type))?.[0];
}

/** A URL's host name without IPv6 brackets. */
const hostOf = (url: URL): string => url.hostname.replace(/^\[(.*)\]$/, '$1');

const isLoopbackName = (host: string): boolean => host === 'localhost' || (isIP(host) !== 0 && LOOPBACK.check(host, typeOf(host)));

function checkUrl(url: URL, allowLoopback: boolean): void {
  if (url.username || url.password) throw failed('a URL with a user name or password is not fetched');
  if (url.protocol === 'https:') return;
  if (url.protocol === 'http:' && allowLoopback && isLoopbackName(hostOf(url))) return;
  throw failed(`only https URLs are fetched${allowLoopback ? ' (http only on localhost and 127.0.0.1)' : ''}; ${url.protocol.replace(/:$/, '')} is not`);
}

/** The system resolver; an IP literal resolves to itself. */
export const systemResolver: HostResolver = async (hostname) => {
  const family = isIP(hostname);
  if (family !== 0) return [{ address: hostname, family: family as 4 | 6 }];
  const found = await dnsLookup(hostname, { all: true, verbatim: true });
  return found.map(({ address, family }) => ({ address, family: family as 4 | 6 }));
};

/**
 * node:http(s) to the given address: `lookup` answers with it instead of resolving the
 * name again, while the name stays the TLS server name (certificate check) and `Host`.
 */
export const nodeTransport: MetadataTransport = (url, address, signal) =>
  new Promise((resolve, reject) => {
    const request = (url.protocol === 'https:' ? httpsRequest : httpRequest)(
      url,
      {
        method: 'GET',
        signal,
        agent: false,
        headers: { accept: 'application/samlmetadata+xml, application/xml, text/xml;q=0.9, */*;q=0.1', 'user-agent': 'sso-jit metadata fetch' },
        lookup: (_hostname, options, callback) => {
          const cb = callback as (...args: unknown[]) => void;
          if ((options as { all?: boolean }).all) cb(null, [{ address: address.address, family: address.family }]);
          else cb(null, address.address, address.family);
        },
      },
      (response: IncomingMessage) => {
        const length = Number(response.headers['content-length']);
        resolve({
          status: response.statusCode ?? 0,
          ...(typeof response.headers.location === 'string' ? { location: response.headers.location } : {}),
          ...(Number.isFinite(length) && response.headers['content-length'] !== undefined ? { contentLength: length } : {}),
          body: response,
          close: () => response.destroy(),
        });
      },
    );
    request.on('error', reject);
    request.end();
  });

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** Why a connection failed, in words an admin can act on (never a stack trace). */
function connectionProblem(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY/.test(code)) return `its TLS certificate was not accepted (${code})`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'its host name does not resolve';
  if (typeof code === 'string') return `the connection failed (${code})`;
  return 'the connection failed';
}

/**
 * A fetcher with the rules of this module's header.
 * @example const fetchMetadata = createMetadataFetcher({ allowLoopback: false }); await fetchMetadata('https://idp.example.com/metadata')
 */
export function createMetadataFetcher(options: MetadataFetchOptions): IdpMetadataFetcher {
  const resolve = options.resolve ?? systemResolver;
  const transport = options.transport ?? nodeTransport;
  const timeoutMs = options.timeoutMs ?? METADATA_FETCH_TIMEOUT_MS;
  const maxBytes = options.maxBytes ?? MAX_METADATA_FETCH_BYTES;
  const maxRedirects = options.maxRedirects ?? MAX_METADATA_REDIRECTS;

  return async (raw) => {
    let url: URL;
    try {
      url = new URL(raw);
    } catch (cause) {
      throw failed('is not a URL', cause);
    }
    const controller = new AbortController();
    const timedOut = new Promise<never>((_, reject) => {
      controller.signal.addEventListener('abort', () => reject(failed(`the server did not answer within ${timeoutMs / 1000} seconds`)));
    });
    timedOut.catch(() => undefined);
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    // Every wait races the one deadline of the whole fetch.
    const inTime = <T>(work: Promise<T>): Promise<T> => Promise.race([work, timedOut]);
    try {
      for (let redirects = 0; ; redirects += 1) {
        checkUrl(url, options.allowLoopback);
        const host = hostOf(url);
        const addresses = await inTime(resolve(host)).catch((error: unknown) => {
          throw error instanceof AppError ? error : failed(`its host name ${host} does not resolve`, error);
        });
        if (addresses.length === 0) throw failed(`its host name ${host} does not resolve`);
        for (const { address } of addresses) {
          const problem = addressProblem(address, options.allowLoopback);
          if (problem) throw failed(`${host} is ${problem} (${address}); only public addresses are fetched`);
        }
        const response = await inTime(transport(url, addresses[0]!, controller.signal)).catch((error: unknown) => {
          throw error instanceof AppError ? error : failed(connectionProblem(error), error);
        });
        if (REDIRECTS.has(response.status)) {
          response.close();
          if (!response.location) throw failed(`the server answered ${response.status} without a Location`);
          if (redirects === maxRedirects) throw failed(`more than ${maxRedirects} redirects`);
          try {
            url = new URL(response.location, url);
          } catch (cause) {
            throw failed('a redirect points at something that is not a URL', cause);
          }
          continue;
        }
        if (response.status !== 200) {
          response.close();
          throw failed(`the server answered ${response.status}, not 200`);
        }
        if (response.contentLength !== undefined && response.contentLength > maxBytes) {
          response.close();
          throw failed(`the document is larger than ${maxBytes / 1024 / 1024} MiB`);
        }
        return await inTime(readAtMost(response, maxBytes));
      }
    } finally {
      clearTimeout(timer);
    }
  };
}

async function readAtMost(response: MetadataResponse, maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of response.body) {
      size += chunk.byteLength;
      if (size > maxBytes) {
        response.close();
        throw failed(`the document is larger than ${maxBytes / 1024 / 1024} MiB`);
      }
      chunks.push(Buffer.from(chunk));
    }
  } catch (error) {
    throw error instanceof AppError ? error : failed(connectionProblem(error), error);
  }
  return Buffer.concat(chunks).toString('utf8');
}
