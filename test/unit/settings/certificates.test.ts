/**
 * IdP signing certificates (shared/settings/certificates.ts): canonical PEM, refusal of
 * private keys, weak keys and non-certificates with the field named, and the
 * read-only certificateInfo. Every certificate and key is generated at test time.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { generate } from 'selfsigned';
import { beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../../shared/errors.js';
import { EXPIRY_WARNING_DAYS, certificateInfo, normalizeCertificatePem } from '../../../shared/settings/certificates.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const FIELD = 'saml.certificates[1]';

interface Generated {
  cert: string;
  privateKey: string;
  publicKey: string;
}

async function makeCertificate(options: { keyType?: 'rsa' | 'ec'; keySize?: number; notAfterDate?: Date } = {}): Promise<Generated> {
  const pems = await generate([{ name: 'commonName', value: 'Test IdP signing' }, { name: 'organizationName', value: 'Acme' }], {
    keyType: options.keyType ?? 'rsa',
    keySize: options.keySize ?? 2048,
    algorithm: 'sha256',
    ...(options.notAfterDate ? { notAfterDate: options.notAfterDate } : {}),
  });
  return { cert: pems.cert, privateKey: pems.private, publicKey: pems.public };
}

const base64Body = (pem: string): string => pem.replace(/-----(BEGIN|END) [A-Z ]+-----/g, '').replace(/\s+/g, '');

function caught(fn: () => unknown): AppError {
  try {
    fn();
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('expected an AppError');
}

let rsa: Generated;
let weakRsa: Generated;
let ec: Generated;
let shortLived: Generated;

beforeAll(async () => {
  [rsa, weakRsa, ec, shortLived] = await Promise.all([
    makeCertificate(),
    makeCertificate({ keySize: 1024 }),
    makeCertificate({ keyType: 'ec' }),
    makeCertificate({ notAfterDate: new Date(Date.now() + 10 * DAY_MS) }),
  ]);
}, 60_000);

describe('normalizeCertificatePem', () => {
  it('returns canonical PEM: 64-character base64 lines, LF line ends and a trailing newline', () => {
    // Arrange
    const der = new X509Certificate(rsa.cert).raw;

    // Act
    const pem = normalizeCertificatePem(rsa.cert, FIELD);

    // Assert
    const lines = pem.split('\n');
    expect(lines[0]).toBe('-----BEGIN CERTIFICATE-----');
    expect(lines.at(-2)).toBe('-----END CERTIFICATE-----');
    expect(lines.at(-1)).toBe('');
    expect(lines.slice(1, -3).every((line) => line.length === 64)).toBe(true);
    expect(lines.at(-3)!.length).toBeLessThanOrEqual(64);
    expect(pem).not.toContain('\r');
    expect(new X509Certificate(pem).raw.equals(der)).toBe(true);
  });

  it.each([
    ['a bare base64 body, as IdP metadata carries it', (pem: string) => base64Body(pem)],
    ['a base64 body wrapped at 76 characters and indented', (pem: string) => `\n    ${base64Body(pem).match(/.{1,76}/g)!.join('\n    ')}\n  `],
    ['a PEM on one line', (pem: string) => `-----BEGIN CERTIFICATE-----${base64Body(pem)}-----END CERTIFICATE-----`],
    ['a PEM with CRLF line ends and surrounding blank lines', (pem: string) => `\r\n${pem.replace(/\r?\n/g, '\r\n')}\r\n\r\n`],
    ['a PEM preceded by openssl "Bag Attributes"', (pem: string) => `Bag Attributes\n    localKeyID: 01 00 00 00\nsubject=CN = Test IdP signing\n${pem}`],
  ])('accepts %s and returns the same canonical PEM', (_label, reshape) => {
    // Arrange
    const expected = normalizeCertificatePem(rsa.cert, FIELD);

    // Act
    const pem = normalizeCertificatePem(reshape(rsa.cert), FIELD);

    // Assert
    expect(pem).toBe(expected);
  });

  it('is idempotent', () => {
    const once = normalizeCertificatePem(rsa.cert, FIELD);

    const twice = normalizeCertificatePem(once, FIELD);

    expect(twice).toBe(once);
  });

  it('accepts a certificate with an elliptic-curve key', () => {
    const pem = normalizeCertificatePem(ec.cert, FIELD);

    expect(new X509Certificate(pem).publicKey.asymmetricKeyType).toBe('ec');
  });

  it('refuses a certificate whose RSA key is shorter than 2048 bits, naming the field and the key size', () => {
    const error = caught(() => normalizeCertificatePem(weakRsa.cert, FIELD));

    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.message).toMatch(/^saml\.certificates\[1\]: /);
    expect(error.message).toContain('1024 bits');
    expect(error.message).toContain('2048');
  });

  describe('a private key pasted as a certificate', () => {
    const privateKeyShapes: [string, () => string][] = [
      ['a PKCS#8 PEM private key', () => rsa.privateKey],
      ['a PKCS#1 "RSA PRIVATE KEY" PEM', () => createPrivateKey(rsa.privateKey).export({ format: 'pem', type: 'pkcs1' }).toString()],
      ['an "EC PRIVATE KEY" PEM', () => createPrivateKey(ec.privateKey).export({ format: 'pem', type: 'sec1' }).toString()],
      ['a certificate followed by its private key', () => `${rsa.cert}\n${rsa.privateKey}`],
      ['a bare base64 PKCS#8 private key without armour', () => base64Body(rsa.privateKey)],
    ];

    it.each(privateKeyShapes)('refuses %s with a message that says so and names the field', (_label, input) => {
      const error = caught(() => normalizeCertificatePem(input(), FIELD));

      expect(error.code).toBe('VALIDATION_FAILED');
      expect(error.status).toBe(400);
      expect(error.message).toMatch(/^saml\.certificates\[1\]: is a private key, not a certificate/);
    });

    it.each(privateKeyShapes)('never echoes %s in the error, its cause or its details', (_label, input) => {
      // Arrange
      const key = input();
      const keyBody = base64Body(key.includes('CERTIFICATE') ? rsa.privateKey : key);
      const fragments = [keyBody.slice(100, 124), keyBody.slice(-40, -16)];

      // Act
      const error = caught(() => normalizeCertificatePem(key, FIELD));

      // Assert
      const everything = `${error.message} ${String(error.cause ?? '')} ${JSON.stringify(error.details)} ${error.stack ?? ''}`;
      for (const fragment of fragments) expect(everything).not.toContain(fragment);
      expect(error.cause).toBeUndefined();
    });
  });

  it.each([
    ['an empty string', '   ', 'is empty'],
    ['words', 'this is my certificate', 'is not a certificate'],
    ['base64 that is not a certificate', Buffer.from('definitely not DER, just some text').toString('base64'), 'is not a valid X.509 certificate'],
    ['a PEM armour around garbage', '-----BEGIN CERTIFICATE-----\nnot*base64\n-----END CERTIFICATE-----', 'is not a certificate'],
    ['a BEGIN line without its END line', '-----BEGIN CERTIFICATE-----\nMIIB', 'no -----END CERTIFICATE-----'],
  ])('refuses %s with a message that names the field', (_label, input, problem) => {
    const error = caught(() => normalizeCertificatePem(input, FIELD));

    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.message).toMatch(/^saml\.certificates\[1\]: /);
    expect(error.message).toContain(problem);
  });

  it('does not echo garbage input in the message', () => {
    const input = 'client-secret-AbCdEf0123456789';

    const error = caught(() => normalizeCertificatePem(input, FIELD));

    expect(error.message).not.toContain(input);
  });

  it('refuses a public key PEM, saying it is a public key', () => {
    const error = caught(() => normalizeCertificatePem(rsa.publicKey, FIELD));

    expect(error.message).toMatch(/^saml\.certificates\[1\]: is a public key, not a certificate/);
  });

  it('refuses two certificates in one entry, asking for one per entry', () => {
    const error = caught(() => normalizeCertificatePem(`${rsa.cert}${ec.cert}`, FIELD));

    expect(error.message).toBe('saml.certificates[1]: contains 2 certificates; give one certificate per entry');
  });
});

describe('certificateInfo', () => {
  it('gives the SHA-256 fingerprint as uppercase hex pairs joined by colons, as node:crypto computes it', () => {
    const pem = normalizeCertificatePem(rsa.cert, FIELD);

    const info = certificateInfo(pem, new Date());

    expect(info.fingerprintSha256).toBe(new X509Certificate(pem).fingerprint256);
    expect(info.fingerprintSha256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  });

  it('gives the subject as comma-separated RDNs and notAfter as ISO-8601', () => {
    const info = certificateInfo(rsa.cert, new Date());

    expect(info.subject).toBe('CN=Test IdP signing, O=Acme');
    expect(info.notAfter).toBe(new X509Certificate(rsa.cert).validToDate.toISOString());
    expect(info.notAfter).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  });

  it('exports a 30-day warning window', () => {
    expect(EXPIRY_WARNING_DAYS).toBe(30);
  });

  it.each([
    [false, '31 days before notAfter', -31 * DAY_MS],
    [false, '30 days and one second before notAfter', -(30 * DAY_MS + 1000)],
    [true, 'exactly 30 days before notAfter', -30 * DAY_MS],
    [true, '29 days before notAfter', -29 * DAY_MS],
    [true, 'one second before notAfter', -1000],
    [true, 'one day after notAfter (expired)', DAY_MS],
  ])('says expiresSoon is %s when now is %s', (expected, _label, offsetFromNotAfter) => {
    // Arrange
    const notAfter = new X509Certificate(rsa.cert).validToDate.getTime();
    const now = new Date(notAfter + offsetFromNotAfter);

    // Act
    const info = certificateInfo(rsa.cert, now);

    // Assert
    expect(info.expiresSoon).toBe(expected);
  });

  it('flags a certificate valid for 10 more days but not one valid for a year', () => {
    const now = new Date();

    const soon = certificateInfo(shortLived.cert, now);
    const later = certificateInfo(rsa.cert, now);

    expect(soon.expiresSoon).toBe(true);
    expect(later.expiresSoon).toBe(false);
  });

  it('refuses input that is not a certificate', () => {
    const error = caught(() => certificateInfo('nonsense', new Date()));

    expect(error.code).toBe('VALIDATION_FAILED');
  });
});
