/**
 * The middy middlewares every function uses: the body size limit and the one error
 * handler that turns errors into responses (last in the chain, so it sees them all).
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import { AppError } from '../../shared/errors.js';
import { countServiceUnavailable } from '../observability.js';
import { escapeHtml, html, json, page, wantsJson, type HttpEvent, type HttpResult } from './responses.js';

/** Any request body over this many bytes is `413 PAYLOAD_TOO_LARGE` (API.md). */
export const MAX_BODY_BYTES = 256 * 1024;

export function bodyLimit(maxBytes = MAX_BODY_BYTES): MiddlewareObj<HttpEvent, HttpResult> {
  return {
    before: ({ event }) => {
      if (!event.body) return;
      const bytes = Buffer.byteLength(event.body, event.isBase64Encoded ? 'base64' : 'utf8');
      if (bytes > maxBytes) {
        throw new AppError('PAYLOAD_TOO_LARGE', `The request body is larger than ${maxBytes / 1024} KiB.`);
      }
    },
  };
}

export interface ErrorResponderOptions {
  logger: Logger;
  /** Where `503 SERVICE_UNAVAILABLE` answers are counted (the alarm watches them). */
  metrics?: Metrics;
  /**
   * Login routes answer browsers with an HTML page unless they ask for JSON. A function
   * decides per request: `false` gives the JSON error body whatever `Accept` says.
   */
  browserPages?: boolean | ((event: HttpEvent) => boolean);
  /** Headers every error response carries besides the usual ones (the console's security headers). */
  headers?: Readonly<Record<string, string>>;
  /** The stylesheet error pages link instead of an inline style (the console's, under its CSP). */
  pageStylesheet?: () => string | undefined;
}

/**
 * Turns any error into the contract's error response. Exposed `AppError`s keep their
 * code and message, and a `Retry-After` header when they say when to retry; anything
 * else becomes a generic 500 with the request id, and the real reason goes to the log
 * only. A `SERVICE_UNAVAILABLE` (DynamoDB throttled, slow or gone) is logged as a warning
 * with its cause and the route's org, and counted.
 */
export function errorResponder(options: ErrorResponderOptions): MiddlewareObj<HttpEvent, HttpResult, Error, Context> {
  return {
    onError: (request) => {
      const { error, event, context } = request;
      let status = 500;
      let code = 'INTERNAL';
      let message = `Something went wrong on our side. Quote request id ${context.awsRequestId} when asking for help.`;
      const headers: Record<string, string> = { ...options.headers };
      if (error instanceof AppError && error.expose) {
        ({ status, code, message } = error);
        if (error.retryAfterSeconds !== undefined) headers['retry-after'] = String(error.retryAfterSeconds);
        if (error.code === 'SERVICE_UNAVAILABLE') {
          const fault = String(error.details.fault ?? 'unknown');
          // The cause is what an operator needs; the caller got a sentence and Retry-After.
          options.logger.warn('request refused: a dependency is unavailable', { code, status, orgId: event.pathParameters?.orgId, fault, error: error.cause });
          if (options.metrics) countServiceUnavailable(options.metrics, fault);
        } else {
          options.logger.info('request refused', { code, status });
        }
      } else {
        options.logger.error('request failed', error as Error);
      }
      request.response =
        (typeof options.browserPages === 'function' ? options.browserPages(event) : options.browserPages) && !wantsJson(event)
          ? html(status, page('Sign-in failed', `<h1>Sign-in failed</h1><p>${escapeHtml(message)}</p><p>Error code: <code>${escapeHtml(code)}</code></p>`, { stylesheet: options.pageStylesheet?.() }), headers)
          : json(status, { error: { code, message } }, headers);
    },
  };
}
