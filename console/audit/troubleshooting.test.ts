import { describe, expect, it } from 'vitest';
import { ERROR_STATUS } from '../../shared/errors.js';
import { fixFor, TROUBLESHOOTING } from './troubleshooting.js';

/** The login codes issue 13 names. */
const LOGIN_CODES = [
  'SSO_NOT_ENABLED', 'USER_NOT_PROVISIONED', 'IDP_ISSUER_MISMATCH', 'AUDIENCE_MISMATCH', 'DESTINATION_MISMATCH', 'ROLE_NOT_MAPPED',
  'ROLE_ATTRIBUTE_MISSING', 'EMAIL_MISSING', 'ASSERTION_EXPIRED', 'ASSERTION_NOT_YET_VALID', 'SIGNATURE_INVALID', 'CERTIFICATE_EXPIRED',
  'IN_RESPONSE_TO_INVALID', 'ASSERTION_REPLAYED', 'STATE_INVALID', 'NONCE_MISMATCH', 'ID_TOKEN_INVALID', 'OIDC_TOKEN_EXCHANGE_FAILED',
  'EMAIL_NOT_VERIFIED', 'USER_BLOCKED', 'SUBJECT_MISMATCH', 'IDP_INITIATED_DISABLED', 'SAML_MALFORMED', 'IDP_STATUS_ERROR',
  'RELAY_STATE_INVALID', 'ALGORITHM_NOT_ALLOWED', 'DECRYPTION_FAILED', 'ASSERTION_NOT_ENCRYPTED',
];

/** Codes of the error model's 400/401/403 (API.md's table) that admin routes answer, not logins. */
const NOT_LOGIN_CODES = new Set(['VALIDATION_FAILED', 'METADATA_FETCH_FAILED', 'UNAUTHENTICATED', 'FORBIDDEN', 'CSRF_REJECTED']);

describe('the troubleshooting table', () => {
  it('has exactly the login codes', () => {
    expect(Object.keys(TROUBLESHOOTING).sort()).toEqual([...LOGIN_CODES].sort());
  });

  it('covers every 400, 401 and 403 login code of the error model (API.md "Errors")', () => {
    const loginCodes = Object.entries(ERROR_STATUS)
      .filter(([code, status]) => [400, 401, 403].includes(status) && !NOT_LOGIN_CODES.has(code))
      .map(([code]) => code);
    expect(loginCodes.length).toBeGreaterThan(20);
    expect(loginCodes.filter((code) => !fixFor(code))).toEqual([]);
  });

  it('says what happened and what to do for every code', () => {
    for (const fix of Object.values(TROUBLESHOOTING)) {
      expect(fix.meaning.length).toBeGreaterThan(20);
      expect(fix.steps.length).toBeGreaterThan(0);
    }
  });

  it('has no fix for other codes', () => {
    expect(fixFor('VALIDATION_FAILED')).toBeUndefined();
    expect(fixFor('toString')).toBeUndefined();
    expect(fixFor(undefined)).toBeUndefined();
  });
});
