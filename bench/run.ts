/**
 * `npm run bench`: every measurement of DESIGN.md "Performance budgets" in one run, so
 * the ratios hold on a noisy machine. Prints one table and writes bench/results.json
 * (git-ignored) with every figure, the machine and the date. Progress goes to stderr.
 *
 * Order: DynamoDB Local first (load on the local stack, then round trips), stopped before
 * the CPU measurements so its JVM is not competing; then whole logins over HTTP on
 * `npm start` (its own process and DynamoDB Local, stopped after); then SAML and OIDC
 * CPU; then cold starts, in child processes. Each phase's module is imported when its phase starts, so
 * the memory figures of the local stack do not include the libraries of later phases
 * (node-saml, vitest's expect, TypeScript, esbuild).
 */
import { writeFile } from 'node:fs/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import { startDynamoDbLocal } from '../local/dynamodb.js';
import type { ColdStartCase } from './cold-start.js';
import type { Burst, LoadResult } from './load.js';
import type { OidcCpuResult } from './oidc-cpu.js';
import type { RoundTripCase } from './round-trips.js';
import type { SamlCpuResult } from './saml-cpu.js';
import type { LoginBurstCpu, LoginCpuResult } from './login-cpu.js';
import type { ScimResult } from './scim.js';
import type { CpuFigures, InterleavedOptions } from './stats.js';
import { ms, ratio, renderTable, type Row } from './table.js';

const CPU_RUN: InterleavedOptions = { warmup: 40, rounds: 50, batch: 5 };
const COLD_START_RUNS = 11;
/** Issue 12's targets (DESIGN.md "Performance budgets"), stretch goals in the target text. */
const MAX_ACS_RATIO = 0.7;
const MAX_RETURNING_LOGIN_RATIO = 1.0;
const MAX_FIRST_LOGIN_RATIO = 1.2;
/** The Acs bundle before issue 12 (1.32 MiB); the stretch goal is 800 KiB. */
const ACS_BUNDLE_BEFORE_KB = 1349.6;
/** Acs cold start before issue 12, same machine class: median import CPU + first invocation. */
const ACS_COLD_START_BEFORE_MS = 420.8 + 91.0;
/** Whole logins over HTTP on `npm start`: per burst, after a warm-up of each kind, 8 in flight. */
const LOGIN_CPU = { logins: 300, warmup: 60, concurrency: 8 };
const MAX_SEQUENTIAL_ROUND_TRIPS = 2;
const MAX_COLD_START_RATIO = 1.2;
const DISTINCT_USERS = 100;
const SAME_USER_LOGINS = 20;
const RESULTS = new URL('./results.json', import.meta.url);
const SCIM_REQUESTS = 200;
const SCIM_SYNC = { users: 10_000, concurrency: 8 };

/**
 * Which steps run: all by default. `--only=scim,…` (or BENCH_ONLY) runs just those,
 * `--skip=scim-sync,…` (or BENCH_SKIP) leaves those out. Steps: load, round-trips,
 * login-cpu, saml-cpu, oidc-cpu, cold-start, scim, scim-sync (the 10,000-user initial sync).
 */
const STEPS = ['load', 'round-trips', 'login-cpu', 'saml-cpu', 'oidc-cpu', 'cold-start', 'scim', 'scim-sync'] as const;
type Step = (typeof STEPS)[number];
function stepList(flag: string, envVar: string): Step[] | undefined {
  const value = process.argv.find((arg) => arg.startsWith(`--${flag}=`))?.slice(flag.length + 3) ?? process.env[envVar];
  if (!value) return undefined;
  const names = value.split(',').map((name) => name.trim()).filter(Boolean);
  const unknown = names.filter((name) => !STEPS.includes(name as Step));
  if (unknown.length) throw new Error(`unknown bench step(s) ${unknown.join(', ')}; steps: ${STEPS.join(', ')}`);
  return names as Step[];
}
const ONLY = stepList('only', 'BENCH_ONLY');
const SKIP = stepList('skip', 'BENCH_SKIP') ?? [];
const selected = (step: Step) => (ONLY ? ONLY.includes(step) : true) && !SKIP.includes(step);

const progress = (message: string) => process.stderr.write(`[bench] ${message}\n`);

async function withDynamoDbLocal<T>(work: (endpoint: string) => Promise<T>): Promise<T> {
  const dynamo = await startDynamoDbLocal();
  try {
    return await work(dynamo.endpoint);
  } finally {
    await dynamo.stop();
  }
}

const cpuFigures = (figures: CpuFigures) => `median ${ms(figures.cpuMs.median)} ms · p95 ${ms(figures.cpuMs.p95)} ms`;

function samlRows(saml: SamlCpuResult): Row[] {
  const area = 'SAML login CPU/op';
  return (Object.keys(saml) as (keyof SamlCpuResult)[]).flatMap((variant) => {
    const { acs, samlify, nodeSaml } = saml[variant];
    const toNodeSaml = (figures: CpuFigures) => figures.cpuMs.median / nodeSaml.cpuMs.median;
    return [
      { area, case: `${variant}-signed: ACS handler`, figures: `${cpuFigures(acs)} · ${ratio(toNodeSaml(acs))} node-saml`, target: `≤ ${ratio(MAX_ACS_RATIO)} (stretch 0.40×)`, met: toNodeSaml(acs) <= MAX_ACS_RATIO },
      { area, case: `${variant}-signed: samlify parseLoginResponse`, figures: `${cpuFigures(samlify)} · ${ratio(toNodeSaml(samlify))} node-saml` },
      { area, case: `${variant}-signed: node-saml validatePostResponseAsync`, figures: `${cpuFigures(nodeSaml)} · 1.00×` },
    ];
  });
}

function oidcRows(oidc: OidcCpuResult): Row[] {
  const area = 'OIDC callback CPU/op';
  return [
    { area, case: 'callback handler', figures: `${cpuFigures(oidc.callback)} · ${ratio(oidc.callback.cpuMs.median / oidc.jose.cpuMs.median)} jose` },
    { area, case: 'jose jwtVerify (local JWKS)', figures: `${cpuFigures(oidc.jose)} · 1.00×` },
  ];
}

function roundTripRows(cases: readonly RoundTripCase[]): Row[] {
  return cases.map((one) => ({
    area: 'DynamoDB round trips/login',
    case: `${one.name}${one.warm ? '' : ' (not warm)'}`,
    figures: `${one.roundTrips} trips, ${one.sequential} sequential: ${one.steps.map((step) => step.join(' ∥ ')).join(' → ')} (HTTP ${one.status})`,
    ...(one.warm ? { target: `≤ ${MAX_SEQUENTIAL_ROUND_TRIPS} sequential`, met: one.sequential <= MAX_SEQUENTIAL_ROUND_TRIPS } : {}),
  }));
}

function loginCpuRows(result: LoginCpuResult): Row[] {
  const area = 'Whole login over HTTP, npm start';
  const row = (name: string, burst: LoginBurstCpu, max: number, stretch: number): Row => ({
    area,
    case: `${name}: server CPU/login vs node-saml`,
    figures:
      `${ms(burst.serverCpuMs)} ms (system ${ms(burst.serverSystemCpuMs)}) vs node-saml validatePostResponseAsync ${ms(burst.nodeSamlCpuMs)} ms = ${ratio(burst.ratio)} · ` +
      `${burst.logins} logins, ${errorCount(burst.errors)} · burst ${ms(burst.wallMs)} ms wall`,
    target: `≤ ${ratio(max)} (stretch ${ratio(stretch)})`,
    met: burst.ratio <= max && Object.keys(burst.errors).length === 0,
  });
  return [
    row('returning users', result.returning, MAX_RETURNING_LOGIN_RATIO, 0.6),
    row('first logins (user created)', result.firstLogin, MAX_FIRST_LOGIN_RATIO, 0.8),
    { area, case: 'server start-up CPU (to ready)', figures: `${ms(result.startCpuMs)} ms (tsx, console build, DynamoDB tables, demo seed)` },
  ];
}

const errorCount = (errors: Record<string, number>) => (Object.keys(errors).length === 0 ? '0 errors' : `errors ${JSON.stringify(errors)}`);

function acsBundleRows(cases: readonly ColdStartCase[]): Row[] {
  const acs = cases.find((one) => one.id === 'Acs');
  if (acs === undefined) return [];
  const coldMs = acs.importCpuMs.median + acs.firstInvokeMs.median;
  return [
    {
      area: 'Acs function (issue 12)',
      case: 'bundle size',
      figures: `${acs.bundleKb} KiB (before issue 12: ${ACS_BUNDLE_BEFORE_KB} KiB)`,
      target: `< ${ACS_BUNDLE_BEFORE_KB} KiB (stretch ≤ 800)`,
      met: acs.bundleKb < ACS_BUNDLE_BEFORE_KB,
    },
    {
      area: 'Acs function (issue 12)',
      case: 'cold start: import CPU + first invocation',
      figures: `${ms(coldMs)} ms (before issue 12: ${ms(ACS_COLD_START_BEFORE_MS)} ms, another run)`,
      target: '≤ before',
      met: coldMs <= ACS_COLD_START_BEFORE_MS,
    },
  ];
}

function coldStartRows(cases: readonly ColdStartCase[]): Row[] {
  return cases.map((one) => ({
    area: `Cold start (median of ${one.importMs.samples})`,
    case: one.id,
    figures:
      `import CPU ${ms(one.importCpuMs.median)} vs deps-only ${ms(one.depsImportCpuMs.median)} ms = ${ratio(one.ratio)} · ` +
      `wall ${ms(one.importMs.median)} vs ${ms(one.depsImportMs.median)} ms = ${ratio(one.wallRatio)} · ` +
      `bundle ${one.bundleKb} KiB (deps-only ${one.depsBundleKb}) · ` +
      (one.firstInvokeStatus === 0 ? 'no route (scheduled): import only' : `first invocation ${ms(one.firstInvokeMs.median)} ms (HTTP ${one.firstInvokeStatus})`),
    target: `CPU ≤ ${ratio(MAX_COLD_START_RATIO)}`,
    met: one.ratio <= MAX_COLD_START_RATIO,
  }));
}

const commandText = (counts: Record<string, number>) =>
  Object.entries(counts)
    .map(([command, count]) => `${count} ${command.replace(/Command$/, '')}`)
    .join(', ');

const errorText = (burst: Burst) => (Object.keys(burst.errors).length === 0 ? '0 errors' : `errors ${JSON.stringify(burst.errors)}`);

function loadRows(load: LoadResult): Row[] {
  const area = 'Local stack over HTTP';
  const burstRow = (name: string, burst: Burst): Row => ({
    area,
    case: name,
    figures:
      `p50 ${ms(burst.latencyMs.median)} ms · p99 ${ms(burst.latencyMs.p99)} ms · ${errorText(burst)} · ` +
      `burst ${ms(burst.wallMs)} ms wall, ${ms(burst.cpuMs)} ms CPU of this process · DynamoDB ${commandText(burst.dynamoCommands)}`,
    target: 'no errors',
    met: Object.keys(burst.errors).length === 0,
  });
  const expected = DISTINCT_USERS + 1;
  return [
    burstRow(`${DISTINCT_USERS} concurrent first logins, distinct users`, load.distinct),
    burstRow(`${SAME_USER_LOGINS} concurrent first logins, one user`, load.sameUser),
    { area, case: 'users created', figures: String(load.usersCreated), target: `= ${expected}`, met: load.usersCreated === expected },
    {
      area,
      case: 'user.jit_created events',
      figures: `${load.creationEvents} (at most ${load.maxCreationEventsPerUser} per user)`,
      target: `= ${expected}, 1 per user`,
      met: load.creationEvents === expected && load.maxCreationEventsPerUser === 1,
    },
    {
      area: 'Memory (bench process serves the stack)',
      case: 'RSS during the load',
      figures: `before ${load.memory.rssBeforeMb} MB · sampled peak ${load.memory.rssPeakSampledMb} MB · process maxRSS ${load.memory.processMaxRssMb} MB`,
    },
  ];
}

function machine() {
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGb: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    loadAverage1m: loadavg()[0] ?? 0,
  };
}

function scimRows(scim: ScimResult): Row[] {
  const area = 'SCIM on the local stack';
  const operation = (name: string, one: ScimResult['create'], oneOf: string, target: string) => {
    const other = Object.values(one.otherPatterns).reduce((sum, count) => sum + count, 0);
    return {
      area,
      case: `${name} (${one.requests} sequential)`,
      figures:
        `p50 ${ms(one.latencyMs.median)} ms · p99 ${ms(one.latencyMs.p99)} ms · DynamoDB per request: ${commandText(one.commandsPerRequest)}` +
        `${other ? ` (${other} requests also re-read the settings: ${Object.keys(one.otherPatterns).join(' ')})` : ''} · ${Object.keys(one.errors).length ? `errors ${JSON.stringify(one.errors)}` : '0 errors'}`,
      target,
      met: one.commandsPerRequest[oneOf] === 1 && Object.keys(one.errors).length === 0 && Object.keys(one.commandsPerRequest).every((command) => command === oneOf || command === 'GetItemCommand'),
    };
  };
  const rows: Row[] = [
    operation('POST /Users', scim.create, 'TransactWriteItemsCommand', 'one transaction (+ the token read)'),
    operation('GET /Users?filter=userName eq', scim.filter, 'QueryCommand', 'one Query (+ the token read)'),
  ];
  if (scim.sync) {
    const { sync } = scim;
    rows.push(
      {
        area,
        case: `initial sync: ${sync.users} users at concurrency ${sync.concurrency} (lookup + create each)`,
        figures: `${Math.round(sync.usersPerSecond)} users/s · ${ms(sync.wallMs / 1000)} s · lookup p50 ${ms(sync.latencyMs.lookup.median)} / p99 ${ms(sync.latencyMs.lookup.p99)} ms · create p50 ${ms(sync.latencyMs.create.median)} / p99 ${ms(sync.latencyMs.create.p99)} ms · ${Object.keys(sync.errors).length ? `errors ${JSON.stringify(sync.errors)}` : '0 errors'}`,
        target: 'no errors',
        met: Object.keys(sync.errors).length === 0,
      },
      { area, case: 'users at the end of the sync', figures: String(sync.usersAtEnd), target: `= ${sync.users}`, met: sync.usersAtEnd === sync.users },
    );
  }
  return rows;
}

interface Measurements {
  load?: LoadResult;
  loginCpu?: LoginCpuResult;
  roundTrips?: RoundTripCase[];
  saml?: SamlCpuResult;
  oidc?: OidcCpuResult;
  coldStart?: ColdStartCase[];
  scim?: ScimResult;
}

async function measure(): Promise<Measurements> {
  const m: Measurements = {};
  if (selected('load') || selected('round-trips') || selected('scim') || selected('scim-sync')) {
    progress('starting DynamoDB Local: load on the local stack, round trips, SCIM');
    await withDynamoDbLocal(async (endpoint) => {
      if (selected('load')) m.load = await (await import('./load.js')).benchLoad(endpoint, { distinctUsers: DISTINCT_USERS, sameUserLogins: SAME_USER_LOGINS });
      if (selected('round-trips')) m.roundTrips = await (await import('./round-trips.js')).benchRoundTrips(endpoint);
      if (selected('scim') || selected('scim-sync')) {
        progress(`SCIM: ${SCIM_REQUESTS} creates and ${SCIM_REQUESTS} userName filters`);
        m.scim = await (await import('./scim.js')).benchScim(endpoint, { requests: SCIM_REQUESTS, ...(selected('scim-sync') ? { sync: SCIM_SYNC } : {}), progress });
      }
    });
  }
  if (selected('login-cpu')) {
    progress(`whole logins over HTTP on npm start: ${LOGIN_CPU.logins} first logins, then as many returning ones, against node-saml`);
    m.loginCpu = await (await import('./login-cpu.js')).benchLoginCpu(LOGIN_CPU);
  }
  if (selected('saml-cpu')) {
    progress(`SAML login CPU: ${CPU_RUN.rounds} interleaved rounds of ${CPU_RUN.batch} per contender and variant`);
    m.saml = await (await import('./saml-cpu.js')).benchSamlCpu(CPU_RUN);
  }
  if (selected('oidc-cpu')) {
    progress('OIDC callback CPU');
    m.oidc = await (await import('./oidc-cpu.js')).benchOidcCpu(CPU_RUN);
  }
  if (selected('cold-start')) {
    progress(`cold starts: ${COLD_START_RUNS} fresh processes per bundle`);
    m.coldStart = await (await import('./cold-start.js')).benchColdStart(COLD_START_RUNS);
  }
  return m;
}

const tableRows = (m: Measurements): Row[] => [
  ...(m.saml ? samlRows(m.saml) : []),
  ...(m.loginCpu ? loginCpuRows(m.loginCpu) : []),
  ...(m.coldStart ? acsBundleRows(m.coldStart) : []),
  ...(m.oidc ? oidcRows(m.oidc) : []),
  ...(m.roundTrips ? roundTripRows(m.roundTrips) : []),
  ...(m.coldStart ? coldStartRows(m.coldStart) : []),
  ...(m.load ? loadRows(m.load) : []),
  ...(m.scim ? scimRows(m.scim) : []),
];

async function main(): Promise<void> {
  const started = new Date();
  const before = machine();
  const measurements = await measure();
  const after = machine();
  const rows = tableRows(measurements);
  const targets = rows.filter((row) => row.met !== undefined).map((row) => ({ area: row.area, case: row.case, target: row.target, met: row.met }));
  const durationSeconds = Math.round((Date.now() - started.getTime()) / 1000);
  const method = {
    cpu: 'process.cpuUsage() (user + system, whole process) around batches of consecutive operations; median and p95 are over per-batch means per operation',
    ...CPU_RUN,
    coldStartRuns: COLD_START_RUNS,
  };
  const results = { date: started.toISOString(), durationSeconds, machine: { ...before, loadAverage1mAtEnd: after.loadAverage1m }, method, ...measurements, targets };
  await writeFile(RESULTS, `${JSON.stringify(results, null, 2)}\n`);

  console.log(`sso-jit bench · ${results.date} · ${before.cpu}, ${before.cores} cores, ${before.memoryGb} GB, Node ${before.node} · load ${before.loadAverage1m.toFixed(2)} → ${after.loadAverage1m.toFixed(2)}`);
  console.log(`CPU: process.cpuUsage() per operation, batches of ${CPU_RUN.batch}, ${CPU_RUN.rounds} rounds interleaved, after ${CPU_RUN.warmup} warm-up operations; p95 over batch means\n`);
  console.log(`${renderTable(rows)}\n`);
  const met = targets.filter((target) => target.met).length;
  console.log(`${met} of ${targets.length} targets met · ${durationSeconds} s · bench/results.json`);
}

main().catch((error: unknown) => {
  console.error('bench failed:', error);
  process.exit(1);
});
