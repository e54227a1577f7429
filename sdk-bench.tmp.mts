import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { startDynamoDbLocal, createTables } from './local/dynamodb.js';
import { tableNamesFor } from './shared/storage/tables.js';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { documentClient } from './functions/runtime.js';
const db = await startDynamoDbLocal();
try {
  const tables = tableNamesFor('sdkb');
  const client = documentClient({ dynamodbEndpoint: db.endpoint });
  await createTables(client, tables);
  await client.send(new PutCommand({ TableName: tables.users, Item: { pk: 'a', sk: 'b', x: 1, name: 'hello', list: [1,2,3] } }));
  const n = 2000;
  for (let i = 0; i < 500; i++) await client.send(new GetCommand({ TableName: tables.users, Key: { pk: 'a', sk: 'b' } }));
  const s = new Session(); s.connect(); await s.post('Profiler.enable'); await s.post('Profiler.start');
  const c = process.cpuUsage();
  for (let i = 0; i < n; i++) await client.send(new GetCommand({ TableName: tables.users, Key: { pk: 'a', sk: 'b' } }));
  const u = process.cpuUsage(c);
  const { profile } = await s.post('Profiler.stop'); writeFileSync('/tmp/sdk.cpuprofile', JSON.stringify(profile));
  console.log('GetItem CPU', ((u.user + u.system) / 1000 / n).toFixed(3), 'ms');
} finally { await db.stop(); }
