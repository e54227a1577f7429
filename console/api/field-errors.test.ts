import { describe, expect, it } from 'vitest';
import { fieldForPath, messageParts, placeProblems } from './field-errors.js';

const FIELDS = ['enabled', 'saml', 'saml.ssoUrl', 'saml.certificates', 'oidc.clientSecret', 'items.0.groupIds'];

describe('fieldForPath', () => {
  it('takes the longest field key that is the path or a prefix of it', () => {
    expect(fieldForPath('saml.ssoUrl', FIELDS)).toBe('saml.ssoUrl');
    expect(fieldForPath('saml.certificates[1]', FIELDS)).toBe('saml.certificates');
    expect(fieldForPath('saml.certificates.0', FIELDS)).toBe('saml.certificates');
    expect(fieldForPath('saml.idpEntityId', FIELDS)).toBe('saml');
    expect(fieldForPath('items[0].groupIds', FIELDS)).toBe('items.0.groupIds');
    expect(fieldForPath('domains.0', FIELDS)).toBeUndefined();
  });

  it('does not take a key that is only a string prefix', () => {
    expect(fieldForPath('samlX', FIELDS)).toBeUndefined();
  });
});

describe('messageParts', () => {
  it('splits a message naming several fields', () => {
    expect(messageParts('saml.ssoUrl: must be an https URL; oidc.clientSecret: required when the issuer changes')).toEqual([
      { path: 'saml.ssoUrl', text: 'saml.ssoUrl: must be an https URL' },
      { path: 'oidc.clientSecret', text: 'oidc.clientSecret: required when the issuer changes' },
    ]);
  });
  it('keeps a part without a field', () => {
    expect(messageParts('Invalid input')).toEqual([{ text: 'Invalid input' }]);
  });
});

describe('placeProblems', () => {
  it('puts each part of VALIDATION_FAILED beside its field', () => {
    const placed = placeProblems({ code: 'VALIDATION_FAILED', message: 'saml.ssoUrl: must be an https URL; domains.0: must be a domain name' }, FIELDS);
    expect(placed.byField).toEqual({ 'saml.ssoUrl': [{ code: 'VALIDATION_FAILED', message: 'saml.ssoUrl: must be an https URL' }] });
    expect(placed.general).toEqual([{ code: 'VALIDATION_FAILED', message: 'domains.0: must be a domain name' }]);
  });

  it('puts a code where the form says', () => {
    const placed = placeProblems({ code: 'SSO_REQUIRED_BY_JIT', message: 'SSO cannot be disabled…' }, FIELDS, { SSO_REQUIRED_BY_JIT: 'enabled' });
    expect(placed.byField.enabled).toEqual([{ code: 'SSO_REQUIRED_BY_JIT', message: 'SSO cannot be disabled…' }]);
  });

  it('lets a placement read the message', () => {
    const placement = { SSO_REQUIRED_BY_JIT: (message: string) => (message.includes('protocol') ? 'protocol' : 'enabled') };
    expect(Object.keys(placeProblems({ code: 'SSO_REQUIRED_BY_JIT', message: 'The SSO protocol cannot change' }, FIELDS, placement).byField)).toEqual(['protocol']);
  });

  it('keeps other codes with the form', () => {
    expect(placeProblems({ code: 'FORBIDDEN', message: 'no' }, FIELDS).general).toEqual([{ code: 'FORBIDDEN', message: 'no' }]);
    expect(placeProblems(null, FIELDS).general).toEqual([]);
  });
});
