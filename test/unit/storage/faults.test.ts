/**
 * Which DynamoDB failures are faults (throttles, conflicts, timeouts, lost connections,
 * DynamoDB's 5xx), and the `503 SERVICE_UNAVAILABLE` they become; everything else passes
 * through for the repositories to interpret or to stay a 500.
 */
import {
  ConditionalCheckFailedException,
  DynamoDBServiceException,
  IdempotentParameterMismatchException,
  InternalServerError,
  ProvisionedThroughputExceededException,
  RequestLimitExceeded,
  ResourceNotFoundException,
  ThrottlingException,
  TransactionCanceledException,
  TransactionConflictException,
  TransactionInProgressException,
} from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../../shared/errors.js';
import { serviceUnavailable, storageFaultOf, type StorageFault } from '../../../shared/storage/faults.js';

const $metadata = { httpStatusCode: 400 };
const cancelled = (...codes: string[]) =>
  new TransactionCanceledException({ message: 'Transaction cancelled', $metadata, CancellationReasons: codes.map((Code) => ({ Code })) });
/** What the SDK's HTTP handler and Node's sockets throw, unmodeled. */
const systemError = (fields: Record<string, unknown>) => Object.assign(new Error('socket trouble'), fields);
const unmodeled = (name: string, httpStatusCode: number, $fault: 'client' | 'server') =>
  new DynamoDBServiceException({ name, $fault, $metadata: { httpStatusCode }, message: name });

describe('storageFaultOf', () => {
  it.each<[string, StorageFault, unknown]>([
    ['ProvisionedThroughputExceededException', 'throttled', new ProvisionedThroughputExceededException({ message: 'slow down', $metadata })],
    ['ThrottlingException', 'throttled', new ThrottlingException({ message: 'slow down', $metadata })],
    ['RequestLimitExceeded', 'throttled', new RequestLimitExceeded({ message: 'slow down', $metadata })],
    ['an unmodeled 429', 'throttled', unmodeled('TooManyRequests', 429, 'client')],
    ['a transaction cancelled by throttling', 'throttled', cancelled('None', 'ThrottlingError')],
    ['a transaction cancelled by provisioned throughput', 'throttled', cancelled('ProvisionedThroughputExceeded', 'None')],
    ['a transaction cancelled by a conflicting transaction', 'conflict', cancelled('None', 'TransactionConflict', 'None')],
    ['TransactionConflictException', 'conflict', new TransactionConflictException({ message: 'conflict', $metadata })],
    ['TransactionInProgressException', 'conflict', new TransactionInProgressException({ message: 'in progress', $metadata })],
    ['the HTTP handler\'s TimeoutError', 'timeout', systemError({ name: 'TimeoutError' })],
    ['a request timeout (ETIMEDOUT)', 'timeout', systemError({ name: 'TimeoutError', code: 'ETIMEDOUT' })],
    ['an unmodeled RequestTimeout', 'timeout', unmodeled('RequestTimeout', 408, 'client')],
    ['ECONNREFUSED', 'unreachable', systemError({ code: 'ECONNREFUSED' })],
    ['ECONNRESET', 'unreachable', systemError({ code: 'ECONNRESET' })],
    ['EPIPE', 'unreachable', systemError({ code: 'EPIPE' })],
    ['InternalServerError', 'unavailable', new InternalServerError({ message: 'oops', $metadata: { httpStatusCode: 500 } })],
    ['an unmodeled ServiceUnavailable (503)', 'unavailable', unmodeled('ServiceUnavailable', 503, 'server')],
  ])('calls %s a fault: %s', (_name, fault, error) => {
    expect(storageFaultOf(error)).toBe(fault);
  });

  it.each<[string, unknown]>([
    ['a failed condition', new ConditionalCheckFailedException({ message: 'no', $metadata })],
    ['a transaction whose condition failed, even beside a conflict', cancelled('ConditionalCheckFailed', 'TransactionConflict')],
    ['a transaction cancelled by a validation error', cancelled('None', 'ValidationError')],
    ['a missing table', new ResourceNotFoundException({ message: 'no table', $metadata })],
    ['a reused idempotency token with another request', new IdempotentParameterMismatchException({ message: 'mismatch', $metadata })],
    ['an unmodeled ValidationException', unmodeled('ValidationException', 400, 'client')],
    ['an endpoint that does not resolve (ENOTFOUND)', systemError({ code: 'ENOTFOUND' })],
    ['a plain Error', new Error('bug')],
    ['an AppError', new AppError('NOT_FOUND', 'No such user.')],
    ['a string', 'TimeoutError'],
    ['undefined', undefined],
  ])('leaves %s alone', (_name, error) => {
    expect(storageFaultOf(error)).toBeUndefined();
  });
});

describe('serviceUnavailable', () => {
  it('makes a throttle a 503 SERVICE_UNAVAILABLE the caller may read, with Retry-After 2 and the cause kept', () => {
    const cause = new ThrottlingException({ message: 'Rate of requests exceeds the allowed throughput.', $metadata });

    const error = serviceUnavailable(cause);

    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ code: 'SERVICE_UNAVAILABLE', status: 503, expose: true, retryAfterSeconds: 2, cause });
    expect(error?.details).toEqual({ dependency: 'dynamodb', fault: 'throttled', cause: 'ThrottlingException' });
    expect(error?.message).toBe('The service is receiving more requests than it can take right now. Try again in 2 seconds.');
  });

  it('asks to retry a timeout after 5 seconds, in a sentence that names no internals', () => {
    const error = serviceUnavailable(systemError({ name: 'TimeoutError', code: 'ETIMEDOUT' }));

    expect(error?.retryAfterSeconds).toBe(5);
    expect(error?.message).toBe('The service could not reach its database in time. Try again in 5 seconds.');
  });

  it('asks to retry a conflict after 1 second', () => {
    expect(serviceUnavailable(cancelled('TransactionConflict'))?.message).toMatch(/Try again in 1 second\.$/);
  });

  it('makes nothing of an error that is no fault', () => {
    expect(serviceUnavailable(new ConditionalCheckFailedException({ message: 'no', $metadata }))).toBeUndefined();
  });
});
