/**
 * Settings input validation (API.md "Admin routes", "IdP URLs"): strict schemas, and
 * a `400 VALIDATION_FAILED` whose message names the field.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { AppError } from '../../../shared/errors.js';
import { provisioningSettingsSchema, ssoSettingsSchema } from '../../../shared/settings/model.js';
import { parseInput } from '../../../shared/settings/validation.js';

const body = randomBytes(300).toString('base64').match(/.{1,64}/g)!.join('\n');
const PEM = `-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----\n`;

const saml = (overrides: Record<string, unknown> = {}) => ({
  idpEntityId: 'https://idp.acme.com/metadata',
  ssoUrl: 'https://idp.acme.com/sso',
  certificates: [PEM],
  ...overrides,
});

function caught(fn: () => unknown): AppError {
  try {
    fn();
  } catch (error) {
    return error as AppError;
  }
  throw new Error('expected a throw');
}

describe('parseInput', () => {
  it('returns the parsed settings with defaults filled in', () => {
    const parsed = parseInput(ssoSettingsSchema, { enabled: true, saml: saml() });

    expect(parsed).toMatchObject({ enabled: true, protocol: 'saml', forceSso: false, domains: [], saml: { clockSkewSeconds: 60, allowIdpInitiated: true } });
  });

  describe('unknown fields', () => {
    it.each([
      ['at the top level of sso settings', ssoSettingsSchema, { enabled: true, colour: 'red' }, 'colour', ''],
      ['inside saml', ssoSettingsSchema, { saml: saml({ idpEntityID: 'typo' }) }, 'idpEntityID', 'saml'],
      ['at the top level of provisioning settings', provisioningSettingsSchema, { method: 'jit', mode: 'x' }, 'mode', ''],
      ['inside jit', provisioningSettingsSchema, { method: 'jit', jit: { roleAtribute: 'groups' } }, 'roleAtribute', 'jit'],
      ['inside jit.attributes', provisioningSettingsSchema, { jit: { attributes: { mail: ['x'] } } }, 'mail', 'jit.attributes'],
    ] as const)('refuses an unknown field %s with a message naming it', (_label, schema, input, field, path) => {
      const error = caught(() => parseInput(schema, input));

      expect(error.code).toBe('VALIDATION_FAILED');
      expect(error.status).toBe(400);
      expect(error.message).toContain(`"${field}"`);
      if (path) expect(error.message).toContain(`${path}:`);
    });

    it('prefixes the path with the given root', () => {
      const error = caught(() => parseInput(ssoSettingsSchema, { saml: saml({ clockSkewSeconds: 301 }) }, 'sso'));

      expect(error.message).toContain('sso.saml.clockSkewSeconds');
    });
  });

  describe('IdP URLs', () => {
    it.each([
      'https://idp.acme.com/sso',
      'http://localhost/sso',
      'http://localhost:8080/sso',
      'http://127.0.0.1:9000/sso',
      'http://127.10.20.30/sso',
      'http://[::1]:8443/sso',
    ])('accepts %s as the SAML ssoUrl', (ssoUrl) => {
      expect(parseInput(ssoSettingsSchema, { saml: saml({ ssoUrl }) }).saml?.ssoUrl).toBe(ssoUrl);
    });

    it.each([
      'http://idp.acme.com/sso',
      'http://localhost.evil.com/sso',
      'http://127.0.0.1.evil.com/sso',
      'http://10.0.0.1/sso',
      'http://[::2]/sso',
      'ftp://idp.acme.com/sso',
      'javascript:alert(1)',
      'idp.acme.com/sso',
    ])('refuses %s as the SAML ssoUrl, naming the field', (ssoUrl) => {
      const error = caught(() => parseInput(ssoSettingsSchema, { saml: saml({ ssoUrl }) }));

      expect(error.code).toBe('VALIDATION_FAILED');
      expect(error.message).toContain('saml.ssoUrl');
    });

    it('refuses an http OIDC issuer that is not loopback', () => {
      const error = caught(() => parseInput(ssoSettingsSchema, { oidc: { issuer: 'http://login.acme.com', clientId: 'c' } }));

      expect(error.code).toBe('VALIDATION_FAILED');
      expect(error.message).toContain('oidc.issuer');
    });

    it('accepts an http OIDC issuer on localhost', () => {
      expect(parseInput(ssoSettingsSchema, { oidc: { issuer: 'http://localhost:4000', clientId: 'c' } }).oidc?.issuer).toBe('http://localhost:4000');
    });
  });

  describe('clockSkewSeconds', () => {
    it.each([0, 1, 60, 300])('accepts %i', (clockSkewSeconds) => {
      expect(parseInput(ssoSettingsSchema, { saml: saml({ clockSkewSeconds }) }).saml?.clockSkewSeconds).toBe(clockSkewSeconds);
    });

    it.each([-1, 301, 1.5, 3600])('refuses %d, naming the field', (clockSkewSeconds) => {
      const error = caught(() => parseInput(ssoSettingsSchema, { saml: saml({ clockSkewSeconds }) }));

      expect(error.code).toBe('VALIDATION_FAILED');
      expect(error.message).toContain('saml.clockSkewSeconds');
    });
  });

  describe('certificates', () => {
    it('accepts a PEM certificate', () => {
      expect(parseInput(ssoSettingsSchema, { saml: saml() }).saml?.certificates).toHaveLength(1);
    });

    it.each([
      ['a bare base64 body', body],
      ['a PEM without its END line', `-----BEGIN CERTIFICATE-----\n${body}\n`],
      ['a public key', `-----BEGIN PUBLIC KEY-----\n${body}\n-----END PUBLIC KEY-----`],
      ['a private key', `-----BEGIN PRIVATE KEY-----\n${body}\n-----END PRIVATE KEY-----`],
      ['a body with characters outside base64', `-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----`],
      ['an empty body', `-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----`],
      ['text after the END line', `${PEM}trailing`],
    ])('refuses %s, naming the field', (_label, certificate) => {
      const error = caught(() => parseInput(ssoSettingsSchema, { saml: saml({ certificates: [certificate] }) }));

      expect(error.code).toBe('VALIDATION_FAILED');
      expect(error.message).toContain('saml.certificates.0');
    });

    it('refuses an empty certificate list', () => {
      expect(() => parseInput(ssoSettingsSchema, { saml: saml({ certificates: [] }) })).toThrow(
        expect.objectContaining({ code: 'VALIDATION_FAILED', message: expect.stringContaining('saml.certificates') }),
      );
    });
  });
});
