/**
 * Faults injected into a real DynamoDB client (one talking to DynamoDB Local), by a
 * middleware on its stack. It sits between the SDK's deserializer and its HTTP handler,
 * below the retries, so every attempt passes through it and the SDK meets each fault
 * as it would a real one: it retries, backs off, and gives up after its attempts.
 *
 * - `throttle`: the attempt is answered as DynamoDB answers when it throttles (HTTP 400,
 *   `ThrottlingException`), without being sent;
 * - `timeout`: the attempt is sent to a black hole, a TCP server that accepts connections
 *   and never answers (as a paused DynamoDB does), so the client's own timeouts end it;
 * - `refuse`: the attempt is sent to a port nobody listens on (a DynamoDB that is gone);
 * - `drop-response`: the attempt is sent, DynamoDB applies it, and its answer is lost on
 *   the way back, as when a connection is cut after the write landed.
 *
 * @example
 * const faults = await injectFaults(service.db.client);
 * faults.inject({ kind: 'drop-response', commands: ['TransactWriteItemsCommand'], times: 1 });
 * await postAcs(service, orgId, { SAMLResponse });
 * faults.attempts(); // two TransactWriteItemsCommand attempts, one ClientRequestToken
 * await faults.close();
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export type FaultKind = 'throttle' | 'timeout' | 'refuse' | 'drop-response';

export interface FaultRule {
  kind: FaultKind;
  /** Only attempts of these operations, as sent on the wire (`GetItemCommand`, `TransactWriteItemsCommand`…); all by default. */
  commands?: readonly string[];
  /** How many matching attempts to fault; every one by default. */
  times?: number;
}

/** One attempt that reached the fault middleware: what was sent, and the fault it met if any. */
export interface Attempt {
  command: string;
  /** The `ClientRequestToken` of a `TransactWriteItems`. */
  clientRequestToken?: string;
  fault?: FaultKind;
}

export interface FaultInjector {
  /** Faults the matching attempts from now on, replacing any earlier rule. */
  inject(rule: FaultRule): void;
  /** Stops faulting. */
  heal(): void;
  /** Every attempt since the injector was made or `clearAttempts()` was called, faulted or not. */
  attempts(): Attempt[];
  clearAttempts(): void;
  /** Stops faulting and closes the black hole and the connections it holds. */
  close(): Promise<void>;
}

let injectors = 0;

/** Adds the fault middleware to `client` (a document client shares its plain client's stack). */
export async function injectFaults(client: Pick<DynamoDBDocumentClient, 'middlewareStack'>): Promise<FaultInjector> {
  const blackHole = await listen(createBlackHole());
  const refusedPort = await closedPort();
  let rule: (FaultRule & { left: number }) | undefined;
  const seen: Attempt[] = [];

  const faultFor = (command: string): FaultKind | undefined => {
    if (!rule || rule.left <= 0 || (rule.commands && !rule.commands.includes(command))) return undefined;
    rule.left -= 1;
    return rule.kind;
  };

  client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = typeof context.commandName === 'string' ? context.commandName : 'unknown';
      const request = args.request as HttpRequestShape;
      const fault = faultFor(command);
      seen.push({ command, clientRequestToken: clientRequestTokenOf(request), fault });
      switch (fault) {
        case undefined:
          return next(args);
        case 'throttle':
          return { response: throttledResponse(), output: undefined } as never;
        case 'timeout':
          return next({ ...args, request: { ...request, hostname: '127.0.0.1', port: blackHole.port } });
        case 'refuse':
          return next({ ...args, request: { ...request, hostname: '127.0.0.1', port: refusedPort } });
        case 'drop-response': {
          const result = await next(args);
          (result.response as { body?: { destroy?: () => void } }).body?.destroy?.();
          // What the SDK's HTTP handler throws when no answer comes in time.
          throw Object.assign(new Error('the answer was lost after the request was sent (injected fault)'), { name: 'TimeoutError', code: 'ETIMEDOUT' });
        }
      }
    },
    { step: 'deserialize', priority: 'low', name: `faultInjector${++injectors}` },
  );

  return {
    inject: (next) => void (rule = { ...next, left: next.times ?? Number.POSITIVE_INFINITY }),
    heal: () => void (rule = undefined),
    attempts: () => [...seen],
    clearAttempts: () => void seen.splice(0),
    close: async () => {
      rule = undefined;
      await blackHole.close();
    },
  };
}

interface HttpRequestShape {
  hostname?: string;
  port?: number;
  body?: unknown;
}

function clientRequestTokenOf(request: HttpRequestShape): string | undefined {
  const { body } = request;
  const text = typeof body === 'string' ? body : body instanceof Uint8Array ? new TextDecoder().decode(body) : undefined;
  if (!text?.includes('ClientRequestToken')) return undefined;
  return (JSON.parse(text) as { ClientRequestToken?: string }).ClientRequestToken;
}

/** DynamoDB's answer to a throttled request, for the SDK's own deserializer to turn into its `ThrottlingException`. */
function throttledResponse() {
  return {
    statusCode: 400,
    headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': 'injected-throttle' },
    body: Buffer.from(JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#ThrottlingException', message: 'Rate of requests exceeds the allowed throughput.' })),
  };
}

/** A TCP server that accepts every connection, reads what it is sent, and never answers. */
function createBlackHole(): { server: Server; sockets: Set<Socket> } {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    socket.resume();
  });
  return { server, sockets };
}

async function listen({ server, sockets }: { server: Server; sockets: Set<Socket> }): Promise<{ port: number; close(): Promise<void> }> {
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    port,
    close: () =>
      new Promise<void>((done) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => done());
      }),
  };
}

/** A loopback port that was free a moment ago and is closed now: connecting to it is refused. */
async function closedPort(): Promise<number> {
  const hole = await listen(createBlackHole());
  await hole.close();
  return hole.port;
}
