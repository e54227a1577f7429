/**
 * Session key sources: Secrets Manager in AWS (AWSCURRENT signs, AWSPREVIOUS verifies),
 * a git-ignored file on a developer's machine (shared by `npm start` and the CLI).
 */
import { GetSecretValueCommand, PutSecretValueCommand, ResourceNotFoundException, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { randomToken } from '../clock.js';
import type { SessionKeySource } from './keys.js';

/** A key source that can start a rotation: a new current secret, the old one kept as previous. */
export interface RotatableKeySource extends SessionKeySource {
  rotate(): Promise<void>;
}

export class SecretsManagerKeySource implements RotatableKeySource {
  constructor(
    private readonly client: SecretsManagerClient,
    private readonly secretId: string,
  ) {}

  async load(): Promise<{ current: string; previous?: string }> {
    const current = await this.client.send(new GetSecretValueCommand({ SecretId: this.secretId }));
    if (!current.SecretString) throw new Error(`secret ${this.secretId} has no string value`);
    let previous: string | undefined;
    try {
      const prior = await this.client.send(new GetSecretValueCommand({ SecretId: this.secretId, VersionStage: 'AWSPREVIOUS' }));
      previous = prior.SecretString;
    } catch (error) {
      // No previous version until the first rotation.
      if (!(error instanceof ResourceNotFoundException)) throw error;
    }
    return { current: current.SecretString, previous };
  }

  /** Puts a new version: Secrets Manager makes it AWSCURRENT and the old one AWSPREVIOUS. */
  async rotate(): Promise<void> {
    await this.client.send(new PutSecretValueCommand({ SecretId: this.secretId, SecretString: randomToken(48) }));
  }
}

/**
 * Keys in a JSON file `{ "current": "…", "previous": "…" }`, created with a fresh random
 * secret (mode 0600) the first time it is needed.
 */
export class FileKeySource implements RotatableKeySource {
  constructor(private readonly path: string) {}

  async load(): Promise<{ current: string; previous?: string }> {
    if (!existsSync(this.path)) {
      mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
      try {
        writeFileSync(this.path, JSON.stringify({ current: randomToken(48) }), { mode: 0o600, flag: 'wx' });
      } catch (error) {
        // Another process (the CLI, a second server) created it first: use theirs.
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
    }
    chmodSync(this.path, 0o600);
    const parsed = JSON.parse(readFileSync(this.path, 'utf8')) as { current?: unknown; previous?: unknown };
    if (typeof parsed.current !== 'string') throw new Error(`${this.path}: "current" must be a string`);
    return { current: parsed.current, previous: typeof parsed.previous === 'string' ? parsed.previous : undefined };
  }

  async rotate(): Promise<void> {
    const { current } = await this.load();
    writeFileSync(this.path, JSON.stringify({ current: randomToken(48), previous: current }), { mode: 0o600 });
  }
}

/** Fixed secrets: for tests and benchmarks. */
export const staticKeySource = (current: string, previous?: string): SessionKeySource => ({
  load: async () => ({ current, previous }),
});
