/**
 * Encrypted assertions through the real ACS on DynamoDB Local (API.md "SAML as
 * enterprises run it": Encryption): every allowed key transport with every allowed
 * content algorithm provisions the user; the attacks of issue 15 are refused with their
 * code, audited, and sign nobody in; every padding-oracle shape gets the very same answer;
 * the SP metadata publishes the encryption certificate; a rotation's previous key still
 * decrypts, and an older one does not.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
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
  rsaRaw,
  wrapKey,
  type AssertionEncryption,
} from '../../local/saml-encrypt.js';
import { buildLoginResponseXml, createSamlIdpKeys, encodeSamlResponse, signLoginResponseXml, type LoginResponseInput, type SamlIdpKeys } from '../../local/saml-idp.js';
import type { SpKeyPair } from '../../shared/saml/authn-request.js';
import { assertionOf, certificateBody, replaceOnce } from '../support/saml-edits.js';
import { apiClient, createSamlOrg, postAcs, sessionCookieOf, startTestService, tokenFor, type SamlOrg, type TestService } from '../support/service.js';

let service: TestService;
let idp: SamlIdpKeys;
let org: SamlOrg;
let strictOrg: SamlOrg;
/** The SP's keys: signing, current encryption, the encryption key before the last rotation, and one older than that. */
let signing: SamlIdpKeys;
let encryption: SamlIdpKeys;
let previous: SamlIdpKeys;
let older: SamlIdpKeys;

const material = (keys: SamlIdpKeys) => ({ privateKeyPem: keys.privateKeyPem, certificatePem: keys.certificatePem });

beforeAll(async () => {
  [idp, signing, encryption, previous, older] = await Promise.all([
    createSamlIdpKeys('https://idp.acme.test/metadata'),
    createSamlIdpKeys('sso-jit SP'),
    createSamlIdpKeys('sso-jit SP encryption'),
    createSamlIdpKeys('sso-jit SP encryption (previous)'),
    createSamlIdpKeys('sso-jit SP encryption (older)'),
  ]);
  const spKey: SpKeyPair = { ...material(signing), encryption: material(encryption), previousEncryption: material(previous) };
  service = await startTestService({ spKey });
  org = await createSamlOrg(service, { idp });
  strictOrg = await createSamlOrg(service, { idp, saml: { requireEncryptedAssertions: true } });
});
afterAll(() => service?.close());
// A minute apart: no proof-less attempt folds into the audit event of an earlier one.
beforeEach(() => service.clock.advance(60_000));

let counter = 0;
const nextEmail = () => `user-${++counter}@acme.test`;
const xmlFor = (target: SamlOrg, overrides: Partial<LoginResponseInput> = {}) =>
  buildLoginResponseXml({ idp, spEntityId: target.urls.spEntityId, acsUrl: target.urls.acsUrl, nameId: nextEmail(), attributes: { groups: 'Admins' }, now: service.clock.now(), ...overrides });
/** Signed assertion, then encrypted to the SP (the usual IdP shape). */
const encryptedSigned = (target: SamlOrg, encryption_: Partial<AssertionEncryption> = {}, overrides: Partial<LoginResponseInput> = {}) =>
  encryptResponseAssertion(signLoginResponseXml(xmlFor(target, overrides), idp, 'assertion'), { certificatePem: encryption.certificatePem, ...encryption_ });
const post = (target: SamlOrg, xml: string) => postAcs(service, target.orgId, { SAMLResponse: encodeSamlResponse(xml) });
const emails = async (target: SamlOrg) => (await service.rt.users.list(target.orgId, { limit: 200 })).items.map((user) => user.email);
const lastFailure = async (target: SamlOrg) => (await service.rt.audit.list(target.orgId, { type: 'login.failed', limit: 1 })).items[0];

async function expectRefused(target: SamlOrg, xml: string, code: string, nameId?: string) {
  const response = await post(target, xml);
  const body = (await response.json()) as { error: { code: string; message: string } };
  expect({ status: response.status, code: body.error.code }).toEqual({ status: 401, code });
  expect(sessionCookieOf(response)).toBeUndefined();
  if (nameId !== undefined) expect(await emails(target)).not.toContain(nameId);
  expect((await lastFailure(target))?.code).toBe(code);
  return body;
}

const TRANSPORTS: [string, Partial<AssertionEncryption>][] = [
  ['rsa-oaep-mgf1p', { keyTransport: KEY_TRANSPORT.rsaOaepMgf1p }],
  ['xenc11 rsa-oaep SHA-1 / MGF1-SHA1', { keyTransport: KEY_TRANSPORT.rsaOaep, digest: OAEP_DIGEST.sha1, mgf: OAEP_MGF.mgf1sha1 }],
  ['xenc11 rsa-oaep SHA-256 / MGF1-SHA256', { keyTransport: KEY_TRANSPORT.rsaOaep, digest: OAEP_DIGEST.sha256, mgf: OAEP_MGF.mgf1sha256 }],
  ['xenc11 rsa-oaep SHA-256 / MGF1-SHA1', { keyTransport: KEY_TRANSPORT.rsaOaep, digest: OAEP_DIGEST.sha256, mgf: OAEP_MGF.mgf1sha1 }],
  ['xenc11 rsa-oaep SHA-1 / MGF1-SHA256', { keyTransport: KEY_TRANSPORT.rsaOaep, digest: OAEP_DIGEST.sha1, mgf: OAEP_MGF.mgf1sha256 }],
];
const COMBINATIONS = TRANSPORTS.flatMap(([transportName, transport]) =>
  Object.entries(CONTENT_ENCRYPTION).map(([contentName, content]) => ({ name: `${transportName} with ${contentName}`, encryption: { ...transport, content } })),
);

describe('the ACS decrypts an EncryptedAssertion and provisions its subject', () => {
  it.each(COMBINATIONS)('$name', async ({ encryption: options }) => {
    const nameId = nextEmail();

    const encrypted = encryptedSigned(org, options, { nameId });
    // AES-CBC is decrypted only under a signed Response (no CBC decryption oracle).
    const cbc = options.content === CONTENT_ENCRYPTION.aes128Cbc || options.content === CONTENT_ENCRYPTION.aes256Cbc;
    const response = await post(org, cbc ? signLoginResponseXml(encrypted, idp, 'response') : encrypted);

    expect(response.status, await response.clone().text()).toBe(302);
    expect(sessionCookieOf(response)).toBeDefined();
    expect(await emails(org)).toContain(nameId);
  });

  it('provisions from an unsigned assertion encrypted inside a signed Response', async () => {
    const nameId = nextEmail();
    const xml = signLoginResponseXml(encryptResponseAssertion(xmlFor(org, { nameId }), { certificatePem: encryption.certificatePem }), idp, 'response');

    expect((await post(org, xml)).status).toBe(302);
    expect(await emails(org)).toContain(nameId);
  });

  it('decrypts with the previous SP encryption key after a rotation', async () => {
    const nameId = nextEmail();

    const response = await post(org, encryptedSigned(org, { certificatePem: previous.certificatePem }, { nameId }));

    expect(response.status).toBe(302);
    expect(await emails(org)).toContain(nameId);
  });

  it('accepts an encrypted assertion where the org requires encryption', async () => {
    const nameId = nextEmail();

    expect((await post(strictOrg, encryptedSigned(strictOrg, {}, { nameId }))).status).toBe(302);
    expect(await emails(strictOrg)).toContain(nameId);
  });

  it('records the login of a decrypted assertion like any other', async () => {
    const nameId = nextEmail();
    await post(org, encryptedSigned(org, {}, { nameId }));

    const { items } = await service.rt.audit.list(org.orgId, { limit: 5 });
    expect(items.map((event) => event.type)).toContain('user.jit_created');
  });
});

describe('the ACS refuses encrypted-assertion attacks', () => {
  it('refuses a plain assertion with 401 ASSERTION_NOT_ENCRYPTED where the org requires encryption', async () => {
    const xml = signLoginResponseXml(xmlFor(strictOrg), idp, 'assertion');

    const body = await expectRefused(strictOrg, xml, 'ASSERTION_NOT_ENCRYPTED');
    expect(body.error.message).toMatch(/requires encrypted assertions/);
  });

  it('refuses a decrypted assertion whose signature was stripped: 401 SIGNATURE_INVALID', async () => {
    // Anyone can encrypt to the SP's public certificate: the encryption proves nothing.
    const xml = encryptResponseAssertion(xmlFor(org, { nameId: 'ceo@acme.test' }), { certificatePem: encryption.certificatePem });

    await expectRefused(org, xml, 'SIGNATURE_INVALID', 'ceo@acme.test');
  });

  it('refuses a signed Response whose EncryptedAssertion was swapped: 401 SIGNATURE_INVALID', async () => {
    const genuine = signLoginResponseXml(encryptResponseAssertion(xmlFor(org), { certificatePem: encryption.certificatePem }), idp, 'response');
    const forged = encryptAssertion(assertionOf(xmlFor(org, { nameId: 'ceo@acme.test' })), { certificatePem: encryption.certificatePem });
    const swapped = genuine.replace(/<saml:EncryptedAssertion>[\s\S]*<\/saml:EncryptedAssertion>/, () => forged);

    await expectRefused(org, swapped, 'SIGNATURE_INVALID', 'ceo@acme.test');
  });

  it('refuses an assertion encrypted to a key older than the previous one: 401 DECRYPTION_FAILED', async () => {
    const nameId = nextEmail();

    await expectRefused(org, encryptedSigned(org, { certificatePem: older.certificatePem }, { nameId }), 'DECRYPTION_FAILED', nameId);
  });

  const notAllowed: [string, { keyTransport?: string; digest?: string; mgf?: string; content?: string }][] = [
    ['RSA-1_5 key transport', { keyTransport: 'http://www.w3.org/2001/04/xmlenc#rsa-1_5' }],
    ['3DES content', { content: 'http://www.w3.org/2001/04/xmlenc#tripledes-cbc' }],
    ['RSA-OAEP with MGF1-SHA512', { keyTransport: KEY_TRANSPORT.rsaOaep, mgf: 'http://www.w3.org/2009/xmlenc11#mgf1sha512' }],
    ['RSA-OAEP with a SHA-512 digest', { keyTransport: KEY_TRANSPORT.rsaOaep, digest: 'http://www.w3.org/2001/04/xmlenc#sha512' }],
  ];
  it.each(notAllowed)('refuses %s with 401 ALGORITHM_NOT_ALLOWED', async (_name, algorithms) => {
    const xml = signLoginResponseXml(xmlFor(org), idp, 'assertion');
    const element = encryptedAssertionElement({
      keyTransport: algorithms.keyTransport ?? KEY_TRANSPORT.rsaOaepMgf1p,
      digest: algorithms.digest,
      ...(algorithms.mgf ? { mgf: algorithms.mgf } : {}),
      content: algorithms.content ?? CONTENT_ENCRYPTION.aes256Gcm,
      wrappedKey: randomBytes(256),
      cipherValue: randomBytes(64),
    });

    await expectRefused(org, replaceOnce(xml, assertionOf(xml), element), 'ALGORITHM_NOT_ALLOWED');
  });
});

describe('padding-oracle shapes all get the one answer', () => {
  const signedAssertion = () => Buffer.from(assertionOf(signLoginResponseXml(xmlFor(org), idp, 'assertion')));
  // Shapes made by the IdP itself, inside its signed Response: the only way CBC content reaches the decryptor.
  const inResponse = (element: string) => {
    const xml = xmlFor(org);
    return signLoginResponseXml(replaceOnce(xml, assertionOf(xml), element), idp, 'response');
  };
  const element = (content: string, wrappedKey: Buffer, cipherValue: Buffer) =>
    encryptedAssertionElement({ keyTransport: KEY_TRANSPORT.rsaOaepMgf1p, content, wrappedKey, cipherValue });
  const wrapped = (cek: Buffer) => wrapKey(cek, { certificatePem: encryption.certificatePem });
  const cbc = (cek: Buffer, padding?: (length: number) => Buffer) => {
    const plaintext = signedAssertion();
    const content = cek.length === 16 ? CONTENT_ENCRYPTION.aes128Cbc : CONTENT_ENCRYPTION.aes256Cbc;
    return encryptContent(plaintext, cek, content, padding ? { cbcPadding: padding(16 - (plaintext.length % 16)) } : {});
  };

  const shapes: [string, () => string][] = [
    ['bad OAEP padding', () => {
      const cek = randomBytes(16);
      const block = rsaRaw(Buffer.concat([Buffer.from([0]), randomBytes(modulusBytes(encryption.certificatePem) - 1)]), encryption.certificatePem);
      return inResponse(element(CONTENT_ENCRYPTION.aes128Cbc, block, cbc(cek)));
    }],
    ['bad CBC padding (last octet zero)', () => {
      const cek = randomBytes(16);
      return inResponse(element(CONTENT_ENCRYPTION.aes128Cbc, wrapped(cek), cbc(cek, (length) => Buffer.alloc(length, 0))));
    }],
    ['bad CBC padding (last octet past the block)', () => {
      const cek = randomBytes(32);
      return inResponse(element(CONTENT_ENCRYPTION.aes256Cbc, wrapped(cek), cbc(cek, (length) => Buffer.alloc(length, 0x20))));
    }],
    ['bad GCM tag', () => {
      const cek = randomBytes(32);
      const data = encryptContent(signedAssertion(), cek, CONTENT_ENCRYPTION.aes256Gcm);
      data[data.length - 3]! ^= 0x80;
      return inResponse(element(CONTENT_ENCRYPTION.aes256Gcm, wrapped(cek), data));
    }],
    ['wrong key', () => signLoginResponseXml(encryptResponseAssertion(signLoginResponseXml(xmlFor(org), idp, 'assertion'), { certificatePem: older.certificatePem, content: CONTENT_ENCRYPTION.aes128Cbc }), idp, 'response')],
    ['a CEK of the wrong size', () => {
      const cek = randomBytes(16);
      return inResponse(element(CONTENT_ENCRYPTION.aes256Gcm, wrapped(cek), encryptContent(signedAssertion(), Buffer.concat([cek, cek]), CONTENT_ENCRYPTION.aes256Gcm)));
    }],
    ['plaintext that is not XML', () => {
      const cek = randomBytes(16);
      return inResponse(element(CONTENT_ENCRYPTION.aes128Gcm, wrapped(cek), encryptContent(Buffer.from('<saml:Assertion'), cek, CONTENT_ENCRYPTION.aes128Gcm)));
    }],
    ['plaintext that is not exactly one saml:Assertion', () => {
      const cek = randomBytes(16);
      const two = Buffer.concat([signedAssertion(), signedAssertion()]);
      return inResponse(element(CONTENT_ENCRYPTION.aes128Gcm, wrapped(cek), encryptContent(two, cek, CONTENT_ENCRYPTION.aes128Gcm)));
    }],
  ];

  it.each(shapes)('answers %s with 401 DECRYPTION_FAILED, audited', async (_name, xml) => {
    await expectRefused(org, xml(), 'DECRYPTION_FAILED');
  });

  it('answers every shape with the same status, body and audit details', async () => {
    const answers = new Set<string>();
    const audited = new Set<string>();
    for (const [, xml] of shapes) {
      service.clock.advance(60_000);
      const response = await post(org, xml());
      const body = (await response.json()) as { error: Record<string, unknown> };
      const { correlationId: _ignored, ...error } = body.error;
      answers.add(JSON.stringify({ status: response.status, error }));
      const { message, reason, code } = { ...(await lastFailure(org))!.details, code: (await lastFailure(org))!.code } as Record<string, unknown>;
      audited.add(JSON.stringify({ code, message, reason }));
    }

    expect(answers.size).toBe(1);
    expect(audited.size).toBe(1);
    expect([...answers][0]).toContain('DECRYPTION_FAILED');
  });
});

describe('GET /sso/{orgId}/saml/metadata with an SP encryption key', () => {
  it('publishes the encryption certificate in a KeyDescriptor use="encryption" with the algorithms it decrypts', async () => {
    const response = await fetch(`${service.baseUrl}/sso/${org.orgId}/saml/metadata`);
    const xml = await response.text();

    expect(response.status).toBe(200);
    const encryptionDescriptor = /<md:KeyDescriptor use="encryption">([\s\S]*?)<\/md:KeyDescriptor>/.exec(xml)?.[1];
    expect(encryptionDescriptor).toContain(certificateBody(encryption.certificatePem));
    expect(encryptionDescriptor).not.toContain(certificateBody(previous.certificatePem));
    for (const algorithm of [...Object.values(CONTENT_ENCRYPTION), ...Object.values(KEY_TRANSPORT)]) expect(encryptionDescriptor).toContain(`<md:EncryptionMethod Algorithm="${algorithm}"/>`);
    expect(/<md:KeyDescriptor use="signing">[\s\S]*?<\/md:KeyDescriptor>/.exec(xml)?.[0]).toContain(certificateBody(signing.certificatePem));
  });
});

describe('a test sign-in answered with an encrypted assertion', () => {
  it('decrypts it and reports success, and reports ASSERTION_NOT_ENCRYPTED for a plain one where encryption is required', async () => {
    const target = await createSamlOrg(service, { idp, saml: { ssoUrl: 'https://idp.acme.test/sso', requireEncryptedAssertions: true } });
    const admin = apiClient(service, await tokenFor(service, target.orgId, target.adminEmail));
    const start = async () => {
      const started = await admin('POST', `/orgs/${target.orgId}/sso/tests`, {});
      expect(started.status).toBe(201);
      const relayState = new URL(started.body.loginUrl as string).searchParams.get('RelayState')!;
      const browser = started.headers.getSetCookie().find((cookie) => cookie.startsWith('sso_browser='))!.split(';')[0]!;
      return { id: started.body.id as string, relayState, browser };
    };
    const answer = async (encrypt: boolean) => {
      const test = await start();
      const signed = signLoginResponseXml(xmlFor(target, { inResponseTo: test.relayState }), idp, 'assertion');
      const xml = encrypt ? encryptResponseAssertion(signed, { certificatePem: encryption.certificatePem }) : signed;
      await postAcs(service, target.orgId, { SAMLResponse: encodeSamlResponse(xml), RelayState: test.relayState }, { accept: 'application/json', cookie: test.browser });
      return (await admin('GET', `/orgs/${target.orgId}/sso/tests/${test.id}`)).body;
    };

    expect(await answer(true)).toMatchObject({ status: 'done', result: { outcome: 'success' } });
    expect(await answer(false)).toMatchObject({ status: 'done', result: { outcome: 'failure', error: { code: 'ASSERTION_NOT_ENCRYPTED' } } });
  });
});

describe('refused encrypted assertions in the audit trail', () => {
  it('folds repeated DECRYPTION_FAILED of an unsigned Response (anyone can send it) into one counted event', async () => {
    const target = await createSamlOrg(service, { idp });
    const xml = encryptResponseAssertion(signLoginResponseXml(xmlFor(target, { nameId: 'ada@acme.test' }), idp, 'assertion'), { certificatePem: older.certificatePem });

    for (let i = 0; i < 3; i++) {
      service.clock.advance(1000);
      expect((await post(target, xml)).status).toBe(401);
    }

    const failures = (await service.rt.audit.list(target.orgId, { type: 'login.failed', limit: 10 })).items;
    expect(failures.map((event) => [event.code, event.details.count])).toEqual([['DECRYPTION_FAILED', 3]]);
  });

  it('keeps each DECRYPTION_FAILED of a Response signed by the IdP its own event', async () => {
    const target = await createSamlOrg(service, { idp });
    const xml = signLoginResponseXml(encryptResponseAssertion(xmlFor(target), { certificatePem: older.certificatePem }), idp, 'response');

    for (let i = 0; i < 2; i++) {
      service.clock.advance(1000);
      expect((await post(target, xml)).status).toBe(401);
    }

    const failures = (await service.rt.audit.list(target.orgId, { type: 'login.failed', limit: 10 })).items;
    expect(failures.map((event) => [event.code, event.details.count ?? 1])).toEqual([
      ['DECRYPTION_FAILED', 1],
      ['DECRYPTION_FAILED', 1],
    ]);
  });
});
