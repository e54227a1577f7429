/**
 * The local stand-in for API Gateway (HTTP API, payload format 2.0): a node:http server
 * that matches each request against the route table of functions/routes.ts, turns it
 * into the event API Gateway would send, calls the same Lambda handler, and writes its
 * result back the way API Gateway would. `npm start` and the end-to-end tests run the
 * handlers through it, so they run exactly the code Lambda runs.
 *
 * Mimicked on purpose: routes match by exact segments (`{name}` is one non-empty segment,
 * `{name+}` the rest of the path, literal segments win over parameters); path parameters
 * and query values arrive decoded, repeated query keys and headers comma-joined; the
 * `cookie` header moves to `cookies`; bodies of non-text content types (including
 * `application/x-www-form-urlencoded`) arrive base64 with `isBase64Encoded: true`;
 * a result without `statusCode` is sent as a 200 JSON body; `cookies` become Set-Cookie.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from 'aws-lambda';
import type { RouteDefinition } from '../functions/routes.js';

/** A Lambda handler as the HTTP API calls it (a middy-wrapped handler fits). */
export type HttpLambdaHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyResultV2>;

/** A local-only page (e.g. a development IdP), served by plain node code, not a Lambda handler. */
export interface ExtraRoute {
  method: string;
  /** Same syntax as the API routes: `{name}` segments. */
  path: string;
  handler: (req: IncomingMessage, res: ServerResponse, pathParameters: Record<string, string>) => void | Promise<void>;
}

export interface LocalServerOptions {
  routes: readonly RouteDefinition[];
  /** Handler per `RouteDefinition.functionId`. */
  handlers: Record<string, HttpLambdaHandler>;
  extraRoutes?: readonly ExtraRoute[];
  /** Public base URL (`http://localhost:3000`): its host is the event's `domainName`. Default: the Host header. */
  baseUrl?: string;
  /** Integration timeout: API Gateway HTTP APIs give up after 30 s with a 503. */
  timeoutMs?: number;
}

/** API Gateway HTTP API's request payload limit. The 256 KiB limit of the contract is the handlers' to enforce. */
export const MAX_BODY_BYTES = 10 * 1024 * 1024;

/**
 * Creates (does not start) the server; start it with `listenLocalServer` or `server.listen`.
 *
 * @example
 * const server = createLocalServer({ routes: ROUTES, handlers: { Session: sessionHandler }, baseUrl });
 * const { url, close } = await listenLocalServer(server, 3000);
 */
export function createLocalServer(options: LocalServerOptions): Server {
  const apiRoutes = options.routes.map((route) => ({ route, template: parseTemplate(route.path) }));
  const extraRoutes = (options.extraRoutes ?? []).map((route) => ({ route, template: parseTemplate(route.path) }));
  const timeoutMs = options.timeoutMs ?? 30_000;

  return createServer((req, res) => {
    void serve(req, res).catch((error: unknown) => {
      console.error('[local] request failed:', error);
      if (!res.headersSent) sendError(res, 500, 'INTERNAL', 'Internal error.');
      else res.destroy();
    });
  });

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    const target = req.url ?? '/';
    const queryAt = target.indexOf('?');
    const rawPath = queryAt === -1 ? target : target.slice(0, queryAt);
    const rawQueryString = queryAt === -1 ? '' : target.slice(queryAt + 1);

    const api = bestMatch(apiRoutes, method, rawPath);
    if (api) {
      const handler = options.handlers[api.route.functionId];
      if (!handler) throw new Error(`No handler given for function ${api.route.functionId}.`);
      const body = await readBody(req);
      if (body === undefined) return sendError(res, 413, 'PAYLOAD_TOO_LARGE', 'Request Entity Too Large');
      const routeKey = `${api.route.method} ${api.route.path}`;
      const event = toEvent(req, { routeKey, rawPath, rawQueryString, pathParameters: api.params, body, baseUrl: options.baseUrl });
      await invoke(res, handler, event, api.route.functionId, timeoutMs);
      return;
    }
    const extra = bestMatch(extraRoutes, method, rawPath);
    if (extra) {
      await extra.route.handler(req, res, extra.params);
      return;
    }
    // API Gateway HTTP APIs answer 404 for a known path with another method too.
    sendError(res, 404, 'NOT_FOUND', `No route for ${method} ${rawPath}.`);
  }
}

/** Starts the server; port 0 picks a free one. `close()` also ends keep-alive connections. */
export async function listenLocalServer(
  server: Server,
  port = 0,
  host = '127.0.0.1',
): Promise<{ url: string; port: number; close(): Promise<void> }> {
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => {
      server.off('error', fail);
      done();
    });
  });
  const actual = (server.address() as AddressInfo).port;
  const close = (): Promise<void> =>
    new Promise((done) => {
      server.close(() => done());
      server.closeAllConnections();
    });
  return { url: `http://${host.includes(':') ? `[${host}]` : host}:${actual}`, port: actual, close };
}

type Segment = { literal: string } | { param: string; greedy: boolean };

function parseTemplate(path: string): Segment[] {
  return path
    .split('/')
    .slice(1)
    .map((part) => {
      const param = /^\{([^}+]+)(\+?)\}$/.exec(part);
      return param ? { param: param[1]!, greedy: param[2] === '+' } : { literal: part };
    });
}

/** Decoded parameters when the path fits the template; literal segments compare undecoded. */
function matchTemplate(template: Segment[], rawPath: string): Record<string, string> | undefined {
  const parts = rawPath.split('/').slice(1);
  const params: Record<string, string> = {};
  try {
    for (const [i, segment] of template.entries()) {
      if ('literal' in segment) {
        if (parts[i] !== segment.literal) return undefined;
      } else if (segment.greedy) {
        const rest = parts.slice(i);
        if (rest.length === 0 || rest.join('') === '') return undefined;
        params[segment.param] = decodeURIComponent(rest.join('/'));
        return params;
      } else {
        const part = parts[i];
        if (part === undefined || part === '') return undefined;
        params[segment.param] = decodeURIComponent(part);
      }
    }
  } catch {
    return undefined; // malformed percent-encoding
  }
  return parts.length === template.length ? params : undefined;
}

/** The most specific route: at the first segment where two candidates differ, a literal beats a parameter. */
function bestMatch<R extends { method: string }>(
  candidates: { route: R; template: Segment[] }[],
  method: string,
  rawPath: string,
): { route: R; params: Record<string, string> } | undefined {
  let best: { route: R; template: Segment[]; params: Record<string, string> } | undefined;
  for (const { route, template } of candidates) {
    if (route.method.toUpperCase() !== method) continue;
    const params = matchTemplate(template, rawPath);
    if (params && (!best || moreSpecific(template, best.template))) best = { route, template, params };
  }
  return best;
}

function moreSpecific(a: Segment[], b: Segment[]): boolean {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const aLiteral = 'literal' in a[i]!;
    const bLiteral = 'literal' in b[i]!;
    if (aLiteral !== bLiteral) return aLiteral;
  }
  return false;
}

/** The body, or undefined when it exceeds MAX_BODY_BYTES (the rest is drained, so the 413 still reaches the client). */
function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((done, fail) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
      else chunks.length = 0;
    });
    req.once('end', () => done(size > MAX_BODY_BYTES ? undefined : Buffer.concat(chunks)));
    req.once('error', fail);
  });
}

/** Content types API Gateway passes as text; every other body (forms included) arrives base64. */
function isTextContentType(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  return (
    type.startsWith('text/') ||
    type === 'application/json' ||
    type.endsWith('+json') ||
    type === 'application/xml' ||
    type.endsWith('+xml') ||
    type === 'application/javascript'
  );
}

interface EventParts {
  routeKey: string;
  rawPath: string;
  rawQueryString: string;
  pathParameters: Record<string, string>;
  body: Buffer;
  baseUrl: string | undefined;
}

function toEvent(req: IncomingMessage, parts: EventParts): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!.toLowerCase();
    const value = req.rawHeaders[i + 1]!;
    if (name === 'cookie') {
      cookies.push(...value.split(';').map((c) => c.trim()).filter((c) => c !== ''));
      continue;
    }
    headers[name] = name in headers ? `${headers[name]},${value}` : value;
  }
  const base = parts.baseUrl ? new URL(parts.baseUrl) : undefined;
  const domainName = base?.host ?? headers.host ?? 'localhost';
  const sourceIp = (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
  const proto = base ? base.protocol.replace(':', '') : 'http';
  headers['x-forwarded-for'] ??= sourceIp;
  headers['x-forwarded-proto'] ??= proto;
  headers['x-forwarded-port'] ??= base?.port || (proto === 'https' ? '443' : String(req.socket.localPort ?? 80));
  headers['x-amzn-trace-id'] ??= `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${randomUUID().replace(/-/g, '').slice(0, 24)}`;

  const query: Record<string, string> = {};
  for (const [key, value] of new URLSearchParams(parts.rawQueryString)) {
    query[key] = key in query ? `${query[key]},${value}` : value;
  }
  const now = new Date();
  const text = isTextContentType(headers['content-type']);
  const hasBody = parts.body.length > 0;

  return {
    version: '2.0',
    routeKey: parts.routeKey,
    rawPath: parts.rawPath,
    rawQueryString: parts.rawQueryString,
    ...(cookies.length > 0 ? { cookies } : {}),
    headers,
    ...(Object.keys(query).length > 0 ? { queryStringParameters: query } : {}),
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName,
      domainPrefix: domainName.split('.')[0]!.split(':')[0]!,
      http: {
        method: (req.method ?? 'GET').toUpperCase(),
        path: parts.rawPath,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp,
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey: parts.routeKey,
      stage: '$default',
      time: clfTime(now),
      timeEpoch: now.getTime(),
    },
    ...(hasBody ? { body: parts.body.toString(text ? 'utf8' : 'base64') } : {}),
    ...(Object.keys(parts.pathParameters).length > 0 ? { pathParameters: parts.pathParameters } : {}),
    isBase64Encoded: hasBody && !text,
  };
}

/** `10/Apr/2022:13:30:05 +0000`, the format of `requestContext.time`. */
function clfTime(date: Date): string {
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const pad = (n: number): string => String(n).padStart(2, '0');
  return (
    `${pad(date.getUTCDate())}/${months[date.getUTCMonth()]}/${date.getUTCFullYear()}:` +
    `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`
  );
}

function lambdaContext(functionId: string, timeoutMs: number): Context {
  const functionName = `sso-jit-local-${functionId}`;
  const deadline = Date.now() + timeoutMs;
  const unsupported = (): never => {
    throw new Error('The callback-style context methods are not supported: return a Promise.');
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `local/[$LATEST]${randomUUID().replace(/-/g, '')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: unsupported,
    fail: unsupported,
    succeed: unsupported,
  };
}

async function invoke(
  res: ServerResponse,
  handler: HttpLambdaHandler,
  event: APIGatewayProxyEventV2,
  functionId: string,
  timeoutMs: number,
): Promise<void> {
  const requestId = event.requestContext.requestId;
  res.setHeader('apigw-requestid', requestId);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((done) => {
    timer = setTimeout(() => done('timeout'), timeoutMs);
  });
  let result: APIGatewayProxyResultV2 | 'timeout';
  try {
    result = await Promise.race([handler(event, lambdaContext(functionId, timeoutMs)), timedOut]);
  } catch (error) {
    console.error(`[local] ${event.routeKey} threw (request id ${requestId}):`, error);
    return sendError(res, 500, 'INTERNAL', `Internal error (request id ${requestId}).`, requestId);
  } finally {
    clearTimeout(timer);
  }
  if (result === 'timeout') {
    console.error(`[local] ${event.routeKey} did not answer within ${timeoutMs} ms (request id ${requestId}).`);
    return sendError(res, 503, 'INTERNAL', `Service unavailable (request id ${requestId}).`, requestId);
  }
  writeResult(res, result);
}

/** Writes a handler result as API Gateway does for payload format 2.0. */
function writeResult(res: ServerResponse, result: APIGatewayProxyResultV2): void {
  if (typeof result !== 'object' || result === null || typeof result.statusCode !== 'number') {
    // No statusCode: API Gateway assumes 200 and sends the returned value as JSON.
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(typeof result === 'string' ? result : JSON.stringify(result));
    return;
  }
  for (const [name, value] of Object.entries(result.headers ?? {})) res.setHeader(name, String(value));
  if (result.cookies && result.cookies.length > 0) {
    const existing = res.getHeader('set-cookie');
    const earlier = existing === undefined ? [] : Array.isArray(existing) ? existing : [String(existing)];
    res.setHeader('set-cookie', [...earlier, ...result.cookies]);
  }
  res.statusCode = result.statusCode;
  const body = result.body ?? '';
  res.end(result.isBase64Encoded ? Buffer.from(body, 'base64') : body);
}

function sendError(res: ServerResponse, status: number, code: string, message: string, requestId?: string): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ error: { code, message, ...(requestId ? { requestId } : {}) } }));
}
