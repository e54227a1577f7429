/**
 * Secret sealing (DESIGN.md "Client secrets … are never returned, logged or committed"):
 * OIDC client secrets are stored sealed, bound to their org and purpose, and a value that
 * was tampered with, moved to another org or sealed under another key is never opened.
 *
 * KMS cannot run here (no emulator), so `KmsSealer` talks to `FakeKms`, an in-process
 * stand-in that behaves like KMS where it matters: real AES-GCM, the key id inside the
 * blob, the encryption context bound as additional data, the SDK's own exception classes.
 */
import {
  DecryptCommand,
  EncryptCommand,
  IncorrectKeyException,
  InvalidCiphertextException,
  KMSInvalidStateException,
  NotFoundException,
  type DecryptCommandOutput,
  type EncryptCommandOutput,
} from '@aws-sdk/client-kms';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../../shared/errors.js';
import { KmsSealer, type KmsClientPort } from '../../../shared/secrets/kms-sealer.js';
import { LocalSealer } from '../../../shared/secrets/local-sealer.js';
import { isSealed, MAX_SECRET_BYTES, type SecretSealer } from '../../../shared/secrets/sealer.js';
import { staticKeySource } from '../../../shared/sessions/key-sources.js';

const SECRET_A = 'a'.repeat(16) + '-first-local-secret-0123456789ab';
const SECRET_B = 'b'.repeat(16) + '-second-local-secret-9876543210z';
const CLIENT_SECRET = 'oidc-client-secret-Zq8vN3kL0pR7sT2wX5yB';
const ACME = { orgId: 'acme', purpose: 'oidc-client-secret' };
const GLOBEX = { orgId: 'globex', purpose: 'oidc-client-secret' };
const KEY_A = 'arn:aws:kms:eu-west-1:111122223333:key/aaaaaaaa-1111-2222-3333-444444444444';
const KEY_B = 'arn:aws:kms:eu-west-1:111122223333:key/bbbbbbbb-1111-2222-3333-444444444444';

/** The error `open` (or `seal`) threw, to inspect it. */
async function failure(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

/** Everything of an error that could reach a log line. */
const loggable = (error: AppError): string =>
  [error.message, error.stack, JSON.stringify(error.details), String(error.cause), (error.cause as Error | undefined)?.message].join('\n');

/** Flips one bit in the middle of a sealed value's payload (keeps it valid base64url). */
function tamper(sealed: string): string {
  const cut = sealed.lastIndexOf('.') + 1;
  const payload = Buffer.from(sealed.slice(cut), 'base64url');
  payload[Math.floor(payload.length / 2)]! ^= 0x01;
  return sealed.slice(0, cut) + payload.toString('base64url');
}

function expectUnopenable(error: AppError, ...secrets: string[]) {
  expect(error.code).toBe('INTERNAL');
  expect(error.status).toBe(500);
  expect(error.expose).toBe(false);
  for (const secret of secrets) expect(loggable(error)).not.toContain(secret);
}

describe('LocalSealer', () => {
  it('opens what it sealed', async () => {
    const sealer = new LocalSealer(SECRET_A);

    const sealed = await sealer.seal(CLIENT_SECRET, ACME);

    expect(await sealer.open(sealed, ACME)).toBe(CLIENT_SECRET);
  });

  it('keeps non-ASCII secrets intact', async () => {
    const sealer = new LocalSealer(SECRET_A);
    const secret = 'sécrét-🔑-ключ';

    expect(await sealer.open(await sealer.seal(secret, ACME), ACME)).toBe(secret);
  });

  it('writes a versioned local value that never contains the plaintext', async () => {
    const sealer = new LocalSealer(SECRET_A);

    const sealed = await sealer.seal(CLIENT_SECRET, ACME);

    expect(sealed).toMatch(/^v1\.local\.[A-Za-z0-9_-]+$/);
    expect(isSealed(sealed)).toBe(true);
    expect(sealed).not.toContain(CLIENT_SECRET);
    expect(sealed).not.toContain(Buffer.from(CLIENT_SECRET).toString('base64url'));
    expect(Buffer.from(sealed.slice('v1.local.'.length), 'base64url').toString('latin1')).not.toContain(CLIENT_SECRET);
  });

  it('gives a different sealed value each time for the same secret and context', async () => {
    const sealer = new LocalSealer(SECRET_A);

    const first = await sealer.seal(CLIENT_SECRET, ACME);
    const second = await sealer.seal(CLIENT_SECRET, ACME);

    expect(first).not.toBe(second);
    expect(first.slice(9, 25)).not.toBe(second.slice(9, 25)); // the IVs differ
  });

  it('opens with the same context given in another key order', async () => {
    const sealer = new LocalSealer(SECRET_A);
    const sealed = await sealer.seal(CLIENT_SECRET, { orgId: 'acme', purpose: 'oidc-client-secret' });

    expect(await sealer.open(sealed, { purpose: 'oidc-client-secret', orgId: 'acme' })).toBe(CLIENT_SECRET);
  });

  it('refuses a value sealed for another org', async () => {
    const sealer = new LocalSealer(SECRET_A);
    const sealed = await sealer.seal(CLIENT_SECRET, ACME);

    const error = await failure(sealer.open(sealed, GLOBEX));

    expectUnopenable(error, CLIENT_SECRET, sealed);
  });

  it('refuses a value sealed for another purpose or with a context entry more', async () => {
    const sealer = new LocalSealer(SECRET_A);
    const sealed = await sealer.seal(CLIENT_SECRET, ACME);

    await expect(sealer.open(sealed, { ...ACME, purpose: 'saml-signing-key' })).rejects.toBeInstanceOf(AppError);
    await expect(sealer.open(sealed, { ...ACME, idp: 'okta' })).rejects.toBeInstanceOf(AppError);
  });

  it('refuses a tampered value', async () => {
    const sealer = new LocalSealer(SECRET_A);
    const sealed = await sealer.seal(CLIENT_SECRET, ACME);
    const tampered = tamper(sealed);

    const error = await failure(sealer.open(tampered, ACME));

    expectUnopenable(error, CLIENT_SECRET, tampered, sealed.slice(9));
  });

  it('refuses a truncated value', async () => {
    const sealer = new LocalSealer(SECRET_A);
    const sealed = await sealer.seal(CLIENT_SECRET, ACME);

    const error = await failure(sealer.open(sealed.slice(0, 20), ACME));

    expectUnopenable(error, CLIENT_SECRET, sealed.slice(0, 20));
  });

  it('refuses a value sealed under another key', async () => {
    const sealed = await new LocalSealer(SECRET_A).seal(CLIENT_SECRET, ACME);

    const error = await failure(new LocalSealer(SECRET_B).open(sealed, ACME));

    expectUnopenable(error, CLIENT_SECRET, sealed, SECRET_A, SECRET_B);
  });

  it.each([
    ['an unknown version', (sealed: string) => sealed.replace(/^v1\./, 'v2.')],
    ['the kms scheme', (sealed: string) => sealed.replace('.local.', '.kms.')],
    ['an unknown scheme', (sealed: string) => sealed.replace('.local.', '.plain.')],
    ['a plaintext secret', () => CLIENT_SECRET],
    ['an empty string', () => ''],
  ])('refuses %s', async (_name, mangle) => {
    const sealer = new LocalSealer(SECRET_A);
    const value = mangle(await sealer.seal(CLIENT_SECRET, ACME));

    const error = await failure(sealer.open(value, ACME));

    expectUnopenable(error, CLIENT_SECRET, ...(value ? [value] : []));
  });

  it('opens a value sealed before a rotation with the previous secret, and seals with the current one', async () => {
    const before = new LocalSealer(staticKeySource(SECRET_A));
    const after = new LocalSealer(staticKeySource(SECRET_B, SECRET_A));
    const sealedBefore = await before.seal(CLIENT_SECRET, ACME);

    const sealedAfter = await after.seal(CLIENT_SECRET, ACME);

    expect(await after.open(sealedBefore, ACME)).toBe(CLIENT_SECRET);
    await expect(before.open(sealedAfter, ACME)).rejects.toBeInstanceOf(AppError);
  });

  it('refuses a secret shorter than 32 characters as its key material', async () => {
    await expect(new LocalSealer('too-short').seal(CLIENT_SECRET, ACME)).rejects.toThrow(/at least 32 characters/);
  });

  it('seals a secret of exactly 4 KiB and refuses a bigger or empty one without echoing it', async () => {
    const sealer = new LocalSealer(SECRET_A);
    const biggest = 'x'.repeat(MAX_SECRET_BYTES);
    const tooBig = 'y'.repeat(MAX_SECRET_BYTES + 1);

    expect(await sealer.open(await sealer.seal(biggest, ACME), ACME)).toBe(biggest);
    const error = await failure(sealer.seal(tooBig, ACME));
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.message).toMatch(/at most 4096 bytes/);
    expect(loggable(error)).not.toContain('yyyyyyyy');
    expect((await failure(sealer.seal('', ACME))).code).toBe('VALIDATION_FAILED');
  });

  it('refuses to seal without a context', async () => {
    const error = await failure(new LocalSealer(SECRET_A).seal(CLIENT_SECRET, {}));

    expect(error.code).toBe('INTERNAL');
    expect(loggable(error)).not.toContain(CLIENT_SECRET);
  });
});

/**
 * A stand-in for AWS KMS symmetric keys: `send()` for Encrypt and Decrypt only. Like KMS, the
 * blob carries the key id, the encryption context is bound as additional data (Decrypt with
 * any other context fails with InvalidCiphertextException), and a Decrypt whose KeyId is not
 * the blob's key fails with IncorrectKeyException.
 */
class FakeKms implements KmsClientPort {
  readonly calls: Array<EncryptCommand | DecryptCommand> = [];
  private readonly keys = new Map<string, Buffer>();
  failWith?: Error;

  constructor(...keyIds: string[]) {
    for (const keyId of keyIds) this.keys.set(keyId, randomBytes(32));
  }

  send(command: EncryptCommand): Promise<EncryptCommandOutput>;
  send(command: DecryptCommand): Promise<DecryptCommandOutput>;
  async send(command: EncryptCommand | DecryptCommand): Promise<EncryptCommandOutput | DecryptCommandOutput> {
    this.calls.push(command);
    if (this.failWith) throw this.failWith;
    if (command instanceof EncryptCommand) return this.encrypt(command.input);
    if (command instanceof DecryptCommand) return this.decrypt(command.input);
    throw new Error('FakeKms implements Encrypt and Decrypt only');
  }

  private encrypt(input: EncryptCommand['input']): EncryptCommandOutput {
    const key = this.key(input.KeyId);
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(contextAad(input.EncryptionContext));
    const body = Buffer.concat([cipher.update(input.Plaintext!), cipher.final(), cipher.getAuthTag()]);
    const keyId = Buffer.from(input.KeyId!, 'utf8');
    const blob = Buffer.concat([Buffer.from([keyId.length]), keyId, iv, body]);
    return { CiphertextBlob: new Uint8Array(blob), KeyId: input.KeyId, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT', $metadata: {} };
  }

  private decrypt(input: DecryptCommand['input']): DecryptCommandOutput {
    const blob = Buffer.from(input.CiphertextBlob ?? []);
    const keyId = blob.subarray(1, 1 + (blob[0] ?? 0)).toString('utf8');
    const key = this.keys.get(keyId);
    if (!key || blob.length < 1 + keyId.length + 12 + 16) throw invalidCiphertext();
    if (input.KeyId !== undefined && input.KeyId !== keyId) {
      throw new IncorrectKeyException({ message: 'The key ID in the request does not identify a KMS key that can perform this operation.', $metadata: {} });
    }
    const iv = blob.subarray(1 + keyId.length, 13 + keyId.length);
    const body = blob.subarray(13 + keyId.length);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, iv);
      decipher.setAAD(contextAad(input.EncryptionContext));
      decipher.setAuthTag(body.subarray(body.length - 16));
      const plaintext = Buffer.concat([decipher.update(body.subarray(0, body.length - 16)), decipher.final()]);
      return { Plaintext: new Uint8Array(plaintext), KeyId: keyId, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT', $metadata: {} };
    } catch {
      throw invalidCiphertext();
    }
  }

  private key(keyId: string | undefined): Buffer {
    const key = keyId === undefined ? undefined : this.keys.get(keyId);
    if (!key) throw new NotFoundException({ message: `Key '${keyId}' does not exist`, $metadata: {} });
    return key;
  }
}

const invalidCiphertext = () => new InvalidCiphertextException({ message: '', $metadata: {} });

/** KMS binds the context whatever the order of its keys. */
const contextAad = (context: Record<string, string> = {}) =>
  Buffer.from(JSON.stringify(Object.entries(context).sort(([a], [b]) => (a < b ? -1 : 1))), 'utf8');

describe('FakeKms', () => {
  it('refuses to decrypt with another encryption context, as KMS does', async () => {
    const kms = new FakeKms(KEY_A);
    const { CiphertextBlob } = await kms.send(new EncryptCommand({ KeyId: KEY_A, Plaintext: Buffer.from(CLIENT_SECRET), EncryptionContext: ACME }));

    await expect(kms.send(new DecryptCommand({ CiphertextBlob, EncryptionContext: GLOBEX }))).rejects.toBeInstanceOf(InvalidCiphertextException);
    await expect(kms.send(new DecryptCommand({ CiphertextBlob }))).rejects.toBeInstanceOf(InvalidCiphertextException);
  });
});

describe('KmsSealer', () => {
  const setup = () => {
    const kms = new FakeKms(KEY_A, KEY_B);
    const sealer: SecretSealer = new KmsSealer(kms, KEY_A);
    return { kms, sealer };
  };

  it('opens what it sealed', async () => {
    const { sealer } = setup();

    const sealed = await sealer.seal(CLIENT_SECRET, ACME);

    expect(await sealer.open(sealed, ACME)).toBe(CLIENT_SECRET);
  });

  it('sends Encrypt with its KeyId and the context as EncryptionContext', async () => {
    const { kms, sealer } = setup();

    await sealer.seal(CLIENT_SECRET, ACME);

    expect(kms.calls).toHaveLength(1);
    const command = kms.calls[0];
    expect(command).toBeInstanceOf(EncryptCommand);
    expect(command!.input).toMatchObject({ KeyId: KEY_A, EncryptionContext: ACME });
    expect(Buffer.from((command as EncryptCommand).input.Plaintext!).toString('utf8')).toBe(CLIENT_SECRET);
  });

  it('sends Decrypt with its KeyId and the context as EncryptionContext', async () => {
    const { kms, sealer } = setup();
    const sealed = await sealer.seal(CLIENT_SECRET, ACME);

    await sealer.open(sealed, ACME);

    const command = kms.calls[1];
    expect(command).toBeInstanceOf(DecryptCommand);
    expect(command!.input).toMatchObject({ KeyId: KEY_A, EncryptionContext: ACME });
  });

  it('writes a versioned kms value that never contains the plaintext', async () => {
    const { sealer } = setup();

    const sealed = await sealer.seal(CLIENT_SECRET, ACME);

    expect(sealed).toMatch(/^v1\.kms\.[A-Za-z0-9_-]+$/);
    expect(sealed).not.toContain(CLIENT_SECRET);
    expect(Buffer.from(sealed.slice('v1.kms.'.length), 'base64url').toString('latin1')).not.toContain(CLIENT_SECRET);
  });

  it('gives a different sealed value each time', async () => {
    const { sealer } = setup();

    expect(await sealer.seal(CLIENT_SECRET, ACME)).not.toBe(await sealer.seal(CLIENT_SECRET, ACME));
  });

  it('refuses a value sealed for another org', async () => {
    const { sealer } = setup();
    const sealed = await sealer.seal(CLIENT_SECRET, ACME);

    const error = await failure(sealer.open(sealed, GLOBEX));

    expectUnopenable(error, CLIENT_SECRET, sealed);
    expect(error.cause).toBeInstanceOf(InvalidCiphertextException);
  });

  it('refuses a tampered value', async () => {
    const { sealer } = setup();
    const tampered = tamper(await sealer.seal(CLIENT_SECRET, ACME));

    const error = await failure(sealer.open(tampered, ACME));

    expectUnopenable(error, CLIENT_SECRET, tampered);
  });

  it('refuses a value sealed under another key', async () => {
    const { kms } = setup();
    const sealed = await new KmsSealer(kms, KEY_B).seal(CLIENT_SECRET, ACME);

    const error = await failure(new KmsSealer(kms, KEY_A).open(sealed, ACME));

    expectUnopenable(error, CLIENT_SECRET, sealed);
    expect(error.cause).toBeInstanceOf(IncorrectKeyException);
  });

  it('refuses a local or unknown value without calling KMS', async () => {
    const { kms, sealer } = setup();
    const local = await new LocalSealer(SECRET_A).seal(CLIENT_SECRET, ACME);

    expectUnopenable(await failure(sealer.open(local, ACME)), CLIENT_SECRET, local);
    expectUnopenable(await failure(sealer.open('v9.kms.AAAA', ACME)), CLIENT_SECRET);
    expect(kms.calls).toHaveLength(0);
  });

  it('turns a KMS failure into a non-exposed internal error that keeps the cause', async () => {
    const { kms, sealer } = setup();
    const sealed = await sealer.seal(CLIENT_SECRET, ACME);
    kms.failWith = new KMSInvalidStateException({ message: 'key is pending deletion', $metadata: {} });

    const error = await failure(sealer.open(sealed, ACME));

    expectUnopenable(error, CLIENT_SECRET, sealed);
    expect(error.cause).toBe(kms.failWith);
    const sealError = await failure(sealer.seal(CLIENT_SECRET, ACME));
    expectUnopenable(sealError, CLIENT_SECRET);
  });

  it('refuses a secret over 4 KiB, the KMS direct-encrypt limit, without calling KMS', async () => {
    const { kms, sealer } = setup();

    const error = await failure(sealer.seal('z'.repeat(MAX_SECRET_BYTES + 1), ACME));

    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.message).toBe('a secret to seal must be at most 4096 bytes');
    expect(kms.calls).toHaveLength(0);
  });

  it('counts the 4 KiB limit in UTF-8 bytes, not characters', async () => {
    const { sealer } = setup();

    await expect(sealer.seal('é'.repeat(2049), ACME)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });
});
