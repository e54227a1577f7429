/**
 * IdP signing certificates as admins give them (PEM, or the bare base64 DER that IdP
 * metadata carries): validated with node:crypto, stored in one canonical PEM form, and
 * summarised for the read-only `saml.certificateInfo` (API.md "SsoSettings").
 *
 * Messages name the field and never echo the input: an admin who pastes a private key
 * by mistake must not find it again in a response, a log line or an audit event.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { AppError } from '../errors.js';

/** `expiresSoon` is true from this many days before `notAfter` (and after it). */
export const EXPIRY_WARNING_DAYS = 30;

/** The smallest RSA modulus accepted for an IdP signing key. */
export const MIN_RSA_KEY_BITS = 2048;

/** Far above any real certificate (a few KiB); bounds the work done on pasted input. */
const MAX_INPUT_CHARS = 64 * 1024;

const DAY_MS = 24 * 60 * 60 * 1000;
const PEM_BEGIN = /-----BEGIN ([A-Z0-9 ]+)-----/g;
const PEM_CERTIFICATE_BLOCK = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

export interface CertificateInfo {
  /** The subject's RDNs as `CN=…, O=…`, in certificate order. */
  subject: string;
  /** SHA-256 of the DER, uppercase hex pairs joined by colons (`openssl x509 -fingerprint -sha256`). */
  fingerprintSha256: string;
  /** ISO-8601. */
  notAfter: string;
  /** Expires within {@link EXPIRY_WARNING_DAYS} days of `now`, or has expired. */
  expiresSoon: boolean;
}

const invalid = (field: string, problem: string, cause?: unknown): AppError =>
  new AppError('VALIDATION_FAILED', `${field}: ${problem}`, cause === undefined ? {} : { cause });

/**
 * Validates one IdP signing certificate and returns it as canonical PEM: the DER
 * re-encoded in 64-character base64 lines between the armour lines, `\n` line ends,
 * a trailing newline. Equal certificates therefore compare equal as strings.
 *
 * Accepts a PEM certificate (any line breaks; text around the block, such as
 * openssl's "Bag Attributes", is ignored) or a bare base64 DER body as in
 * `<ds:X509Certificate>`. Expired certificates are accepted (rollovers list them;
 * {@link certificateInfo} flags them). RSA keys below {@link MIN_RSA_KEY_BITS} bits
 * are refused.
 *
 * @param field The settings path to name in the message, e.g. `saml.certificates[1]`.
 * @throws AppError VALIDATION_FAILED `"<field>: …"`, never quoting the input.
 * @example normalizeCertificatePem(body, 'saml.certificates[0]') // '-----BEGIN CERTIFICATE-----\nMIIC…\n-----END CERTIFICATE-----\n'
 */
export function normalizeCertificatePem(input: string, field: string): string {
  const certificate = decodeCertificate(input, field);
  const key = certificate.publicKey;
  if (key.asymmetricKeyType === 'rsa' || key.asymmetricKeyType === 'rsa-pss') {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < MIN_RSA_KEY_BITS) {
      throw invalid(field, `the certificate's RSA key has ${bits} bits; at least ${MIN_RSA_KEY_BITS} are required. Ask the identity provider for a certificate with a stronger key`);
    }
  }
  return toPem(certificate.raw);
}

/**
 * The read-only summary shown with each configured certificate, so an admin sees which
 * one is which and when to roll over.
 *
 * @param pem A certificate in any form {@link normalizeCertificatePem} accepts (no key-size check).
 * @param now The injected clock's time; `expiresSoon` is computed against it.
 * @throws AppError VALIDATION_FAILED when `pem` is not a certificate.
 */
export function certificateInfo(pem: string, now: Date): CertificateInfo {
  const certificate = decodeCertificate(pem, 'certificate');
  const notAfter = certificate.validToDate;
  return {
    subject: certificate.subject.split('\n').join(', '),
    fingerprintSha256: certificate.fingerprint256,
    notAfter: notAfter.toISOString(),
    expiresSoon: notAfter.getTime() - now.getTime() <= EXPIRY_WARNING_DAYS * DAY_MS,
  };
}

/** The SHA-256 fingerprint of a stored certificate, as `certificateInfo` gives it. */
export const fingerprintOf = (pem: string): string => decodeCertificate(pem, 'certificate').fingerprint256;

/** Whole days until `notAfter` (negative once it passed). */
export function daysLeft(pem: string, now: Date): number {
  return Math.floor((decodeCertificate(pem, 'certificate').validToDate.getTime() - now.getTime()) / DAY_MS);
}

function decodeCertificate(input: string, field: string): X509Certificate {
  const text = input.trim();
  if (text.length === 0) throw invalid(field, 'is empty; paste the PEM certificate (-----BEGIN CERTIFICATE-----)');
  if (text.length > MAX_INPUT_CHARS) throw invalid(field, `is larger than ${MAX_INPUT_CHARS / 1024} KiB, too large to be one certificate`);

  const labels = [...text.matchAll(PEM_BEGIN)].map((match) => match[1]!);
  if (labels.some((label) => label.endsWith('PRIVATE KEY'))) throw privateKeyRefused(field);

  let body: string;
  if (labels.length === 0) {
    body = text;
  } else {
    if (labels.length > 1) {
      throw labels.every((label) => label === 'CERTIFICATE')
        ? invalid(field, `contains ${labels.length} certificates; give one certificate per entry`)
        : invalid(field, `contains ${labels.length} PEM blocks; give exactly one certificate (-----BEGIN CERTIFICATE-----)`);
    }
    const label = labels[0]!;
    if (label !== 'CERTIFICATE') throw invalid(field, `${describeLabel(label)}, not a certificate; paste the certificate (-----BEGIN CERTIFICATE-----)`);
    const block = PEM_CERTIFICATE_BLOCK.exec(text);
    if (block === null) throw invalid(field, 'has a -----BEGIN CERTIFICATE----- line but no -----END CERTIFICATE----- line after it');
    body = block[1]!;
  }

  const base64 = body.replace(/\s+/g, '');
  if (base64.length === 0 || base64.length % 4 !== 0 || !BASE64.test(base64)) {
    throw invalid(field, 'is not a certificate: expected a PEM certificate (-----BEGIN CERTIFICATE-----) or its base64 body');
  }
  const der = Buffer.from(base64, 'base64');
  try {
    return new X509Certificate(der);
  } catch (error) {
    // A bare base64 private key (no armour) must get the same care as a PEM one.
    if (labels.length === 0 && isPrivateKeyDer(der)) throw privateKeyRefused(field);
    throw invalid(field, 'is not a valid X.509 certificate (its content does not decode as one)', error);
  }
}

/** No cause and no input in the message: nothing of the key may travel with the error. */
const privateKeyRefused = (field: string): AppError =>
  invalid(
    field,
    'is a private key, not a certificate. It was not stored; paste the identity provider\'s signing certificate (-----BEGIN CERTIFICATE-----) instead, and treat the pasted key as exposed if it is in use',
  );

function describeLabel(label: string): string {
  if (label.endsWith('PUBLIC KEY')) return 'is a public key';
  if (label.includes('CERTIFICATE REQUEST')) return 'is a certificate signing request (CSR)';
  return `is a PEM "${label}" block`;
}

function isPrivateKeyDer(der: Buffer): boolean {
  for (const type of ['pkcs8', 'pkcs1', 'sec1'] as const) {
    try {
      createPrivateKey({ key: der, format: 'der', type });
      return true;
    } catch {
      // not this encoding
    }
  }
  return false;
}

function toPem(der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}
