/**
 * Load on the local stack over HTTP, in this process: every handler behind the local
 * API Gateway stand-in on loopback, DynamoDB Local behind them, one SAML org seeded as
 * `npm start` seeds its demo org. Then 100 concurrent first logins of distinct users,
 * then 20 concurrent first logins of one user, each a POST of a response signed
 * beforehand. Fixed counts; nothing leaves the machine.
 *
 * Each burst also reports the CPU this process used and the DynamoDB commands it sent.
 * The server runs in the benchmark's process (which has loaded only this phase's modules
 * so far), so memory is this process's: its peak RSS over its life (`maxRSS`) and RSS
 * sampled during the bursts.
 */
import { randomUUID } from 'node:crypto';
import { ROUTES } from '../functions/routes.js';
import { createDynamoClient, createTables } from '../local/dynamodb.js';
import { createHandlers } from '../local/handlers.js';
import { createLocalServer, listenLocalServer, type HttpLambdaHandler } from '../local/http-server.js';
import { buildSignedLoginResponse, createSamlIdpKeys, type SamlIdpKeys } from '../local/saml-idp.js';
import type { Runtime } from '../functions/runtime.js';
import { systemClock } from '../shared/clock.js';
import { orgUrls } from '../shared/settings/urls.js';
import { tableNamesFor } from '../shared/storage/tables.js';
import { traceCommands } from './round-trips.js';
import { percentile, summarize, type Summary } from './stats.js';
import { benchRuntime, postLoginForm, seedOrg } from './support.js';

const ORG_ID = 'demo';
const PAGE = 100;
const RSS_SAMPLE_MS = 10;

export interface Burst {
  logins: number;
  latencyMs: Summary & { p99: number; max: number };
  /** Answers other than the ACS's 302, by status. */
  errors: Record<string, number>;
  wallMs: number;
  /** CPU this process (server, handlers and the HTTP client) used during the burst. */
  cpuMs: number;
  /** DynamoDB commands the burst sent, by name. */
  dynamoCommands: Record<string, number>;
}

export interface LoadResult {
  distinct: Burst;
  sameUser: Burst;
  /** JIT users in the org afterwards (the seeded admin is not one). */
  usersCreated: number;
  /** `user.jit_created` audit events, and the most any one user has. */
  creationEvents: number;
  maxCreationEventsPerUser: number;
  memory: { rssBeforeMb: number; rssPeakSampledMb: number; processMaxRssMb: number };
}

const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;

interface Stack {
  url: string;
  rt: Runtime;
  /** The DynamoDB commands sent since the last call, by name. */
  takeCommands(): Record<string, number>;
  close(): Promise<void>;
}

/** Starts the stack on loopback with fresh tables and one org; `close` stops the server. */
async function startStack(endpoint: string, idp: SamlIdpKeys): Promise<Stack> {
  const tables = tableNamesFor(`bench-load-${randomUUID().slice(0, 8)}`);
  const client = createDynamoClient(endpoint);
  await createTables(client, tables);
  const handlers: Record<string, HttpLambdaHandler> = {};
  const { url, close } = await listenLocalServer(createLocalServer({ routes: ROUTES, handlers }));
  const rt = benchRuntime({ baseUrl: url, clock: systemClock, dynamo: { endpoint, tables }, overrides: { dynamo: client } });
  Object.assign(handlers, createHandlers(rt));
  await seedOrg(rt, {
    orgId: ORG_ID,
    sso: { enabled: true, protocol: 'saml', domains: ['demo.example'], saml: { idpEntityId: idp.entityId, certificates: [idp.certificatePem] } },
    mappings: { Admins: 'organization-admin', Engineering: 'account-admin', Staff: 'regular-user' },
    onNoRoleMatch: 'default',
  });
  const tracer = traceCommands(client);
  const takeCommands = () => {
    const counts: Record<string, number> = {};
    for (const { command } of tracer.take()) counts[command] = (counts[command] ?? 0) + 1;
    return counts;
  };
  return { url, rt, takeCommands, close };
}

function signedLogins(idp: SamlIdpKeys, url: string, emails: readonly string[]): string[] {
  const { spEntityId, acsUrl } = orgUrls(url, ORG_ID);
  return emails.map((nameId) => buildSignedLoginResponse({ idp, spEntityId, acsUrl, nameId, attributes: { groups: ['Engineering'] } }));
}

/** POSTs every response at once; latency per request, answers other than 302 counted as errors. */
async function burst(stack: Stack, responses: readonly string[]): Promise<Burst> {
  const errors: Record<string, number> = {};
  stack.takeCommands();
  const cpu = process.cpuUsage();
  const started = performance.now();
  const latencies = await Promise.all(
    responses.map(async (SAMLResponse) => {
      const start = performance.now();
      const status = await postLoginForm(stack.url, ORG_ID, SAMLResponse);
      if (status !== 302) errors[status] = (errors[status] ?? 0) + 1;
      return performance.now() - start;
    }),
  );
  const wallMs = performance.now() - started;
  const used = process.cpuUsage(cpu);
  const latencyMs = { ...summarize(latencies), p99: percentile(latencies, 99), max: Math.max(...latencies) };
  return { logins: responses.length, latencyMs, errors, wallMs, cpuMs: (used.user + used.system) / 1000, dynamoCommands: stack.takeCommands() };
}

/** Samples this process's RSS until `stop()`, which returns the highest sample. */
function sampleRss(): { stop(): number } {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), RSS_SAMPLE_MS);
  return {
    stop: () => {
      clearInterval(timer);
      return Math.max(peak, process.memoryUsage.rss());
    },
  };
}

async function allPages<T>(list: (cursor: string | undefined) => Promise<{ items: T[]; cursor?: string }>): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  do {
    const page = await list(cursor);
    items.push(...page.items);
    cursor = page.cursor;
  } while (cursor !== undefined);
  return items;
}

/** What the bursts left in the tables: JIT users, creation events, and creation events per user. */
async function outcome(rt: Runtime) {
  const users = await allPages((cursor) => rt.users.list(ORG_ID, { jit: true, limit: PAGE, cursor }));
  const events = await allPages((cursor) => rt.audit.list(ORG_ID, { type: 'user.jit_created', limit: PAGE, cursor }));
  const perUser = new Map<string, number>();
  for (const event of events) perUser.set(event.target?.id ?? '', (perUser.get(event.target?.id ?? '') ?? 0) + 1);
  return { usersCreated: users.length, creationEvents: events.length, maxCreationEventsPerUser: Math.max(0, ...perUser.values()) };
}

export interface LoadOptions {
  /** First logins of distinct users, all at once. */
  distinctUsers: number;
  /** Then first logins of one new user, all at once. */
  sameUserLogins: number;
}

export async function benchLoad(endpoint: string, options: LoadOptions): Promise<LoadResult> {
  const idp = await createSamlIdpKeys('https://idp.bench.example/load');
  const stack = await startStack(endpoint, idp);
  try {
    const distinctEmails = Array.from({ length: options.distinctUsers }, (_, index) => `user-${index}@demo.example`);
    const distinct = signedLogins(idp, stack.url, distinctEmails);
    const sameUser = signedLogins(idp, stack.url, Array.from({ length: options.sameUserLogins }, () => 'same@demo.example'));
    const rssBefore = process.memoryUsage.rss();
    const sampler = sampleRss();
    const distinctBurst = await burst(stack, distinct);
    const sameUserBurst = await burst(stack, sameUser);
    const rssPeak = sampler.stop();
    return {
      distinct: distinctBurst,
      sameUser: sameUserBurst,
      ...(await outcome(stack.rt)),
      memory: { rssBeforeMb: mb(rssBefore), rssPeakSampledMb: mb(rssPeak), processMaxRssMb: mb(process.resourceUsage().maxRSS * 1024) },
    };
  } finally {
    await stack.close();
  }
}
