/**
 * DynamoDB helpers for integration test files: fresh tables on the run's shared
 * DynamoDB Local (see dynamodb-global-setup.ts), and a counter of the commands a client
 * sends, to check the round-trip budget of DESIGN.md.
 */
import { randomUUID } from 'node:crypto';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { inject } from 'vitest';
import { createDynamoClient, createTables } from '../../local/dynamodb.js';
import type { DynamoDbLimits } from '../../shared/config.js';
import { tableNamesFor, type TableNames } from '../../shared/storage/tables.js';
import type {} from './dynamodb-global-setup.js';

export interface TestTables {
  /** Document client on the test DynamoDB (region `local`, dummy credentials). */
  client: DynamoDBDocumentClient;
  /** Physical names of this call's tables, all under one `t-xxxxxxxx` prefix. */
  names: TableNames;
  /** The DynamoDB endpoint, for code that builds its own client (e.g. a handler's composition root). */
  endpoint: string;
}

export interface TestTablesOptions {
  /** Another DynamoDB than the run's shared one (e.g. one a test pauses). */
  endpoint?: string;
  /** The client's bounds; `DYNAMODB_LOCAL_LIMITS` otherwise. */
  limits?: DynamoDbLimits;
}

/**
 * Creates the four tables under a prefix unique to this call and returns a client for
 * them. Call it in `beforeAll` (or per test for full isolation); tables are not deleted:
 * DynamoDB Local is in memory and ends with the run.
 *
 * @example
 * let db: TestTables;
 * beforeAll(async () => { db = await useTestTables(); });
 */
export async function useTestTables(options: TestTablesOptions = {}): Promise<TestTables> {
  const endpoint = options.endpoint ?? inject('dynamodbEndpoint');
  const client = createDynamoClient(endpoint, options.limits);
  const names = tableNamesFor(`t-${randomUUID().slice(0, 8)}`);
  await createTables(client, names);
  return { client, names, endpoint };
}

export interface RoundTripCounter {
  /** Commands sent since creation or the last `reset()`. */
  count(): number;
  reset(): void;
  /** Their DynamoDB operation names in order, as sent on the wire, e.g. `['GetItemCommand', 'TransactWriteItemsCommand']` (also for document-client commands). */
  commands(): string[];
}

let counters = 0;

/**
 * Counts the commands `client` sends from now on (one per `send`, retries not
 * included), by adding a middleware to its stack. A document client and the plain
 * client it wraps share one stack, so either may be passed.
 *
 * @example
 * const trips = countRoundTrips(db.client);
 * await login();
 * expect(trips.count()).toBeLessThanOrEqual(2);
 */
export function countRoundTrips(client: Pick<DynamoDBDocumentClient, 'middlewareStack'>): RoundTripCounter {
  const sent: string[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      sent.push(typeof context.commandName === 'string' ? context.commandName : 'unknown');
      return next(args);
    },
    { step: 'initialize', name: `roundTripCounter${++counters}` },
  );
  return {
    count: () => sent.length,
    reset: () => void sent.splice(0),
    commands: () => [...sent],
  };
}
