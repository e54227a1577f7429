/**
 * Where the deployment's SP key pair comes from: a Secrets Manager secret in AWS (JSON
 * `{"privateKeyPem","certificatePem"}`, written by `sso-jit sp-key rotate`), a
 * git-ignored file locally. Absent until set up: then AuthnRequests go unsigned and the
 * metadata publishes no certificate.
 */
import { GetSecretValueCommand, PutSecretValueCommand, ResourceNotFoundException, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { systemClock, type Clock } from '../clock.js';
import type { SpKeyPair } from './authn-request.js';

export interface SpKeySource {
  load(): Promise<SpKeyPair | undefined>;
}

/** Where a new SP key pair can be stored (`sso-jit sp-key rotate`). */
export interface WritableSpKeySource extends SpKeySource {
  store(pair: SpKeyPair): Promise<void>;
}

const REFRESH_MS = 5 * 60_000;

function parseKeyPair(text: string | undefined): SpKeyPair | undefined {
  if (!text) return undefined;
  try {
    const parsed = JSON.parse(text) as Partial<SpKeyPair>;
    const looksRight = typeof parsed.privateKeyPem === 'string' && parsed.privateKeyPem.includes('PRIVATE KEY') && typeof parsed.certificatePem === 'string' && parsed.certificatePem.includes('CERTIFICATE');
    return looksRight ? { privateKeyPem: parsed.privateKeyPem!, certificatePem: parsed.certificatePem! } : undefined;
  } catch {
    // A placeholder value (the secret CDK creates before anyone rotates one in).
    return undefined;
  }
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
