/**
 * The built admin console as the Console function serves it: `index.html`, the app
 * shell answered for every page path, and the hashed files of `assets/`, read once per
 * container from the build folder (`npm run build:console`). Only files the build wrote
 * are ever served: an asset is looked up by its exact name among them, so no request
 * path reaches the file system. Every answer carries the console's security headers
 * (docs/console.md).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { HttpResult } from './responses.js';

/** Where the app lives under BASE_URL, and where its hashed files are. */
export const CONSOLE_PATH = '/console';
export const CONSOLE_ASSETS_PATH = `${CONSOLE_PATH}/assets/`;

/**
 * On every console response. No inline script or style anywhere in the console, no
 * framing, no referrer (a sign-in link carries its token in the query).
 */
export const CONSOLE_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

/** Hashed names never change content: cached for a year. */
const IMMUTABLE = 'public, max-age=31536000, immutable';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
};

/** Types worth compressing: text (images and fonts are compressed already). */
const COMPRESSIBLE = /^(text\/|application\/json|image\/svg\+xml)/;

interface Asset {
  contentType: string;
  body: Buffer;
  gzipped?: Buffer;
}

/** Whether `Accept-Encoding` accepts gzip (listed, and not with `q=0`). */
function acceptsGzip(acceptEncoding: string | undefined): boolean {
  return (acceptEncoding ?? '').split(',').some((entry) => {
    const [coding, ...params] = entry.trim().toLowerCase().split(';');
    if (coding !== 'gzip' && coding !== '*') return false;
    const q = params.map((param) => /^\s*q=([\d.]+)\s*$/.exec(param)?.[1]).find((value) => value !== undefined);
    return q === undefined || Number(q) > 0;
  });
}

export class ConsoleApp {
  private constructor(
    private readonly index: string,
    private readonly assets: ReadonlyMap<string, Asset>,
  ) {}

  /**
   * Reads a build folder: `index.html` and the files directly in `assets/`.
   * @returns undefined when the console was not built there (no `index.html`)
   */
  static load(dir: string): ConsoleApp | undefined {
    const indexPath = join(dir, 'index.html');
    if (!existsSync(indexPath)) return undefined;
    const assets = new Map<string, Asset>();
    const assetsDir = join(dir, 'assets');
    for (const name of existsSync(assetsDir) ? readdirSync(assetsDir) : []) {
      const path = join(assetsDir, name);
      if (!statSync(path).isFile()) continue;
      assets.set(name, { contentType: CONTENT_TYPES[extname(name).toLowerCase()] ?? 'application/octet-stream', body: readFileSync(path) });
    }
    return new ConsoleApp(readFileSync(indexPath, 'utf8'), assets);
  }

  /** The stylesheet `index.html` links (first by name), for the server's own pages under the console's CSP. */
  get stylesheet(): string | undefined {
    const name = [...this.assets.keys()].filter((file) => file.endsWith('.css')).sort()[0];
    return name === undefined ? undefined : `${CONSOLE_ASSETS_PATH}${name}`;
  }

  /** The app shell: the same `index.html` for every page path, never cached. */
  shell(): HttpResult {
    return {
      statusCode: 200,
      headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', ...CONSOLE_SECURITY_HEADERS },
      body: this.index,
    };
  }

  /** The asset of that exact name, gzipped when the client takes it; `undefined` when the build has none. */
  asset(name: string, acceptEncoding?: string): HttpResult | undefined {
    const asset = this.assets.get(name);
    if (!asset) return undefined;
    const compressible = COMPRESSIBLE.test(asset.contentType);
    const headers: Record<string, string> = { 'content-type': asset.contentType, 'cache-control': IMMUTABLE, ...CONSOLE_SECURITY_HEADERS };
    if (compressible) headers.vary = 'accept-encoding';
    if (compressible && acceptsGzip(acceptEncoding)) {
      // Compressed on first demand, then kept with the asset for the container's life.
      asset.gzipped ??= gzipSync(asset.body, { level: 9 });
      return { statusCode: 200, headers: { ...headers, 'content-encoding': 'gzip' }, body: asset.gzipped.toString('base64'), isBase64Encoded: true };
    }
    return compressible
      ? { statusCode: 200, headers, body: asset.body.toString('utf8') }
      : { statusCode: 200, headers, body: asset.body.toString('base64'), isBase64Encoded: true };
  }
}

/** A console answer that is not the app: a short text, never cached. */
export function consoleText(statusCode: number, text: string): HttpResult {
  return { statusCode, headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', ...CONSOLE_SECURITY_HEADERS }, body: text };
}

/** Adds the console's security headers to any answer (redirects, error pages). */
export const withConsoleHeaders = (result: HttpResult): HttpResult => ({ ...result, headers: { ...result.headers, ...CONSOLE_SECURITY_HEADERS } });
