/**
 * Encrypted assertions (issue 15 item 1) through validateSamlResponse: every allowed key
 * transport with every allowed content algorithm, the signatures around and inside, the
 * algorithm allowlist, and the padding-oracle shapes that must all look the same.
 */
import { constants, createHash, privateDecrypt, publicEncrypt, randomBytes, X509Certificate } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  CONTENT_ENCRYPTION,
  KEY_TRANSPORT,
  OAEP_DIGEST,
  OAEP_MGF,
  encryptAssertion,
  encryptContent,
  encryptedAssertionElement,
  encryptResponseAssertion,
  modulusBytes,
  oaepEncode,
  rsaRaw,
  wrapKey,
  type AssertionEncryption,
} from '../../../local/saml-encrypt.js';
import { createSamlIdpKeys, signLoginResponseXml, type SamlIdpKeys } from '../../../local/saml-idp.js';
import type { LoginError } from '../../../shared/errors.js';
import { decryptionKey, oaepDecode } from '../../../shared/saml/decrypt.js';
import type { SamlValidationProgress } from '../../../shared/saml/validate-response.js';
import { assertionOf, expectRefusal, replaceOnce, signedXml, unsignedXml, validate } from './fixtures.js';

let idp: SamlIdpKeys;
let sp: SamlIdpKeys;
let previousSp: SamlIdpKeys;
let stranger: SamlIdpKeys;

beforeAll(async () => {
  [idp, sp, previousSp, stranger] = await Promise.all([
    createSamlIdpKeys('https://idp.acme.test/metadata'),
    createSamlIdpKeys('sp-encryption'),
    createSamlIdpKeys('sp-encryption-previous'),
    createSamlIdpKeys('someone-else'),
  ]);
});

const keysOf = (...pairs: SamlIdpKeys[]) => async () => pairs.map((pair) => decryptionKey(pair.privateKeyPem));
const validateEncrypted = (xml: string, options: { keys?: SamlIdpKeys[]; progress?: SamlValidationProgress; require?: boolean } = {}) =>
  validate(idp, xml, {
    decryptionKeys: keysOf(...(options.keys ?? [sp])),
    ...(options.progress ? { progress: options.progress } : {}),
    ...(options.require ? { requireEncryptedAssertions: true } : {}),
  });
/** A response whose assertion is signed, then encrypted for the SP. */
const encryptedSignedAssertion = (encryption: Partial<AssertionEncryption> = {}, nameId = 'ada@acme.com') =>
  encryptResponseAssertion(signedXml(idp, { nameId }), { certificatePem: sp.certificatePem, ...encryption });
/** A response whose assertion is encrypted, then the Response signed. */
const signedResponseAroundEncrypted = (encryption: Partial<AssertionEncryption> = {}) =>
  signLoginResponseXml(encryptResponseAssertion(unsignedXml(idp), { certificatePem: sp.certificatePem, ...encryption }), idp, 'response');

const TRANSPORTS: [string, Partial<AssertionEncryption>][] = [
  ['rsa-oaep-mgf1p (SHA-1, MGF1-SHA1)', { keyTransport: KEY_TRANSPORT.rsaOaepMgf1p, digest: OAEP_DIGEST.sha1 }],
  ['rsa-oaep-mgf1p without a DigestMethod', { keyTransport: KEY_TRANSPORT.rsaOaepMgf1p, digest: null }],
  ['xenc11 rsa-oaep with the defaults (SHA-1, MGF1-SHA1)', { keyTransport: KEY_TRANSPORT.rsaOaep, digest: null }],
  ['xenc11 rsa-oaep SHA-1, MGF1-SHA1', { keyTransport: KEY_TRANSPORT.rsaOaep, digest: OAEP_DIGEST.sha1, mgf: OAEP_MGF.mgf1sha1 }],
  ['xenc11 rsa-oaep SHA-256, MGF1-SHA256', { keyTransport: KEY_TRANSPORT.rsaOaep, digest: OAEP_DIGEST.sha256, mgf: OAEP_MGF.mgf1sha256 }],
  ['xenc11 rsa-oaep SHA-256, MGF1-SHA1', { keyTransport: KEY_TRANSPORT.rsaOaep, digest: OAEP_DIGEST.sha256, mgf: OAEP_MGF.mgf1sha1 }],
  ['xenc11 rsa-oaep SHA-256 with the default MGF (MGF1-SHA1)', { keyTransport: KEY_TRANSPORT.rsaOaep, digest: OAEP_DIGEST.sha256 }],
  ['xenc11 rsa-oaep SHA-1, MGF1-SHA256', { keyTransport: KEY_TRANSPORT.rsaOaep, digest: OAEP_DIGEST.sha1, mgf: OAEP_MGF.mgf1sha256 }],
];
const CONTENTS = Object.entries(CONTENT_ENCRYPTION);
const isCbc = (content: string): boolean => content === CONTENT_ENCRYPTION.aes128Cbc || content === CONTENT_ENCRYPTION.aes256Cbc;

describe('encrypted assertions that decrypt', () => {
  describe.each(TRANSPORTS)('key transport %s', (_name, transport) => {
    it.each(CONTENTS)('decrypts %s content and verifies the signed assertion inside', async (_content, content) => {
      const encrypted = encryptedSignedAssertion({ ...transport, content });
      // AES-CBC is decrypted only under a signed Response (decrypt.ts assertContentAuthenticated).
      const assertion = await validateEncrypted(isCbc(content) ? signLoginResponseXml(encrypted, idp, 'response') : encrypted);

      expect(assertion.nameId).toBe('ada@acme.com');
      expect(assertion.attributes.get('firstName')).toEqual(['Ada']);
    });
  });

  it.each([CONTENT_ENCRYPTION.aes128Cbc, CONTENT_ENCRYPTION.aes256Cbc])(
    'refuses %s content in an unsigned Response with ALGORITHM_NOT_ALLOWED, before any key is used (no CBC decryption oracle)',
    async (content) => {
      let keysAsked = 0;
      const xml = encryptedSignedAssertion({ content });

      const error = await expectRefusal(
        validate(idp, xml, {
          decryptionKeys: async () => {
            keysAsked += 1;
            return [decryptionKey(sp.privateKeyPem)];
          },
        }),
        'ALGORITHM_NOT_ALLOWED',
      );
      expect(error.details).toMatchObject({ received: content, reason: 'AES-CBC content without a verified Response signature' });
      expect(keysAsked).toBe(0);
    },
  );

  it('refuses CBC content under a Response signature that does not verify, before decrypting it', async () => {
    const signed = signLoginResponseXml(encryptedSignedAssertion({ content: CONTENT_ENCRYPTION.aes256Cbc }), idp, 'response');
    const tampered = signed.replace(/(<xenc:CipherValue>)([A-Za-z0-9+/])/g, (_match, open: string, first: string) => open + (first === 'A' ? 'B' : 'A'));

    await expectRefusal(validateEncrypted(tampered), 'SIGNATURE_INVALID');
  });

  it('accepts an unsigned assertion inside an encrypted one when the Response is signed', async () => {
    const assertion = await validateEncrypted(signedResponseAroundEncrypted());

    expect(assertion.nameId).toBe('ada@acme.com');
  });

  it('accepts a signed assertion, encrypted, inside a signed Response', async () => {
    const xml = signLoginResponseXml(encryptedSignedAssertion({ content: CONTENT_ENCRYPTION.aes128Cbc }), idp, 'response');

    expect((await validateEncrypted(xml)).nameId).toBe('ada@acme.com');
  });

  it('accepts an EncryptedKey beside the EncryptedData instead of inside its KeyInfo', async () => {
    const xml = encryptedSignedAssertion();
    const keyInfo = /<ds:KeyInfo xmlns:ds="[^"]+">(<xenc:EncryptedKey>[\s\S]*?<\/xenc:EncryptedKey>)<\/ds:KeyInfo>/.exec(xml)!;
    const moved = replaceOnce(replaceOnce(xml, keyInfo[0], ''), '</xenc:EncryptedData>', `</xenc:EncryptedData>${keyInfo[1]!.replace('<xenc:EncryptedKey>', `<xenc:EncryptedKey xmlns:xenc="http://www.w3.org/2001/04/xmlenc#" xmlns:ds="http://www.w3.org/2000/09/xmldsig#">`)}`);

    expect((await validateEncrypted(moved)).nameId).toBe('ada@acme.com');
  });

  it('decrypts with the previous SP encryption key after a rotation', async () => {
    const xml = encryptResponseAssertion(signedXml(idp), { certificatePem: previousSp.certificatePem });

    expect((await validateEncrypted(xml, { keys: [sp, previousSp] })).nameId).toBe('ada@acme.com');
  });

  it('marks the signature verified only once the decrypted assertion verifies', async () => {
    const progress: SamlValidationProgress = {};
    await validateEncrypted(encryptedSignedAssertion(), { progress });

    expect(progress.signatureVerified).toBe(true);
    expect(progress.claimed?.issuer).toBe(idp.entityId);
  });

  it('accepts an encrypted assertion when the org requires encryption', async () => {
    expect((await validateEncrypted(encryptedSignedAssertion(), { require: true })).nameId).toBe('ada@acme.com');
  });
});

describe('encrypted assertions that are refused', () => {
  it('refuses a plain assertion with ASSERTION_NOT_ENCRYPTED when the org requires encryption', async () => {
    await expectRefusal(validateEncrypted(signedXml(idp), { require: true }), 'ASSERTION_NOT_ENCRYPTED');
  });

  it('refuses a decrypted assertion whose signature was stripped (anyone can encrypt to the SP)', async () => {
    const stripped = encryptResponseAssertion(unsignedXml(idp, { nameId: 'ceo@acme.com' }), { certificatePem: sp.certificatePem });
    const progress: SamlValidationProgress = {};

    const error = await expectRefusal(validateEncrypted(stripped, { progress }), 'SIGNATURE_INVALID');
    expect(error.details.reason).toBe('no signature');
    expect(progress.signatureVerified).toBeUndefined();
  });

  it('refuses a signed Response whose EncryptedAssertion was swapped for another', async () => {
    const genuine = signedResponseAroundEncrypted();
    const forged = encryptAssertion(assertionOf(unsignedXml(idp, { nameId: 'ceo@acme.com' })), { certificatePem: sp.certificatePem });
    const swapped = genuine.replace(/<saml:EncryptedAssertion>[\s\S]*<\/saml:EncryptedAssertion>/, () => forged);

    await expectRefusal(validateEncrypted(swapped), 'SIGNATURE_INVALID');
  });

  it('refuses a decrypted assertion whose signed content was altered before encryption', async () => {
    const tampered = replaceOnce(signedXml(idp), '>ada@acme.com<', '>ceo@acme.com<');

    await expectRefusal(validateEncrypted(encryptResponseAssertion(tampered, { certificatePem: sp.certificatePem })), 'SIGNATURE_INVALID');
  });

  it('refuses a key encrypted for a key older than the previous one', async () => {
    const xml = encryptResponseAssertion(signedXml(idp), { certificatePem: stranger.certificatePem });

    await expectRefusal(validateEncrypted(xml, { keys: [sp, previousSp] }), 'DECRYPTION_FAILED');
  });

  it('refuses more than two EncryptedKeys with DECRYPTION_FAILED (bounded RSA work per message)', async () => {
    const xml = encryptedSignedAssertion();
    const encryptedKey = /<xenc:EncryptedKey>[\s\S]*?<\/xenc:EncryptedKey>/.exec(xml)![0];
    const three = replaceOnce(xml, encryptedKey, encryptedKey.repeat(3));

    await expectRefusal(validateEncrypted(three), 'DECRYPTION_FAILED');
  });

  it('refuses an encrypted assertion with DECRYPTION_FAILED when the SP has no decryption key', async () => {
    await expectRefusal(validate(idp, encryptedSignedAssertion()), 'DECRYPTION_FAILED');
  });

  const notAllowed: [string, Partial<AssertionEncryption>, string][] = [
    ['RSA-1_5 key transport', { keyTransport: 'http://www.w3.org/2001/04/xmlenc#rsa-1_5', digest: null }, 'http://www.w3.org/2001/04/xmlenc#rsa-1_5'],
    ['3DES content', { content: 'http://www.w3.org/2001/04/xmlenc#tripledes-cbc' }, 'http://www.w3.org/2001/04/xmlenc#tripledes-cbc'],
    ['AES-192-CBC content', { content: 'http://www.w3.org/2001/04/xmlenc#aes192-cbc' }, 'http://www.w3.org/2001/04/xmlenc#aes192-cbc'],
    ['RSA-OAEP with a SHA-512 digest', { keyTransport: KEY_TRANSPORT.rsaOaep, digest: 'http://www.w3.org/2001/04/xmlenc#sha512' }, 'http://www.w3.org/2001/04/xmlenc#sha512'],
    ['RSA-OAEP with MGF1-SHA512', { keyTransport: KEY_TRANSPORT.rsaOaep, mgf: 'http://www.w3.org/2009/xmlenc11#mgf1sha512' }, 'http://www.w3.org/2009/xmlenc11#mgf1sha512'],
    ['rsa-oaep-mgf1p with a SHA-256 digest', { keyTransport: KEY_TRANSPORT.rsaOaepMgf1p, digest: OAEP_DIGEST.sha256 }, OAEP_DIGEST.sha256],
  ];
  it.each(notAllowed)('refuses %s with ALGORITHM_NOT_ALLOWED', async (_name, encryption, received) => {
    // Built by hand: the encryptor need not know how to run what is refused.
    const xml = signedXml(idp);
    const element = encryptedAssertionElement({
      keyTransport: encryption.keyTransport ?? KEY_TRANSPORT.rsaOaepMgf1p,
      digest: encryption.digest,
      ...(encryption.mgf ? { mgf: encryption.mgf } : {}),
      content: encryption.content ?? CONTENT_ENCRYPTION.aes256Gcm,
      wrappedKey: randomBytes(256),
      cipherValue: randomBytes(64),
    });

    const error = await expectRefusal(validateEncrypted(replaceOnce(xml, assertionOf(xml), element)), 'ALGORITHM_NOT_ALLOWED');
    expect(error.details.received).toBe(received);
  });
});

describe('padding-oracle shapes', () => {
  const assertionText = () => assertionOf(signedXml(idp));
  const wrapped = (cek: Buffer, transport: Partial<AssertionEncryption> = {}) => wrapKey(cek, { certificatePem: sp.certificatePem, ...transport });
  const element = (content: string, wrappedKey: Buffer, cipherValue: Buffer, transport: Partial<AssertionEncryption> = {}) =>
    encryptedAssertionElement({ keyTransport: transport.keyTransport ?? KEY_TRANSPORT.rsaOaepMgf1p, digest: transport.digest, ...(transport.mgf ? { mgf: transport.mgf } : {}), content, wrappedKey, cipherValue });
  // Shapes an IdP itself produced, inside its signed Response: the only way CBC content reaches the decryptor.
  const inResponse = (encrypted: string) => {
    const xml = signedXml(idp);
    return signLoginResponseXml(replaceOnce(xml, assertionOf(xml), encrypted), idp, 'response');
  };

  const shapes: [string, () => string][] = [
    ['an EncryptedKey whose OAEP padding is wrong (raw RSA of random bytes)', () => {
      const cek = randomBytes(16);
      const block = Buffer.concat([Buffer.from([0]), randomBytes(modulusBytes(sp.certificatePem) - 1)]);
      return inResponse(element(CONTENT_ENCRYPTION.aes128Cbc, rsaRaw(block, sp.certificatePem), encryptContent(Buffer.from(assertionText()), cek, CONTENT_ENCRYPTION.aes128Cbc)));
    }],
    ['an OAEP block with a wrong label hash, SHA-256 digest and MGF1-SHA1', () => {
      const cek = randomBytes(32);
      const transport = { keyTransport: KEY_TRANSPORT.rsaOaep, digest: OAEP_DIGEST.sha256, mgf: OAEP_MGF.mgf1sha1 };
      const block = rsaRaw(oaepEncode(cek, modulusBytes(sp.certificatePem), 'sha256', 'sha1', Buffer.from('not the empty label')), sp.certificatePem);
      return inResponse(element(CONTENT_ENCRYPTION.aes256Gcm, block, encryptContent(Buffer.from(assertionText()), cek, CONTENT_ENCRYPTION.aes256Gcm), transport));
    }],
    ['a CBC padding whose last octet is zero', () => {
      const cek = randomBytes(16);
      const plaintext = Buffer.from(assertionText());
      const pad = 16 - (plaintext.length % 16);
      return inResponse(element(CONTENT_ENCRYPTION.aes128Cbc, wrapped(cek), encryptContent(plaintext, cek, CONTENT_ENCRYPTION.aes128Cbc, { cbcPadding: Buffer.alloc(pad, 0) })));
    }],
    ['a CBC padding whose last octet is larger than a block', () => {
      const cek = randomBytes(32);
      const plaintext = Buffer.from(assertionText());
      const pad = 16 - (plaintext.length % 16);
      return inResponse(element(CONTENT_ENCRYPTION.aes256Cbc, wrapped(cek), encryptContent(plaintext, cek, CONTENT_ENCRYPTION.aes256Cbc, { cbcPadding: Buffer.alloc(pad, 0x11) })));
    }],
    ['a GCM tag that does not check', () => {
      const cek = randomBytes(16);
      const data = encryptContent(Buffer.from(assertionText()), cek, CONTENT_ENCRYPTION.aes128Gcm);
      data[data.length - 1]! ^= 0x01;
      return inResponse(element(CONTENT_ENCRYPTION.aes128Gcm, wrapped(cek), data));
    }],
    ['a key encrypted for someone else', () => signLoginResponseXml(encryptResponseAssertion(signedXml(idp), { certificatePem: stranger.certificatePem, content: CONTENT_ENCRYPTION.aes128Cbc }), idp, 'response')],
    ['a CEK of the wrong size for the content algorithm', () => {
      const cek = randomBytes(16);
      return inResponse(element(CONTENT_ENCRYPTION.aes256Cbc, wrapped(cek), encryptContent(Buffer.from(assertionText()), Buffer.concat([cek, cek]), CONTENT_ENCRYPTION.aes256Cbc)));
    }],
    ['plaintext that is not XML', () => {
      const cek = randomBytes(16);
      return inResponse(element(CONTENT_ENCRYPTION.aes128Cbc, wrapped(cek), encryptContent(Buffer.from('not xml at all <'), cek, CONTENT_ENCRYPTION.aes128Cbc)));
    }],
    ['plaintext that is not UTF-8', () => {
      const cek = randomBytes(16);
      return inResponse(element(CONTENT_ENCRYPTION.aes128Gcm, wrapped(cek), encryptContent(Buffer.from([0xff, 0xfe, 0x3c]), cek, CONTENT_ENCRYPTION.aes128Gcm)));
    }],
    ['plaintext with two assertions', () => {
      const cek = randomBytes(16);
      return inResponse(element(CONTENT_ENCRYPTION.aes128Gcm, wrapped(cek), encryptContent(Buffer.from(assertionText() + assertionText()), cek, CONTENT_ENCRYPTION.aes128Gcm)));
    }],
    ['plaintext that is a Response, not an Assertion', () => {
      const cek = randomBytes(16);
      return inResponse(element(CONTENT_ENCRYPTION.aes128Gcm, wrapped(cek), encryptContent(Buffer.from(signedXml(idp)), cek, CONTENT_ENCRYPTION.aes128Gcm)));
    }],
    ['plaintext with a DOCTYPE', () => {
      const cek = randomBytes(16);
      return inResponse(element(CONTENT_ENCRYPTION.aes128Gcm, wrapped(cek), encryptContent(Buffer.from(`<!DOCTYPE x [<!ENTITY a "b">]>${assertionText()}`), cek, CONTENT_ENCRYPTION.aes128Gcm)));
    }],
    ['a CipherValue that is not base64', () => encryptedSignedAssertion().replace(/(<xenc:CipherValue>)[^<]+(<\/xenc:CipherValue><\/xenc:CipherData><\/xenc:EncryptedData>)/, '$1!!!!$2')],
  ];

  it.each(shapes)('answers %s with the one DECRYPTION_FAILED', async (_name, xml) => {
    const error = await expectRefusal(validateEncrypted(xml()), 'DECRYPTION_FAILED');
    expect(error.status).toBe(401);
  });

  it('answers every shape with the same message and the same details', async () => {
    const errors: LoginError[] = [];
    for (const [, xml] of shapes) errors.push(await expectRefusal(validateEncrypted(xml()), 'DECRYPTION_FAILED'));

    const answers = new Set(errors.map((error) => JSON.stringify({ message: error.message, details: error.details, cause: error.cause ?? null })));
    expect(answers.size).toBe(1);
  });
});

describe('oaepDecode', () => {
  it('decodes what node:crypto encodes with one hash for digest and MGF', () => {
    const cek = randomBytes(32);
    const block = publicEncrypt({ key: sp.certificatePem, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, cek);
    const em = privateDecrypt({ key: sp.privateKeyPem, padding: constants.RSA_NO_PADDING }, block);

    expect(oaepDecode(em, Buffer.alloc(0), 'sha256', 'sha256')).toEqual(cek);
  });

  it('refuses a block whose first octet is not zero', () => {
    const k = modulusBytes(new X509Certificate(sp.certificatePem).publicKey);
    const em = oaepEncode(randomBytes(16), k, 'sha1', 'sha256');
    em[0] = 1;

    expect(oaepDecode(em, Buffer.alloc(0), 'sha1', 'sha256')).toBeUndefined();
  });

  it('refuses a block whose label hash differs', () => {
    const em = oaepEncode(randomBytes(16), 256, 'sha256', 'sha1', Buffer.from('label'));

    expect(oaepDecode(em, Buffer.alloc(0), 'sha256', 'sha1')).toBeUndefined();
    expect(createHash('sha256').update('label').digest()).toHaveLength(32);
  });
});
