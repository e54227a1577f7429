/**
 * Deployment stage: read once from CDK context and turned into the few settings that
 * differ between stages. Everything stage-dependent in `infra/` reads it from here,
 * so a later change (custom domain, alarms, termination protection) has one place to go.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import type { Node } from 'constructs';

/** Settings derived from the `stage` context value. */
export interface StageConfig {
  /** Stage name, e.g. `dev`, `prod`; part of every stack name. */
  readonly stage: string;
  /** `dev` is disposable: its stateful resources are destroyed with the stack. */
  readonly isDev: boolean;
  /** Removal policy of stateful resources (tables, secret, log groups). */
  readonly removalPolicy: RemovalPolicy;
}

const STAGE_PATTERN = /^[a-z][a-z0-9-]{0,19}$/;

/**
 * Builds the stage settings for a stage name.
 * @throws when the name is not lowercase letters, digits and dashes (it ends up in
 *   stack and resource names).
 */
export function stageConfig(stage: string): StageConfig {
  if (!STAGE_PATTERN.test(stage)) {
    throw new Error(`Invalid stage "${stage}": use 1-20 lowercase letters, digits or dashes, starting with a letter.`);
  }
  const isDev = stage === 'dev';
  return { stage, isDev, removalPolicy: isDev ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN };
}

/** Reads `stage` from CDK context (`cdk.json`, or `-c stage=prod`); default `dev`. */
export function stageFromContext(node: Node): StageConfig {
  const value: unknown = node.tryGetContext('stage');
  return stageConfig(typeof value === 'string' && value !== '' ? value : 'dev');
}
