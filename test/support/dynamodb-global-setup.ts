/**
 * vitest globalSetup of the integration project: one DynamoDB Local for the whole run,
 * its endpoint provided to every test file as `inject('dynamodbEndpoint')`. Each file
 * creates its own uniquely prefixed tables (test/support/dynamodb.ts), so files can run
 * in parallel against the one instance. With `DYNAMODB_ENDPOINT` set, that endpoint is
 * used instead and nothing is started.
 */
import type { TestProject } from 'vitest/node';
import { startDynamoDbLocal } from '../../local/dynamodb.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Endpoint of the DynamoDB the integration tests use, e.g. `http://127.0.0.1:41234`. */
    dynamodbEndpoint: string;
  }
}

/** Starts DynamoDB Local (unless `DYNAMODB_ENDPOINT` is set) and returns its teardown. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const existing = process.env.DYNAMODB_ENDPOINT;
  if (existing) {
    project.provide('dynamodbEndpoint', existing);
    return async () => undefined;
  }
  const dynamodb = await startDynamoDbLocal();
  project.provide('dynamodbEndpoint', dynamodb.endpoint);
  return () => dynamodb.stop();
}
