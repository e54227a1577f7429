/**
 * SCIM on the local stack over HTTP (issue 14, DESIGN.md "Performance budgets"): the
 * latency and DynamoDB round trips of a SCIM create and of a `userName eq` filter (the
 * targets: a filter is one Query, a create one transaction, besides the token's read),
 * and an initial sync as Okta pushes it: 10,000 users at concurrency 8, each a
 * `userName eq` lookup then a create, with throughput, errors (none) and the users at
 * the end (exactly 10,000).
 */
import { randomUUID } from 'node:crypto';
import { ROUTES } from '../functions/routes.js';
import type { Runtime } from '../functions/runtime.js';
import { createDynamoClient, createTables } from '../local/dynamodb.js';
import { createHandlers } from '../local/handlers.js';
import { createLocalServer, listenLocalServer, type HttpLambdaHandler } from '../local/http-server.js';
import { systemClock } from '../shared/clock.js';
import { createScimToken } from '../shared/scim/tokens.js';
import { createOrg } from '../shared/settings/orgs.js';
import { updateProvisioningSettings } from '../shared/settings/settings-service.js';
import { tableNamesFor } from '../shared/storage/tables.js';
import { traceCommands } from './round-trips.js';
import { percentile, summarize, type Summary } from './stats.js';
import { benchRuntime } from './support.js';

const ORG_ID = 'scim-bench';
const cli = { type: 'cli', id: 'bench' } as const;

export interface ScimOperation {
  requests: number;
  latencyMs: Summary & { p99: number };
  /** DynamoDB commands of most requests, by name. */
  commandsPerRequest: Record<string, number>;
  /** Requests that sent other commands (the settings cache's re-read every few seconds). */
  otherPatterns: Record<string, number>;
  errors: Record<string, number>;
}

export interface ScimSync {
  users: number;
  concurrency: number;
  wallMs: number;
  /** Users created per second (each after its `userName eq` lookup). */
  usersPerSecond: number;
  latencyMs: { lookup: Summary & { p99: number }; create: Summary & { p99: number } };
  errors: Record<string, number>;
  /** Users of the sync in the org at the end. */
  usersAtEnd: number;
}

export interface ScimResult {
  create: ScimOperation;
  filter: ScimOperation;
  sync?: ScimSync;
}

interface Stack {
  url: string;
  rt: Runtime;
  token: string;
  commands(): Record<string, number>[];
  close(): Promise<void>;
}

async function startStack(endpoint: string): Promise<Stack> {
  const tables = tableNamesFor(`bench-scim-${randomUUID().slice(0, 8)}`);
  const client = createDynamoClient(endpoint);
  await createTables(client, tables);
  const handlers: Record<string, HttpLambdaHandler> = {};
  const { url, close } = await listenLocalServer(createLocalServer({ routes: ROUTES, handlers }));
  const rt = benchRuntime({ baseUrl: url, clock: systemClock, dynamo: { endpoint, tables }, overrides: { dynamo: client } });
  Object.assign(handlers, createHandlers(rt));
  await createOrg(rt, { orgId: ORG_ID, name: 'SCIM bench', adminEmail: `admin@${ORG_ID}.example` }, cli);
  await updateProvisioningSettings(rt, { orgId: ORG_ID, actor: cli }, { method: 'scim', jit: { roleSource: 'idp', roleAttribute: 'groups', onNoRoleMatch: 'default' } });
  const { token } = await createScimToken(rt, { orgId: ORG_ID, actor: cli });
  const tracer = traceCommands(client);
  // Per request: requests run one at a time while commands are traced.
  const commands = () => {
    const counts: Record<string, number> = {};
    for (const { command } of tracer.take()) counts[command] = (counts[command] ?? 0) + 1;
    return [counts];
  };
  return { url, rt, token, commands, close };
}

async function call(stack: Stack, method: string, path: string, body?: unknown): Promise<number | string> {
  try {
    const answer = await fetch(`${stack.url}/scim/v2/${ORG_ID}${path}`, {
      method,
      headers: { authorization: `Bearer ${stack.token}`, accept: 'application/scim+json', ...(body ? { 'content-type': 'application/scim+json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    await answer.arrayBuffer();
    return answer.status;
  } catch (error) {
    return `network error: ${error instanceof Error ? error.message : String(error)}`;
  }
}

const user = (userName: string) => ({
  schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
  userName,
  name: { givenName: 'Bench', familyName: 'User' },
  emails: [{ primary: true, type: 'work', value: userName }],
  externalId: randomUUID(),
  active: true,
});

const withP99 = (values: number[]) => ({ ...summarize(values), p99: percentile(values, 99) });

/** `count` requests one after another (each traced alone); the first `warmup` are not counted. */
async function sequential(stack: Stack, count: number, warmup: number, request: (index: number) => Promise<number | string>, expected: number): Promise<ScimOperation> {
  const latencies: number[] = [];
  const errors: Record<string, number> = {};
  const perRequest: string[] = [];
  for (let index = 0; index < warmup + count; index += 1) {
    stack.commands();
    const start = performance.now();
    const status = await request(index);
    const elapsed = performance.now() - start;
    const [commands] = stack.commands();
    if (index < warmup) continue;
    latencies.push(elapsed);
    perRequest.push(JSON.stringify(Object.fromEntries(Object.entries(commands!).sort())));
    if (status !== expected) errors[status] = (errors[status] ?? 0) + 1;
  }
  const patterns = new Map<string, number>();
  for (const pattern of perRequest) patterns.set(pattern, (patterns.get(pattern) ?? 0) + 1);
  const [common] = [...patterns.entries()].sort((a, b) => b[1] - a[1])[0] ?? ['{}'];
  patterns.delete(common);
  return { requests: count, latencyMs: withP99(latencies), commandsPerRequest: JSON.parse(common), otherPatterns: Object.fromEntries(patterns), errors };
}

/** Okta's initial push: every user looked up by userName, then created, `concurrency` at a time. */
async function sync(stack: Stack, users: number, concurrency: number): Promise<ScimSync> {
  const lookups: number[] = [];
  const creates: number[] = [];
  const errors: Record<string, number> = {};
  const count = (status: number | string, expected: number) => {
    if (status !== expected) errors[status] = (errors[status] ?? 0) + 1;
  };
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < users) {
        const userName = `sync-${String(next++).padStart(5, '0')}@${ORG_ID}.example`;
        let start = performance.now();
        count(await call(stack, 'GET', `/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}&startIndex=1&count=100`), 200);
        lookups.push(performance.now() - start);
        start = performance.now();
        count(await call(stack, 'POST', '/Users', user(userName)), 201);
        creates.push(performance.now() - start);
      }
    }),
  );
  const wallMs = performance.now() - started;
  const usersAtEnd = (await stack.rt.scim.allUsers(ORG_ID)).filter((one) => one.scim?.userName.startsWith('sync-')).length;
  return { users, concurrency, wallMs, usersPerSecond: users / (wallMs / 1000), latencyMs: { lookup: withP99(lookups), create: withP99(creates) }, errors, usersAtEnd };
}

export interface ScimBenchOptions {
  /** Sequential creates and filters measured (after a warm-up of 20 each). */
  requests: number;
  /** The initial sync; skipped when undefined. */
  sync?: { users: number; concurrency: number };
  progress?: (message: string) => void;
}

export async function benchScim(endpoint: string, options: ScimBenchOptions): Promise<ScimResult> {
  const stack = await startStack(endpoint);
  try {
    const create = await sequential(stack, options.requests, 20, (index) => call(stack, 'POST', '/Users', user(`latency-${index}@${ORG_ID}.example`)), 201);
    const filter = await sequential(
      stack,
      options.requests,
      20,
      (index) => call(stack, 'GET', `/Users?filter=${encodeURIComponent(`userName eq "LATENCY-${index % (options.requests + 20)}@${ORG_ID}.example"`)}&startIndex=1&count=100`),
      200,
    );
    if (!options.sync) return { create, filter };
    options.progress?.(`SCIM initial sync: ${options.sync.users} users at concurrency ${options.sync.concurrency}`);
    return { create, filter, sync: await sync(stack, options.sync.users, options.sync.concurrency) };
  } finally {
    await stack.close();
  }
}
