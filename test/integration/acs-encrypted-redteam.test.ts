/**
 * Red-team suite for encrypted SAML assertions at the ACS (API.md "SAML as enterprises run
 * it": Encryption; DESIGN.md security requirements). The attacker is a hostile IdP, a
 * network attacker holding a captured encrypted response, or anyone with the SP's public
 * encryption certificate (it is in the SP metadata: anyone can encrypt to it).
 *
 * Every test asserts the SAFE outcome. A failing test is an attack that works.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  CONTENT_ENCRYPTION,
  KEY_TRANSPORT,
  OAEP_DIGEST,
  encryptContent,
  encryptedAssertionElement,
  encryptResponseAssertion,
  wrapKey,
} from '../../local/saml-encrypt.js';
import { buildLoginResponseXml, createSamlIdpKeys, encodeSamlResponse, signLoginResponseXml, type LoginResponseInput, type SamlIdpKeys } from '../../local/saml-idp.js';
import type { SpKeyPair } from '../../shared/saml/authn-request.js';
import { assertionOf, replaceOnce } from '../support/saml-edits.js';
import { createSamlOrg, postAcs, sessionCookieOf, startTestService, type SamlOrg, type TestService } from '../support/service.js';

let service: TestService;
let idp: SamlIdpKeys;
let org: SamlOrg;
let strictOrg: SamlOrg;
let signing: SamlIdpKeys;
let encryption: SamlIdpKeys;
let previous: SamlIdpKeys;

const material = (keys: SamlIdpKeys) => ({ privateKeyPem: keys.privateKeyPem, certificatePem: keys.certificatePem });

beforeAll(async () => {
  [idp, signing, encryption, previous] = await Promise.all([
    createSamlIdpKeys('https://idp.acme.test/metadata'),
    createSamlIdpKeys('sso-jit SP'),
    createSamlIdpKeys('sso-jit SP encryption'),
    createSamlIdpKeys('sso-jit SP encryption (previous)'),
  ]);
  const spKey: SpKeyPair = { ...material(signing), encryption: material(encryption), previousEncryption: material(previous) };
  service = await startTestService({ spKey });
  org = await createSamlOrg(service, { idp });
  strictOrg = await createSamlOrg(service, { idp, saml: { requireEncryptedAssertions: true } });
});
afterAll(() => service?.close());
beforeEach(() => service.clock.advance(60_000));

let counter = 0;
const nextEmail = () => `red-${++counter}@acme.test`;
const xmlFor = (target: SamlOrg, overrides: Partial<LoginResponseInput> = {}) =>
  buildLoginResponseXml({ idp, spEntityId: target.urls.spEntityId, acsUrl: target.urls.acsUrl, nameId: nextEmail(), attributes: { groups: 'Admins' }, now: service.clock.now(), ...overrides });
const post = (target: SamlOrg, xml: string) => postAcs(service, target.orgId, { SAMLResponse: encodeSamlResponse(xml) });
const emails = async (target: SamlOrg) => (await service.rt.users.list(target.orgId, { limit: 500 })).items.map((user) => user.email);
const gcm = { certificatePem: '', content: CONTENT_ENCRYPTION.aes256Gcm };
const enc = () => ({ ...gcm, certificatePem: encryption.certificatePem });

/** The Response (unsigned) with `element` in place of its Assertion. */
const withElement = (xml: string, element: string) => replaceOnce(xml, assertionOf(xml), element);
/** `plaintext` encrypted (GCM, authenticated, wrapped for the SP's current key): what anyone holding the SP metadata can make. */
const encryptedPlaintext = (plaintext: string | Buffer, content: string = CONTENT_ENCRYPTION.aes256Gcm) => {
  const cek = randomBytes(content.includes('128') ? 16 : 32);
  return encryptedAssertionElement({
    keyTransport: KEY_TRANSPORT.rsaOaepMgf1p,
    content,
    wrappedKey: wrapKey(cek, { certificatePem: encryption.certificatePem }),
    cipherValue: encryptContent(Buffer.isBuffer(plaintext) ? plaintext : Buffer.from(plaintext, 'utf8'), cek, content),
  });
};

async function expectRefused(target: SamlOrg, xml: string, codes: string | string[], nameId?: string) {
  const response = await post(target, xml);
  const text = await response.text();
  const code = (JSON.parse(text) as { error?: { code?: string } }).error?.code;
  // SAML_MALFORMED is a 400, the other login refusals 401.
  expect([400, 401], text).toContain(response.status);
  expect([codes].flat(), text).toContain(code);
  expect(sessionCookieOf(response)).toBeUndefined();
  if (nameId !== undefined) expect(await emails(target)).not.toContain(nameId);
  return { code, text };
}

describe('encrypted assertion: signature and wrapping attacks', () => {
  it('refuses an unsigned assertion encrypted (by anyone, with the public SP cert) inside an unsigned Response', async () => {
    const victim = nextEmail();
    const xml = xmlFor(org, { nameId: victim });
    await expectRefused(org, withElement(xml, encryptedPlaintext(assertionOf(xml))), 'SIGNATURE_INVALID', victim);
  });

  it('refuses a signed Response whose EncryptedAssertion was replaced by one the attacker encrypted', async () => {
    const victim = nextEmail();
    const signed = encryptResponseAssertion(signLoginResponseXml(xmlFor(org), idp, 'assertion'), enc());
    const signedResponse = signLoginResponseXml(signed, idp, 'response');
    const forged = assertionOf(xmlFor(org, { nameId: victim }));
    const swapped = signedResponse.replace(/<saml:EncryptedAssertion>[\s\S]*<\/saml:EncryptedAssertion>/, () => encryptedPlaintext(forged));
    await expectRefused(org, swapped, ['SIGNATURE_INVALID', 'SAML_MALFORMED'], victim);
  });

  it('refuses a decrypted assertion carrying a second (forged) Assertion next to the signed one', async () => {
    const victim = nextEmail();
    const legit = assertionOf(signLoginResponseXml(xmlFor(org), idp, 'assertion'));
    const forged = assertionOf(xmlFor(org, { nameId: victim }));
    await expectRefused(org, withElement(xmlFor(org), encryptedPlaintext(forged + legit)), ['DECRYPTION_FAILED', 'SAML_MALFORMED'], victim);
  });

  it('refuses a decrypted assertion that nests a forged Assertion inside the signed one (XSW in the plaintext)', async () => {
    const victim = nextEmail();
    const legit = assertionOf(signLoginResponseXml(xmlFor(org), idp, 'assertion'));
    const forged = assertionOf(xmlFor(org, { nameId: victim }));
    const nested = legit.replace('</saml:Issuer>', () => `</saml:Issuer><saml:Advice>${forged}</saml:Advice>`);
    await expectRefused(org, withElement(xmlFor(org), encryptedPlaintext(nested)), ['DECRYPTION_FAILED', 'SAML_MALFORMED', 'SIGNATURE_INVALID'], victim);
  });

  it('refuses a decrypted plaintext with a DOCTYPE / entity', async () => {
    const legit = assertionOf(signLoginResponseXml(xmlFor(org), idp, 'assertion'));
    const plaintext = `<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>${legit}`;
    await expectRefused(org, withElement(xmlFor(org), encryptedPlaintext(plaintext)), ['DECRYPTION_FAILED', 'SAML_MALFORMED']);
  });

  it('refuses a decrypted assertion whose NameID is split by a comment (no truncated identity)', async () => {
    const nameId = `${nextEmail()}.evil.test`;
    const legitXml = signLoginResponseXml(xmlFor(org, { nameId }), idp, 'assertion');
    const split = assertionOf(legitXml).replace(nameId, () => nameId.replace('.evil.test', '<!---->.evil.test'));
    const response = await post(org, withElement(xmlFor(org), encryptedPlaintext(split)));
    // Safe outcomes: refused, or exactly the signed identity.
    if (response.status === 302) expect(await emails(org)).toContain(nameId);
    else expect(response.status).toBe(401);
    expect(await emails(org)).not.toContain(nameId.replace('.evil.test', ''));
  });

  it('refuses plaintext that tries to close the decryptor\'s wrapper element (XML injection)', async () => {
    const legit = assertionOf(signLoginResponseXml(xmlFor(org), idp, 'assertion'));
    const plaintext = `${legit}</ssojit-decrypted><ssojit-decrypted>`;
    await expectRefused(org, withElement(xmlFor(org), encryptedPlaintext(plaintext)), ['DECRYPTION_FAILED', 'SAML_MALFORMED']);
  });

  it('refuses a decrypted assertion whose Signature references the Response (an element outside it)', async () => {
    const victim = nextEmail();
    const xml = xmlFor(org, { nameId: victim });
    const responseSigned = signLoginResponseXml(xmlFor(org), idp, 'response');
    const responseId = /<samlp:Response [^>]*ID="([^"]+)"/.exec(responseSigned)![1]!;
    const signature = /<ds:Signature[\s\S]*?<\/ds:Signature>/.exec(responseSigned)![0];
    const forged = assertionOf(xml).replace('</saml:Issuer>', () => `</saml:Issuer>${signature}`);
    // Outer: the legit Response's ID and content except the assertion, so the Reference resolves.
    const outer = responseSigned.replace(signature, '').replace(/<samlp:Response ([^>]*)ID="[^"]+"/, (_m, rest: string) => `<samlp:Response ${rest}ID="${responseId}"`);
    await expectRefused(org, withElement(outer, encryptedPlaintext(forged)), ['SIGNATURE_INVALID', 'SAML_MALFORMED', 'DECRYPTION_FAILED'], victim);
  });

  it('refuses a decrypted assertion whose ID collides with the Response ID', async () => {
    const xml = signLoginResponseXml(xmlFor(org), idp, 'assertion');
    const responseId = /<samlp:Response [^>]*ID="([^"]+)"/.exec(xml)![1]!;
    const assertion = assertionOf(xml);
    const assertionId = /<saml:Assertion [^>]*ID="([^"]+)"/.exec(assertion)![1]!;
    const outer = xml.replace(`ID="${responseId}"`, `ID="${assertionId}"`);
    await expectRefused(org, withElement(outer, encryptedPlaintext(assertion)), ['SAML_MALFORMED', 'DECRYPTION_FAILED']);
  });

  it('refuses a decrypted assertion that itself holds an EncryptedAssertion', async () => {
    const legit = assertionOf(signLoginResponseXml(xmlFor(org), idp, 'assertion'));
    const inner = encryptedPlaintext(assertionOf(xmlFor(org)));
    const plaintext = legit.replace('</saml:Assertion>', () => `${inner}</saml:Assertion>`);
    await expectRefused(org, withElement(xmlFor(org), encryptedPlaintext(plaintext)), ['SAML_MALFORMED', 'DECRYPTION_FAILED', 'SIGNATURE_INVALID']);
  });
});

describe('encrypted assertion: structure around it', () => {
  it('refuses EncryptedAssertion and a plain (forged, unsigned) Assertion side by side', async () => {
    const victim = nextEmail();
    const encrypted = encryptResponseAssertion(signLoginResponseXml(xmlFor(org), idp, 'assertion'), enc());
    const both = encrypted.replace('</saml:EncryptedAssertion>', () => `</saml:EncryptedAssertion>${assertionOf(xmlFor(org, { nameId: victim }))}`);
    await expectRefused(org, both, 'SAML_MALFORMED', victim);
  });

  it('refuses two EncryptedAssertions', async () => {
    const encrypted = encryptResponseAssertion(signLoginResponseXml(xmlFor(org), idp, 'assertion'), enc());
    const element = /<saml:EncryptedAssertion>[\s\S]*<\/saml:EncryptedAssertion>/.exec(encrypted)![0];
    const second = encryptedPlaintext(assertionOf(signLoginResponseXml(xmlFor(org), idp, 'assertion')));
    await expectRefused(org, encrypted.replace(element, () => element + second), 'SAML_MALFORMED');
  });

  it('requireEncryptedAssertions: a signed plain assertion next to an empty EncryptedAssertion is refused', async () => {
    const xml = signLoginResponseXml(xmlFor(strictOrg), idp, 'assertion');
    const bypass = xml.replace('</samlp:Status>', '</samlp:Status><saml:EncryptedAssertion/>');
    await expectRefused(strictOrg, bypass, ['SAML_MALFORMED', 'ASSERTION_NOT_ENCRYPTED', 'DECRYPTION_FAILED']);
  });

  it('requireEncryptedAssertions: an EncryptedAssertion in another namespace does not count as encryption', async () => {
    const xml = signLoginResponseXml(xmlFor(strictOrg), idp, 'assertion');
    const bypass = xml.replace('</samlp:Status>', '</samlp:Status><x:EncryptedAssertion xmlns:x="urn:evil"/>');
    await expectRefused(strictOrg, bypass, ['SAML_MALFORMED', 'ASSERTION_NOT_ENCRYPTED']);
  });

  it('refuses an EncryptedAssertion placed inside the Status / Extensions (not where SAML puts it)', async () => {
    const encrypted = encryptResponseAssertion(signLoginResponseXml(xmlFor(org), idp, 'assertion'), enc());
    const element = /<saml:EncryptedAssertion>[\s\S]*<\/saml:EncryptedAssertion>/.exec(encrypted)![0];
    const moved = encrypted.replace(element, '').replace('</samlp:Status>', () => `<samlp:StatusDetail>${element}</samlp:StatusDetail></samlp:Status>`);
    await expectRefused(org, moved, ['SAML_MALFORMED']);
  });
});

describe('encrypted assertion: key transport and content algorithms', () => {
  const legitPlain = () => signLoginResponseXml(xmlFor(org), idp, 'assertion');
  const withAlgorithm = (from: string, to: string) => encryptResponseAssertion(legitPlain(), enc()).replace(from, to);

  it.each([
    ['rsa-1_5 key transport', KEY_TRANSPORT.rsaOaepMgf1p, 'http://www.w3.org/2001/04/xmlenc#rsa-1_5'],
    ['AES key wrap key transport', KEY_TRANSPORT.rsaOaepMgf1p, 'http://www.w3.org/2001/04/xmlenc#kw-aes128'],
    ['3DES content', CONTENT_ENCRYPTION.aes256Gcm, 'http://www.w3.org/2001/04/xmlenc#tripledes-cbc'],
    ['aes192-cbc content', CONTENT_ENCRYPTION.aes256Gcm, 'http://www.w3.org/2001/04/xmlenc#aes192-cbc'],
    ['OAEP with an MD5 digest', `Algorithm="${OAEP_DIGEST.sha1}"`, 'Algorithm="http://www.w3.org/2001/04/xmldsig-more#md5"'],
    ['OAEP with a SHA-512 digest', `Algorithm="${OAEP_DIGEST.sha1}"`, 'Algorithm="http://www.w3.org/2001/04/xmlenc#sha512"'],
  ])('refuses %s with 401 ALGORITHM_NOT_ALLOWED', async (_name, from, to) => {
    await expectRefused(org, withAlgorithm(from, to), 'ALGORITHM_NOT_ALLOWED');
  });

  it('refuses rsa-oaep-mgf1p with an xenc11:MGF SHA-512', async () => {
    const xml = withAlgorithm('</xenc:EncryptionMethod><xenc:CipherData>', '<xenc11:MGF xmlns:xenc11="http://www.w3.org/2009/xmlenc11#" Algorithm="http://www.w3.org/2009/xmlenc11#mgf1sha512"/></xenc:EncryptionMethod><xenc:CipherData>');
    await expectRefused(org, xml, 'ALGORITHM_NOT_ALLOWED');
  });

  it('refuses a CipherReference (no URL is fetched): DECRYPTION_FAILED', async () => {
    const encrypted = encryptResponseAssertion(legitPlain(), enc());
    // The EncryptedData's own CipherData is the last one.
    const last = encrypted.lastIndexOf('<xenc:CipherData>');
    const end = encrypted.indexOf('</xenc:CipherData>', last) + '</xenc:CipherData>'.length;
    const xml = encrypted.slice(0, last) + '<xenc:CipherData><xenc:CipherReference URI="http://127.0.0.1:1/steal"/></xenc:CipherData>' + encrypted.slice(end);
    await expectRefused(org, xml, 'DECRYPTION_FAILED');
  });

  it('refuses an EncryptedKey reached only through RetrievalMethod / KeyName', async () => {
    const encrypted = encryptResponseAssertion(legitPlain(), enc());
    const key = /<xenc:EncryptedKey>[\s\S]*<\/xenc:EncryptedKey>/.exec(encrypted)![0];
    const xml = encrypted
      .replace(key, '<ds:RetrievalMethod URI="#k1" Type="http://www.w3.org/2001/04/xmlenc#EncryptedKey"/><ds:KeyName>k1</ds:KeyName>')
      .replace('<samlp:Status>', () => `<samlp:Extensions>${key.replace('<xenc:EncryptedKey>', '<xenc:EncryptedKey xmlns:xenc="http://www.w3.org/2001/04/xmlenc#" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" Id="k1">')}</samlp:Extensions><samlp:Status>`);
    await expectRefused(org, xml, ['DECRYPTION_FAILED', 'SAML_MALFORMED', 'ALGORITHM_NOT_ALLOWED']);
  });

  it('refuses more than 4 EncryptedKeys (RSA cost bound)', async () => {
    const encrypted = encryptResponseAssertion(legitPlain(), enc());
    const key = /<xenc:EncryptedKey>[\s\S]*<\/xenc:EncryptedKey>/.exec(encrypted)![0];
    await expectRefused(org, encrypted.replace(key, () => key.repeat(5)), 'DECRYPTION_FAILED');
  });

  it('refuses GCM with a truncated tag (ciphertext cut by 8 bytes)', async () => {
    const cek = randomBytes(32);
    const data = encryptContent(Buffer.from(assertionOf(legitPlain())), cek, CONTENT_ENCRYPTION.aes256Gcm);
    const element = encryptedAssertionElement({ keyTransport: KEY_TRANSPORT.rsaOaepMgf1p, content: CONTENT_ENCRYPTION.aes256Gcm, wrappedKey: wrapKey(cek, enc()), cipherValue: data.subarray(0, data.length - 8) });
    await expectRefused(org, withElement(xmlFor(org), element), 'DECRYPTION_FAILED');
  });

  it('refuses a 16-byte CEK under aes256-gcm (padded to 32 by the attacker)', async () => {
    const cek = randomBytes(16);
    const data = encryptContent(Buffer.from(assertionOf(legitPlain())), Buffer.concat([cek, Buffer.alloc(16)]), CONTENT_ENCRYPTION.aes256Gcm);
    const element = encryptedAssertionElement({ keyTransport: KEY_TRANSPORT.rsaOaepMgf1p, content: CONTENT_ENCRYPTION.aes256Gcm, wrappedKey: wrapKey(cek, enc()), cipherValue: data });
    await expectRefused(org, withElement(xmlFor(org), element), 'DECRYPTION_FAILED');
  });

  it('refuses a huge CipherValue (100 KiB, near the body limit once base64 twice) with DECRYPTION_FAILED or SAML_MALFORMED', async () => {
    const cek = randomBytes(32);
    const element = encryptedAssertionElement({ keyTransport: KEY_TRANSPORT.rsaOaepMgf1p, content: CONTENT_ENCRYPTION.aes256Gcm, wrappedKey: wrapKey(cek, enc()), cipherValue: randomBytes(100 * 1024) });
    await expectRefused(org, withElement(xmlFor(org), element), ['DECRYPTION_FAILED', 'SAML_MALFORMED']);
  });

  it('a deeply nested plaintext (decompression-like expansion of work) is refused', async () => {
    const legit = assertionOf(signLoginResponseXml(xmlFor(org), idp, 'assertion'));
    const deep = legit.replace('</saml:Conditions>', () => `</saml:Conditions><saml:Advice>${'<a>'.repeat(200)}${'</a>'.repeat(200)}</saml:Advice>`);
    await expectRefused(org, withElement(xmlFor(org), encryptedPlaintext(deep)), ['DECRYPTION_FAILED', 'SAML_MALFORMED']);
  });
});

describe('encrypted assertion: CBC ciphertext malleability gives no decryption oracle (Jager & Somorovsky 2011)', () => {
  /**
   * A captured encrypted response (AES-CBC, Response unsigned, Assertion signed inside,
   * the usual IdP shape). The attacker does not know the CEK, but the first plaintext
   * block is known ("<saml:Assertion "): XORing the IV changes it at will. Whether the
   * altered plaintext still parses to one Assertion shows in the answer (DECRYPTION_FAILED
   * vs anything else): the oracle the XML-Encryption CBC attacks use to decrypt captured
   * assertions byte by byte. So CBC content is decrypted only under a verified Response
   * signature (decrypt.ts assertContentAuthenticated): every tampered variant gets the
   * one refusal, decided before any key is used.
   */
  const captured = () => {
    const xml = encryptResponseAssertion(signLoginResponseXml(xmlFor(org), idp, 'assertion'), { certificatePem: encryption.certificatePem, content: CONTENT_ENCRYPTION.aes256Cbc });
    const last = xml.lastIndexOf('<xenc:CipherValue>') + '<xenc:CipherValue>'.length;
    const end = xml.indexOf('</xenc:CipherValue>', last);
    return { xml, data: Buffer.from(xml.slice(last, end), 'base64'), at: [last, end] as const };
  };
  const flipIv = (c: ReturnType<typeof captured>, offset: number, mask: number) => {
    const data = Buffer.from(c.data);
    data[offset]! ^= mask;
    return c.xml.slice(0, c.at[0]) + data.toString('base64') + c.xml.slice(c.at[1]);
  };

  it('sanity: the plaintext starts with the 16 known bytes "<saml:Assertion "', () => {
    expect(assertionOf(signLoginResponseXml(xmlFor(org), idp, 'assertion')).slice(0, 16)).toBe('<saml:Assertion ');
  });

  it('gives an IV-tampered CBC ciphertext in an unsigned Response the same refusal whether or not the tampered plaintext still parses', async () => {
    // Byte 15 of the first block: ' ' -> '\n' (still well-formed) vs ' ' -> '!' (not).
    const stillXml = flipIv(captured(), 15, 0x20 ^ 0x0a);
    const broken = flipIv(captured(), 15, 0x20 ^ 0x21);
    const a = await post(org, stillXml);
    const b = await post(org, broken);
    const answer = async (response: Response) => ({ status: response.status, code: ((await response.json().catch(() => ({}))) as { error?: { code?: string } }).error?.code ?? null });
    const [first, second] = [await answer(a), await answer(b)];
    // A ciphertext nobody authenticated (CBC, no verified Response signature over it) is
    // refused before it is decrypted, the same way whatever it would decrypt to.
    expect(second).toEqual({ status: 401, code: 'ALGORITHM_NOT_ALLOWED' });
    expect(first).toEqual(second);
  });

  it('gives no oracle on a Response-only-signed IdP either: with the Response Signature stripped, every tampered variant gets the same refusal', async () => {
    // IdP encrypts an unsigned Assertion and signs the Response (accepted shape, acs-encrypted.test.ts).
    const encrypted = encryptResponseAssertion(xmlFor(org), { certificatePem: encryption.certificatePem, content: CONTENT_ENCRYPTION.aes128Cbc });
    const signed = signLoginResponseXml(encrypted, idp, 'response');
    const stripped = signed.replace(/<ds:Signature[\s\S]*?<\/ds:Signature>/, '');
    const last = stripped.lastIndexOf('<xenc:CipherValue>') + '<xenc:CipherValue>'.length;
    const end = stripped.indexOf('</xenc:CipherValue>', last);
    const data = Buffer.from(stripped.slice(last, end), 'base64');
    const tamper = (mask: number) => {
      const copy = Buffer.from(data);
      copy[15]! ^= mask;
      return stripped.slice(0, last) + copy.toString('base64') + stripped.slice(end);
    };
    const code = async (xml: string) => ((await (await post(org, xml)).json()) as { error?: { code?: string } }).error?.code ?? null;
    const stillXml = await code(tamper(0x20 ^ 0x0a));
    const broken = await code(tamper(0x20 ^ 0x21));
    expect(broken).toBe('ALGORITHM_NOT_ALLOWED');
    // The same answer: the ciphertext was never authenticated, so it was never decrypted.
    expect(stillXml).toBe(broken);
  });
});
