/**
 * Where the deployment's SP key pair comes from: a Secrets Manager secret in AWS, a
 * git-ignored file locally, both the JSON `{"privateKeyPem","certificatePem",
 * "encryption":{…},"previousEncryption":{…}}` written by `sso-jit sp-key rotate` (the
 * signing pair at the top level, as before encryption existed). Absent until set up:
 * then AuthnRequests go unsigned, the metadata publishes no certificate and no
 * encrypted assertion decrypts.
 *
 * Encryption keys: the current one is published in the metadata; decryption tries it,
 * then the previous one (kept by a rotation until the next), so IdPs that still encrypt
 * to the old certificate keep working during a rollover. A secret stored before
 * encryption existed has no `encryption`: its signing key then serves for encryption.
 */
import { GetSecretValueCommand, PutSecretValueCommand, ResourceNotFoundException, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { systemClock, type Clock } from '../clock.js';
import type { KeyObject } from 'node:crypto';
import type { SpKeyMaterial, SpKeyPair } from './authn-request.js';
import { decryptionKey } from './decrypt.js';

export interface SpKeySource {
  load(): Promise<SpKeyPair | undefined>;
}

/** Where a new SP key pair can be stored (`sso-jit sp-key rotate`). */
export interface WritableSpKeySource extends SpKeySource {
  store(pair: SpKeyPair): Promise<void>;
}

const REFRESH_MS = 5 * 60_000;

function material(value: unknown): SpKeyMaterial | undefined {
  const parsed = (value ?? {}) as Partial<SpKeyMaterial>;
  const looksRight = typeof parsed.privateKeyPem === 'string' && parsed.privateKeyPem.includes('PRIVATE KEY') && typeof parsed.certificatePem === 'string' && parsed.certificatePem.includes('CERTIFICATE');
  return looksRight ? { privateKeyPem: parsed.privateKeyPem!, certificatePem: parsed.certificatePem! } : undefined;
}

/** The stored JSON as a key pair; undefined for a placeholder or anything malformed. */
export function parseKeyPair(text: string | undefined): SpKeyPair | undefined {
  if (!text) return undefined;
  try {
    const parsed = JSON.parse(text) as Record<string, unknown>;
    const signing = material(parsed);
    if (signing === undefined) return undefined;
    const encryption = material(parsed.encryption);
    const previousEncryption = material(parsed.previousEncryption);
    return { ...signing, ...(encryption ? { encryption } : {}), ...(previousEncryption ? { previousEncryption } : {}) };
  } catch {
    // A placeholder value (the secret CDK creates before anyone rotates one in).
    return undefined;
  }
}

/** The key IdPs encrypt to, published in the metadata: `encryption`, else (an older secret) the signing pair. */
export function spEncryptionKey(pair: SpKeyPair): SpKeyMaterial {
  return pair.encryption ?? { privateKeyPem: pair.privateKeyPem, certificatePem: pair.certificatePem };
}

/** The keys an encrypted assertion is decrypted with, current first, then the previous one (if any). */
export function spDecryptionKeys(pair: SpKeyPair | undefined): KeyObject[] {
  if (pair === undefined) return [];
  const keys = [spEncryptionKey(pair), ...(pair.previousEncryption ? [pair.previousEncryption] : [])];
  return keys.map((key) => decryptionKey(key.privateKeyPem));
}

/**
 * The pair after a rotation: new signing and encryption keys, and the encryption key
 * being replaced kept as `previousEncryption` (the one before it is dropped).
 */
export function rotatedKeyPair(current: SpKeyPair | undefined, signing: SpKeyMaterial, encryption: SpKeyMaterial): SpKeyPair {
  return { ...signing, encryption, ...(current ? { previousEncryption: spEncryptionKey(current) } : {}) };
}

/** Caches what a loader returns for a few minutes, so a rotation is picked up without a redeploy. */
abstract class CachedSource implements SpKeySource {
  private cached?: { at: number; value: SpKeyPair | undefined };

  constructor(private readonly clock: Clock) {}

  async load(): Promise<SpKeyPair | undefined> {
    const now = this.clock.now().getTime();
    if (this.cached && now - this.cached.at < REFRESH_MS) return this.cached.value;
    const value = await this.read();
    this.cached = { at: now, value };
    return value;
  }

  protected abstract read(): Promise<SpKeyPair | undefined>;
}

export class SecretsManagerSpKeySource extends CachedSource implements WritableSpKeySource {
  constructor(
    private readonly client: SecretsManagerClient,
    private readonly secretId: string,
    clock: Clock = systemClock,
  ) {
    super(clock);
  }

  protected async read(): Promise<SpKeyPair | undefined> {
    try {
      const { SecretString } = await this.client.send(new GetSecretValueCommand({ SecretId: this.secretId }));
      return parseKeyPair(SecretString);
    } catch (error) {
      if (error instanceof ResourceNotFoundException) return undefined;
      throw error;
    }
  }

  async store(pair: SpKeyPair): Promise<void> {
    await this.client.send(new PutSecretValueCommand({ SecretId: this.secretId, SecretString: JSON.stringify(pair) }));
  }
}

export class FileSpKeySource extends CachedSource implements WritableSpKeySource {
  constructor(
    private readonly path: string,
    clock: Clock = systemClock,
  ) {
    super(clock);
  }

  protected async read(): Promise<SpKeyPair | undefined> {
    return existsSync(this.path) ? parseKeyPair(readFileSync(this.path, 'utf8')) : undefined;
  }

  async store(pair: SpKeyPair): Promise<void> {
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    writeFileSync(this.path, JSON.stringify(pair), { mode: 0o600 });
  }
}

export const staticSpKeySource = (pair: SpKeyPair | undefined): SpKeySource => ({ load: async () => pair });
