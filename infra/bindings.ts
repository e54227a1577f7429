/**
 * Least privilege in one place: each binding grants a function exactly the access its
 * entry in `functions/routes.ts` declares AND sets the environment variable that tells
 * the runtime where the resource is, in one call, so the two never drift apart.
 * Actions are explicit lists; nothing here grants `dynamodb:*` or `*` resources.
 */
import * as iam from 'aws-cdk-lib/aws-iam';
import { ENV_VARS } from '../shared/config.js';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { FunctionDefinition } from '../functions/routes.js';
import type { BoundTable } from './data-stack.js';

export type TableAccess = 'read' | 'write';

/** DynamoDB actions per access level. A `TransactWriteItems` call is authorised item by item against these. */
const READ_ACTIONS = ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:BatchGetItem', 'dynamodb:ConditionCheckItem'];

/** DynamoDB actions per access level. A `TransactWriteItems` call is authorised item by item against these. */
export const TABLE_ACTIONS: Readonly<Record<TableAccess, readonly string[]>> = {
  read: READ_ACTIONS,
  write: [...READ_ACTIONS, 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
};

/** Environment variable carrying the ARN of the session signing secret. */
export const SESSION_KEY_ENV = ENV_VARS.sessionKeySecretArn;

/**
 * Grants `fn` the `access` level on a table and on each of its indexes, by name (no
 * `index/*` wildcard), and sets the table's `envVar` to its physical name.
 *
 * @example bindTable(fn, data.tables.users, 'read'); // USERS_TABLE=…, GetItem/Query/… on the table and index/byEmail
 */
export function bindTable(fn: lambda.Function, { table, definition }: BoundTable, access: TableAccess): void {
  const resources = [table.tableArn, ...definition.globalIndexes.map((index) => `${table.tableArn}/index/${index.indexName}`)];
  fn.addToRolePolicy(new iam.PolicyStatement({ actions: [...TABLE_ACTIONS[access]], resources }));
  fn.addEnvironment(definition.envVar, table.tableName);
}

/**
 * Gives `fn` the session signing secret as its `sessionKeys` entry says, and sets
 * `SESSION_KEY_SECRET_ARN`; `none` does neither.
 *
 * `verify` needs the same `secretsmanager:GetSecretValue` as `sign`: the secret is the
 * seed from which the Ed25519 key pair is derived, so a verifier reads it to compute
 * the public key (current and, during rotation, `AWSPREVIOUS`). Publishing the public
 * key separately would let verifiers drop this grant; that is a later hardening step.
 */
export function bindSessionKey(
  fn: lambda.Function,
  secret: secretsmanager.ISecret,
  access: FunctionDefinition['sessionKeys'],
): void {
  if (access === 'none') return;
  fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [secret.secretArn] }));
  fn.addEnvironment(SESSION_KEY_ENV, secret.secretArn);
}

/** Environment variable carrying the ARN of the KMS key that seals stored secrets. */
export const SECRETS_KEY_ENV = ENV_VARS.secretsKmsKeyArn;

/**
 * Lets `fn` seal and open stored secrets with `key` when its definition says it
 * `sealsSecrets`, and sets `SECRETS_KMS_KEY_ARN`; otherwise does neither. The grant is
 * limited to encryption contexts that name the OIDC client-secret purpose.
 */
export function bindSecretsKey(fn: lambda.Function, key: kms.IKey, sealsSecrets: boolean | undefined): void {
  if (!sealsSecrets) return;
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['kms:Encrypt', 'kms:Decrypt'],
      resources: [key.keyArn],
      conditions: { StringEquals: { 'kms:EncryptionContext:purpose': 'oidc-client-secret' } },
    }),
  );
  fn.addEnvironment(SECRETS_KEY_ENV, key.keyArn);
}

/** Environment variable carrying the ARN of the SP key pair secret. */
export const SP_KEY_ENV = ENV_VARS.spKeySecretArn;

/** Lets `fn` read the SP key pair when its definition says `spKey`, and sets `SP_KEY_SECRET_ARN`. */
export function bindSpKey(fn: lambda.Function, secret: secretsmanager.ISecret, spKey: boolean | undefined): void {
  if (!spKey) return;
  fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [secret.secretArn] }));
  fn.addEnvironment(SP_KEY_ENV, secret.secretArn);
}
