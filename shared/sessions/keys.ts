/**
 * Session signing keys. A key is derived from a random secret (Secrets Manager in AWS,
 * a git-ignored file locally): Ed25519 seeded with SHA-256 of the secret, `kid` its JWK
 * thumbprint. Rotation: the new secret signs, the previous one still verifies, and the
 * JWKS publishes both.
 */
import { createHash, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, type JWK } from 'jose';

/** Where the secrets come from. `previous` verifies tokens signed before a rotation. */
export interface SessionKeySource {
  load(): Promise<{ current: string; previous?: string }>;
}

export interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  publicJwk: JWK;
}

// PKCS#8 DER header of an Ed25519 private key; the 32-byte seed follows.
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/** Derives the Ed25519 signing key of a secret. Deterministic: same secret, same key and kid. */
export async function deriveSigningKey(secret: string): Promise<SigningKey> {
  if (secret.length < 32) throw new Error('a session key secret must have at least 32 characters');
  const seed = createHash('sha256').update(secret, 'utf8').digest();
  const privateKey = createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  const publicKey = createPublicKey(privateKey);
  const jwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(jwk);
  return { kid, privateKey, publicKey, publicJwk: { ...jwk, kid, alg: 'EdDSA', use: 'sig' } };
}
