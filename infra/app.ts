/**
 * CDK entry point (`cdk.json`: `npx tsx infra/app.ts`). Stage from context `stage`
 * (default `dev`: `npx cdk deploy -c stage=prod --all`); account and region from the
 * CLI's CDK_DEFAULT_ACCOUNT/REGION when present, otherwise environment-agnostic, so
 * `cdk synth` works offline without credentials or lookups. The other context keys
 * (custom domain, throttling, alarms, log retention) are listed in `stage.ts`. cdk-nag's
 * AwsSolutions pack runs on every synth (`nag.ts`).
 */
import { App } from 'aws-cdk-lib';
import { addNagChecks } from './nag.js';
import { createStacks } from './stacks.js';
import { stageFromContext } from './stage.js';

const app = new App();
const account = process.env.CDK_DEFAULT_ACCOUNT;
const region = process.env.CDK_DEFAULT_REGION;
createStacks(app, stageFromContext(app.node), account || region ? { account, region } : undefined);
addNagChecks(app);
app.synth();
