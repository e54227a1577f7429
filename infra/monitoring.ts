/**
 * The alarms of a stage and the SNS topic they notify (optionally subscribed to an email
 * address from context `alarmEmail`). Every alarm is also sent when it returns to OK.
 *
 * - API: 5xx responses above 1% of requests over 5 minutes, once there are at least
 *   {@link API_ERROR_RATE.minRequests} requests in the window (a few errors at night are
 *   not an incident).
 * - Each function: any Lambda error (with the middy error handler, only crashes,
 *   timeouts and out-of-memory end as Lambda errors) and any throttle (the account's
 *   concurrency is exhausted).
 * - Each table: any throttled request, any DynamoDB system error, summed over the
 *   operations the runtime performs (`ThrottledRequests` / `SystemErrors` count a request
 *   once, whether the table or one of its indexes was throttled).
 * - Failed logins: `LoginFailed` (namespace `METRICS_NAMESPACE`, the `service` dimension
 *   Powertools adds) above the `failedLoginAlarmThreshold` per 5 minutes: an IdP
 *   misconfiguration, an expired certificate or an attack.
 * - Service unavailable: any request answered `503 SERVICE_UNAVAILABLE` (`ServiceUnavailable`):
 *   DynamoDB throttled, timed out or could not be reached even after the SDK's retries.
 *   Client-side timeouts and refused connections appear in no DynamoDB metric: this is
 *   the alarm that sees them.
 */
import { Duration } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { CERTIFICATE_ALARM_DAYS, METRIC, METRICS_NAMESPACE, SERVICE_NAME } from '../functions/observability.js';
import type { BoundTable, TableKey } from './data-stack.js';
import type { StageConfig } from './stage.js';

/** Every alarm looks at 5-minute windows and fires on the first breaching one. */
const PERIOD = Duration.minutes(5);

/** The API 5xx alarm: percentage of requests, and the traffic below which it stays quiet. */
export const API_ERROR_RATE = { thresholdPercent: 1, minRequests: 50 } as const;

/**
 * The DynamoDB operations the runtime performs (shared/storage). CloudWatch publishes
 * `ThrottledRequests` and `SystemErrors` per operation; an alarm's expression may use at
 * most 10 metrics, so the list names only these.
 */
export const TABLE_OPERATIONS: readonly dynamodb.Operation[] = [
  dynamodb.Operation.GET_ITEM,
  dynamodb.Operation.BATCH_GET_ITEM,
  dynamodb.Operation.QUERY,
  dynamodb.Operation.PUT_ITEM,
  dynamodb.Operation.UPDATE_ITEM,
  dynamodb.Operation.DELETE_ITEM,
  dynamodb.Operation.TRANSACT_WRITE_ITEMS,
];

/** Props of {@link Monitoring}. */
export interface MonitoringProps {
  readonly config: StageConfig;
  readonly api: apigw.IHttpApi;
  /** Every function, by its `FunctionDefinition.id`. */
  readonly functions: ReadonlyMap<string, lambda.IFunction>;
  readonly tables: Readonly<Record<TableKey, BoundTable>>;
}

/** The alarm topic and the alarms of one stage. */
export class Monitoring extends Construct {
  public readonly topic: sns.Topic;
  public readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const { config } = props;
    const prefix = `sso-jit-${config.stage}`;

    this.topic = new sns.Topic(this, 'AlarmTopic', {
      displayName: `sso-jit ${config.stage} alarms`,
      enforceSSL: true,
    });
    if (config.alarmEmail) this.topic.addSubscription(new subscriptions.EmailSubscription(config.alarmEmail));
    const notify = new actions.SnsAction(this.topic);

    const alarm = (id: string, name: string, options: Omit<cloudwatch.AlarmProps, 'alarmName' | 'evaluationPeriods'>) => {
      const created = new cloudwatch.Alarm(this, id, {
        alarmName: `${prefix}-${name}`,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        ...options,
      });
      created.addAlarmAction(notify);
      created.addOkAction(notify);
      this.alarms.push(created);
      return created;
    };

    const serverErrorRate = new cloudwatch.MathExpression({
      label: 'API 5xx responses, % of requests',
      expression: `IF(requests >= ${API_ERROR_RATE.minRequests}, 100 * errors / requests, 0)`,
      usingMetrics: {
        errors: props.api.metricServerError({ period: PERIOD, statistic: cloudwatch.Stats.SUM }),
        requests: props.api.metricCount({ period: PERIOD, statistic: cloudwatch.Stats.SUM }),
      },
      period: PERIOD,
    });
    alarm('Api5xxRate', 'api-5xx-rate', {
      alarmDescription: `More than ${API_ERROR_RATE.thresholdPercent}% of API requests answered 5xx in 5 minutes (at least ${API_ERROR_RATE.minRequests} requests). Look at the function error alarms and the functions' logs by correlation id.`,
      metric: serverErrorRate,
      threshold: API_ERROR_RATE.thresholdPercent,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    });

    for (const [functionId, fn] of props.functions) {
      alarm(`${functionId}Errors`, `${functionId}-errors`, {
        alarmDescription: `The ${functionId} function crashed, timed out or ran out of memory.`,
        metric: fn.metricErrors({ period: PERIOD, statistic: cloudwatch.Stats.SUM }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      });
      alarm(`${functionId}Throttles`, `${functionId}-throttles`, {
        alarmDescription: `Invocations of the ${functionId} function were throttled: the account's Lambda concurrency is exhausted.`,
        metric: fn.metricThrottles({ period: PERIOD, statistic: cloudwatch.Stats.SUM }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      });
    }

    for (const { table, definition } of Object.values(props.tables)) {
      alarm(`${definition.id}TableThrottles`, `${definition.id}-table-throttles`, {
        alarmDescription: `Requests to the ${definition.id} table or its indexes were throttled.`,
        metric: table.metricThrottledRequestsForOperations({ operations: [...TABLE_OPERATIONS], period: PERIOD }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      });
      alarm(`${definition.id}TableSystemErrors`, `${definition.id}-table-system-errors`, {
        alarmDescription: `DynamoDB answered requests to the ${definition.id} table with system errors (HTTP 500).`,
        metric: table.metricSystemErrorsForOperations({ operations: [...TABLE_OPERATIONS], period: PERIOD }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      });
    }

    alarm('ServiceUnavailable', 'service-unavailable', {
      alarmDescription:
        'Requests were answered 503 SERVICE_UNAVAILABLE: DynamoDB throttled, timed out or could not be reached even after the SDK retries. The ServiceUnavailable metric by fault, and the functions\' warnings "a dependency is unavailable" with the error, say which.',
      metric: new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName: METRIC.serviceUnavailable,
        dimensionsMap: { service: SERVICE_NAME },
        statistic: cloudwatch.Stats.SUM,
        period: PERIOD,
      }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    });

    // Published once a day by DailyCheck; no data (no org with SAML, no SP key) is not a breach.
    const certificateAlarm = (id: string, name: string, metricName: string, alarmDescription: string) =>
      alarm(id, name, {
        alarmDescription,
        metric: new cloudwatch.Metric({
          namespace: METRICS_NAMESPACE,
          metricName,
          dimensionsMap: { service: SERVICE_NAME },
          statistic: cloudwatch.Stats.MINIMUM,
          period: Duration.days(1),
        }),
        threshold: CERTIFICATE_ALARM_DAYS,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    certificateAlarm(
      'IdpCertificateExpiring',
      'idp-certificate-expiring',
      METRIC.idpCertificateDaysLeft,
      `An org's IdP signing certificate expires within ${CERTIFICATE_ALARM_DAYS} days (or has expired): logins verified only by it will fail. IdpCertificateDaysLeft by orgId says which org; its audit log has settings.sso.certificate_expiring with the fingerprint.`,
    );
    certificateAlarm(
      'SpCertificateExpiring',
      'sp-certificate-expiring',
      METRIC.spCertificateDaysLeft,
      `An SP certificate (signing or encryption) expires within ${CERTIFICATE_ALARM_DAYS} days: run sso-jit sp-key rotate, tell IdPs that check AuthnRequest signatures, and have IdPs that encrypt assertions import the new SP metadata (the previous encryption key keeps decrypting until the next rotation).`,
    );

    alarm('FailedLoginSpike', 'failed-login-spike', {
      alarmDescription: `More than ${config.failedLoginAlarmThreshold} failed logins in 5 minutes. The LoginFailed metric by code, and the audit events, say which org and why.`,
      metric: new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName: METRIC.loginFailed,
        dimensionsMap: { service: SERVICE_NAME },
        statistic: cloudwatch.Stats.SUM,
        period: PERIOD,
      }),
      threshold: config.failedLoginAlarmThreshold,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    });
  }
}
