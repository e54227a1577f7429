/**
 * Where the email, names and role values come from (API.md "Provisioning rules",
 * "Email"): NameID first, then the configured attribute list in its own order.
 */
import { describe, expect, it } from 'vitest';
import type { AppError } from '../../../shared/errors.js';
import { extractEmail, extractNames, extractRoleValues } from '../../../shared/provisioning/attributes.js';
import type { AssertedIdentity } from '../../../shared/provisioning/identity.js';
import { jitSettingsSchema, type JitSettings } from '../../../shared/settings/model.js';

const CLAIMS = 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims';
const NAMEID = {
  persistent: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
  transient: 'urn:oasis:names:tc:SAML:2.0:nameid-format:transient',
  email: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
  unspecified: 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified',
};

const defaults = (): JitSettings => jitSettingsSchema.parse({});

function saml(subject: string, attributes: Record<string, string[]> = {}, subjectFormat: string | undefined = NAMEID.persistent): AssertedIdentity {
  return { protocol: 'saml', issuer: 'https://idp.acme.com/metadata', subject, subjectFormat, attributes: new Map(Object.entries(attributes)) };
}

function oidc(attributes: Record<string, string[]>): AssertedIdentity {
  return { protocol: 'oidc', issuer: 'https://login.acme.com', subject: 'oidc-sub-1', attributes: new Map(Object.entries(attributes)) };
}

function caught(fn: () => unknown): AppError {
  try {
    fn();
  } catch (error) {
    return error as AppError;
  }
  throw new Error('expected a throw');
}

describe('extractEmail (SAML)', () => {
  it.each(Object.entries(NAMEID))('takes an email NameID whatever its Format (%s)', (_label, format) => {
    const identity = saml('Ada@Acme.com', { emailAddress: ['other@acme.com'] }, format);

    expect(extractEmail(identity, defaults())).toBe('ada@acme.com');
  });

  it('takes an email NameID that has no Format', () => {
    expect(extractEmail(saml('ada@acme.com', {}, undefined), defaults())).toBe('ada@acme.com');
  });

  it('falls back to the attributes when the NameID is not an email', () => {
    expect(extractEmail(saml('00u1abcd', { emailAddress: ['ada@acme.com'] }), defaults())).toBe('ada@acme.com');
  });

  it.each([
    'emailAddress',
    'name',
    'Email',
    `${CLAIMS}/emailaddress`,
    `${CLAIMS}/name`,
  ])('reads the email from the default attribute %s', (attribute) => {
    expect(extractEmail(saml('00u1abcd', { [attribute]: ['ada@acme.com'] }), defaults())).toBe('ada@acme.com');
  });

  it("tries the default attributes in the list's order, not the document's", () => {
    // Document order puts Email first; the list puts emailAddress before Email.
    const identity = saml('00u1abcd', { Email: ['third@acme.com'], [`${CLAIMS}/name`]: ['fifth@acme.com'], emailAddress: ['first@acme.com'] });

    expect(extractEmail(identity, defaults())).toBe('first@acme.com');
  });

  it("tries a configured list in that list's order, not the document's", () => {
    const jit = jitSettingsSchema.parse({ attributes: { email: ['mail', 'upn'] } });
    const identity = saml('00u1abcd', { upn: ['upn@acme.com'], mail: ['mail@acme.com'] });

    expect(extractEmail(identity, jit)).toBe('mail@acme.com');
  });

  it('uses a configured list instead of the default one', () => {
    const jit = jitSettingsSchema.parse({ attributes: { email: ['mail'] } });
    const identity = saml('00u1abcd', { emailAddress: ['default@acme.com'] });

    expect(() => extractEmail(identity, jit)).toThrow(expect.objectContaining({ code: 'EMAIL_MISSING' }));
  });

  it('lowercases an email read from an attribute', () => {
    expect(extractEmail(saml('00u1abcd', { Email: ['  Ada.Lovelace@ACME.com '] }), defaults())).toBe('ada.lovelace@acme.com');
  });

  it('skips a present attribute whose value is not an email and takes the next one', () => {
    const identity = saml('00u1abcd', { emailAddress: ['Ada Lovelace'], name: ['ada@acme.com'] });

    expect(extractEmail(identity, defaults())).toBe('ada@acme.com');
  });

  it.each([
    ['a display name', 'Ada Lovelace'],
    ['a list of two emails', 'a@acme.com, b@acme.com'],
    ['a named address', 'Ada <ada@acme.com>'],
    ['an empty string', ''],
  ])('does not take a NameID that is %s for an email', (_label, subject) => {
    expect(extractEmail(saml(subject, { emailAddress: ['ada@acme.com'] }), defaults())).toBe('ada@acme.com');
  });

  it('refuses with EMAIL_MISSING naming the attributes tried and the ones received', () => {
    const error = caught(() => extractEmail(saml('00u1abcd', { department: ['Eng'], name: ['Ada Lovelace'] }), defaults()));

    expect(error.code).toBe('EMAIL_MISSING');
    expect(error.details.expected).toEqual(['NameID (email)', 'emailAddress', 'name', 'Email', `${CLAIMS}/emailaddress`, `${CLAIMS}/name`]);
    expect(error.details.received).toEqual(['department', 'name']);
  });
});

describe('extractEmail (OIDC)', () => {
  it('reads and lowercases the email claim', () => {
    expect(extractEmail(oidc({ email: ['Ada@Acme.COM'], email_verified: ['true'] }), defaults())).toBe('ada@acme.com');
  });

  it('accepts an email claim without email_verified', () => {
    expect(extractEmail(oidc({ email: ['ada@acme.com'] }), defaults())).toBe('ada@acme.com');
  });

  it('refuses email_verified false with EMAIL_NOT_VERIFIED', () => {
    const error = caught(() => extractEmail(oidc({ email: ['ada@acme.com'], email_verified: ['false'] }), defaults()));

    expect(error.code).toBe('EMAIL_NOT_VERIFIED');
    expect(error.details.received).toBe('false');
  });

  it('refuses a token without an email claim with EMAIL_MISSING', () => {
    const error = caught(() => extractEmail(oidc({ name: ['Ada'] }), defaults()));

    expect(error.code).toBe('EMAIL_MISSING');
    expect(error.details.expected).toEqual(['email']);
    expect(error.details.received).toEqual(['name']);
  });

  it('refuses an email claim that is an array, even of emails, with EMAIL_MISSING', () => {
    const error = caught(() => extractEmail(oidc({ email: ['mallory@evil.example', 'kate@acme.example'] }), defaults()));

    expect(error.code).toBe('EMAIL_MISSING');
    expect(error.details.emailValues).toBe(2);
  });

  it('refuses an email claim that is not an email with EMAIL_MISSING', () => {
    expect(() => extractEmail(oidc({ email: ['ada'] }), defaults())).toThrow(expect.objectContaining({ code: 'EMAIL_MISSING' }));
  });
});

describe('extractNames', () => {
  it.each([
    ['firstName / lastName', { firstName: ['Ada'], lastName: ['Lovelace'] }],
    ['the givenname / surname claim URIs', { [`${CLAIMS}/givenname`]: ['Ada'], [`${CLAIMS}/surname`]: ['Lovelace'] }],
  ])('reads SAML names from the default attributes %s', (_label, attributes) => {
    expect(extractNames(saml('ada@acme.com', attributes), defaults())).toEqual({ firstName: 'Ada', lastName: 'Lovelace' });
  });

  it('prefers firstName / lastName over the claim URIs', () => {
    const identity = saml('ada@acme.com', { [`${CLAIMS}/givenname`]: ['Claim'], firstName: ['Ada'], lastName: ['Lovelace'] });

    expect(extractNames(identity, defaults()).firstName).toBe('Ada');
  });

  it('reads SAML names from configured attributes instead of the defaults', () => {
    const jit = jitSettingsSchema.parse({ attributes: { firstName: 'given', lastName: 'sn' } });
    const identity = saml('ada@acme.com', { firstName: ['Default'], lastName: ['Default'], given: ['Ada'], sn: ['Lovelace'] });

    expect(extractNames(identity, jit)).toEqual({ firstName: 'Ada', lastName: 'Lovelace' });
  });

  it('reads OIDC names from given_name / family_name', () => {
    expect(extractNames(oidc({ given_name: ['Ada'], family_name: ['Lovelace'] }), defaults())).toEqual({ firstName: 'Ada', lastName: 'Lovelace' });
  });

  it('answers undefined names when none is asserted', () => {
    expect(extractNames(saml('ada@acme.com', { department: ['Eng'] }), defaults())).toEqual({ firstName: undefined, lastName: undefined });
  });
});

describe('extractRoleValues', () => {
  it('returns every value of the configured role attribute', () => {
    const jit = jitSettingsSchema.parse({ roleAttribute: 'groups' });

    expect(extractRoleValues(saml('ada@acme.com', { groups: ['Eng', 'IT Admins'] }), jit)).toEqual(['Eng', 'IT Admins']);
  });

  it('returns undefined when the role attribute is absent', () => {
    const jit = jitSettingsSchema.parse({ roleAttribute: 'groups' });

    expect(extractRoleValues(saml('ada@acme.com', { department: ['Eng'] }), jit)).toBeUndefined();
  });

  it('returns undefined when no role attribute is configured', () => {
    expect(extractRoleValues(saml('ada@acme.com', { groups: ['Eng'] }), defaults())).toBeUndefined();
  });

  it('keeps the values exactly as asserted (no trimming or case change)', () => {
    const jit = jitSettingsSchema.parse({ roleAttribute: 'groups' });

    expect(extractRoleValues(saml('ada@acme.com', { groups: [' IT admins '] }), jit)).toEqual([' IT admins ']);
  });
});
