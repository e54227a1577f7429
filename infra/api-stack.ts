/**
 * Stateless stack: the HTTP API (its `$default` stage with access logs and throttling,
 * and the custom domain when configured), one function per entry of `FUNCTIONS` and one
 * route per entry of `ROUTES` (both in `functions/routes.ts`, the single source of what
 * exists), and the alarms. Tables and secrets come from the data stack through props;
 * every grant goes through the bindings, so each function gets what its definition
 * declares.
 */
import { CfnOutput, CrossStackReferences, ReferenceStrength, Stack, type StackProps } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import { FUNCTIONS, ROUTES, routeKey, type FunctionDefinition } from '../functions/routes.js';
import { bindSecretsKey, bindSessionKey, bindSpKey, bindTable } from './bindings.js';
import type { BoundTable, TableKey } from './data-stack.js';
import { FUNCTION_MEMORY_MB, type FunctionId } from './function-memory.js';
import { Monitoring } from './monitoring.js';
import { SsoFunction, type ConsoleSource } from './sso-function.js';
import type { StageConfig } from './stage.js';

/**
 * One JSON line per request. No `$context.path` or query string: OIDC callbacks carry
 * the authorization `code` and `state` in the query, and the route key already says
 * which route (with `{orgId}` unexpanded) was hit. No headers, no bodies.
 */
export const ACCESS_LOG_FIELDS: Readonly<Record<string, string>> = {
  requestId: '$context.requestId',
  requestTime: '$context.requestTime',
  ip: '$context.identity.sourceIp',
  routeKey: '$context.routeKey',
  status: '$context.status',
  latency: '$context.responseLatency',
  integrationLatency: '$context.integrationLatency',
  responseLength: '$context.responseLength',
  integrationStatus: '$context.integrationStatus',
  integrationError: '$context.integrationErrorMessage',
  error: '$context.error.message',
};

/**
 * The unauthenticated routes anyone on the internet can call in bulk, throttled each on
 * its own below the stage default: the ACS and the OIDC callback (each call does signature
 * work and may write the audit trail), the two login starts (each writes a pending login)
 * and discover (answers whether an email has SSO). API Gateway throttles a route as a
 * whole, not per client: this caps what a flood costs; a per-address limit needs WAF in
 * front (README "Protecting the public routes").
 */
export const LOGIN_ROUTE_KEYS = [
  'POST /sso/{orgId}/saml/acs',
  'GET /sso/{orgId}/oidc/callback',
  'GET /sso/{orgId}/login',
  'GET /login/sso',
  'POST /login/discover',
] as const;

/** Props of {@link ApiStack}. */
export interface ApiStackProps extends StackProps {
  readonly config: StageConfig;
  readonly tables: Readonly<Record<TableKey, BoundTable>>;
  readonly sessionSecret: secretsmanager.ISecret;
  readonly secretsKey: kms.IKey;
  readonly spKeySecret: secretsmanager.ISecret;
  /** Where the admin console is built from (default `console/`); tests give a small fixture. */
  readonly consoleSource?: ConsoleSource;
}

/** The public HTTP API and its Lambda functions. */
export class ApiStack extends Stack {
  public readonly api: apigw.HttpApi;
  /** The `$default` stage: access logs and default throttling. */
  public readonly stage: apigw.HttpStage;
  /** The custom domain, when context gives one. */
  public readonly domainName?: apigw.DomainName;
  /** Every function, by its `FunctionDefinition.id`. */
  public readonly functions: ReadonlyMap<string, NodejsFunction>;
  public readonly monitoring: Monitoring;

  constructor(scope: Construct, id: string, props: ApiStackProps) {
    super(scope, id, props);
    // Export/ImportValue: CloudFormation refuses to delete a table or the secret while
    // this stack uses it. Removing one means weakening its reference first (aws-cdk-lib
    // README, "Reference strength"). Must be set before any child exists.
    CrossStackReferences.of(this).consume(ReferenceStrength.STRONG);

    const { config } = props;

    this.api = new apigw.HttpApi(this, 'HttpApi', {
      apiName: `sso-jit-${config.stage}`,
      description: 'sso-jit: SAML/OIDC single sign-on with just-in-time provisioning',
      // Created below, with access logs and throttling.
      createDefaultStage: false,
    });
    const accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: config.logRetention,
      removalPolicy: config.removalPolicy,
    });
    this.stage = this.api.addStage('DefaultStage', {
      stageName: '$default',
      autoDeploy: true,
      throttle: config.throttle,
      accessLogSettings: {
        destination: new apigw.LogGroupLogDestination(accessLogs),
        format: AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FIELDS)),
      },
    });

    if (config.domain) {
      this.domainName = new apigw.DomainName(this, 'CustomDomain', {
        domainName: config.domain.domainName,
        certificate: acm.Certificate.fromCertificateArn(this, 'Certificate', config.domain.certificateArn),
        securityPolicy: apigw.SecurityPolicy.TLS_1_2,
      });
      new apigw.ApiMapping(this, 'CustomDomainMapping', { api: this.api, domainName: this.domainName, stage: this.stage });
    }
    // The runtime builds ACS, metadata and redirect URLs from it: the custom domain when
    // there is one (what IdPs are given), the API's own URL otherwise.
    const baseUrl = config.domain ? `https://${config.domain.domainName}` : this.api.apiEndpoint;

    const functions = new Map<string, NodejsFunction>();
    const integrations = new Map<string, HttpLambdaIntegration>();
    for (const definition of Object.values(FUNCTIONS) as FunctionDefinition[]) {
      const { fn } = new SsoFunction(this, definition.id, {
        definition,
        environment: { BASE_URL: baseUrl },
        memorySize: FUNCTION_MEMORY_MB[definition.id as FunctionId],
        logRemovalPolicy: config.removalPolicy,
        logRetention: config.logRetention,
        ...(props.consoleSource ? { consoleSource: props.consoleSource } : {}),
      });
      for (const [key, access] of Object.entries(definition.tables) as [TableKey, FunctionDefinition['tables'][TableKey]][]) {
        if (access) bindTable(fn, props.tables[key], access);
      }
      bindSessionKey(fn, props.sessionSecret, definition.sessionKeys);
      bindSecretsKey(fn, props.secretsKey, definition.sealsSecrets);
      bindSpKey(fn, props.spKeySecret, definition.spKey);
      functions.set(definition.id, fn);
      if (definition.schedule) {
        new events.Rule(this, `${definition.id}Schedule`, {
          description: `Invokes ${definition.id} (${definition.schedule}).`,
          schedule: events.Schedule.expression(definition.schedule),
          targets: [new targets.LambdaFunction(fn, { retryAttempts: 2 })],
        });
      }
      // One integration per function, shared by all its routes.
      integrations.set(
        definition.id,
        new HttpLambdaIntegration(`${definition.id}Integration`, fn, {
          payloadFormatVersion: apigw.PayloadFormatVersion.VERSION_2_0,
        }),
      );
    }
    this.functions = functions;

    const loginRoutes = new Set<string>(LOGIN_ROUTE_KEYS);
    for (const route of ROUTES) {
      const integration = integrations.get(route.functionId);
      if (!integration) throw new Error(`Route ${route.method} ${route.path}: no function "${route.functionId}" in FUNCTIONS.`);
      const added = this.api.addRoutes({ path: route.path, methods: [apigw.HttpMethod[route.method]], integration });
      // API Gateway refuses route settings that name a route not created yet.
      if (loginRoutes.delete(routeKey(route))) this.stage.node.addDependency(...added);
    }
    if (loginRoutes.size > 0) throw new Error(`LOGIN_ROUTE_KEYS names routes that are not in ROUTES: ${[...loginRoutes].join(', ')}.`);
    // The L2 stage has no per-route settings: set them on the CloudFormation resource.
    (this.stage.node.defaultChild as apigw.CfnStage).routeSettings = Object.fromEntries(
      LOGIN_ROUTE_KEYS.map((key) => [key, { ThrottlingRateLimit: config.loginThrottle.rateLimit, ThrottlingBurstLimit: config.loginThrottle.burstLimit }]),
    );

    this.monitoring = new Monitoring(this, 'Monitoring', { config, api: this.api, functions, tables: props.tables });

    new CfnOutput(this, 'ApiUrl', { value: baseUrl, description: 'BASE_URL of the service' });
    new CfnOutput(this, 'AcsUrlPattern', { value: `${baseUrl}/sso/{orgId}/saml/acs`, description: 'SAML ACS URL of an org' });
    new CfnOutput(this, 'MetadataUrlPattern', {
      value: `${baseUrl}/sso/{orgId}/saml/metadata`,
      description: 'SAML SP metadata URL of an org',
    });
    new CfnOutput(this, 'OidcCallbackUrlPattern', {
      value: `${baseUrl}/sso/{orgId}/oidc/callback`,
      description: 'OIDC redirect URI of an org',
    });
    new CfnOutput(this, 'ExecuteApiEndpoint', {
      value: this.api.apiEndpoint,
      description: "The API's own endpoint (the same as ApiUrl without a custom domain)",
    });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.monitoring.topic.topicArn, description: 'SNS topic of the alarms' });
    new CfnOutput(this, 'AccessLogGroupName', { value: accessLogs.logGroupName, description: 'API access logs' });
    if (this.domainName) {
      new CfnOutput(this, 'CustomDomainTarget', {
        value: this.domainName.regionalDomainName,
        description: `DNS target of ${config.domain!.domainName}: a CNAME to it, or an alias record with CustomDomainHostedZoneId`,
      });
      new CfnOutput(this, 'CustomDomainHostedZoneId', { value: this.domainName.regionalHostedZoneId });
    }
  }
}
