/**
 * The local tables against DynamoDB Local: created from shared/storage/tables.ts with
 * their keys, indexes and TTL, idempotently, and the round-trip counter the performance
 * tests rely on.
 */
import { DescribeTableCommand, DescribeTimeToLiveCommand, type TableDescription } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTables } from '../../local/dynamodb.js';
import { TABLES, type TableDefinition, type TableNames } from '../../shared/storage/tables.js';
import { countRoundTrips, useTestTables, type TestTables } from '../support/dynamodb.js';

const NAME_OF: Record<TableDefinition['id'], keyof TableNames> = {
  Users: 'users',
  Mappings: 'mappings',
  Audit: 'audit',
  LoginState: 'loginState',
};

let db: TestTables;

beforeAll(async () => {
  db = await useTestTables();
});

async function describeTable(name: string): Promise<TableDescription> {
  const { Table } = await db.client.send(new DescribeTableCommand({ TableName: name }));
  if (!Table) throw new Error(`${name} not found`);
  return Table;
}

function keySchemaOf(partitionKey: { name: string }, sortKey?: { name: string }): { AttributeName: string; KeyType: string }[] {
  return [
    { AttributeName: partitionKey.name, KeyType: 'HASH' },
    ...(sortKey ? [{ AttributeName: sortKey.name, KeyType: 'RANGE' }] : []),
  ];
}

describe.each(TABLES.map((table) => [table.id, table] as const))('the %s table', (_id, definition) => {
  it('has the key schema of its definition', async () => {
    const table = await describeTable(db.names[NAME_OF[definition.id]]);

    expect(table.KeySchema).toEqual(keySchemaOf(definition.partitionKey, definition.sortKey));
  });

  it('has the global indexes of its definition, projecting all attributes', async () => {
    const table = await describeTable(db.names[NAME_OF[definition.id]]);

    // DynamoDB lists indexes in no particular order (two on the users table since issue 14).
    const byName = (a: { name?: string }, b: { name?: string }) => String(a.name).localeCompare(String(b.name));
    const indexes = (table.GlobalSecondaryIndexes ?? []).map((index) => ({
      name: index.IndexName,
      keys: index.KeySchema,
      projection: index.Projection?.ProjectionType,
    }));
    expect(indexes.sort(byName)).toEqual(
      definition.globalIndexes
        .map((index) => ({
          name: index.indexName,
          keys: keySchemaOf(index.partitionKey, index.sortKey),
          projection: 'ALL',
        }))
        .sort(byName),
    );
  });

  it('declares every key attribute with the type of its definition', async () => {
    const table = await describeTable(db.names[NAME_OF[definition.id]]);

    const keys = [definition.partitionKey, definition.sortKey, ...definition.globalIndexes.flatMap((i) => [i.partitionKey, i.sortKey])];
    const expected = new Map(keys.filter((k) => k !== undefined).map((k) => [k.name, k.type]));
    expect(new Map(table.AttributeDefinitions?.map((a) => [a.AttributeName, a.AttributeType]))).toEqual(expected);
  });

  it('bills per request', async () => {
    const table = await describeTable(db.names[NAME_OF[definition.id]]);

    expect(table.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
  });

  it('expires items on the TTL attribute of its definition, if it has one', async () => {
    const { TimeToLiveDescription } = await db.client.send(new DescribeTimeToLiveCommand({ TableName: db.names[NAME_OF[definition.id]] }));

    if (definition.ttlAttribute === undefined) {
      expect(TimeToLiveDescription?.TimeToLiveStatus).toBe('DISABLED');
    } else {
      expect(TimeToLiveDescription).toEqual({ TimeToLiveStatus: 'ENABLED', AttributeName: definition.ttlAttribute });
    }
  });
});

describe('createTables', () => {
  it('leaves existing tables and their items alone when run again', async () => {
    const item = { pk: 'ORG#o1', sk: 'USER#a@example.com', email: 'a@example.com' };
    await db.client.send(new PutCommand({ TableName: db.names.users, Item: item }));

    await createTables(db.client, db.names);

    const { Item } = await db.client.send(new GetCommand({ TableName: db.names.users, Key: { pk: item.pk, sk: item.sk } }));
    expect(Item).toEqual(item);
  });

  it('makes the email index of the users table queryable', async () => {
    const item = { pk: 'ORG#o2', sk: 'USER#b@example.com', email: 'b@example.com' };
    await db.client.send(new PutCommand({ TableName: db.names.users, Item: item }));

    const { Items } = await db.client.send(
      new QueryCommand({
        TableName: db.names.users,
        IndexName: 'byEmail',
        KeyConditionExpression: 'email = :e',
        ExpressionAttributeValues: { ':e': 'b@example.com' },
      }),
    );

    expect(Items).toEqual([item]);
  });
});

describe('countRoundTrips', () => {
  it('counts each command the client sends, by name, until reset', async () => {
    const { client, names } = await useTestTables();
    const trips = countRoundTrips(client);
    const key = { pk: 'ORG#o3', sk: 'USER#c@example.com' };

    await client.send(new PutCommand({ TableName: names.users, Item: key }));
    await client.send(new GetCommand({ TableName: names.users, Key: key }));

    expect(trips.count()).toBe(2);
    expect(trips.commands()).toEqual(['PutItemCommand', 'GetItemCommand']);
  });

  it('starts again from zero after reset', async () => {
    const { client, names } = await useTestTables();
    const trips = countRoundTrips(client);
    await client.send(new GetCommand({ TableName: names.users, Key: { pk: 'x', sk: 'y' } }));

    trips.reset();
    await client.send(new GetCommand({ TableName: names.users, Key: { pk: 'x', sk: 'y' } }));

    expect(trips.count()).toBe(1);
  });
});
