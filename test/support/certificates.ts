/**
 * Certificates made at test time (never committed), in the forms IdP settings and
 * metadata carry them, and the namespaces SAML metadata fixtures are written in.
 */
import { X509Certificate } from 'node:crypto';
import { generate } from 'selfsigned';

export const MD = 'urn:oasis:names:tc:SAML:2.0:metadata';
export const DS = 'http://www.w3.org/2000/09/xmldsig#';
export const SAML2 = 'urn:oasis:names:tc:SAML:2.0:protocol';
export const REDIRECT = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect';
export const POST = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST';

const DAY_MS = 24 * 60 * 60 * 1000;

export interface TestCert {
  commonName: string;
  pem: string;
  /** The base64 DER, as `<ds:X509Certificate>` holds it. */
  body: string;
  /** The canonical PEM the service stores, written out here rather than asked of the code under test. */
  canonicalPem: string;
  x509: X509Certificate;
  privateKeyPem: string;
}

/** A self-signed RSA certificate (2048 bits unless told), valid from yesterday for `validDays` days. */
export async function makeTestCert(commonName: string, options: { validDays?: number; keySize?: number } = {}): Promise<TestCert> {
  const now = Date.now();
  const pems = await generate([{ name: 'commonName', value: commonName }], {
    keyType: 'rsa',
    keySize: options.keySize ?? 2048,
    algorithm: 'sha256',
    notBeforeDate: new Date(now - DAY_MS),
    notAfterDate: new Date(now + (options.validDays ?? 365) * DAY_MS),
  });
  const x509 = new X509Certificate(pems.cert);
  const body = x509.raw.toString('base64');
  const canonicalPem = `-----BEGIN CERTIFICATE-----\n${body.match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`;
  return { commonName, pem: pems.cert, body, canonicalPem, x509, privateKeyPem: pems.private };
}
