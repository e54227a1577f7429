/**
 * The IdP side of XML Encryption for SAML: turns the Assertion of a (signed or not)
 * login response into an `EncryptedAssertion` for an SP's encryption certificate, as
 * Okta, Entra ID or Shibboleth send it (EncryptedKey inside the EncryptedData's KeyInfo).
 *
 * Used by the development IdP of `npm start` and by the tests, which also use its
 * lower-level pieces to build the shapes an attacker sends (bad OAEP padding, bad CBC
 * padding, a GCM tag that does not check, a key for someone else). Never used in AWS.
 */
import { constants, createCipheriv, createHash, publicEncrypt, randomBytes, X509Certificate, type KeyObject } from 'node:crypto';
import { CONTENT_ENCRYPTION, ELEMENT_TYPE, KEY_TRANSPORT, OAEP_DIGEST, OAEP_MGF } from '../shared/saml/decrypt.js';

export { CONTENT_ENCRYPTION, KEY_TRANSPORT, OAEP_DIGEST, OAEP_MGF };

const XENC = 'http://www.w3.org/2001/04/xmlenc#';
const XENC11 = 'http://www.w3.org/2009/xmlenc11#';
const DS = 'http://www.w3.org/2000/09/xmldsig#';

const HASH_OF: Record<string, string> = {
  [OAEP_DIGEST.sha1]: 'sha1',
  [OAEP_DIGEST.sha256]: 'sha256',
  [OAEP_MGF.mgf1sha1]: 'sha1',
  [OAEP_MGF.mgf1sha256]: 'sha256',
  'http://www.w3.org/2009/xmlenc11#mgf1sha512': 'sha512',
  'http://www.w3.org/2001/04/xmlenc#sha512': 'sha512',
};

const KEY_BYTES: Record<string, number> = {
  [CONTENT_ENCRYPTION.aes128Gcm]: 16,
  [CONTENT_ENCRYPTION.aes256Gcm]: 32,
  [CONTENT_ENCRYPTION.aes128Cbc]: 16,
  [CONTENT_ENCRYPTION.aes256Cbc]: 32,
};

export interface AssertionEncryption {
  /** The SP's encryption certificate (PEM), or its public key. */
  certificatePem: string | KeyObject;
  /** Default `xmlenc#rsa-oaep-mgf1p`. */
  keyTransport?: string;
  /** The OAEP DigestMethod; default SHA-1. `null` writes none. */
  digest?: string | null;
  /** xenc11:MGF (for `xmlenc11#rsa-oaep`); none written by default (MGF1-SHA1). */
  mgf?: string;
  /** Default `xmlenc11#aes256-gcm`. */
  content?: string;
}

function publicKeyOf(certificate: string | KeyObject): KeyObject {
  return typeof certificate === 'string' ? new X509Certificate(certificate).publicKey : certificate;
}

function mgf1(seed: Buffer, length: number, hash: string): Buffer {
  const blocks: Buffer[] = [];
  for (let i = 0, produced = 0; produced < length; i++) {
    const counter = Buffer.alloc(4);
    counter.writeUInt32BE(i);
    const block = createHash(hash).update(seed).update(counter).digest();
    blocks.push(block);
    produced += block.length;
  }
  return Buffer.concat(blocks).subarray(0, length);
}

/** EME-OAEP encoding (RFC 8017 §7.1.1) with separate digest and MGF hashes. */
export function oaepEncode(message: Buffer, modulusBytes: number, digest: string, mgf: string, label = Buffer.alloc(0)): Buffer {
  const lHash = createHash(digest).update(label).digest();
  const hLen = lHash.length;
  const db = Buffer.concat([lHash, Buffer.alloc(modulusBytes - message.length - 2 * hLen - 2), Buffer.from([1]), message]);
  const seed = randomBytes(hLen);
  const dbMask = mgf1(seed, db.length, mgf);
  const maskedDb = Buffer.from(db.map((byte, i) => byte ^ dbMask[i]!));
  const seedMask = mgf1(maskedDb, hLen, mgf);
  const maskedSeed = Buffer.from(seed.map((byte, i) => byte ^ seedMask[i]!));
  return Buffer.concat([Buffer.from([0]), maskedSeed, maskedDb]);
}

/** Raw RSA of exactly one modulus-sized block (an attacker's arbitrary "padding"). */
export function rsaRaw(block: Buffer, certificate: string | KeyObject): Buffer {
  return publicEncrypt({ key: publicKeyOf(certificate), padding: constants.RSA_NO_PADDING }, block);
}

/** The modulus size in bytes of the certificate's RSA key. */
export const modulusBytes = (certificate: string | KeyObject): number => Math.ceil((publicKeyOf(certificate).asymmetricKeyDetails?.modulusLength ?? 0) / 8);

/** The CEK wrapped for the certificate's key with the options' key transport. */
export function wrapKey(cek: Buffer, options: AssertionEncryption): Buffer {
  const key = publicKeyOf(options.certificatePem);
  const digest = HASH_OF[options.digest ?? OAEP_DIGEST.sha1] ?? 'sha1';
  const mgf = options.keyTransport === KEY_TRANSPORT.rsaOaep && options.mgf !== undefined ? (HASH_OF[options.mgf] ?? 'sha1') : 'sha1';
  if (digest === mgf) return publicEncrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: digest }, cek);
  return rsaRaw(oaepEncode(cek, modulusBytes(key), digest, mgf), key);
}

/**
 * AES content encryption as XML Encryption lays it out: GCM is IV(12) ‖ ciphertext ‖
 * tag(16); CBC is IV(16) ‖ ciphertext, padded to the block with arbitrary octets and a
 * last octet counting them (`padding` overrides that tail, for attack tests).
 */
export function encryptContent(plaintext: Buffer, cek: Buffer, content: string, options: { cbcPadding?: Buffer } = {}): Buffer {
  const bits = cek.length * 8;
  if (content === CONTENT_ENCRYPTION.aes128Gcm || content === CONTENT_ENCRYPTION.aes256Gcm) {
    const iv = randomBytes(12);
    const cipher = createCipheriv(`aes-${bits}-gcm` as 'aes-256-gcm', cek, iv, { authTagLength: 16 });
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Buffer.concat([iv, body, cipher.getAuthTag()]);
  }
  const iv = randomBytes(16);
  const padLength = 16 - (plaintext.length % 16);
  const padding = options.cbcPadding ?? Buffer.concat([randomBytes(padLength - 1), Buffer.from([padLength])]);
  const cipher = createCipheriv(`aes-${bits}-cbc`, cek, iv);
  cipher.setAutoPadding(false);
  return Buffer.concat([iv, cipher.update(Buffer.concat([plaintext, padding])), cipher.final()]);
}

/** The `<saml:EncryptedAssertion>` element around an already wrapped key and encrypted content. */
export function encryptedAssertionElement(parts: { keyTransport: string; digest?: string | null; mgf?: string; content: string; wrappedKey: Buffer; cipherValue: Buffer }): string {
  const digest = parts.digest === null ? '' : `<ds:DigestMethod Algorithm="${parts.digest ?? OAEP_DIGEST.sha1}"/>`;
  const mgf = parts.mgf === undefined ? '' : `<xenc11:MGF xmlns:xenc11="${XENC11}" Algorithm="${parts.mgf}"/>`;
  return (
    `<saml:EncryptedAssertion>` +
    `<xenc:EncryptedData xmlns:xenc="${XENC}" Id="_${randomBytes(16).toString('hex')}" Type="${ELEMENT_TYPE}">` +
    `<xenc:EncryptionMethod Algorithm="${parts.content}"/>` +
    `<ds:KeyInfo xmlns:ds="${DS}">` +
    `<xenc:EncryptedKey><xenc:EncryptionMethod Algorithm="${parts.keyTransport}">${digest}${mgf}</xenc:EncryptionMethod>` +
    `<xenc:CipherData><xenc:CipherValue>${parts.wrappedKey.toString('base64')}</xenc:CipherValue></xenc:CipherData></xenc:EncryptedKey>` +
    `</ds:KeyInfo>` +
    `<xenc:CipherData><xenc:CipherValue>${parts.cipherValue.toString('base64')}</xenc:CipherValue></xenc:CipherData>` +
    `</xenc:EncryptedData>` +
    `</saml:EncryptedAssertion>`
  );
}

const ASSERTION = /<saml:Assertion[\s\S]*<\/saml:Assertion>/;

/** The `<saml:Assertion>` of `assertionXml` (signed or not) encrypted for the SP: an `<saml:EncryptedAssertion>`. */
export function encryptAssertion(assertionXml: string, options: AssertionEncryption): string {
  const content = options.content ?? CONTENT_ENCRYPTION.aes256Gcm;
  const keyTransport = options.keyTransport ?? KEY_TRANSPORT.rsaOaepMgf1p;
  const cek = randomBytes(KEY_BYTES[content] ?? 32);
  return encryptedAssertionElement({
    keyTransport,
    digest: options.digest,
    ...(options.mgf === undefined ? {} : { mgf: options.mgf }),
    content,
    wrappedKey: wrapKey(cek, { ...options, keyTransport }),
    cipherValue: encryptContent(Buffer.from(assertionXml, 'utf8'), cek, content),
  });
}

/**
 * A login response (as local/saml-idp.ts builds and signs it) with its Assertion
 * replaced by the EncryptedAssertion. Sign the Response after this to sign what is sent.
 */
export function encryptResponseAssertion(responseXml: string, options: AssertionEncryption): string {
  const assertion = ASSERTION.exec(responseXml)?.[0];
  if (assertion === undefined) throw new Error('the response has no saml:Assertion to encrypt');
  return responseXml.replace(assertion, () => encryptAssertion(assertion, options));
}
