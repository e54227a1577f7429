/**
 * One Lambda function of the service with the settings every function shares: Node 22
 * on arm64, an ESM bundle built by esbuild, source maps, its own log group with a
 * retention, the Powertools environment. Per-function differences are its memory (from
 * `function-memory.ts`), what the bindings add (tables, keys), and, for the function
 * whose definition says `consoleApp`, the admin console built into its bundle.
 */
import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../functions/observability.js';
import { ENV_VARS } from '../shared/config.js';
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

/** Where the admin console is built from: its entry and stylesheet (default `console/main.tsx`, `console/styles.css`). */
export interface ConsoleSource {
  readonly entry: string;
  readonly css: string;
}

/** The console's folder inside a bundle, and so inside the Lambda task root. */
export const BUNDLE_CONSOLE_DIR = 'console';
/** `CONSOLE_DIR` of the function that serves the console: the bundle's own copy. */
export const LAMBDA_CONSOLE_DIR = `/var/task/${BUNDLE_CONSOLE_DIR}`;

const shellQuote = (value: string): string => `'${value.replace(/'/g, `'\\''`)}'`;

/**
 * The shell command, run in the repository root after esbuild bundled the function, that
 * builds the console into the bundle (`scripts/build-console.ts`; it fails the synth,
 * naming the missing file, when the console's sources are not there).
 */
export function consoleBuildCommand(bundleDir: string, source?: ConsoleSource): string {
  const from = source ? ` --entry ${shellQuote(source.entry)} --css ${shellQuote(source.css)}` : '';
  return `npx tsx scripts/build-console.ts --out ${shellQuote(join(bundleDir, BUNDLE_CONSOLE_DIR))}${from}`;
}

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
  /** Where a `consoleApp` function's console is built from (default: `console/`). */
  readonly consoleSource?: ConsoleSource;
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
      timeout: Duration.seconds(props.definition.timeoutSeconds ?? 10),
      logGroup,
      environment: {
        ...props.environment,
        ...POWERTOOLS_ENVIRONMENT,
        NODE_OPTIONS: '--enable-source-maps',
        ...(props.definition.consoleApp ? { [ENV_VARS.consoleDir]: LAMBDA_CONSOLE_DIR } : {}),
      },
      bundling: {
        format: OutputFormat.ESM,
        target: 'node22',
        mainFields: ['module', 'main'],
        banner: REQUIRE_SHIM,
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        externalModules: ['@aws-sdk/*'],
        ...(props.definition.consoleApp
          ? {
              commandHooks: {
                beforeBundling: () => [],
                beforeInstall: () => [],
                afterBundling: (_inputDir: string, outputDir: string) => [consoleBuildCommand(outputDir, props.consoleSource)],
              },
            }
          : {}),
      },
    });
  }
}
