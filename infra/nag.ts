/**
 * cdk-nag (v3, AwsSolutions pack) and every finding this app acknowledges, in one place,
 * each with the reason it is acceptable. `app.ts` registers the pack as a validation
 * plugin (so `cdk synth` fails on an unacknowledged error) and the infra tests run the
 * same pack on the same stacks.
 *
 * cdk-nag v3 acknowledges findings with CDK's `Validations.of(construct).acknowledge()`
 * (v2's `NagSuppressions` is gone; v3 writes no Annotations, so tests read the pack's
 * report instead); an id with `[…]` names one finding of a rule that reports several
 * (IAM4's managed-policy ARN). Rules satisfied rather than acknowledged: DDB3 (PITR),
 * KMS5 (key rotation), SNS3 (alarm topic enforces TLS), APIG1 (access logs).
 */
import { Validations, type App } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import type { ApiStack } from './api-stack.js';
import type { DataStack } from './data-stack.js';

/** The managed policy CDK attaches to a function role: logs only. */
const BASIC_EXECUTION_ROLE = 'Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole';

/** Registers the AwsSolutions pack on the app: `cdk synth` reports its findings and fails on errors. */
export function addNagChecks(app: App): void {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
}

/** The pack the tests run directly on a stack (`validateScope`). */
export function nagPack(): AwsSolutionsChecks {
  return new AwsSolutionsChecks(undefined, { verbose: true });
}

function acknowledge(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id: `AwsSolutions-${id}`, reason });
}

/** Every acknowledged finding of both stacks. Called once by `createStacks`. */
export function acknowledgeNagFindings({ data, api }: { data: DataStack; api: ApiStack }): void {
  // Data stack.
  acknowledge(
    data.sessionSecret,
    'SMG4',
    'Rotated by the operator with `sso-jit keys rotate` (new AWSCURRENT; AWSPREVIOUS keeps verifying open sessions), not by a rotation Lambda: the secret is a key seed, not a credential of another service a rotation Lambda could reset.',
  );
  acknowledge(
    data.spKeySecret,
    'SMG4',
    'Rotated by the operator with `sso-jit sp-key rotate`, which must be coordinated with the IdPs that check AuthnRequest signatures; an unattended rotation Lambda would break them.',
  );

  // API stack.
  for (const fn of api.functions.values()) {
    acknowledge(
      fn,
      'L1',
      'nodejs22.x is pinned on purpose: it is the Node version the service is developed, tested and benchmarked on (package.json engines, `npm start`). Moving to a newer runtime is a deliberate upgrade with its own test run.',
    );
    acknowledge(
      fn,
      `IAM4[${BASIC_EXECUTION_ROLE}]`,
      "AWSLambdaBasicExecutionRole grants CloudWatch Logs writes only (CreateLogGroup, CreateLogStream, PutLogEvents), which reveal or change no data of the service; every access to tables, secrets and the KMS key is an inline, resource-scoped statement from infra/bindings.ts.",
    );
  }
  // Routes: APIG4 (no authorizer at the gateway). COG4 (Cognito authorizer) is checked
  // on REST API methods only and does not fire for this HTTP API.
  acknowledge(
    api.api,
    'APIG4',
    'Public SSO routes must be reachable without credentials (the IdP POSTs to the ACS, browsers follow login redirects and the OIDC callback, IdPs fetch metadata, relying parties fetch the JWKS, probes hit health); the session and admin routes authenticate the bearer session token in the function and check permissions against the stored user on every call, which a gateway authorizer cannot do (sessions are issued by this service, not Cognito).',
  );
}
