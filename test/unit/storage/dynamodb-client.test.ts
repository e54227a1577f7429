/**
 * The one DynamoDB client factory bounds every call: its timeouts end an attempt that
 * gets no answer, its attempts are counted, and what the SDK gives up on arrives as
 * `503 SERVICE_UNAVAILABLE`. The faults are real sockets on loopback (a server that
 * never answers, a closed port) or a throttled answer, injected on the client's stack;
 * no DynamoDB is needed. Also the limits' config: defaults, overrides, refusals.
 */
import { GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { documentClient } from '../../../functions/runtime.js';
import { ConfigError, DEFAULT_DYNAMODB_LIMITS, MAX_DYNAMODB_CALL_MS, readConfig, worstCaseCallMs, type DynamoDbLimits } from '../../../shared/config.js';
import { AppError } from '../../../shared/errors.js';
import { injectFaults, type FaultInjector } from '../../support/faults.js';

const LIMITS: DynamoDbLimits = { connectTimeoutMs: 200, requestTimeoutMs: 200, maxAttempts: 3 };
const get = new GetCommand({ TableName: 'users', Key: { pk: 'ORG#acme', sk: 'USER#ada' } });

let faults: FaultInjector | undefined;
afterEach(async () => {
  await faults?.close();
  faults = undefined;
});

/** A client of the factory whose every attempt meets `kind`. */
async function faultedClient(kind: 'throttle' | 'timeout' | 'refuse', limits = LIMITS) {
  // Nothing listens on port 9 (discard): no attempt ever reaches a real DynamoDB.
  const client = documentClient({ dynamodbEndpoint: 'http://127.0.0.1:9', dynamodbLimits: limits });
  faults = await injectFaults(client);
  faults.inject({ kind });
  return client;
}

async function failureOf(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

describe('documentClient', () => {
  it('ends each attempt that gets no answer at the request timeout, and gives up after maxAttempts with SERVICE_UNAVAILABLE', async () => {
    const client = await faultedClient('timeout');

    const error = await failureOf(client.send(get));

    expect(error).toMatchObject({ code: 'SERVICE_UNAVAILABLE', status: 503, retryAfterSeconds: 5, details: { fault: 'timeout', cause: 'TimeoutError' } });
    expect(faults!.attempts().map((attempt) => attempt.fault)).toEqual(['timeout', 'timeout', 'timeout']);
  });

  it('makes exactly one attempt when maxAttempts is 1', async () => {
    const client = await faultedClient('timeout', { ...LIMITS, maxAttempts: 1 });

    await failureOf(client.send(get));

    expect(faults!.attempts()).toHaveLength(1);
  });

  it('answers refused connections SERVICE_UNAVAILABLE after maxAttempts', async () => {
    const client = await faultedClient('refuse');

    const error = await failureOf(client.send(get));

    expect(error.details).toMatchObject({ fault: 'unreachable', cause: expect.any(String) });
    expect(faults!.attempts()).toHaveLength(3);
  });

  it('answers throttling SERVICE_UNAVAILABLE after maxAttempts, backing off between them', async () => {
    const client = await faultedClient('throttle', { ...LIMITS, maxAttempts: 2 });

    const error = await failureOf(client.send(get));

    expect(error).toMatchObject({ retryAfterSeconds: 2, details: { fault: 'throttled', cause: 'ThrottlingException' } });
    expect(faults!.attempts()).toHaveLength(2);
  });

  it('sends every attempt of a transaction with the one ClientRequestToken it was given', async () => {
    const client = await faultedClient('timeout', { ...LIMITS, maxAttempts: 2 });
    const token = '3f1c2a5e-0000-4000-8000-00000000abcd';

    await failureOf(client.send(new TransactWriteCommand({ ClientRequestToken: token, TransactItems: [{ Put: { TableName: 'users', Item: { pk: 'a', sk: 'b' } } }] })));

    expect(faults!.attempts().map((attempt) => attempt.clientRequestToken)).toEqual([token, token]);
  });
});

describe('the DynamoDB limits in the config', () => {
  const env = { BASE_URL: 'https://sso.example.com', USERS_TABLE: 'u', MAPPINGS_TABLE: 'm', AUDIT_TABLE: 'a', LOGIN_STATE_TABLE: 'l', SESSION_KEY_FILE: '/tmp/k' };

  it('defaults to a second per attempt and three attempts', () => {
    expect(readConfig(env).dynamodbLimits).toEqual({ connectTimeoutMs: 1_000, requestTimeoutMs: 1_000, maxAttempts: 3 });
    expect(DEFAULT_DYNAMODB_LIMITS).toEqual({ connectTimeoutMs: 1_000, requestTimeoutMs: 1_000, maxAttempts: 3 });
  });

  it('lets one call take at most 6 s by default, well inside the 10 s function timeout and API Gateway\'s 30 s', () => {
    expect(worstCaseCallMs(DEFAULT_DYNAMODB_LIMITS)).toBe(6_000);
  });

  it('reads the limits from the environment', () => {
    const limits = readConfig({ ...env, DYNAMODB_CONNECT_TIMEOUT_MS: '300', DYNAMODB_REQUEST_TIMEOUT_MS: '800', DYNAMODB_MAX_ATTEMPTS: '2' }).dynamodbLimits;

    expect(limits).toEqual({ connectTimeoutMs: 300, requestTimeoutMs: 800, maxAttempts: 2 });
  });

  it.each([
    ['DYNAMODB_REQUEST_TIMEOUT_MS', 'soon'],
    ['DYNAMODB_REQUEST_TIMEOUT_MS', '0'],
    ['DYNAMODB_CONNECT_TIMEOUT_MS', '1.5'],
    ['DYNAMODB_MAX_ATTEMPTS', '0'],
    ['DYNAMODB_MAX_ATTEMPTS', '11'],
  ])('refuses %s=%s, naming the variable', (name, value) => {
    expect(() => readConfig({ ...env, [name]: value })).toThrow(new RegExp(name));
  });

  it(`refuses limits that let one call take longer than ${MAX_DYNAMODB_CALL_MS} ms`, () => {
    const tooLong = { ...env, DYNAMODB_REQUEST_TIMEOUT_MS: '3000', DYNAMODB_MAX_ATTEMPTS: '4' };

    expect(() => readConfig(tooLong)).toThrow(ConfigError);
    expect(() => readConfig(tooLong)).toThrow(/19000 ms/);
  });
});
