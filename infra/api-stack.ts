/**
 * Stateless stack: the HTTP API, one function per entry of `FUNCTIONS` and one route
 * per entry of `ROUTES` (both in `functions/routes.ts`, the single source of what
 * exists). Tables and the signing secret come from the data stack through props; every
 * grant goes through the bindings, so each function gets what its definition declares.
 */
import { CfnOutput, CrossStackReferences, ReferenceStrength, Stack, type StackProps } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { FUNCTIONS, ROUTES, type FunctionDefinition } from '../functions/routes.js';
import { bindSecretsKey, bindSessionKey, bindSpKey, bindTable } from './bindings.js';
import type { BoundTable, TableKey } from './data-stack.js';
import { SsoFunction } from './sso-function.js';
import type { StageConfig } from './stage.js';

/** Props of {@link ApiStack}. */
export interface ApiStackProps extends StackProps {
  readonly config: StageConfig;
  readonly tables: Readonly<Record<TableKey, BoundTable>>;
  readonly sessionSecret: secretsmanager.ISecret;
  readonly secretsKey: kms.IKey;
  readonly spKeySecret: secretsmanager.ISecret;
}

/** The public HTTP API and its Lambda functions. */
export class ApiStack extends Stack {
  public readonly api: apigw.HttpApi;
  /** Every function, by its `FunctionDefinition.id`. */
  public readonly functions: ReadonlyMap<string, NodejsFunction>;

  constructor(scope: Construct, id: string, props: ApiStackProps) {
    super(scope, id, props);
    // Export/ImportValue: CloudFormation refuses to delete a table or the secret while
    // this stack uses it. Removing one means weakening its reference first (aws-cdk-lib
    // README, "Reference strength"). Must be set before any child exists.
    CrossStackReferences.of(this).consume(ReferenceStrength.STRONG);

    this.api = new apigw.HttpApi(this, 'HttpApi', {
      apiName: `sso-jit-${props.config.stage}`,
      description: 'sso-jit: SAML/OIDC single sign-on with just-in-time provisioning',
    });
    // The API's own URL until a custom domain exists; the runtime builds ACS, metadata
    // and redirect URLs from it.
    const baseUrl = this.api.apiEndpoint;

    const functions = new Map<string, NodejsFunction>();
    const integrations = new Map<string, HttpLambdaIntegration>();
    for (const definition of Object.values(FUNCTIONS) as FunctionDefinition[]) {
      const { fn } = new SsoFunction(this, definition.id, {
        definition,
        environment: { BASE_URL: baseUrl },
        logRemovalPolicy: props.config.removalPolicy,
      });
      for (const [key, access] of Object.entries(definition.tables) as [TableKey, FunctionDefinition['tables'][TableKey]][]) {
        if (access) bindTable(fn, props.tables[key], access);
      }
      bindSessionKey(fn, props.sessionSecret, definition.sessionKeys);
      bindSecretsKey(fn, props.secretsKey, definition.sealsSecrets);
      bindSpKey(fn, props.spKeySecret, definition.spKey);
      functions.set(definition.id, fn);
      // One integration per function, shared by all its routes.
      integrations.set(
        definition.id,
        new HttpLambdaIntegration(`${definition.id}Integration`, fn, {
          payloadFormatVersion: apigw.PayloadFormatVersion.VERSION_2_0,
        }),
      );
    }
    this.functions = functions;

    for (const route of ROUTES) {
      const integration = integrations.get(route.functionId);
      if (!integration) throw new Error(`Route ${route.method} ${route.path}: no function "${route.functionId}" in FUNCTIONS.`);
      this.api.addRoutes({ path: route.path, methods: [apigw.HttpMethod[route.method]], integration });
    }

    new CfnOutput(this, 'ApiUrl', { value: baseUrl, description: 'BASE_URL of the service' });
    new CfnOutput(this, 'AcsUrlPattern', { value: `${baseUrl}/sso/{orgId}/saml/acs`, description: 'SAML ACS URL of an org' });
    new CfnOutput(this, 'MetadataUrlPattern', {
      value: `${baseUrl}/sso/{orgId}/saml/metadata`,
      description: 'SAML SP metadata URL of an org',
    });
  }
}
