/**
 * CDK assertion tests of the synthesized stacks: every route and table of the shared
 * definitions exists as declared, functions run Node 22 on arm64 with their memory and
 * a bundle of at most 1.5 MB, each function's IAM policy and environment name exactly
 * the tables its definition declares, the stage logs and throttles, the alarms exist,
 * and cdk-nag's AwsSolutions pack finds nothing unacknowledged.
 * The Console function's bundle carries the admin console, built by CDK's bundling (from
 * a small fixture here: the app itself is not what these tests are about).
 * Each app is synthesized once per file: the dev app with its bundles, a prod app (from
 * context, with a custom domain) without bundling.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { App, type Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { METRIC, METRICS_NAMESPACE, SERVICE_NAME } from '../../functions/observability.js';
import { FUNCTIONS, ROUTES, type FunctionDefinition } from '../../functions/routes.js';
import { TABLES, type TableDefinition } from '../../shared/storage/tables.js';
import { ACCESS_LOG_FIELDS, LOGIN_ROUTE_KEYS } from '../../infra/api-stack.js';
import { DataStack, tableKey, type TableKey } from '../../infra/data-stack.js';
import { FUNCTION_MEMORY_MB, type FunctionId } from '../../infra/function-memory.js';
import { nagPack } from '../../infra/nag.js';
import { createStacks, type SsoJitStacks } from '../../infra/stacks.js';
import { consoleBuildCommand, LAMBDA_CONSOLE_DIR } from '../../infra/sso-function.js';
import { STAGE_DEFAULTS, stageConfig, stageFromContext } from '../../infra/stage.js';
import { FIXTURE_MARKER, writeConsoleFixture } from '../support/console-fixture.js';

type Json = Record<string, any>;

const FUNCTION_DEFINITIONS = Object.values(FUNCTIONS) as FunctionDefinition[];
const READ = ['dynamodb:BatchGetItem', 'dynamodb:ConditionCheckItem', 'dynamodb:GetItem', 'dynamodb:Query'];
const WRITE = [...READ, 'dynamodb:DeleteItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'].sort();

/** The same context `cdk synth` uses (feature flags), so the tests see the deployed template. */
const cdkContext = (JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as { context: Record<string, unknown> }).context;

/** Context of the prod app: what an operator passes with `-c`, as strings. */
const PROD_CONTEXT = {
  stage: 'prod',
  domainName: 'sso.example.com',
  certificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/0f6a3b1e-1111-2222-3333-444455556666',
  throttleRateLimit: '200',
  throttleBurstLimit: '400',
  loginThrottleRateLimit: '50',
  loginThrottleBurstLimit: '80',
  alarmEmail: 'oncall@example.com',
  failedLoginAlarmThreshold: '250',
  logRetentionDays: '90',
};

const MAX_BUNDLE_BYTES = 1.5 * 1024 * 1024;

let app: App;
let stacks: SsoJitStacks;
let data: Template;
let api: Template;
let prod: SsoJitStacks;
let prodData: Template;
let prodApi: Template;

beforeAll(() => {
  app = new App({ context: cdkContext });
  const fixture = writeConsoleFixture();
  stacks = createStacks(app, stageConfig('dev'), undefined, { consoleSource: { entry: fixture.entry, css: fixture.css } });
  data = Template.fromStack(stacks.data);
  api = Template.fromStack(stacks.api);
  // No bundling needed for the prod app: skip it.
  const prodApp = new App({ context: { ...cdkContext, ...PROD_CONTEXT, 'aws:cdk:bundling-stacks': [] } });
  prod = createStacks(prodApp, stageFromContext(prodApp.node));
  prodData = Template.fromStack(prod.data);
  prodApi = Template.fromStack(prod.api);
});

const tableLogicalId = (definition: TableDefinition) =>
  stacks.data.getLogicalId(stacks.data.tables[tableKey(definition)].table.node.defaultChild as never);
const functionLogicalId = (id: string) => stacks.api.getLogicalId(stacks.api.functions.get(id)!.node.defaultChild as never);
const roleLogicalId = (id: string) => stacks.api.getLogicalId(stacks.api.functions.get(id)!.role!.node.defaultChild as never);
const asArray = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

/** The folder of a function's bundle in the cloud assembly. */
function bundleDir(id: string): string {
  const code = api.findResources('AWS::Lambda::Function')[functionLogicalId(id)]!.Properties.Code as Json;
  return join(app.outdir, `asset.${(code.S3Key as string).replace(/\.zip$/, '')}`);
}

/** The statements of the policies attached to a role. */
function statementsOfRole(roleId: string): Json[] {
  return Object.values(api.findResources('AWS::IAM::Policy'))
    .filter((policy) => JSON.stringify(policy.Properties.Roles).includes(`"${roleId}"`))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Json[]);
}

describe('data stack', () => {
  it('creates exactly the tables of TABLES', () => {
    data.resourceCountIs('AWS::DynamoDB::Table', TABLES.length);
  });

  it.each(TABLES.map((t) => [t.id, t] as const))(
    'builds the %s table from its definition: keys, on-demand, PITR, AWS-managed encryption, TTL and indexes',
    (_id, definition) => {
      const keySchema = (pk: { name: string }, sk?: { name: string }) => [
        { AttributeName: pk.name, KeyType: 'HASH' },
        ...(sk ? [{ AttributeName: sk.name, KeyType: 'RANGE' }] : []),
      ];
      data.templateMatches({
        Resources: {
          [tableLogicalId(definition)]: {
            Type: 'AWS::DynamoDB::Table',
            Properties: {
              KeySchema: keySchema(definition.partitionKey, definition.sortKey),
              BillingMode: 'PAY_PER_REQUEST',
              PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
              SSESpecification: { SSEEnabled: true },
              TimeToLiveSpecification: definition.ttlAttribute
                ? { AttributeName: definition.ttlAttribute, Enabled: true }
                : Match.absent(),
              GlobalSecondaryIndexes:
                definition.globalIndexes.length > 0
                  ? definition.globalIndexes.map((index) =>
                      Match.objectLike({ IndexName: index.indexName, KeySchema: keySchema(index.partitionKey, index.sortKey) }),
                    )
                  : Match.absent(),
            },
          },
        },
      });
    },
  );

  it('destroys tables and the secret with a dev stack', () => {
    for (const type of ['AWS::DynamoDB::Table', 'AWS::SecretsManager::Secret']) {
      expect(Object.values(data.findResources(type)).map((r) => r.DeletionPolicy)).toEqual(
        Object.keys(data.findResources(type)).map(() => 'Delete'),
      );
    }
  });

  it('retains tables, secrets, the KMS key and log groups outside dev', () => {
    expect(prod.data.stackName).toBe('SsoJit-prod-Data');
    prodData.allResources('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    prodData.allResources('AWS::SecretsManager::Secret', { DeletionPolicy: 'Retain' });
    prodData.allResources('AWS::KMS::Key', { DeletionPolicy: 'Retain' });
    prodApi.allResources('AWS::Logs::LogGroup', { DeletionPolicy: 'Retain' });
  });

  it('protects tables from deletion outside dev only', () => {
    prodData.allResourcesProperties('AWS::DynamoDB::Table', { DeletionProtectionEnabled: true });
    for (const table of Object.values(data.findResources('AWS::DynamoDB::Table'))) {
      expect(table.Properties.DeletionProtectionEnabled).not.toBe(true);
    }
  });

  it('generates a 64-character session signing seed without punctuation, and holds a secret for the SP key pair', () => {
    data.resourceCountIs('AWS::SecretsManager::Secret', 2);
    data.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: { PasswordLength: 64, ExcludePunctuation: true },
    });
    data.hasResourceProperties('AWS::SecretsManager::Secret', { Description: Match.stringLikeRegexp('SP key pair') });
  });
});

describe('api stack', () => {
  it('names the stacks by stage', () => {
    expect([stacks.data.stackName, stacks.api.stackName]).toEqual(['SsoJit-dev-Data', 'SsoJit-dev-Api']);
  });

  it('creates one function per FUNCTIONS entry and nothing else', () => {
    api.resourceCountIs('AWS::Lambda::Function', FUNCTION_DEFINITIONS.length);
    api.resourceCountIs('AWS::ApiGatewayV2::Route', ROUTES.length);
  });

  it.each(FUNCTION_DEFINITIONS.map((f) => [f.id, FUNCTION_MEMORY_MB[f.id as FunctionId], f.timeoutSeconds ?? 10]))(
    'runs %s on nodejs22.x arm64 with %i MB, a %i s timeout, the shared settings and the Powertools environment',
    (id, memory, timeout) => {
      api.templateMatches({
        Resources: {
          [functionLogicalId(id)]: {
            Properties: {
              Runtime: 'nodejs22.x',
              Architectures: ['arm64'],
              MemorySize: memory,
              Timeout: timeout,
              Handler: 'index.handler',
              Environment: {
                Variables: {
                  NODE_OPTIONS: '--enable-source-maps',
                  BASE_URL: Match.anyValue(),
                  POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
                  POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
                  POWERTOOLS_LOG_LEVEL: 'INFO',
                },
              },
              LoggingConfig: { LogGroup: Match.anyValue() },
              ReservedConcurrentExecutions: Match.absent(),
            },
          },
        },
      });
    },
  );

  it('sizes the login callbacks at 1024 MB, settings and SCIM at 512 MB and the rest (the console too) at 256 MB', () => {
    expect(FUNCTION_MEMORY_MB).toEqual({ Acs: 1024, OidcCallback: 1024, Settings: 512, Scim: 512, Login: 256, SamlMetadata: 256, Session: 256, Console: 256, DailyCheck: 256 });
  });

  it('invokes DailyCheck once a day from an EventBridge rule, retried twice, and nothing else on a schedule', () => {
    api.resourceCountIs('AWS::Events::Rule', 1);
    api.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 day)',
      State: 'ENABLED',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [functionLogicalId('DailyCheck'), 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 2 } })],
    });
    api.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      FunctionName: { 'Fn::GetAtt': [functionLogicalId('DailyCheck'), 'Arn'] },
      Principal: 'events.amazonaws.com',
    });
    expect(FUNCTION_DEFINITIONS.filter((f) => f.schedule).map((f) => f.id)).toEqual(['DailyCheck']);
    expect(ROUTES.filter((route) => route.functionId === 'DailyCheck')).toEqual([]);
  });

  it('provisions no concurrency', () => {
    api.resourceCountIs('AWS::Lambda::Version', 0);
    api.resourceCountIs('AWS::Lambda::Alias', 0);
  });

  it.each(FUNCTION_DEFINITIONS.map((f) => [f.id]))('bundles %s into an index.mjs of at most 1.5 MB', (id) => {
    expect(statSync(join(bundleDir(id), 'index.mjs')).size).toBeLessThanOrEqual(MAX_BUNDLE_BYTES);
  });

  it('ships the built console inside the Console bundle and points CONSOLE_DIR at it', () => {
    const bundle = bundleDir(FUNCTIONS.console.id);
    const assets = readdirSync(join(bundle, 'console', 'assets'));
    const html = readFileSync(join(bundle, 'console', 'index.html'), 'utf8');
    const script = assets.find((name) => name.endsWith('.js'))!;

    expect(assets).toEqual(expect.arrayContaining([expect.stringMatching(/^app-[A-Z0-9]+\.js$/), expect.stringMatching(/^app-[A-Z0-9]+\.css$/)]));
    expect(html).toContain(`<script type="module" src="/console/assets/${script}"></script>`);
    expect(readFileSync(join(bundle, 'console', 'assets', script), 'utf8')).toContain(FIXTURE_MARKER);
    expect(api.findResources('AWS::Lambda::Function')[functionLogicalId(FUNCTIONS.console.id)]!.Properties.Environment.Variables.CONSOLE_DIR).toBe(LAMBDA_CONSOLE_DIR);
    expect(LAMBDA_CONSOLE_DIR).toBe('/var/task/console');
  });

  it('ships no console in any other bundle, nor CONSOLE_DIR', () => {
    for (const definition of FUNCTION_DEFINITIONS.filter((candidate) => !candidate.consoleApp)) {
      expect(readdirSync(bundleDir(definition.id)), definition.id).not.toContain('console');
      expect(api.findResources('AWS::Lambda::Function')[functionLogicalId(definition.id)]!.Properties.Environment.Variables, definition.id).not.toHaveProperty('CONSOLE_DIR');
    }
  });

  it('builds the console from console/ when no other source is given, into the bundle', () => {
    expect(consoleBuildCommand('/tmp/bundle')).toBe("npx tsx scripts/build-console.ts --out '/tmp/bundle/console'");
    expect(consoleBuildCommand("/tmp/it's", { entry: '/src/main.tsx', css: '/src/styles.css' })).toBe(
      "npx tsx scripts/build-console.ts --out '/tmp/it'\\''s/console' --entry '/src/main.tsx' --css '/src/styles.css'",
    );
  });

  it('keeps every log group of both stacks for a set time, with explicit log groups only', () => {
    api.resourceCountIs('AWS::Logs::LogGroup', FUNCTION_DEFINITIONS.length + 1);
    for (const template of [data, api]) {
      for (const logGroup of Object.values(template.findResources('AWS::Logs::LogGroup'))) expect(logGroup.Properties.RetentionInDays).toBe(30);
      template.resourceCountIs('Custom::LogRetention', 0);
    }
    prodApi.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
  });

  it.each(ROUTES.map((r) => [`${r.method} ${r.path}`, r.functionId]))(
    'routes %s to the %s function through a payload v2 Lambda integration',
    (routeKey, functionId) => {
      const routes = Object.values(api.findResources('AWS::ApiGatewayV2::Route', { Properties: { RouteKey: routeKey } }));
      expect(routes).toHaveLength(1);
      const target = routes[0]!.Properties.Target as Json;
      const integrationId = target['Fn::Join'][1][1].Ref as string;
      api.templateMatches({
        Resources: {
          [integrationId]: {
            Type: 'AWS::ApiGatewayV2::Integration',
            Properties: {
              IntegrationType: 'AWS_PROXY',
              PayloadFormatVersion: '2.0',
              IntegrationUri: { 'Fn::GetAtt': [functionLogicalId(functionId), 'Arn'] },
            },
          },
        },
      });
    },
  );

  it.each(FUNCTION_DEFINITIONS.map((f) => [f.id, f]))('passes %s the names of exactly its tables', (id, definition) => {
    const variables = api.findResources('AWS::Lambda::Function')[functionLogicalId(id)]!.Properties.Environment
      .Variables as Json;
    for (const table of TABLES) {
      const access = definition.tables[tableKey(table)];
      if (access) expect(JSON.stringify(variables[table.envVar])).toContain(tableLogicalId(table));
      else expect(variables).not.toHaveProperty(table.envVar);
    }
    expect(variables.SESSION_KEY_SECRET_ARN !== undefined).toBe(definition.sessionKeys !== 'none');
  });

  it.each(FUNCTION_DEFINITIONS.map((f) => [f.id, f]))('grants %s exactly the access its definition declares', (id, definition) => {
    const statements = statementsOfRole(roleLogicalId(id));
    const dynamo = statements.filter((s) => asArray(s.Action).some((a: string) => a.startsWith('dynamodb:')));

    // Statements may be merged across tables (minimizePolicies): read them resource by resource.
    const granted: Partial<Record<TableKey, string[]>> = {};
    for (const table of TABLES) {
      const logicalId = tableLogicalId(table);
      const own = dynamo.filter((s) => JSON.stringify(s.Resource).includes(logicalId));
      if (own.length === 0) continue;
      granted[tableKey(table)] = [...new Set(own.flatMap((s) => asArray(s.Action) as string[]))].sort();
      const resources = own.flatMap((s) => asArray(s.Resource)).map((r) => JSON.stringify(r)).filter((r) => r.includes(logicalId));
      // Each index is granted by name, never as `index/*`.
      expect(resources.filter((r) => r.includes('/index/'))).toEqual(table.globalIndexes.map((index) => expect.stringContaining(`/index/${index.indexName}"`)));
    }
    const expected = Object.fromEntries(
      Object.entries(definition.tables).map(([key, access]) => [key, access === 'write' ? WRITE : READ]),
    );
    expect(granted).toEqual(expected);

    // Secrets: the session signing secret when the function signs or verifies sessions, the SP key pair when it uses it.
    const secret = statements.filter((s) => asArray(s.Action).some((a: string) => a.startsWith('secretsmanager:')));
    const secretGrants = (definition.sessionKeys === 'none' ? 0 : 1) + (definition.spKey ? 1 : 0);
    expect(secret.flatMap((s) => asArray(s.Resource))).toHaveLength(secretGrants);
    expect(new Set(secret.flatMap((s) => asArray(s.Action)))).toEqual(new Set(secretGrants ? ['secretsmanager:GetSecretValue'] : []));
    const environment = api.findResources('AWS::Lambda::Function')[functionLogicalId(id)]!.Properties.Environment.Variables as Json;
    expect(environment.SP_KEY_SECRET_ARN !== undefined).toBe(Boolean(definition.spKey));

    // Only functions that seal secrets may use the KMS key, and only for the OIDC client-secret purpose.
    const kms = statements.filter((s) => asArray(s.Action).some((a: string) => a.startsWith('kms:')));
    if (definition.sealsSecrets) {
      expect(kms).toHaveLength(1);
      expect([...asArray(kms[0]!.Action)].sort()).toEqual(['kms:Decrypt', 'kms:Encrypt']);
      expect(kms[0]!.Condition).toEqual({ StringEquals: { 'kms:EncryptionContext:purpose': 'oidc-client-secret' } });
    } else {
      expect(kms).toEqual([]);
    }
  });

  it('creates a rotating customer-managed key for sealing stored secrets', () => {
    data.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  it('has no IAM statement with a wildcard action or a * resource', () => {
    const statements = Object.values(api.findResources('AWS::IAM::Policy')).flatMap(
      (policy) => policy.Properties.PolicyDocument.Statement as Json[],
    );
    expect(statements.length).toBeGreaterThan(0);
    for (const statement of statements) {
      for (const action of asArray(statement.Action) as string[]) expect(action).not.toMatch(/(^|:)\*$/);
      expect(asArray(statement.Resource)).not.toContain('*');
    }
  });

  it('outputs the API URL and the ACS and metadata URL patterns', () => {
    const endpoint = { 'Fn::GetAtt': [Match.stringLikeRegexp('^HttpApi'), 'ApiEndpoint'] };
    api.hasOutput('ApiUrl', { Value: endpoint });
    api.hasOutput('AcsUrlPattern', { Value: { 'Fn::Join': ['', [endpoint, '/sso/{orgId}/saml/acs']] } });
    api.hasOutput('MetadataUrlPattern', { Value: { 'Fn::Join': ['', [endpoint, '/sso/{orgId}/saml/metadata']] } });
    api.hasOutput('OidcCallbackUrlPattern', { Value: { 'Fn::Join': ['', [endpoint, '/sso/{orgId}/oidc/callback']] } });
  });
});

describe('SCIM (issue 14)', () => {
  const integrationOf = (routeKey: string) => {
    const route = Object.values(api.findResources('AWS::ApiGatewayV2::Route')).find((resource) => resource.Properties.RouteKey === routeKey);
    return JSON.stringify(route?.Properties.Target);
  };

  it.each(['GET', 'POST', 'PUT', 'PATCH', 'DELETE'])('routes %s on /scim/v2/{orgId} and everything under it to the Scim function', (method) => {
    const scim = integrationOf(`${method} /scim/v2/{orgId}/{proxy+}`);
    expect(scim).toMatch(/ScimIntegration/);
    expect(integrationOf(`${method} /scim/v2/{orgId}`)).toBe(scim);
  });

  it('serves the SCIM token admin routes from the Settings function', () => {
    for (const key of ['POST /orgs/{orgId}/scim/tokens', 'GET /orgs/{orgId}/scim/tokens', 'DELETE /orgs/{orgId}/scim/tokens/{tokenId}']) {
      expect(integrationOf(key)).toMatch(/SettingsIntegration/);
    }
  });

  it('grants the Scim function the users, mappings and audit tables only, and no secret or key', () => {
    const statements = statementsOfRole(roleLogicalId('Scim'));
    const loginState = tableLogicalId(TABLES.find((table) => table.id === 'LoginState')!);
    expect(JSON.stringify(statements)).not.toContain(loginState);
    expect(statements.filter((s) => asArray(s.Action).some((a: string) => a.startsWith('secretsmanager:') || a.startsWith('kms:')))).toEqual([]);
    const environment = api.findResources('AWS::Lambda::Function')[functionLogicalId('Scim')]!.Properties.Environment.Variables as Json;
    expect(Object.keys(environment).filter((name) => name.endsWith('_TABLE')).sort()).toEqual(['AUDIT_TABLE', 'MAPPINGS_TABLE', 'USERS_TABLE']);
  });

  it('indexes users by userName for SCIM filters', () => {
    data.hasResourceProperties('AWS::DynamoDB::Table', {
      GlobalSecondaryIndexes: Match.arrayWith([Match.objectLike({ IndexName: 'byUserName', KeySchema: [{ AttributeName: 'userNameKey', KeyType: 'HASH' }], Projection: { ProjectionType: 'ALL' } })]),
    });
  });
});

describe('stage', () => {
  const stageOf = (template: Template) => Object.values(template.findResources('AWS::ApiGatewayV2::Stage'));

  it('has one auto-deployed $default stage', () => {
    api.resourceCountIs('AWS::ApiGatewayV2::Stage', 1);
    api.hasResourceProperties('AWS::ApiGatewayV2::Stage', { StageName: '$default', AutoDeploy: true });
  });

  it('writes JSON access logs with request id, ip, route, status, latency and integration error to its log group', () => {
    const settings = stageOf(api)[0]!.Properties.AccessLogSettings as Json;
    expect(settings.DestinationArn).toEqual({ 'Fn::GetAtt': [stacks.api.getLogicalId(stacks.api.node.findChild('AccessLogs').node.defaultChild as never), 'Arn'] });
    const format = JSON.parse(settings.Format as string) as Record<string, string>;
    expect(format).toEqual(ACCESS_LOG_FIELDS);
    expect(format).toMatchObject({
      requestId: '$context.requestId',
      ip: '$context.identity.sourceIp',
      routeKey: '$context.routeKey',
      status: '$context.status',
      latency: '$context.responseLatency',
      integrationError: '$context.integrationErrorMessage',
    });
  });

  it('never logs the path or query string (OIDC callbacks carry the authorization code)', () => {
    const format = stageOf(api)[0]!.Properties.AccessLogSettings.Format as string;
    expect(format).not.toMatch(/\$context\.(path|querystring|requestOverride)|\$input|\$request/i);
  });

  it('throttles every route by default, 500 rps with a 1000 burst unless context says otherwise', () => {
    expect(stageOf(api)[0]!.Properties.DefaultRouteSettings).toEqual({
      ThrottlingRateLimit: STAGE_DEFAULTS.throttle.rateLimit,
      ThrottlingBurstLimit: STAGE_DEFAULTS.throttle.burstLimit,
    });
    expect(stageOf(prodApi)[0]!.Properties.DefaultRouteSettings).toEqual({ ThrottlingRateLimit: 200, ThrottlingBurstLimit: 400 });
  });

  it('throttles each public login route on its own, 200 rps with a 400 burst unless context says otherwise', () => {
    const each = (rate: number, burst: number) =>
      Object.fromEntries(LOGIN_ROUTE_KEYS.map((key) => [key, { ThrottlingRateLimit: rate, ThrottlingBurstLimit: burst }]));

    api.hasResourceProperties('AWS::ApiGatewayV2::Stage', { RouteSettings: each(STAGE_DEFAULTS.loginThrottle.rateLimit, STAGE_DEFAULTS.loginThrottle.burstLimit) });
    prodApi.hasResourceProperties('AWS::ApiGatewayV2::Stage', { RouteSettings: each(50, 80) });
  });

  it('limits exactly the unauthenticated login routes: ACS, OIDC callback, the login starts and discover', () => {
    expect([...LOGIN_ROUTE_KEYS].sort()).toEqual(['GET /login/sso', 'GET /sso/{orgId}/login', 'GET /sso/{orgId}/oidc/callback', 'POST /login/discover', 'POST /sso/{orgId}/saml/acs']);
    expect(LOGIN_ROUTE_KEYS.every((key) => ROUTES.some((route) => `${route.method} ${route.path}` === key))).toBe(true);
  });

  it('is created after the routes its settings name (API Gateway refuses settings for a missing route)', () => {
    const routeIds = LOGIN_ROUTE_KEYS.map((key) => Object.keys(api.findResources('AWS::ApiGatewayV2::Route', { Properties: { RouteKey: key } }))[0]);
    const dependsOn = Object.values(api.findResources('AWS::ApiGatewayV2::Stage'))[0]!.DependsOn as string[];

    expect(routeIds.every((id) => id !== undefined)).toBe(true);
    expect(dependsOn).toEqual(expect.arrayContaining(routeIds));
  });
});

describe('custom domain', () => {
  it('is absent without domainName context, and BASE_URL is the API endpoint', () => {
    api.resourceCountIs('AWS::ApiGatewayV2::DomainName', 0);
    api.resourceCountIs('AWS::ApiGatewayV2::ApiMapping', 0);
    for (const fn of Object.values(api.findResources('AWS::Lambda::Function'))) {
      expect(fn.Properties.Environment.Variables.BASE_URL).toEqual({ 'Fn::GetAtt': [stacks.api.getLogicalId(stacks.api.api.node.defaultChild as never), 'ApiEndpoint'] });
    }
  });

  it('maps the domain from context to the $default stage with TLS 1.2', () => {
    prodApi.hasResourceProperties('AWS::ApiGatewayV2::DomainName', {
      DomainName: PROD_CONTEXT.domainName,
      DomainNameConfigurations: [Match.objectLike({ CertificateArn: PROD_CONTEXT.certificateArn, SecurityPolicy: 'TLS_1_2' })],
    });
    prodApi.resourceCountIs('AWS::ApiGatewayV2::ApiMapping', 1);
    prodApi.hasResource('AWS::ApiGatewayV2::ApiMapping', {
      Properties: { Stage: '$default', DomainName: { Ref: Match.stringLikeRegexp('^CustomDomain') } },
      DependsOn: [Match.stringLikeRegexp('^HttpApiDefaultStage')],
    });
  });

  it('gives every function https://{domainName} as BASE_URL and outputs URLs on the domain', () => {
    prodApi.allResourcesProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ BASE_URL: `https://${PROD_CONTEXT.domainName}` }) },
    });
    prodApi.hasOutput('ApiUrl', { Value: `https://${PROD_CONTEXT.domainName}` });
    prodApi.hasOutput('AcsUrlPattern', { Value: `https://${PROD_CONTEXT.domainName}/sso/{orgId}/saml/acs` });
    prodApi.hasOutput('CustomDomainTarget', { Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^CustomDomain'), 'RegionalDomainName'] } });
  });

  it('refuses a domain without a certificate, and malformed settings', () => {
    const fromContext = (context: Record<string, string>) => () => stageFromContext(new App({ context }).node);
    expect(fromContext({ domainName: 'sso.example.com' })).toThrow(/both domainName and certificateArn/);
    expect(fromContext({ certificateArn: PROD_CONTEXT.certificateArn })).toThrow(/both domainName and certificateArn/);
    expect(fromContext({ domainName: 'https://sso.example.com', certificateArn: PROD_CONTEXT.certificateArn })).toThrow(/Invalid domainName/);
    expect(fromContext({ throttleRateLimit: 'lots' })).toThrow(/throttleRateLimit/);
    expect(fromContext({ throttleRateLimit: '500', throttleBurstLimit: '100' })).toThrow(/throttleBurstLimit/);
    expect(fromContext({ loginThrottleRateLimit: 'few' })).toThrow(/loginThrottleRateLimit/);
    expect(fromContext({ loginThrottleRateLimit: '300', loginThrottleBurstLimit: '100' })).toThrow(/loginThrottleBurstLimit/);
    expect(fromContext({ logRetentionDays: '31' })).toThrow(/logRetentionDays/);
    expect(fromContext({ alarmEmail: 'nobody' })).toThrow(/alarmEmail/);
  });
});

describe('alarms', () => {
  const alarms = () => Object.values(api.findResources('AWS::CloudWatch::Alarm'));
  const topicId = () => stacks.api.getLogicalId(stacks.api.monitoring.topic.node.defaultChild as never);
  const metricNames = (alarm: Json): string[] =>
    alarm.Properties.MetricName ? [alarm.Properties.MetricName] : (alarm.Properties.Metrics as Json[]).filter((m) => m.MetricStat).map((m) => m.MetricStat.Metric.MetricName);

  it('creates exactly the 5xx, per-function, per-table, service-unavailable, certificate and failed-login alarms', () => {
    api.resourceCountIs('AWS::CloudWatch::Alarm', 1 + 2 * FUNCTION_DEFINITIONS.length + 2 * TABLES.length + 1 + 2 + 1);
  });

  it('sends every alarm and its recovery to the alarm topic, which enforces TLS', () => {
    for (const alarm of alarms()) {
      expect(alarm.Properties.AlarmActions).toEqual([{ Ref: topicId() }]);
      expect(alarm.Properties.OKActions).toEqual([{ Ref: topicId() }]);
    }
    api.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: [Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })] },
    });
  });

  it('subscribes the alarm email only when context gives one', () => {
    api.resourceCountIs('AWS::SNS::Subscription', 0);
    prodApi.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: PROD_CONTEXT.alarmEmail });
  });

  it('alarms when more than 1% of at least 50 requests in 5 minutes answer 5xx', () => {
    const [alarm] = alarms().filter((a) => metricNames(a).includes('5xx'));
    expect(alarm).toBeDefined();
    const metrics = alarm!.Properties.Metrics as Json[];
    expect(metrics.find((m) => m.Expression)!.Expression).toBe('IF(requests >= 50, 100 * errors / requests, 0)');
    expect(metrics.filter((m) => m.MetricStat).map((m) => [m.Id, m.MetricStat.Metric.Namespace, m.MetricStat.Metric.MetricName, m.MetricStat.Period])).toEqual([
      ['errors', 'AWS/ApiGateway', '5xx', 300],
      ['requests', 'AWS/ApiGateway', 'Count', 300],
    ]);
    expect(alarm!.Properties).toMatchObject({ Threshold: 1, ComparisonOperator: 'GreaterThanThreshold' });
  });

  it.each(FUNCTION_DEFINITIONS.flatMap((f) => [[f.id, 'Errors'], [f.id, 'Throttles']]))('alarms on any %s %s', (id, metricName) => {
    api.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Lambda',
      MetricName: metricName,
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: functionLogicalId(id) } }],
      Statistic: 'Sum',
      Period: 300,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
  });

  it.each(TABLES.flatMap((t) => [[t.id, 'ThrottledRequests', t], [t.id, 'SystemErrors', t]] as const))(
    'alarms on any %s table %s, summed over its operations',
    (_id, metricName, table) => {
      const exportOf = (definition: TableDefinition) => stacks.data.resolve(stacks.data.exportValue(stacks.data.tables[tableKey(definition)].table.tableName));
      const matching = alarms().filter(
        (a) => metricNames(a).includes(metricName) && JSON.stringify(a.Properties.Metrics).includes(JSON.stringify(exportOf(table)).slice(1, -1)),
      );
      expect(matching).toHaveLength(1);
      const metrics = matching[0]!.Properties.Metrics as Json[];
      expect(new Set(metrics.filter((m) => m.MetricStat).map((m) => m.MetricStat.Metric.Dimensions.find((d: Json) => d.Name === 'Operation').Value))).toEqual(
        new Set(['GetItem', 'BatchGetItem', 'Query', 'PutItem', 'UpdateItem', 'DeleteItem', 'TransactWriteItems']),
      );
      expect(matching[0]!.Properties).toMatchObject({ Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
    },
  );

  it('alarms on any request answered 503 SERVICE_UNAVAILABLE, on the service dimension Powertools adds', () => {
    api.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'sso-jit-dev-service-unavailable',
      Namespace: METRICS_NAMESPACE,
      MetricName: METRIC.serviceUnavailable,
      Dimensions: [{ Name: 'service', Value: SERVICE_NAME }],
      Statistic: 'Sum',
      Period: 300,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  it.each([
    ['idp-certificate-expiring', METRIC.idpCertificateDaysLeft],
    ['sp-certificate-expiring', METRIC.spCertificateDaysLeft],
  ])('alarms (%s) when the daily %s is 30 or less, and not on a day without data', (name, metricName) => {
    api.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: `sso-jit-dev-${name}`,
      Namespace: METRICS_NAMESPACE,
      MetricName: metricName,
      Dimensions: [{ Name: 'service', Value: SERVICE_NAME }],
      Statistic: 'Minimum',
      Period: 86400,
      Threshold: 30,
      ComparisonOperator: 'LessThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  it('alarms on more than 100 failed logins in 5 minutes by default, on the service dimension Powertools adds', () => {
    const failedLogins = {
      Namespace: METRICS_NAMESPACE,
      MetricName: 'LoginFailed',
      Dimensions: [{ Name: 'service', Value: SERVICE_NAME }],
      Statistic: 'Sum',
      Period: 300,
      ComparisonOperator: 'GreaterThanThreshold',
    };
    api.hasResourceProperties('AWS::CloudWatch::Alarm', { ...failedLogins, Threshold: 100 });
    prodApi.hasResourceProperties('AWS::CloudWatch::Alarm', { ...failedLogins, Threshold: 250 });
  });
});

describe('cdk-nag', () => {
  const findings = (stack: Stack) => nagPack().validateScope(stack).violations.map((v) => `${v.severity} ${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`);
  const allStacks = () => [stacks.data, stacks.api, prod.data, prod.api];

  it.each(['dev', 'prod'])('finds no unacknowledged AwsSolutions error or warning in the %s stacks', (stage) => {
    for (const stack of allStacks().filter((s) => s.stackName.startsWith(`SsoJit-${stage}-`))) {
      expect(findings(stack), stack.stackName).toEqual([]);
    }
  });

  it('leaves no error annotation on any stack', () => {
    for (const stack of allStacks()) {
      expect(Annotations.fromStack(stack).findError('*', Match.stringLikeRegexp('AwsSolutions-.*'))).toEqual([]);
      expect(Annotations.fromStack(stack).findError('*', Match.anyValue())).toEqual([]);
    }
  });

  it('still reports what is not acknowledged (the pack is live)', () => {
    // A fresh app without createStacks' acknowledgements must fail the same checks.
    const bare = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const unacknowledged = new DataStack(bare, 'Bare', { config: stageConfig('prod') });
    expect(findings(unacknowledged)).toEqual([expect.stringMatching(/^error AwsSolutions-SMG4: Bare\/SessionSigning\/Resource, Bare\/SpSigning\/Resource$/)]);
  });
});
