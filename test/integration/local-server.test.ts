/**
 * The local API Gateway stand-in: requests become payload-2.0 events the way API Gateway
 * builds them, and handler results become responses the way API Gateway writes them.
 * The handlers here are plain functions that record the event they get.
 */
import { request } from 'node:http';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { RouteDefinition } from '../../functions/routes.js';
import { createLocalServer, listenLocalServer, MAX_BODY_BYTES, type HttpLambdaHandler } from '../../local/http-server.js';

const routes: RouteDefinition[] = [
  { method: 'GET', path: '/sso/{orgId}/saml/metadata', functionId: 'Echo' },
  { method: 'POST', path: '/sso/{orgId}/saml/acs', functionId: 'Echo' },
  { method: 'GET', path: '/sso/discover/saml/metadata', functionId: 'Literal' },
  { method: 'GET', path: '/cookies', functionId: 'Cookies' },
  { method: 'GET', path: '/binary', functionId: 'Binary' },
  { method: 'GET', path: '/plain-object', functionId: 'PlainObject' },
  { method: 'GET', path: '/boom', functionId: 'Boom' },
];

let received: { event: APIGatewayProxyEventV2; context: Context }[] = [];
const recording =
  (result: APIGatewayProxyResultV2): HttpLambdaHandler =>
  async (event, context) => {
    received.push({ event, context });
    return result;
  };

const handlers: Record<string, HttpLambdaHandler> = {
  Echo: recording({ statusCode: 200, headers: { 'content-type': 'text/plain' }, body: 'ok' }),
  Literal: recording({ statusCode: 200, body: 'literal' }),
  Cookies: recording({
    statusCode: 302,
    headers: { location: '/me' },
    cookies: ['session=abc; HttpOnly; Secure; SameSite=Lax; Path=/', 'theme=dark; Path=/'],
  }),
  Binary: recording({ statusCode: 200, headers: { 'content-type': 'application/octet-stream' }, body: Buffer.from([0, 1, 254, 255]).toString('base64'), isBase64Encoded: true }),
  PlainObject: async () => ({ status: 'ok' }) as unknown as APIGatewayProxyResultV2,
  Boom: async () => {
    throw new Error('secret database detail');
  },
};

let baseUrl: string;
let close: () => Promise<void>;

beforeAll(async () => {
  const server = createLocalServer({
    routes,
    handlers,
    baseUrl: 'http://localhost:3999',
    extraRoutes: [
      {
        method: 'GET',
        path: '/dev-idp/{name}',
        handler: (_req, res, params) => {
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.end(`hello ${params.name}`);
        },
      },
    ],
  });
  ({ url: baseUrl, close } = await listenLocalServer(server, 0));
});

afterAll(async () => {
  await close();
});

beforeEach(() => {
  received = [];
});

async function lastEventFor(path: string, init?: RequestInit): Promise<APIGatewayProxyEventV2> {
  const response = await fetch(`${baseUrl}${path}`, init);
  await response.arrayBuffer();
  const last = received.at(-1);
  if (!last) throw new Error(`no handler was called for ${path} (status ${response.status})`);
  return last.event;
}

describe('the event a handler receives', () => {
  it('is a payload 2.0 event with the route key of the matched route', async () => {
    const event = await lastEventFor('/sso/acme/saml/metadata');

    expect(event).toMatchObject({
      version: '2.0',
      routeKey: 'GET /sso/{orgId}/saml/metadata',
      rawPath: '/sso/acme/saml/metadata',
      rawQueryString: '',
      isBase64Encoded: false,
    });
    expect(event.body).toBeUndefined();
    expect(event.queryStringParameters).toBeUndefined();
    expect(event.cookies).toBeUndefined();
  });

  it('carries the request context API Gateway fills in', async () => {
    const event = await lastEventFor('/sso/acme/saml/metadata', { headers: { 'user-agent': 'test-agent/1.0' } });

    expect(event.requestContext).toMatchObject({
      routeKey: 'GET /sso/{orgId}/saml/metadata',
      stage: '$default',
      domainName: 'localhost:3999',
      http: { method: 'GET', path: '/sso/acme/saml/metadata', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test-agent/1.0' },
    });
    expect(event.requestContext.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(Math.abs(event.requestContext.timeEpoch - Date.now())).toBeLessThan(10_000);
    expect(event.requestContext.time).toMatch(/^\d\d\/[A-Z][a-z]{2}\/\d{4}:\d\d:\d\d:\d\d \+0000$/);
  });

  it('has URL-decoded path parameters while rawPath keeps the encoding', async () => {
    const event = await lastEventFor('/sso/org%20one%2Fa%C3%A9/saml/metadata');

    expect(event.pathParameters).toEqual({ orgId: 'org one/aé' });
    expect(event.rawPath).toBe('/sso/org%20one%2Fa%C3%A9/saml/metadata');
  });

  it('prefers a route whose literal segment matches over one with a parameter there', async () => {
    const event = await lastEventFor('/sso/discover/saml/metadata');

    expect(event.routeKey).toBe('GET /sso/discover/saml/metadata');
    expect(event.pathParameters).toBeUndefined();
  });

  it('has decoded query parameters, repeated keys joined with commas', async () => {
    const event = await lastEventFor('/sso/acme/saml/metadata?fwd=%2Fhome%3Fa%3D1&idp=x&idp=y&empty');

    expect(event.rawQueryString).toBe('fwd=%2Fhome%3Fa%3D1&idp=x&idp=y&empty');
    expect(event.queryStringParameters).toEqual({ fwd: '/home?a=1', idp: 'x,y', empty: '' });
  });

  it('has lower-cased headers, repeated ones joined with commas', async () => {
    await new Promise<void>((done, fail) => {
      const req = request(`${baseUrl}/sso/acme/saml/metadata`, (res) => res.resume().on('end', done));
      req.setHeader('X-Custom', ['one', 'two']);
      req.setHeader('Accept', 'application/json');
      req.on('error', fail).end();
    });

    const event = received.at(-1)?.event;

    expect(event?.headers).toMatchObject({ 'x-custom': 'one,two', accept: 'application/json', host: expect.any(String) });
    expect(event?.headers['x-forwarded-proto']).toBe('http');
    expect(event?.headers['x-forwarded-for']).toBe('127.0.0.1');
  });

  it('moves the Cookie header into the cookies array', async () => {
    const event = await lastEventFor('/sso/acme/saml/metadata', { headers: { cookie: 'session=abc; theme=dark' } });

    expect(event.cookies).toEqual(['session=abc', 'theme=dark']);
    expect(event.headers.cookie).toBeUndefined();
  });

  it('has a form body base64-encoded, as API Gateway sends it', async () => {
    const form = new URLSearchParams({ SAMLResponse: 'PHNhbWxwOlJlc3BvbnNlLz4=', RelayState: '/home' });

    const event = await lastEventFor('/sso/acme/saml/acs', { method: 'POST', body: form });

    expect(event.isBase64Encoded).toBe(true);
    expect(event.headers['content-type']).toBe('application/x-www-form-urlencoded;charset=UTF-8');
    expect(Buffer.from(event.body ?? '', 'base64').toString('utf8')).toBe(form.toString());
  });

  it('has a JSON body as plain text', async () => {
    const event = await lastEventFor('/sso/acme/saml/acs', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"name":"é"}',
    });

    expect(event.isBase64Encoded).toBe(false);
    expect(event.body).toBe('{"name":"é"}');
  });

  it('has a binary body base64-encoded byte for byte', async () => {
    const bytes = new Uint8Array([0, 1, 2, 253, 254, 255]);

    const event = await lastEventFor('/sso/acme/saml/acs', { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: bytes });

    expect(event.isBase64Encoded).toBe(true);
    expect([...Buffer.from(event.body ?? '', 'base64')]).toEqual([...bytes]);
  });

  it('comes with a Lambda context that reports the time left', async () => {
    await fetch(`${baseUrl}/sso/acme/saml/metadata`);

    const context = received.at(-1)?.context;
    expect(context?.awsRequestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(context?.functionName).toContain('Echo');
    expect(context?.getRemainingTimeInMillis()).toBeGreaterThan(0);
  });
});

describe('the response the client gets', () => {
  it('has the status, headers and body the handler returned', async () => {
    const response = await fetch(`${baseUrl}/sso/acme/saml/metadata`);

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain');
    expect(await response.text()).toBe('ok');
  });

  it('has one Set-Cookie header per entry of cookies', async () => {
    const response = await fetch(`${baseUrl}/cookies`, { redirect: 'manual' });

    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe('/me');
    expect(response.headers.getSetCookie()).toEqual(['session=abc; HttpOnly; Secure; SameSite=Lax; Path=/', 'theme=dark; Path=/']);
  });

  it('has a base64 result body decoded to its bytes', async () => {
    const response = await fetch(`${baseUrl}/binary`);

    expect([...new Uint8Array(await response.arrayBuffer())]).toEqual([0, 1, 254, 255]);
  });

  it('is a 200 JSON body when the handler returns an object without a status code', async () => {
    const response = await fetch(`${baseUrl}/plain-object`);

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('is a 404 NOT_FOUND for a path no route has', async () => {
    const response = await fetch(`${baseUrl}/nowhere`);

    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ error: { code: 'NOT_FOUND', message: expect.any(String) } });
  });

  it('is a 404 NOT_FOUND for a known path with another method, as API Gateway answers', async () => {
    const response = await fetch(`${baseUrl}/sso/acme/saml/acs`);

    expect(response.status).toBe(404);
    expect(received).toEqual([]);
  });

  it('is a 404 for a path with an extra trailing segment', async () => {
    const response = await fetch(`${baseUrl}/sso/acme/saml/metadata/extra`);

    expect(response.status).toBe(404);
  });

  it('is a 413 for a body over the 10 MB API Gateway accepts, without calling the handler', async () => {
    const body = new Uint8Array(MAX_BODY_BYTES + 1);

    const response = await fetch(`${baseUrl}/sso/acme/saml/acs`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body });

    expect(response.status).toBe(413);
    expect(received).toEqual([]);
  });

  it('is a 500 with the request id but not the error when the handler throws', async () => {
    const log = vi.spyOn(console, 'error').mockImplementation(() => undefined);

    const response = await fetch(`${baseUrl}/boom`);

    const text = await response.text();
    expect(response.status).toBe(500);
    const requestId = response.headers.get('apigw-requestid');
    expect(JSON.parse(text)).toEqual({ error: { code: 'INTERNAL', message: expect.stringContaining(requestId ?? 'missing'), requestId } });
    expect(text).not.toContain('secret database detail');
    expect(log).toHaveBeenCalledWith(expect.stringContaining(requestId ?? 'missing'), expect.any(Error));
    log.mockRestore();
  });

  it('is served by a local-only route when no API route matches', async () => {
    const response = await fetch(`${baseUrl}/dev-idp/ada`);

    expect(await response.text()).toBe('hello ada');
  });
});
