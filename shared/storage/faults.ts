/**
 * Which DynamoDB failures are faults of the moment rather than answers or bugs, in one
 * place: throttling, transaction conflicts, timeouts, dropped or refused connections and
 * DynamoDB's own 5xx. One SDK middleware on the client (`answerFaultsAsUnavailable`, added
 * by the one client factory) turns them, once the SDK's own retries are spent, into
 * `503 SERVICE_UNAVAILABLE` with a `Retry-After`, so every repository and every route
 * answers them the same way without a try/catch of its own. Everything else (a failed
 * condition, a validation error, a missing table) passes through unchanged: conditions
 * are the repositories' to interpret, and the rest is a bug that stays a 500.
 */
import {
  InternalServerError,
  ProvisionedThroughputExceededException,
  RequestLimitExceeded,
  ThrottlingException,
  TransactionCanceledException,
  TransactionConflictException,
  TransactionInProgressException,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { AppError } from '../errors.js';

/** What kind of fault: it decides the `Retry-After` and the sentence the caller reads. */
export type StorageFault = 'throttled' | 'conflict' | 'timeout' | 'unreachable' | 'unavailable';

/** Cancellation reasons of a transaction that wrote nothing and may succeed when sent again. */
const TRANSIENT_CANCELLATIONS = new Map<string, StorageFault>([
  ['ThrottlingError', 'throttled'],
  ['ProvisionedThroughputExceeded', 'throttled'],
  ['TransactionConflict', 'conflict'],
]);

/**
 * Node's codes for a connection that was refused, reset or cut (the SDK retries them too).
 * `ENOTFOUND` is left out: an endpoint that does not resolve is a configuration error.
 */
const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

/**
 * Unmodeled SDK errors carry their code in `name` (the SDK's retry classification reads
 * it the same way): its HTTP handler's connection, request and socket timeouts are all
 * `TimeoutError`.
 */
const TIMEOUT_CODES = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException']);

/** How long to wait before trying again, per fault, in seconds. */
export const RETRY_AFTER_SECONDS: Record<StorageFault, number> = { throttled: 2, conflict: 1, timeout: 5, unreachable: 5, unavailable: 5 };

const SENTENCES: Record<StorageFault, string> = {
  throttled: 'The service is receiving more requests than it can take right now.',
  conflict: 'Another change to the same records was in progress.',
  timeout: 'The service could not reach its database in time.',
  unreachable: 'The service could not reach its database.',
  unavailable: "The service's database is having trouble right now.",
};

interface SdkErrorShape {
  code?: unknown;
  name?: unknown;
  $fault?: unknown;
  $metadata?: { httpStatusCode?: number };
}

/**
 * The kind of fault `error` is, or undefined when it is not one.
 * @example storageFaultOf(new ThrottlingException({ message: 'slow down', $metadata: {} })) // 'throttled'
 */
export function storageFaultOf(error: unknown): StorageFault | undefined {
  if (error instanceof TransactionCanceledException) {
    const reasons = (error.CancellationReasons ?? []).map((reason) => reason.Code ?? 'None');
    // A failed condition is an answer the repository interprets (a lost race, a replay), never a fault.
    if (reasons.includes('ConditionalCheckFailed')) return undefined;
    return reasons.map((reason) => TRANSIENT_CANCELLATIONS.get(reason)).find((fault) => fault !== undefined);
  }
  if (error instanceof ProvisionedThroughputExceededException || error instanceof ThrottlingException || error instanceof RequestLimitExceeded) {
    return 'throttled';
  }
  if (error instanceof TransactionConflictException || error instanceof TransactionInProgressException) return 'conflict';
  if (error instanceof InternalServerError) return 'unavailable';
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, name, $fault, $metadata } = error as SdkErrorShape;
  if (code === 'ETIMEDOUT' || (typeof name === 'string' && TIMEOUT_CODES.has(name))) return 'timeout';
  if (typeof code === 'string' && CONNECTION_CODES.has(code)) return 'unreachable';
  const status = $metadata?.httpStatusCode ?? 0;
  if (status === 429) return 'throttled';
  if (status >= 500 || $fault === 'server') return 'unavailable';
  return undefined;
}

/**
 * `error` as the contract's `503 SERVICE_UNAVAILABLE` when it is a fault, with the cause
 * kept for the log; otherwise undefined.
 */
export function serviceUnavailable(error: unknown): AppError | undefined {
  const fault = storageFaultOf(error);
  if (fault === undefined) return undefined;
  const retryAfterSeconds = RETRY_AFTER_SECONDS[fault];
  const unit = retryAfterSeconds === 1 ? 'second' : 'seconds';
  return new AppError('SERVICE_UNAVAILABLE', `${SENTENCES[fault]} Try again in ${retryAfterSeconds} ${unit}.`, {
    cause: error,
    expose: true,
    retryAfterSeconds,
    details: { dependency: 'dynamodb', fault, cause: error instanceof Error ? error.name : typeof error },
  });
}

/**
 * Adds the middleware that answers faults as `SERVICE_UNAVAILABLE` to a DynamoDB client.
 * It sits first in the stack, outside the SDK's retries: it sees only what they gave up on.
 */
export function answerFaultsAsUnavailable(client: Pick<DynamoDBClient, 'middlewareStack'>): void {
  client.middlewareStack.add(
    (next) => async (args) => {
      try {
        return await next(args);
      } catch (error) {
        throw serviceUnavailable(error) ?? error;
      }
    },
    { step: 'initialize', priority: 'high', name: 'answerFaultsAsUnavailable' },
  );
}
