/**
 * The SSRF rules of the IdP metadata fetch (shared/settings/metadata-fetch.ts), with an
 * injected resolver and transport: which addresses are refused, that the connection goes
 * to the address checked, redirects re-checked and bounded, size and time limits.
 */
import { describe, expect, it } from 'vitest';
import { AppError } from '../../../shared/errors.js';
import { addressProblem, createMetadataFetcher, type HostResolver, type MetadataResponse, type MetadataTransport, type ResolvedAddress } from '../../../shared/settings/metadata-fetch.js';

describe('addressProblem', () => {
  it.each([
    ['8.8.8.8', undefined],
    ['2606:4700::1111', undefined],
    ['::ffff:8.8.8.8', undefined],
    ['172.32.0.1', undefined],
    ['10.0.0.1', 'a private address'],
    ['172.16.0.1', 'a private address'],
    ['172.31.255.255', 'a private address'],
    ['192.168.1.1', 'a private address'],
    ['100.64.0.1', 'a private address'],
    ['fd12:3456::1', 'a private address'],
    ['169.254.169.254', 'a link-local address'],
    ['fe80::1', 'a link-local address'],
    ['127.0.0.1', 'a loopback address'],
    ['127.8.9.10', 'a loopback address'],
    ['::1', 'a loopback address'],
    ['0.0.0.0', 'an unspecified address'],
    ['::', 'an unspecified address'],
    ['224.0.0.251', 'a multicast or broadcast address'],
    ['255.255.255.255', 'a multicast or broadcast address'],
    ['ff02::1', 'a multicast or broadcast address'],
    ['::ffff:10.0.0.1', 'a private address'],
    ['::ffff:169.254.169.254', 'a link-local address'],
    ['64:ff9b::a9fe:a9fe', 'an IPv6 address that embeds an IPv4 one'],
    ['2002:a9fe:a9fe::1', 'an IPv6 address that embeds an IPv4 one'],
    ['192.0.2.1', 'a reserved or documentation address'],
  ])('%s is %s', (address, problem) => {
    expect(addressProblem(address, false)).toBe(problem);
  });

  it('allows loopback only where the runtime allows it, and nothing else with it', () => {
    expect(addressProblem('127.0.0.1', true)).toBeUndefined();
    expect(addressProblem('::1', true)).toBeUndefined();
    expect(addressProblem('10.0.0.1', true)).toBe('a private address');
  });
});

const METADATA = '<EntityDescriptor/>';

function body(text: string | Buffer, chunks = 1): AsyncIterable<Uint8Array> {
  const bytes = Buffer.isBuffer(text) ? text : Buffer.from(text);
  const size = Math.ceil(bytes.length / chunks);
  return (async function* () {
    for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
  })();
}

const ok = (text: string | Buffer = METADATA, extra: Partial<MetadataResponse> = {}): MetadataResponse => ({ status: 200, body: body(text), close: () => {}, ...extra });
const redirectTo = (location: string): MetadataResponse => ({ status: 302, location, body: body(''), close: () => {} });

/** A resolver from a table, recording what it was asked. */
function resolver(table: Record<string, string[]>) {
  const asked: string[] = [];
  const resolve: HostResolver = async (hostname) => {
    asked.push(hostname);
    return (table[hostname] ?? [hostname]).map((address) => ({ address, family: address.includes(':') ? 6 : 4 }) as ResolvedAddress);
  };
  return { resolve, asked };
}

/** A transport answering by URL, recording where it connected. */
function transport(answers: Record<string, MetadataResponse | (() => Promise<MetadataResponse>)>) {
  const connections: { url: string; address: string }[] = [];
  const send: MetadataTransport = async (url, address) => {
    connections.push({ url: url.toString(), address: address.address });
    const answer = answers[url.toString()];
    if (!answer) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    return typeof answer === 'function' ? answer() : answer;
  };
  return { send, connections };
}

async function failure(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(AppError);
  expect((error as AppError).code).toBe('METADATA_FETCH_FAILED');
  return error as AppError;
}

const PUBLIC = '203.0.114.10';

describe('createMetadataFetcher', () => {
  it('fetches over https from a host that resolves to public addresses, connecting to the address it checked', async () => {
    const dns = resolver({ 'idp.example.com': [PUBLIC] });
    const http = transport({ 'https://idp.example.com/metadata': ok() });
    const fetchMetadata = createMetadataFetcher({ allowLoopback: false, resolve: dns.resolve, transport: http.send });

    expect(await fetchMetadata('https://idp.example.com/metadata')).toBe(METADATA);
    expect(dns.asked).toEqual(['idp.example.com']);
    expect(http.connections).toEqual([{ url: 'https://idp.example.com/metadata', address: PUBLIC }]);
  });

  it('resolves once per request: a name that answers differently later (DNS rebinding) is still connected to the checked address', async () => {
    let calls = 0;
    const resolve: HostResolver = async () => [{ address: calls++ === 0 ? PUBLIC : '169.254.169.254', family: 4 }];
    const http = transport({ 'https://rebind.example.com/': ok() });

    await createMetadataFetcher({ allowLoopback: false, resolve, transport: http.send })('https://rebind.example.com/');

    expect(calls).toBe(1);
    expect(http.connections[0]?.address).toBe(PUBLIC);
  });

  it.each([
    ['http on a public host', 'http://idp.example.com/metadata', /only https/],
    ['http on loopback where loopback is not allowed', 'http://127.0.0.1:8080/metadata', /only https/],
    ['the cloud metadata service', 'https://169.254.169.254/latest/meta-data/', /link-local address \(169\.254\.169\.254\)/],
    ['a private address', 'https://10.0.0.1/metadata', /private address \(10\.0\.0\.1\)/],
    ['loopback where it is not allowed', 'https://127.0.0.1/metadata', /loopback address/],
    ['an IPv4-mapped private address', 'https://[::ffff:10.0.0.1]/metadata', /private address/],
    ['a decimal form of loopback', 'https://2130706433/metadata', /loopback address \(127\.0\.0\.1\)/],
    ['a URL with credentials', 'https://user:secret@idp.example.com/metadata', /user name or password/],
    ['something that is not a URL', 'idp.example.com/metadata', /not a URL/],
    ['another scheme', 'file:///etc/passwd', /only https/],
  ])('refuses %s without connecting', async (_name, url, why) => {
    const http = transport({});

    const error = await failure(createMetadataFetcher({ allowLoopback: false, resolve: resolver({}).resolve, transport: http.send })(url));

    expect(error.message).toMatch(/^saml\.idpMetadataUrl: /);
    expect(error.message).toMatch(why);
    expect(http.connections).toEqual([]);
  });

  it('refuses a host when any address it resolves to is not public', async () => {
    const dns = resolver({ 'mixed.example.com': [PUBLIC, '192.168.0.10'] });
    const http = transport({});

    const error = await failure(createMetadataFetcher({ allowLoopback: false, resolve: dns.resolve, transport: http.send })('https://mixed.example.com/'));

    expect(error.message).toMatch(/mixed\.example\.com is a private address \(192\.168\.0\.10\)/);
    expect(http.connections).toEqual([]);
  });

  it('allows http only on loopback, and only where loopback is allowed', async () => {
    const http = transport({ 'http://127.0.0.1:8080/metadata': ok() });
    const local = createMetadataFetcher({ allowLoopback: true, resolve: resolver({}).resolve, transport: http.send });

    expect(await local('http://127.0.0.1:8080/metadata')).toBe(METADATA);
    expect((await failure(local('http://idp.example.com/metadata'))).message).toMatch(/only https/);
  });

  it('refuses a loopback name that resolves elsewhere, even where loopback is allowed', async () => {
    const local = createMetadataFetcher({ allowLoopback: true, resolve: resolver({ localhost: ['10.0.0.7'] }).resolve, transport: transport({}).send });

    expect((await failure(local('http://localhost/metadata'))).message).toMatch(/private address/);
  });

  it('follows a redirect and checks its target like the first URL', async () => {
    const dns = resolver({ 'idp.example.com': [PUBLIC], 'cdn.example.com': [PUBLIC] });
    const http = transport({ 'https://idp.example.com/metadata': redirectTo('https://cdn.example.com/idp.xml'), 'https://cdn.example.com/idp.xml': ok() });

    expect(await createMetadataFetcher({ allowLoopback: false, resolve: dns.resolve, transport: http.send })('https://idp.example.com/metadata')).toBe(METADATA);
    expect(http.connections.map((connection) => connection.url)).toEqual(['https://idp.example.com/metadata', 'https://cdn.example.com/idp.xml']);
  });

  it.each([
    ['a private address', 'https://10.0.0.1/metadata', /private address/],
    ['the cloud metadata service', 'http://169.254.169.254/latest/meta-data/', /only https/],
    ['a name that resolves to link-local', 'https://internal.example.com/', /link-local address/],
  ])('refuses a redirect to %s', async (_name, location, why) => {
    const dns = resolver({ 'idp.example.com': [PUBLIC], 'internal.example.com': ['169.254.10.10'] });
    const http = transport({ 'https://idp.example.com/metadata': redirectTo(location) });

    const error = await failure(createMetadataFetcher({ allowLoopback: false, resolve: dns.resolve, transport: http.send })('https://idp.example.com/metadata'));

    expect(error.message).toMatch(why);
    expect(http.connections).toHaveLength(1);
  });

  it('follows at most 3 redirects', async () => {
    const dns = resolver({ 'idp.example.com': [PUBLIC] });
    const hop = (n: number) => `https://idp.example.com/${n}`;
    const three = transport({ [hop(0)]: redirectTo(hop(1)), [hop(1)]: redirectTo(hop(2)), [hop(2)]: redirectTo(hop(3)), [hop(3)]: ok() });
    const four = transport({ [hop(0)]: redirectTo(hop(1)), [hop(1)]: redirectTo(hop(2)), [hop(2)]: redirectTo(hop(3)), [hop(3)]: redirectTo(hop(4)), [hop(4)]: ok() });

    expect(await createMetadataFetcher({ allowLoopback: false, resolve: dns.resolve, transport: three.send })(hop(0))).toBe(METADATA);
    expect((await failure(createMetadataFetcher({ allowLoopback: false, resolve: dns.resolve, transport: four.send })(hop(0)))).message).toMatch(/more than 3 redirects/);
    expect(four.connections).toHaveLength(4);
  });

  it('refuses a body over 1 MiB, announced or streamed', async () => {
    const dns = resolver({ 'idp.example.com': [PUBLIC] });
    const big = Buffer.alloc(1024 * 1024 + 1, 'a');
    let announcedRead = false;
    const announced = transport({
      'https://idp.example.com/': ok('', { contentLength: big.length, body: { [Symbol.asyncIterator]: () => ((announcedRead = true), body(big)[Symbol.asyncIterator]()) } }),
    });
    const streamed = transport({ 'https://idp.example.com/': ok(big) });
    const exact = transport({ 'https://idp.example.com/': { ...ok(Buffer.alloc(1024 * 1024, 'a')), body: body(Buffer.alloc(1024 * 1024, 'a'), 16) } });

    expect((await failure(createMetadataFetcher({ allowLoopback: false, resolve: dns.resolve, transport: announced.send })('https://idp.example.com/'))).message).toMatch(/larger than 1 MiB/);
    expect(announcedRead).toBe(false);
    expect((await failure(createMetadataFetcher({ allowLoopback: false, resolve: dns.resolve, transport: streamed.send })('https://idp.example.com/'))).message).toMatch(/larger than 1 MiB/);
    expect(await createMetadataFetcher({ allowLoopback: false, resolve: dns.resolve, transport: exact.send })('https://idp.example.com/')).toHaveLength(1024 * 1024);
  });

  it('gives up on a server that does not answer in time', async () => {
    const dns = resolver({ 'slow.example.com': [PUBLIC] });
    const http = transport({ 'https://slow.example.com/': () => new Promise<MetadataResponse>(() => {}) });

    const error = await failure(createMetadataFetcher({ allowLoopback: false, resolve: dns.resolve, transport: http.send, timeoutMs: 50 })('https://slow.example.com/'));

    expect(error.message).toMatch(/did not answer within 0\.05 seconds/);
  });

  it('refuses an answer other than 200 and a failed connection, naming them', async () => {
    const dns = resolver({ 'idp.example.com': [PUBLIC] });
    const http = transport({ 'https://idp.example.com/gone': { status: 404, body: body('not found'), close: () => {} } });
    const fetchMetadata = createMetadataFetcher({ allowLoopback: false, resolve: dns.resolve, transport: http.send });

    expect((await failure(fetchMetadata('https://idp.example.com/gone'))).message).toMatch(/answered 404/);
    expect((await failure(fetchMetadata('https://idp.example.com/refused'))).message).toMatch(/ECONNREFUSED/);
  });
});
