/**
 * The whole application for one stage: `SsoJit-{stage}-Data` (stateful) and
 * `SsoJit-{stage}-Api` (stateless, depends on the data stack). `app.ts` calls it for
 * `cdk synth`/`deploy`; the infra tests call it to synthesize the same stacks.
 */
import { Tags, type Environment } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { ApiStack } from './api-stack.js';
import { DataStack } from './data-stack.js';
import { acknowledgeNagFindings } from './nag.js';
import type { ConsoleSource } from './sso-function.js';
import type { StageConfig } from './stage.js';

export interface SsoJitStacks {
  readonly data: DataStack;
  readonly api: ApiStack;
}

/** How the stacks are built, beside the stage: where the admin console's sources are (default `console/`). */
export interface BuildOptions {
  readonly consoleSource?: ConsoleSource;
}

/** Creates both stacks of a stage in `scope` (normally the `App`). */
export function createStacks(scope: Construct, config: StageConfig, env?: Environment, build: BuildOptions = {}): SsoJitStacks {
  const prefix = `SsoJit-${config.stage}`;
  const data = new DataStack(scope, `${prefix}-Data`, {
    env,
    config,
    description: `sso-jit ${config.stage}: tables, KMS key and secrets (stateful)`,
  });
  const api = new ApiStack(scope, `${prefix}-Api`, {
    env,
    config,
    tables: data.tables,
    sessionSecret: data.sessionSecret,
    secretsKey: data.secretsKey,
    spKeySecret: data.spKeySecret,
    ...(build.consoleSource ? { consoleSource: build.consoleSource } : {}),
    description: `sso-jit ${config.stage}: HTTP API, functions and alarms (stateless)`,
  });
  for (const stack of [data, api]) {
    Tags.of(stack).add('project', 'sso-jit');
    Tags.of(stack).add('stage', config.stage);
  }
  acknowledgeNagFindings({ data, api });
  return { data, api };
}
