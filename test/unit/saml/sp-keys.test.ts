/**
 * The SP key pair's encryption keys (shared/saml/sp-keys.ts): the stored JSON, old
 * secrets without them, decryption order, and what a rotation keeps.
 */
import { createPublicKey } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { createSamlIdpKeys, type SamlIdpKeys } from '../../../local/saml-idp.js';
import { parseKeyPair, rotatedKeyPair, spDecryptionKeys, spEncryptionKey } from '../../../shared/saml/sp-keys.js';

let signing: SamlIdpKeys;
let encryption: SamlIdpKeys;
let previous: SamlIdpKeys;

const material = (keys: SamlIdpKeys) => ({ privateKeyPem: keys.privateKeyPem, certificatePem: keys.certificatePem });
const publicOf = (pem: string) => createPublicKey(pem).export({ type: 'spki', format: 'pem' });

beforeAll(async () => {
  [signing, encryption, previous] = await Promise.all([createSamlIdpKeys('s'), createSamlIdpKeys('e'), createSamlIdpKeys('p')]);
});

describe('parseKeyPair', () => {
  it('reads the signing pair with its encryption and previous encryption keys', () => {
    const pair = parseKeyPair(JSON.stringify({ ...material(signing), encryption: material(encryption), previousEncryption: material(previous) }));

    expect(pair).toEqual({ ...material(signing), encryption: material(encryption), previousEncryption: material(previous) });
  });

  it('reads a secret stored before encryption existed, whose signing key then encrypts too', () => {
    const pair = parseKeyPair(JSON.stringify(material(signing)))!;

    expect(pair).toEqual(material(signing));
    expect(spEncryptionKey(pair)).toEqual(material(signing));
  });

  it('ignores an encryption entry that is not a key and a certificate', () => {
    const pair = parseKeyPair(JSON.stringify({ ...material(signing), encryption: { privateKeyPem: 'x' }, previousEncryption: 'nope' }));

    expect(pair).toEqual(material(signing));
  });

  it('answers undefined for a placeholder secret', () => {
    expect(parseKeyPair('placeholder')).toBeUndefined();
    expect(parseKeyPair(JSON.stringify({ encryption: material(encryption) }))).toBeUndefined();
  });
});

describe('spDecryptionKeys and rotatedKeyPair', () => {
  it('decrypts with the current key first, then the previous one', () => {
    const keys = spDecryptionKeys({ ...material(signing), encryption: material(encryption), previousEncryption: material(previous) });

    expect(keys.map((key) => createPublicKey(key).export({ type: 'spki', format: 'pem' }))).toEqual([publicOf(encryption.privateKeyPem), publicOf(previous.privateKeyPem)]);
  });

  it('has no decryption key without a key pair', () => {
    expect(spDecryptionKeys(undefined)).toEqual([]);
  });

  it('keeps the replaced encryption key as the previous one and drops the one before', () => {
    const current = { ...material(signing), encryption: material(encryption), previousEncryption: material(previous) };

    const rotated = rotatedKeyPair(current, material(previous), material(signing));

    expect(rotated).toEqual({ ...material(previous), encryption: material(signing), previousEncryption: material(encryption) });
  });

  it('keeps an old secret\'s signing key as the previous encryption key', () => {
    expect(rotatedKeyPair(material(signing), material(encryption), material(previous)).previousEncryption).toEqual(material(signing));
  });
});
