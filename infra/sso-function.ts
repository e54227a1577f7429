/**
 * One Lambda function of the service with the settings every function shares: Node 22
 * on arm64, an ESM bundle built by esbuild, source maps, its own log group with a
 * retention, the Powertools environment. Per-function differences are its memory (from
 * `function-memory.ts`) and what the bindings add (tables, keys), never anything else.
 */
import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../functions/observability.js';
import type { FunctionDefinition } from '../functions/routes.js';

/** Repository root: `FunctionDefinition.entry` paths are relative to it. */
export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

// esbuild's ESM output cannot `require` from CommonJS dependencies without this shim.
const REQUIRE_SHIM = "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);";

/**
 * Read by Powertools Logger and Metrics in every function: one service name (the
 * `service` dimension the alarms filter on), one namespace, INFO logs (DEBUG would log
 * event details; it is switched on per function by hand when needed, never by deploy).
 */
export const POWERTOOLS_ENVIRONMENT: Readonly<Record<string, string>> = {
  POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
  POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
  POWERTOOLS_LOG_LEVEL: 'INFO',
};

/** Props of {@link SsoFunction}. */
export interface SsoFunctionProps {
  readonly definition: FunctionDefinition;
  /** Environment shared by every function (`BASE_URL`, …). */
  readonly environment: Readonly<Record<string, string>>;
  /** Removal policy of the function's log group. */
  readonly logRemovalPolicy: RemovalPolicy;
  /** Retention of the function's log group. */
  readonly logRetention: logs.RetentionDays;
  /** Memory in MB (`FUNCTION_MEMORY_MB`). */
  readonly memorySize: number;
}

/**
 * A `NodejsFunction` for one entry of `FUNCTIONS`: `nodejs22.x`, arm64, 10 s, ESM bundle
 * (minified, source maps, `@aws-sdk/*` left to the runtime), its own log group (an
 * explicit `LogGroup`, so no `logRetention` custom resource), no reserved or provisioned
 * concurrency.
 */
export class SsoFunction extends Construct {
  public readonly fn: NodejsFunction;

  constructor(scope: Construct, id: string, props: SsoFunctionProps) {
    super(scope, id);
    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: props.logRemovalPolicy,
    });
    this.fn = new NodejsFunction(this, 'Function', {
      entry: join(REPO_ROOT, props.definition.entry),
      handler: 'handler',
      projectRoot: REPO_ROOT,
      depsLockFilePath: join(REPO_ROOT, 'package-lock.json'),
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize,
      timeout: Duration.seconds(10),
      logGroup,
      environment: { ...props.environment, ...POWERTOOLS_ENVIRONMENT, NODE_OPTIONS: '--enable-source-maps' },
      bundling: {
        format: OutputFormat.ESM,
        target: 'node22',
        mainFields: ['module', 'main'],
        banner: REQUIRE_SHIM,
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        externalModules: ['@aws-sdk/*'],
      },
    });
  }
}
