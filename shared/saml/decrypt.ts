/**
 * Decryption of a SAML `EncryptedAssertion` (XML Encryption 1.1) on the one DOM the
 * structural guard parsed (DESIGN.md "Decisions of 2026-12-03"), with node:crypto and the
 * SP's own decryption keys (sp-keys.ts). Own code rather than the `xml-encryption`
 * package: that one re-parses strings with a plain parser, has no `xenc11#rsa-oaep` (nor
 * MGF hashes), accepts RSA-1_5, and reports a CBC padding error apart from other
 * failures, which is the padding oracle this module exists to close.
 *
 * Allowed, and nothing else (401 ALGORITHM_NOT_ALLOWED, before any key is used):
 * - key transport `xmlenc#rsa-oaep-mgf1p` (SHA-1 digest, MGF1-SHA1) and `xmlenc11#rsa-oaep`
 *   (its DigestMethod and xenc11:MGF, SHA-1 or SHA-256 each, SHA-1 by default);
 * - content `xmlenc11#aes128-gcm`, `xmlenc11#aes256-gcm`, `xmlenc#aes128-cbc`, `xmlenc#aes256-cbc`.
 *
 * Every failure after that (no key unwraps the CEK, bad OAEP padding, a CEK of the wrong
 * size, a GCM tag or CBC padding that does not check, plaintext that is not UTF-8 XML
 * holding exactly one saml:Assertion) is the same 401 DECRYPTION_FAILED, with one message
 * and the same details. When no key unwraps the CEK, decryption goes on with a random CEK
 * of the right size (RFC 3218 §2.3.2, as xmlsec does), and a bad CBC padding still goes
 * through the UTF-8 decoding and the parse, so the failures also cost about the same.
 */
import { constants, createDecipheriv, createHash, createPrivateKey, privateDecrypt, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';
import type { Document, Element } from '@xmldom/xmldom';
import { LoginError, type ErrorDetails } from '../errors.js';
import { NS, attr, childElements, elementPath, escapeXml, parseXmlSafely, textOnly } from './xml.js';

export const KEY_TRANSPORT = {
  rsaOaepMgf1p: 'http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p',
  rsaOaep: 'http://www.w3.org/2009/xmlenc11#rsa-oaep',
} as const;

export const CONTENT_ENCRYPTION = {
  aes128Gcm: 'http://www.w3.org/2009/xmlenc11#aes128-gcm',
  aes256Gcm: 'http://www.w3.org/2009/xmlenc11#aes256-gcm',
  aes128Cbc: 'http://www.w3.org/2001/04/xmlenc#aes128-cbc',
  aes256Cbc: 'http://www.w3.org/2001/04/xmlenc#aes256-cbc',
} as const;

export const OAEP_DIGEST = {
  sha1: 'http://www.w3.org/2000/09/xmldsig#sha1',
  sha256: 'http://www.w3.org/2001/04/xmlenc#sha256',
} as const;

export const OAEP_MGF = {
  mgf1sha1: 'http://www.w3.org/2009/xmlenc11#mgf1sha1',
  mgf1sha256: 'http://www.w3.org/2009/xmlenc11#mgf1sha256',
} as const;

export const ELEMENT_TYPE = 'http://www.w3.org/2001/04/xmlenc#Element';

interface ContentCipher {
  cipher: 'aes-128-gcm' | 'aes-256-gcm' | 'aes-128-cbc' | 'aes-256-cbc';
  keyBytes: number;
  mode: 'gcm' | 'cbc';
}

const CONTENT_CIPHERS: ReadonlyMap<string, ContentCipher> = new Map([
  [CONTENT_ENCRYPTION.aes128Gcm, { cipher: 'aes-128-gcm', keyBytes: 16, mode: 'gcm' }],
  [CONTENT_ENCRYPTION.aes256Gcm, { cipher: 'aes-256-gcm', keyBytes: 32, mode: 'gcm' }],
  [CONTENT_ENCRYPTION.aes128Cbc, { cipher: 'aes-128-cbc', keyBytes: 16, mode: 'cbc' }],
  [CONTENT_ENCRYPTION.aes256Cbc, { cipher: 'aes-256-cbc', keyBytes: 32, mode: 'cbc' }],
] as [string, ContentCipher][]);

const OAEP_HASHES: ReadonlyMap<string, 'sha1' | 'sha256'> = new Map([
  [OAEP_DIGEST.sha1, 'sha1'],
  [OAEP_DIGEST.sha256, 'sha256'],
] as [string, 'sha1' | 'sha256'][]);

const MGF_HASHES: ReadonlyMap<string, 'sha1' | 'sha256'> = new Map([
  [OAEP_MGF.mgf1sha1, 'sha1'],
  [OAEP_MGF.mgf1sha256, 'sha256'],
] as [string, 'sha1' | 'sha256'][]);

/** Every EncryptionMethod algorithm an encrypted assertion may name (algorithms.ts refuses others up front). */
export const ALLOWED_ENCRYPTION_ALGORITHMS: ReadonlySet<string> = new Set([...Object.values(KEY_TRANSPORT), ...CONTENT_CIPHERS.keys()]);

const GCM_IV_BYTES = 12;
const GCM_TAG_BYTES = 16;
const CBC_IV_BYTES = 16;
/**
 * EncryptedKeys tried at most: each costs one RSA private-key operation per SP key, on a
 * message anyone can send (IdPs send one; two leaves room for a second recipient).
 */
const MAX_ENCRYPTED_KEYS = 2;

const DECRYPTION_FAILED_MESSAGE =
  "The encrypted SAML assertion could not be decrypted. Ask your administrator to check that the identity provider encrypts with the encryption certificate in this organization's current SP metadata.";

/** The one DECRYPTION_FAILED every failure becomes: same message, same details, no cause. */
export function decryptionFailed(context: ErrorDetails = {}): LoginError {
  return new LoginError('DECRYPTION_FAILED', DECRYPTION_FAILED_MESSAGE, { details: { ...context, reason: 'the encrypted assertion could not be decrypted' } });
}

/** A 401 ALGORITHM_NOT_ALLOWED for a key transport, digest, MGF or content algorithm outside the allowlist. */
export function encryptionAlgorithmNotAllowed(element: Element, algorithm: string | undefined, expected: readonly string[], context: ErrorDetails = {}): LoginError {
  return new LoginError(
    'ALGORITHM_NOT_ALLOWED',
    `The SAML assertion is encrypted with an algorithm that is not allowed (${algorithm ?? 'none named'}). Ask your administrator to configure the identity provider to encrypt with RSA-OAEP key transport and AES-GCM (or AES-CBC) content encryption.`,
    { details: { ...context, reason: 'encryption algorithm not allowed', element: elementPath(element), received: algorithm ?? null, expected: [...expected] } },
  );
}

/**
 * AES-CBC has no integrity of its own: decrypting a CBC ciphertext nobody authenticated
 * and answering differently when its plaintext parses or not is the oracle of the
 * XML-Encryption attacks (Jager & Somorovsky, 2011) that decrypt a captured assertion
 * byte by byte, and no uniform error hides it (the parse itself takes time). So CBC
 * content is decrypted only when a verified Response signature covers the
 * EncryptedAssertion as sent; otherwise it is refused from what the message names,
 * before any key is used. AES-GCM authenticates itself and is always decrypted.
 *
 * @param responseVerified a Response signature by the org's IdP verified over `encrypted`
 * @throws LoginError `ALGORITHM_NOT_ALLOWED` for CBC content without it
 */
export function assertContentAuthenticated(encrypted: Element, responseVerified: boolean, context: ErrorDetails = {}): void {
  if (responseVerified) return;
  for (const data of childElements(encrypted, NS.xenc, 'EncryptedData')) {
    for (const method of childElements(data, NS.xenc, 'EncryptionMethod')) {
      const algorithm = attr(method, 'Algorithm');
      if (algorithm === undefined || CONTENT_CIPHERS.get(algorithm)?.mode !== 'cbc') continue;
      throw new LoginError(
        'ALGORITHM_NOT_ALLOWED',
        'The SAML assertion is encrypted with AES-CBC in a Response that is not signed. AES-CBC is accepted only inside a signed Response. Ask your administrator to configure the identity provider to sign the whole Response (as well as the assertion), or to encrypt with AES-GCM.',
        {
          details: {
            ...context,
            reason: 'AES-CBC content without a verified Response signature',
            element: elementPath(method),
            received: algorithm,
            expected: [CONTENT_ENCRYPTION.aes256Gcm, CONTENT_ENCRYPTION.aes128Gcm, 'AES-CBC inside a signed Response'],
          },
        },
      );
    }
  }
}

/** A private key the SP decrypts with, as a KeyObject (parsed once per PEM). */
const parsedKeys = new Map<string, KeyObject>();
export function decryptionKey(privateKeyPem: string): KeyObject {
  let key = parsedKeys.get(privateKeyPem);
  if (key === undefined) {
    key = createPrivateKey(privateKeyPem);
    if (parsedKeys.size >= 8) parsedKeys.clear();
    parsedKeys.set(privateKeyPem, key);
  }
  return key;
}

/** What one EncryptedKey asks for, its algorithms already checked against the allowlist. */
interface KeyTransport {
  cipherValue: Buffer | undefined;
  digest: 'sha1' | 'sha256';
  mgf: 'sha1' | 'sha256';
  label: Buffer;
}

class Failed extends Error {}

function base64Text(element: Element | undefined): Buffer | undefined {
  if (element === undefined) return undefined;
  const text = (textOnly(element) ?? '').replace(/[ \t\r\n]+/g, '');
  if (text === '' || text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return undefined;
  return Buffer.from(text, 'base64');
}

function cipherValueOf(parent: Element): Buffer | undefined {
  const cipherData = childElements(parent, NS.xenc, 'CipherData');
  if (cipherData.length !== 1) return undefined;
  const values = childElements(cipherData[0]!, NS.xenc, 'CipherValue');
  return values.length === 1 ? base64Text(values[0]) : undefined;
}

function onlyEncryptionMethod(parent: Element, context: ErrorDetails, expected: readonly string[]): { element: Element; algorithm: string } {
  const methods = childElements(parent, NS.xenc, 'EncryptionMethod');
  const method = methods[0];
  if (methods.length !== 1 || method === undefined) throw encryptionAlgorithmNotAllowed(parent, undefined, expected, context);
  const algorithm = attr(method, 'Algorithm');
  if (algorithm === undefined || !expected.includes(algorithm)) throw encryptionAlgorithmNotAllowed(method, algorithm, expected, context);
  return { element: method, algorithm };
}

/** The key transport of one EncryptedKey; ALGORITHM_NOT_ALLOWED for anything outside the allowlist. */
function readKeyTransport(encryptedKey: Element, context: ErrorDetails): KeyTransport {
  const { element: method, algorithm } = onlyEncryptionMethod(encryptedKey, context, Object.values(KEY_TRANSPORT));
  const digestMethods = childElements(method, NS.dsig, 'DigestMethod');
  const mgfs = childElements(method, NS.xenc11, 'MGF');
  const digestAlgorithm = digestMethods.length === 0 ? OAEP_DIGEST.sha1 : attr(digestMethods[0]!, 'Algorithm');
  const mgfAlgorithm = mgfs.length === 0 ? OAEP_MGF.mgf1sha1 : attr(mgfs[0]!, 'Algorithm');
  const allowedDigests = algorithm === KEY_TRANSPORT.rsaOaepMgf1p ? [OAEP_DIGEST.sha1] : [...OAEP_HASHES.keys()];
  if (digestMethods.length > 1 || digestAlgorithm === undefined || !allowedDigests.includes(digestAlgorithm)) {
    throw encryptionAlgorithmNotAllowed(digestMethods[0] ?? method, digestAlgorithm, allowedDigests, context);
  }
  // rsa-oaep-mgf1p always uses MGF1 with SHA-1; an MGF element is xenc11#rsa-oaep's only.
  const allowedMgfs = algorithm === KEY_TRANSPORT.rsaOaepMgf1p ? [] : [...MGF_HASHES.keys()];
  if (mgfs.length > 0 && (mgfs.length > 1 || mgfAlgorithm === undefined || !allowedMgfs.includes(mgfAlgorithm))) {
    throw encryptionAlgorithmNotAllowed(mgfs[0]!, mgfAlgorithm, allowedMgfs, context);
  }
  const params = childElements(method, NS.xenc, 'OAEPparams');
  const label = params.length === 0 ? Buffer.alloc(0) : base64Text(params[0]);
  return {
    cipherValue: label === undefined ? undefined : cipherValueOf(encryptedKey),
    digest: OAEP_HASHES.get(digestAlgorithm)!,
    mgf: MGF_HASHES.get(mgfAlgorithm!)!,
    label: label ?? Buffer.alloc(0),
  };
}

/** MGF1 (RFC 8017 B.2.1). */
function mgf1(seed: Buffer, length: number, hash: string): Buffer {
  const out: Buffer[] = [];
  const counter = Buffer.alloc(4);
  for (let i = 0, produced = 0; produced < length; i++) {
    counter.writeUInt32BE(i);
    const block = createHash(hash).update(seed).update(counter).digest();
    out.push(block);
    produced += block.length;
  }
  return Buffer.concat(out).subarray(0, length);
}

/**
 * EME-OAEP decoding (RFC 8017 §7.1.2 step 3) of a raw RSA result, for digest and MGF
 * hashes that differ (node's privateDecrypt takes one hash for both). Branch-free over
 * the secret bytes as far as JavaScript allows: every check is accumulated, and the one
 * answer is taken at the end.
 */
export function oaepDecode(em: Buffer, label: Buffer, digest: string, mgf: string): Buffer | undefined {
  const lHash = createHash(digest).update(label).digest();
  const hLen = lHash.length;
  const k = em.length;
  if (k < 2 * hLen + 2) return undefined;
  const maskedSeed = em.subarray(1, 1 + hLen);
  const maskedDb = em.subarray(1 + hLen);
  const seed = Buffer.alloc(hLen);
  const seedMask = mgf1(maskedDb, hLen, mgf);
  for (let i = 0; i < hLen; i++) seed[i] = maskedSeed[i]! ^ seedMask[i]!;
  const dbMask = mgf1(seed, maskedDb.length, mgf);
  const db = Buffer.alloc(maskedDb.length);
  for (let i = 0; i < db.length; i++) db[i] = maskedDb[i]! ^ dbMask[i]!;

  let bad = em[0]! | (timingSafeEqual(db.subarray(0, hLen), lHash) ? 0 : 1);
  // The first 0x01 after lHash, past zeros only: scanned to the end whatever is found.
  let separator = 0;
  let lookingForSeparator = 1;
  for (let i = hLen; i < db.length; i++) {
    const isOne = db[i] === 0x01 ? 1 : 0;
    const isZero = db[i] === 0x00 ? 1 : 0;
    separator |= lookingForSeparator & isOne ? i : 0;
    bad |= lookingForSeparator & (isOne | isZero ? 0 : 1);
    lookingForSeparator &= isOne ? 0 : 1;
  }
  bad |= lookingForSeparator;
  return bad === 0 ? db.subarray(separator + 1) : undefined;
}

const WRAPPER = 'ssojit-decrypted';

/** The xmlns declarations in scope at `element` (nearest wins), as attribute text for the plaintext's wrapper. */
function inScopeNamespaces(element: Element): string {
  const declared = new Map<string, string>();
  for (let node: Element | null = element; node !== null && node.nodeType === 1; node = node.parentNode as Element | null) {
    const attributes = node.attributes;
    for (let i = 0; i < attributes.length; i++) {
      const attribute = attributes.item(i)!;
      if ((attribute.name === 'xmlns' || attribute.name.startsWith('xmlns:')) && !declared.has(attribute.name)) declared.set(attribute.name, attribute.value);
    }
  }
  return [...declared].map(([name, value]) => ` ${name}="${escapeXml(value)}"`).join('');
}

/** The CEK one EncryptedKey yields with one private key, or undefined (never throws). */
function unwrapKey(transport: KeyTransport, key: KeyObject): Buffer | undefined {
  const block = transport.cipherValue;
  if (block === undefined || key.asymmetricKeyType !== 'rsa') return undefined;
  try {
    if (transport.digest === transport.mgf) {
      return privateDecrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: transport.digest, oaepLabel: transport.label }, block);
    }
    const modulusBytes = Math.ceil((key.asymmetricKeyDetails?.modulusLength ?? 0) / 8);
    if (block.length !== modulusBytes) return undefined;
    const em = privateDecrypt({ key, padding: constants.RSA_NO_PADDING }, block);
    return oaepDecode(em, transport.label, transport.digest, transport.mgf);
  } catch {
    return undefined;
  }
}

/** AES-GCM or AES-CBC (XML Encryption padding: the last octet counts the padding, the others are arbitrary). */
function decryptContent(cipher: ContentCipher, cek: Buffer, data: Buffer): { plaintext: Buffer; ok: boolean } {
  if (cipher.mode === 'gcm') {
    if (data.length < GCM_IV_BYTES + GCM_TAG_BYTES) return { plaintext: Buffer.alloc(0), ok: false };
    const iv = data.subarray(0, GCM_IV_BYTES);
    const tag = data.subarray(data.length - GCM_TAG_BYTES);
    const decipher = createDecipheriv(cipher.cipher as 'aes-128-gcm', cek, iv, { authTagLength: GCM_TAG_BYTES });
    decipher.setAuthTag(tag);
    const plaintext = decipher.update(data.subarray(GCM_IV_BYTES, data.length - GCM_TAG_BYTES));
    try {
      decipher.final();
      return { plaintext, ok: true };
    } catch {
      return { plaintext, ok: false };
    }
  }
  const body = data.subarray(CBC_IV_BYTES);
  if (data.length < 2 * CBC_IV_BYTES || body.length % CBC_IV_BYTES !== 0) return { plaintext: Buffer.alloc(0), ok: false };
  const decipher = createDecipheriv(cipher.cipher, cek, data.subarray(0, CBC_IV_BYTES));
  decipher.setAutoPadding(false);
  const padded = Buffer.concat([decipher.update(body), decipher.final()]);
  const padding = padded[padded.length - 1]!;
  const ok = padding >= 1 && padding <= CBC_IV_BYTES;
  // A bad padding still yields a plaintext of about the same length, parsed like any other.
  return { plaintext: padded.subarray(0, padded.length - (ok ? padding : 1)), ok };
}

/**
 * Decrypts the `EncryptedAssertion` (a child of the Response in `doc`) and returns its
 * saml:Assertion, parsed by the hardened parser and imported into `doc` (not yet placed).
 *
 * @param keys the SP's decryption keys, current first; all are tried, whatever happens
 * @param parse parses the plaintext as the guard parses a response (throws on anything unsafe)
 * @throws LoginError ALGORITHM_NOT_ALLOWED (before any key is used), else DECRYPTION_FAILED
 */
export function decryptAssertion(
  doc: Document,
  encryptedAssertion: Element,
  keys: readonly KeyObject[],
  context: ErrorDetails = {},
  parse: (xml: string) => Document = (xml) => parseXmlSafely(xml, { maxDepth: 30 }),
): Element {
  // 1. The shape, and every algorithm, before any key is used.
  const data = childElements(encryptedAssertion, NS.xenc, 'EncryptedData');
  if (data.length !== 1) throw decryptionFailed(context);
  const encryptedData = data[0]!;
  const type = attr(encryptedData, 'Type');
  const content = onlyEncryptionMethod(encryptedData, context, [...CONTENT_CIPHERS.keys()]);
  const cipher = CONTENT_CIPHERS.get(content.algorithm)!;
  // EncryptedKey inside the EncryptedData's KeyInfo (most IdPs), or beside the EncryptedData.
  const keyInfo = childElements(encryptedData, NS.dsig, 'KeyInfo');
  const encryptedKeys = [
    ...keyInfo.flatMap((info) => childElements(info, NS.xenc, 'EncryptedKey')),
    ...childElements(encryptedAssertion, NS.xenc, 'EncryptedKey'),
  ];
  if (encryptedKeys.length === 0 || encryptedKeys.length > MAX_ENCRYPTED_KEYS) throw decryptionFailed(context);
  const transports = encryptedKeys.map((encryptedKey) => readKeyTransport(encryptedKey, context));
  const cipherValue = cipherValueOf(encryptedData);

  // 2. The CEK: every EncryptedKey with every key, first good one kept; else a random one.
  let cek: Buffer | undefined;
  for (const transport of transports) {
    for (const key of keys) {
      const unwrapped = unwrapKey(transport, key);
      if (cek === undefined && unwrapped !== undefined && unwrapped.length === cipher.keyBytes) cek = unwrapped;
    }
  }
  let ok = cek !== undefined && cipherValue !== undefined && (type === undefined || type === ELEMENT_TYPE);
  cek ??= randomBytes(cipher.keyBytes);

  // 3. Content, then the plaintext parsed, whatever failed before: one error, one cost.
  const decrypted = decryptContent(cipher, cek, cipherValue ?? randomBytes(2 * CBC_IV_BYTES + GCM_TAG_BYTES));
  ok &&= decrypted.ok;
  let assertion: Element | undefined;
  try {
    const xml = new TextDecoder('utf-8', { fatal: true }).decode(decrypted.plaintext).replace(/^<\?xml[ \t\r\n][^<>]*\?>/, '');
    // Parsed inside the namespace declarations in scope where it was encrypted (an IdP
    // may rely on the Response's xmlns:saml); the wrapper must hold exactly one Assertion.
    const wrapper = childElements(parse(`<${WRAPPER}${inScopeNamespaces(encryptedAssertion)}>${xml}</${WRAPPER}>`))[0]!;
    const children = childElements(wrapper);
    const root = children[0];
    if (children.length !== 1 || root === undefined || root.namespaceURI !== NS.assertion || root.localName !== 'Assertion') throw new Failed();
    for (let node = wrapper.firstChild; node !== null; node = node.nextSibling) if (node !== root && (node.nodeValue ?? '').trim() !== '') throw new Failed();
    assertion = doc.importNode(root, true) as Element;
  } catch {
    ok = false;
  }
  if (!ok || assertion === undefined) throw decryptionFailed(context);
  return assertion;
}
