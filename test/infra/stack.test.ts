/**
 * CDK assertion tests of the synthesized stacks: every route and table of the shared
 * definitions exists as declared, functions run Node 22 on arm64, and each function's
 * IAM policy and environment name exactly the tables its definition declares.
 * The app is synthesized once per file (bundling every function takes seconds).
 */
import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { FUNCTIONS, ROUTES, type FunctionDefinition } from '../../functions/routes.js';
import { TABLES, type TableDefinition } from '../../shared/storage/tables.js';
import { tableKey, type TableKey } from '../../infra/data-stack.js';
import { createStacks, type SsoJitStacks } from '../../infra/stacks.js';
import { stageConfig } from '../../infra/stage.js';

type Json = Record<string, any>;

const FUNCTION_DEFINITIONS = Object.values(FUNCTIONS) as FunctionDefinition[];
const READ = ['dynamodb:BatchGetItem', 'dynamodb:ConditionCheckItem', 'dynamodb:GetItem', 'dynamodb:Query'];
const WRITE = [...READ, 'dynamodb:DeleteItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'].sort();

/** The same context `cdk synth` uses (feature flags), so the tests see the deployed template. */
const cdkContext = (JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as { context: Record<string, unknown> }).context;

let stacks: SsoJitStacks;
let data: Template;
let api: Template;

beforeAll(() => {
  stacks = createStacks(new App({ context: cdkContext }), stageConfig('dev'));
  data = Template.fromStack(stacks.data);
  api = Template.fromStack(stacks.api);
});

const tableLogicalId = (definition: TableDefinition) =>
  stacks.data.getLogicalId(stacks.data.tables[tableKey(definition)].table.node.defaultChild as never);
const functionLogicalId = (id: string) => stacks.api.getLogicalId(stacks.api.functions.get(id)!.node.defaultChild as never);
const roleLogicalId = (id: string) => stacks.api.getLogicalId(stacks.api.functions.get(id)!.role!.node.defaultChild as never);
const asArray = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

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

  it('retains tables and the secret outside dev', () => {
    // No bundling needed for the data stack: skip it for this second app.
    const prod = createStacks(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), stageConfig('prod'));
    const template = Template.fromStack(prod.data);
    expect(prod.data.stackName).toBe('SsoJit-prod-Data');
    template.allResources('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    template.allResources('AWS::SecretsManager::Secret', { DeletionPolicy: 'Retain' });
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

  it.each(FUNCTION_DEFINITIONS.map((f) => [f.id]))('runs %s on nodejs22.x arm64 with the shared settings', (id) => {
    api.templateMatches({
      Resources: {
        [functionLogicalId(id)]: {
          Properties: {
            Runtime: 'nodejs22.x',
            Architectures: ['arm64'],
            MemorySize: 512,
            Timeout: 10,
            Handler: 'index.handler',
            Environment: { Variables: { NODE_OPTIONS: '--enable-source-maps', BASE_URL: Match.anyValue() } },
            LoggingConfig: { LogGroup: Match.anyValue() },
          },
        },
      },
    });
  });

  it('keeps function logs for one month', () => {
    api.resourceCountIs('AWS::Logs::LogGroup', FUNCTION_DEFINITIONS.length);
    api.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
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
      // Indexes are covered when (and only when) the table has some.
      expect(resources.some((r) => r.includes('/index/*'))).toBe(table.globalIndexes.length > 0);
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
  });
});
