/**
 * Stateful stack: the four DynamoDB tables (built from `TABLES`, the single definition
 * the runtime also uses), the session signing secret, the SP key pair secret and the KMS
 * key that seals OIDC client secrets. Nothing here is replaced by an ordinary deploy;
 * outside `dev` everything is retained when the stack is deleted and the tables carry
 * deletion protection.
 */
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import type { FunctionDefinition } from '../functions/routes.js';
import { TABLES, type KeyDefinition, type TableDefinition } from '../shared/storage/tables.js';
import type { StageConfig } from './stage.js';

/** How `functions/routes.ts` names a table: `Users` → `users`, `LoginState` → `loginState`. */
export type TableKey = keyof FunctionDefinition['tables'];

// Compile-time check that the table definitions and the function definitions agree on
// the set of tables; if one side gains a table, this line stops compiling.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
const tableKeysAgree: Same<TableKey, TableDefinition['key']> = true;
void tableKeysAgree;

/** A deployed table together with the definition it was built from. */
export interface BoundTable {
  readonly table: dynamodb.ITable;
  readonly definition: TableDefinition;
}

/** Props of {@link DataStack}. */
export interface DataStackProps extends StackProps {
  readonly config: StageConfig;
}

/**
 * Tables and secrets. Pass {@link DataStack.tables} and {@link DataStack.sessionSecret}
 * to the API stack through its props; CDK turns them into cross-stack references.
 */
export class DataStack extends Stack {
  /** Every table of `TABLES`, by the key `functions/routes.ts` uses for it. */
  public readonly tables: Readonly<Record<TableKey, BoundTable>>;
  /**
   * Random 64-character string (no punctuation) from which the runtime derives the
   * Ed25519 session signing key. During a rotation the previous version (`AWSPREVIOUS`)
   * still verifies sessions it signed.
   */
  public readonly sessionSecret: secretsmanager.ISecret;
  /**
   * Customer-managed key that seals stored secrets (OIDC client secrets) with an
   * encryption context naming the org and purpose. Rotated yearly by KMS.
   */
  public readonly secretsKey: kms.IKey;
  /**
   * The SP key pair that signs AuthnRequests (JSON `{"privateKeyPem","certificatePem"}`).
   * Created with a placeholder; `sso-jit sp-key rotate` writes a real pair. Until then
   * requests go unsigned and the SP metadata carries no certificate.
   */
  public readonly spKeySecret: secretsmanager.ISecret;

  constructor(scope: Construct, id: string, props: DataStackProps) {
    super(scope, id, props);
    const { removalPolicy } = props.config;

    const tables: Partial<Record<TableKey, BoundTable>> = {};
    for (const definition of TABLES) {
      const table = new dynamodb.Table(this, definition.id, {
        partitionKey: attribute(definition.partitionKey),
        sortKey: definition.sortKey && attribute(definition.sortKey),
        billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        encryption: dynamodb.TableEncryption.AWS_MANAGED,
        timeToLiveAttribute: definition.ttlAttribute,
        removalPolicy,
        // Outside dev a table can be deleted only after an operator turns this off by hand.
        deletionProtection: !props.config.isDev,
      });
      for (const index of definition.globalIndexes) {
        table.addGlobalSecondaryIndex({
          indexName: index.indexName,
          partitionKey: attribute(index.partitionKey),
          sortKey: index.sortKey && attribute(index.sortKey),
          projectionType: dynamodb.ProjectionType.ALL,
        });
      }
      new CfnOutput(this, `${definition.id}TableName`, { value: table.tableName });
      tables[tableKey(definition)] = { table, definition };
    }
    this.tables = tables as Record<TableKey, BoundTable>;

    this.sessionSecret = new secretsmanager.Secret(this, 'SessionSigning', {
      description: `sso-jit ${props.config.stage}: seed of the Ed25519 session signing key`,
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
      removalPolicy,
    });
    new CfnOutput(this, 'SessionSigningSecretArn', { value: this.sessionSecret.secretArn });

    this.secretsKey = new kms.Key(this, 'SecretsKey', {
      description: `sso-jit ${props.config.stage}: seals OIDC client secrets stored in the settings table`,
      enableKeyRotation: true,
      removalPolicy,
    });
    new CfnOutput(this, 'SecretsKeyArn', { value: this.secretsKey.keyArn });

    this.spKeySecret = new secretsmanager.Secret(this, 'SpSigning', {
      description: `sso-jit ${props.config.stage}: SP key pairs that sign SAML AuthnRequests and decrypt encrypted assertions (set with sso-jit sp-key rotate)`,
      removalPolicy,
    });
    new CfnOutput(this, 'SpSigningSecretArn', { value: this.spKeySecret.secretArn });
  }
}

function attribute(key: KeyDefinition): dynamodb.Attribute {
  return { name: key.name, type: key.type === 'S' ? dynamodb.AttributeType.STRING : dynamodb.AttributeType.NUMBER };
}

/** The key of a table definition in `FunctionDefinition['tables']`. */
export function tableKey(definition: TableDefinition): TableKey {
  return definition.key;
}
