/**
 * `LocalSealer`: seals secrets with AES-256-GCM under a key derived from a local secret, for
 * `npm start`, the CLI and tests. In AWS use `KmsSealer`.
 *
 * The key is HKDF-SHA256 of the secret with a label of its own, so the composition root can
 * pass the same git-ignored secret file the sessions use (`FileKeySource`): the sealing key
 * and the session signing key are unrelated. Each seal draws a random 96-bit IV; the
 * additional data is the canonical JSON of the context. Payload: IV (12) ‖ ciphertext ‖ tag (16).
 *
 * Rotation: `current` seals, `current` then `previous` open. A secret sealed two rotations
 * ago can no longer be opened: re-enter it.
 */
import { createCipheriv, createDecipheriv, createSecretKey, hkdfSync, randomBytes, type KeyObject } from 'node:crypto';
import { systemClock, type Clock } from '../clock.js';
import { canonicalContext, formatSealed, parseSealed, secretBytes, unopenable, type SealingContext, type SecretSealer } from './sealer.js';

/**
 * Where the local secret comes from. Same shape as `SessionKeySource`, so a `FileKeySource`
 * or `staticKeySource(…)` from shared/sessions/key-sources.ts fits as is.
 */
export interface SealingSecretSource {
  load(): Promise<{ current: string; previous?: string }>;
}

const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_REFRESH_MS = 5 * 60 * 1000;
const HKDF_SALT = 'sso-jit';
const HKDF_INFO = 'sso-jit/secret-sealer/v1/aes-256-gcm';

/** The AES-256 key of a local secret. Deterministic: same secret, same key. */
export function deriveSealingKey(secret: string): KeyObject {
  if (secret.length < 32) throw new Error('a sealing secret must have at least 32 characters');
  return createSecretKey(Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), HKDF_SALT, HKDF_INFO, 32)));
}

export class LocalSealer implements SecretSealer {
  private readonly source: SealingSecretSource;
  private cached?: { at: number; keys: KeyObject[] };

  /**
   * @param secret a secret string of at least 32 characters, or a source of one (reloaded every
   *   few minutes, to pick up a rotation).
   * @example new LocalSealer(new FileKeySource('.local/session-keys.json'))
   * @example new LocalSealer('a test secret of at least thirty-two characters')
   */
  constructor(
    secret: string | SealingSecretSource,
    private readonly clock: Clock = systemClock,
  ) {
    this.source = typeof secret === 'string' ? { load: async () => ({ current: secret }) } : secret;
  }

  /** The sealing keys, current first. */
  private async keys(): Promise<KeyObject[]> {
    const now = this.clock.now().getTime();
    if (this.cached && now - this.cached.at < KEY_REFRESH_MS) return this.cached.keys;
    const { current, previous } = await this.source.load();
    const keys = [deriveSealingKey(current), ...(previous ? [deriveSealingKey(previous)] : [])];
    this.cached = { at: now, keys };
    return keys;
  }

  async seal(plaintext: string, context: SealingContext): Promise<string> {
    const aad = Buffer.from(canonicalContext(context), 'utf8');
    const bytes = secretBytes(plaintext);
    const [key] = await this.keys();
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key!, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(aad);
    const ciphertext = Buffer.concat([cipher.update(bytes), cipher.final()]);
    return formatSealed('local', Buffer.concat([iv, ciphertext, cipher.getAuthTag()]));
  }

  async open(sealed: string, context: SealingContext): Promise<string> {
    const aad = Buffer.from(canonicalContext(context), 'utf8');
    const payload = parseSealed(sealed, 'local');
    if (payload.length <= IV_BYTES + TAG_BYTES) throw unopenable('local', 'it is too short');
    const iv = payload.subarray(0, IV_BYTES);
    const ciphertext = payload.subarray(IV_BYTES, payload.length - TAG_BYTES);
    const tag = payload.subarray(payload.length - TAG_BYTES);
    for (const key of await this.keys()) {
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
        decipher.setAAD(aad);
        decipher.setAuthTag(tag);
        return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
      } catch {
        // Authentication failed under this key: try the previous one.
      }
    }
    throw unopenable('local', 'it was tampered with, or sealed for another context or key');
  }
}
