/**
 * Names shared by the functions that emit metrics and the CDK alarms that watch them
 * (no CDK import). Metrics go out as CloudWatch embedded metric format through
 * Powertools, flushed once per invocation by its middy middleware.
 */
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import type { MiddlewareObj } from '@middy/core';
import { AppError } from '../shared/errors.js';

export const METRICS_NAMESPACE = 'SsoJit';
export const SERVICE_NAME = 'sso-jit';

/** Counts a user created by JIT. */
export function countUserCreated(metrics: Metrics): void {
  metrics.addMetric(METRIC.usersCreated, MetricUnit.Count, 1);
}

export const METRIC = {
  loginSucceeded: 'LoginSucceeded',
  /** Every refused login; also emitted per error code with a `code` dimension. */
  loginFailed: 'LoginFailed',
  usersCreated: 'UsersCreated',
  /** Every request answered `503 SERVICE_UNAVAILABLE` (DynamoDB throttled, slow or gone); also per `fault` dimension. */
  serviceUnavailable: 'ServiceUnavailable',
  /** Per org (`orgId` dimension): the days left of its IdP certificate that expires first; published daily. */
  idpCertificateDaysLeft: 'IdpCertificateDaysLeft',
  /** The days left of the SP signing certificate; published daily. */
  spCertificateDaysLeft: 'SpCertificateDaysLeft',
} as const;

/** Days left under which the certificate alarms fire (API.md: 30 days of warnings before expiry). */
export const CERTIFICATE_ALARM_DAYS = 30;

/**
 * Counts a request answered `503 SERVICE_UNAVAILABLE`, in total and by the kind of
 * fault. Published at once (single metrics): the error responder runs after the
 * Powertools middleware has flushed, and not every function has that middleware.
 */
export function countServiceUnavailable(metrics: Metrics, fault: string): void {
  metrics.singleMetric().addMetric(METRIC.serviceUnavailable, MetricUnit.Count, 1);
  const perFault = metrics.singleMetric();
  perFault.addDimension('fault', fault);
  perFault.addMetric(METRIC.serviceUnavailable, MetricUnit.Count, 1);
}

/**
 * Counts logins: succeeded after the handler, failed (in total, and per code with a
 * `code` dimension) on error. Sits inside the error responder, so it sees the real
 * error; the handler counts the users it creates.
 */
export function loginMetrics(metrics: Metrics): MiddlewareObj {
  return {
    after: () => {
      metrics.addMetric(METRIC.loginSucceeded, MetricUnit.Count, 1);
    },
    onError: ({ error }) => {
      metrics.addMetric(METRIC.loginFailed, MetricUnit.Count, 1);
      const perCode = metrics.singleMetric();
      perCode.addDimension('code', error instanceof AppError ? error.code : 'INTERNAL');
      perCode.addMetric(METRIC.loginFailed, MetricUnit.Count, 1);
    },
  };
}
