/**
 * DynamoDB round trips per SAML login against DynamoDB Local, through the real ACS handler
 * on a runtime with the DynamoDB adapters. A middleware on the client's stack records
 * when each command starts and ends; commands whose spans overlap ran in parallel, so
 * the number of sequential steps is the number of disjoint groups of spans.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { randomBytes, randomUUID } from 'node:crypto';
import { createAcsHandler } from '../functions/acs.js';
import { createDynamoClient, createTables } from '../local/dynamodb.js';
import { buildSignedLoginResponse, createSamlIdpKeys, type SamlIdpKeys } from '../local/saml-idp.js';
import { fixedClock } from '../shared/clock.js';
import { orgUrls } from '../shared/settings/urls.js';
import { tableNamesFor } from '../shared/storage/tables.js';
import { DEFAULT_SETTINGS_TTL_MS } from '../shared/settings/settings-cache.js';
import { apiEvent, benchRuntime, lambdaContext, seedOrg } from './support.js';

const BASE_URL = 'https://sso.bench.example';
const ORG_ID = 'bench-trips';
export interface Span {
  command: string;
  start: number;
  end: number;
}

/** Records every command `client` sends (document-client commands included: they share the stack). */
export function traceCommands(client: DynamoDBDocumentClient): { take(): Span[] } {
  let spans: Span[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const span = { command: String(context.commandName), start: performance.now(), end: Number.NaN };
      spans.push(span);
      try {
        return await next(args);
      } finally {
        span.end = performance.now();
      }
    },
    { step: 'initialize', name: 'benchRoundTripTracer' },
  );
  return {
    take: () => {
      const taken = spans;
      spans = [];
      return taken;
    },
  };
}

/** Groups of overlapping spans, in time order: each group is one sequential step. */
function sequentialSteps(spans: readonly Span[]): string[][] {
  const steps: { end: number; commands: string[] }[] = [];
  for (const span of [...spans].sort((a, b) => a.start - b.start)) {
    const last = steps.at(-1);
    if (last !== undefined && span.start < last.end) {
      last.commands.push(span.command);
      last.end = Math.max(last.end, span.end);
    } else steps.push({ end: span.end, commands: [span.command] });
  }
  return steps.map((step) => step.commands);
}

export interface RoundTripCase {
  name: string;
  /** Whether the case is a warm login, the one the budget is about. */
  warm: boolean;
  status: number;
  roundTrips: number;
  sequential: number;
  /** Commands per sequential step, e.g. [['GetCommand', 'GetCommand'], ['TransactWriteCommand']]. */
  steps: string[][];
}

interface Login {
  name: string;
  warm: boolean;
  nameId: string;
  groups: string[];
  /** SP-initiated: a pending AuthnRequest is saved first (not counted), the response answers it. */
  spInitiated?: boolean;
  /** Let the settings cache expire first. */
  coldSettings?: boolean;
}

const LOGINS: readonly Login[] = [
  { name: 'new user, settings not cached', warm: false, nameId: 'first@bench-trips.example', groups: ['Engineering'], coldSettings: true },
  { name: 'new user', warm: true, nameId: 'grace@bench-trips.example', groups: ['Engineering'] },
  { name: 'returning user', warm: true, nameId: 'grace@bench-trips.example', groups: ['Engineering'] },
  { name: 'returning user, SP-initiated', warm: true, nameId: 'grace@bench-trips.example', groups: ['Engineering'], spInitiated: true },
  { name: 'refused (ROLE_NOT_MAPPED)', warm: true, nameId: 'mallory@bench-trips.example', groups: ['Nobody'] },
];

/** Runs each login once on fresh tables and reports its commands. */
export async function benchRoundTrips(endpoint: string): Promise<RoundTripCase[]> {
  const tables = tableNamesFor(`bench-trips-${randomUUID().slice(0, 8)}`);
  const client = createDynamoClient(endpoint);
  await createTables(client, tables);
  const clock = fixedClock(new Date());
  const rt = benchRuntime({ baseUrl: BASE_URL, clock, dynamo: { endpoint, tables }, overrides: { dynamo: client } });
  const idp = await createSamlIdpKeys('https://idp.bench.example/trips');
  await seedOrg(rt, {
    orgId: ORG_ID,
    sso: { enabled: true, protocol: 'saml', saml: { idpEntityId: idp.entityId, certificates: [idp.certificatePem] } },
    mappings: { Engineering: 'account-admin' },
    onNoRoleMatch: 'deny',
  });
  const tracer = traceCommands(client);
  const handler = createAcsHandler(rt);
  const cases: RoundTripCase[] = [];
  for (const login of LOGINS) {
    if (login.coldSettings) clock.advance(DEFAULT_SETTINGS_TTL_MS + 1);
    const form = login.spInitiated ? await pendingRequest(rt, idp, login, clock.now()) : { SAMLResponse: response(idp, login, clock.now()) };
    tracer.take();
    const result = await handler(apiEvent({ method: 'POST', route: '/sso/{orgId}/saml/acs', pathParameters: { orgId: ORG_ID }, form }), lambdaContext);
    const spans = tracer.take();
    const steps = sequentialSteps(spans);
    cases.push({ name: login.name, warm: login.warm, status: result.statusCode ?? 0, roundTrips: spans.length, sequential: steps.length, steps });
  }
  client.destroy();
  return cases;
}

function response(idp: SamlIdpKeys, login: Login, now: Date, inResponseTo?: string): string {
  const urls = orgUrls(BASE_URL, ORG_ID);
  return buildSignedLoginResponse({
    idp,
    spEntityId: urls.spEntityId,
    acsUrl: urls.acsUrl,
    nameId: login.nameId,
    attributes: { groups: login.groups },
    now,
    ...(inResponseTo === undefined ? {} : { inResponseTo }),
  });
}

/** Saves a pending AuthnRequest, as GET /sso/{orgId}/login does, and answers it; RelayState carries its id. */
async function pendingRequest(rt: ReturnType<typeof benchRuntime>, idp: SamlIdpKeys, login: Login, now: Date): Promise<Record<string, string>> {
  const requestId = `_${randomBytes(20).toString('hex')}`;
  await rt.loginState.save({
    orgId: ORG_ID,
    protocol: 'saml',
    id: requestId,
    fwd: '/me',
    expiresAt: new Date(now.getTime() + 10 * 60_000),
  });
  return { SAMLResponse: response(idp, login, now, requestId), RelayState: requestId };
}
