/**
 * Profiling aid (not part of `npm run bench`): what one DynamoDB call costs the calling
 * process in CPU on this machine, through the service's document client, a bare
 * DynamoDBClient, and a bare `fetch` of the same GetItem with no SDK at all. It shows
 * how much of a login's storage cost is the AWS SDK and how much the HTTP round trip.
 *
 *   npx tsx bench/profile/dynamodb-call.ts
 */
import { DynamoDBClient, CreateTableCommand, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { startDynamoDbLocal } from '../../local/dynamodb.js';
import { documentClient } from '../../functions/runtime.js';
const d = await startDynamoDbLocal();
const base = { endpoint: d.endpoint, region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
const raw = new DynamoDBClient(base);
await raw.send(new CreateTableCommand({ TableName: 'ttt', BillingMode: 'PAY_PER_REQUEST', AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }], KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }] }));
const doc = documentClient({ dynamodbEndpoint: d.endpoint } as Parameters<typeof documentClient>[0]);
await doc.send(new PutCommand({ TableName: 'ttt', Item: { pk: 'a', x: 'hello', n: 5, l: ['a', 'b'] } }));
async function run(name: string, f: () => Promise<unknown>) {
  for (let i = 0; i < 300; i++) await f();
  const N = 1500; const c = process.cpuUsage();
  for (let i = 0; i < N; i++) await f();
  const u = process.cpuUsage(c); console.log(name, ((u.user + u.system) / 1000 / N).toFixed(3), 'ms/call');
}
await run('doc client (service config)', () => doc.send(new GetCommand({ TableName: 'ttt', Key: { pk: 'a' }, ConsistentRead: true })));
await run('raw client default', () => raw.send(new GetItemCommand({ TableName: 'ttt', Key: { pk: { S: 'a' } }, ConsistentRead: true })));
await run('fetch (no SDK, unsigned)', () => fetch(d.endpoint, { method: 'POST', headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'DynamoDB_20120810.GetItem', authorization: 'AWS4-HMAC-SHA256 Credential=local/20260101/local/dynamodb/aws4_request, SignedHeaders=host, Signature=00' }, body: JSON.stringify({ TableName: 'ttt', Key: { pk: { S: 'a' } }, ConsistentRead: true }) }).then((r) => r.text()));
await d.stop();
