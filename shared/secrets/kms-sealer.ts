/**
 * `KmsSealer`: seals secrets with AWS KMS direct `Encrypt`/`Decrypt` under one symmetric key,
 * the context passed as the KMS encryption context (so CloudTrail records it, and a key
 * policy can require it, e.g. `kms:EncryptionContext:purpose`). The sealed payload is the
 * KMS `CiphertextBlob`. Direct encryption takes at most 4 KiB: bigger secrets are refused.
 */
import {
  DecryptCommand,
  EncryptCommand,
  IncorrectKeyException,
  InvalidCiphertextException,
  type DecryptCommandOutput,
  type EncryptCommandOutput,
} from '@aws-sdk/client-kms';
import { AppError } from '../errors.js';
import { assertContext, formatSealed, parseSealed, secretBytes, unopenable, type SealingContext, type SecretSealer } from './sealer.js';

/** The part of `KMSClient` the sealer uses; a `KMSClient` fits as is. */
export interface KmsClientPort {
  send(command: EncryptCommand): Promise<EncryptCommandOutput>;
  send(command: DecryptCommand): Promise<DecryptCommandOutput>;
}

export class KmsSealer implements SecretSealer {
  /**
   * @param client a `KMSClient`, created once in the composition root.
   * @param keyId the symmetric key (id, ARN or alias ARN) that seals, and the only one `open` accepts.
   */
  constructor(
    private readonly client: KmsClientPort,
    private readonly keyId: string,
  ) {}

  async seal(plaintext: string, context: SealingContext): Promise<string> {
    const encryptionContext = { ...assertContext(context) };
    const bytes = secretBytes(plaintext);
    let output: EncryptCommandOutput;
    try {
      output = await this.client.send(
        new EncryptCommand({ KeyId: this.keyId, Plaintext: bytes, EncryptionContext: encryptionContext, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' }),
      );
    } catch (error) {
      throw new AppError('INTERNAL', 'KMS could not seal the secret', { expose: false, cause: error });
    }
    if (!output.CiphertextBlob?.length) throw new AppError('INTERNAL', 'KMS returned no ciphertext', { expose: false });
    return formatSealed('kms', output.CiphertextBlob);
  }

  async open(sealed: string, context: SealingContext): Promise<string> {
    const encryptionContext = { ...assertContext(context) };
    const ciphertext = parseSealed(sealed, 'kms');
    let output: DecryptCommandOutput;
    try {
      // KeyId pins the key: a blob sealed under any other key is refused, not decrypted.
      output = await this.client.send(
        new DecryptCommand({ KeyId: this.keyId, CiphertextBlob: ciphertext, EncryptionContext: encryptionContext, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' }),
      );
    } catch (error) {
      if (error instanceof InvalidCiphertextException) {
        throw unopenable('kms', 'it was tampered with, or sealed for another context', error);
      }
      if (error instanceof IncorrectKeyException) throw unopenable('kms', 'it was sealed under another key', error);
      throw unopenable('kms', 'KMS refused or failed the request', error);
    }
    if (!output.Plaintext) throw unopenable('kms', 'KMS returned no plaintext');
    return Buffer.from(output.Plaintext).toString('utf8');
  }
}
