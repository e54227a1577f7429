/**
 * Secret sealing: how OIDC client secrets are kept encrypted at rest in the settings table,
 * so a secret is never stored, returned or logged in clear (DESIGN.md "Client secrets and
 * signing keys are never returned, logged or committed").
 *
 * The port is `SecretSealer`; the adapters are `KmsSealer` (AWS, kms-sealer.ts) and
 * `LocalSealer` (a developer's machine and tests, local-sealer.ts). A sealed value is a
 * self-describing, versioned string, `v1.<scheme>.<base64url payload>`, e.g.
 * `v1.local.AbC…` or `v1.kms.AQI…`; it never contains the plaintext.
 *
 * Every seal is bound to a `context` (KMS encryption context / AES-GCM additional data),
 * e.g. `{ orgId: 'acme', purpose: 'oidc-client-secret' }`: a sealed value copied to
 * another org, or to another purpose, cannot be opened there.
 */
import { AppError } from '../errors.js';

/** What a sealed value is bound to. Values are not secret (they are logged by CloudTrail). */
export type SealingContext = Record<string, string>;

export interface SecretSealer {
  /**
   * Encrypts `plaintext` bound to `context`.
   * @returns `v1.<scheme>.<base64url>`; a different string on every call.
   * @throws AppError `VALIDATION_FAILED` when the secret is empty or larger than {@link MAX_SECRET_BYTES}.
   */
  seal(plaintext: string, context: SealingContext): Promise<string>;
  /**
   * Decrypts a value sealed with the same key and an equal `context` (order of keys is irrelevant).
   * @throws AppError `INTERNAL` (not exposed) when the value is tampered with, sealed for another
   *   context or key, or of an unknown version or scheme. The message never holds the value.
   */
  open(sealed: string, context: SealingContext): Promise<string>;
}

/** The largest secret that can be sealed, in UTF-8 bytes: the limit of KMS direct `Encrypt`. */
export const MAX_SECRET_BYTES = 4096;

/** Schemes of sealed values; the scheme says which adapter can open one. */
export type SealedScheme = 'local' | 'kms';

const VERSION = 'v1';
const SEALED_PATTERN = /^v1\.(local|kms)\.([A-Za-z0-9_-]+)$/;

/**
 * The context as canonical JSON: keys sorted by code unit, no whitespace. Used as AES-GCM
 * additional data, so `{ a, b }` and `{ b, a }` seal alike.
 */
export function canonicalContext(context: SealingContext): string {
  const entries = Object.entries(assertContext(context)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify(Object.fromEntries(entries));
}

/** Refuses an unbound seal: a context must name at least what the secret is for. */
export function assertContext(context: SealingContext): SealingContext {
  const entries = Object.entries(context ?? {});
  if (entries.length === 0) {
    throw new AppError('INTERNAL', 'a sealing context must have at least one entry', { expose: false });
  }
  for (const [key, value] of entries) {
    if (typeof value !== 'string') {
      throw new AppError('INTERNAL', `sealing context entry "${key}" must be a string`, { expose: false });
    }
  }
  return context;
}

/** The UTF-8 bytes of a secret to seal, once its size is checked. */
export function secretBytes(plaintext: string): Buffer {
  const bytes = Buffer.from(plaintext, 'utf8');
  if (bytes.length === 0) throw new AppError('VALIDATION_FAILED', 'a secret to seal must not be empty');
  if (bytes.length > MAX_SECRET_BYTES) {
    throw new AppError('VALIDATION_FAILED', `a secret to seal must be at most ${MAX_SECRET_BYTES} bytes`, {
      details: { expected: `<= ${MAX_SECRET_BYTES} bytes`, received: `${bytes.length} bytes` },
    });
  }
  return bytes;
}

/** `v1.<scheme>.<base64url payload>` */
export function formatSealed(scheme: SealedScheme, payload: Uint8Array): string {
  return `${VERSION}.${scheme}.${Buffer.from(payload).toString('base64url')}`;
}

/**
 * The payload of a sealed value of `scheme`.
 * @throws AppError `INTERNAL` (not exposed) for another version or scheme, or a malformed value.
 */
export function parseSealed(sealed: string, scheme: SealedScheme): Buffer {
  const match = typeof sealed === 'string' ? SEALED_PATTERN.exec(sealed) : null;
  if (!match) throw unopenable(scheme, 'it is not a v1 sealed value');
  if (match[1] !== scheme) throw unopenable(scheme, `it was sealed by the "${match[1]}" scheme`);
  return Buffer.from(match[2]!, 'base64url');
}

/** Whether a stored value looks sealed (and so is never a plaintext secret). */
export function isSealed(value: unknown): value is string {
  return typeof value === 'string' && SEALED_PATTERN.test(value);
}

/**
 * The one error of a failed `open`. The reason is fixed text chosen by the adapter: never the
 * sealed value, the plaintext or the context values.
 */
export function unopenable(scheme: SealedScheme, reason: string, cause?: unknown): AppError {
  return new AppError('INTERNAL', `the sealed secret could not be opened (${scheme}): ${reason}`, {
    expose: false,
    details: { scheme },
    cause,
  });
}
