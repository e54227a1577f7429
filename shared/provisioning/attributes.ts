/**
 * Where each profile field comes from, as a declarative table (names, standard claim
 * URIs, defaults), and the functions that read them from an asserted identity.
 */
import { LoginError } from '../errors.js';
import { DEFAULT_EMAIL_ATTRIBUTES, type JitSettings } from '../settings/model.js';
import { isEmailAddress, normalizeEmail } from '../users/model.js';
import type { AssertedIdentity } from './identity.js';

const CLAIMS = 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims';

/** Default sources per protocol; a configured `jit.attributes` entry replaces its default. */
export const ATTRIBUTE_SOURCES = {
  saml: {
    email: [...DEFAULT_EMAIL_ATTRIBUTES],
    firstName: ['firstName', `${CLAIMS}/givenname`],
    lastName: ['lastName', `${CLAIMS}/surname`],
  },
  oidc: { firstName: ['given_name'], lastName: ['family_name'] },
} as const;

/** Where a field comes from: the configured attribute(s), else the protocol's defaults. Email is SAML's only (OIDC reads the `email` claim). */
function sources(identity: AssertedIdentity, jit: JitSettings, field: 'email' | 'firstName' | 'lastName'): readonly string[] {
  const defaults: readonly string[] = field === 'email' ? ATTRIBUTE_SOURCES.saml.email : ATTRIBUTE_SOURCES[identity.protocol][field];
  const configured = jit.attributes[field];
  if (configured === undefined) return defaults;
  return typeof configured === 'string' ? [configured] : configured;
}

/** The first value of the first present attribute among `names`, in the list's order. */
function firstValue(identity: AssertedIdentity, names: readonly string[]): string | undefined {
  for (const name of names) {
    const value = identity.attributes.get(name)?.find((candidate) => candidate.trim() !== '');
    if (value !== undefined) return value.trim();
  }
  return undefined;
}

/**
 * The person's email, lowercased (API.md "Email"): the NameID when its value is one
 * email address, whatever its Format; else the first listed attribute that holds one.
 * OIDC reads the `email` claim and refuses `email_verified: false`.
 * @throws LoginError `EMAIL_MISSING`, `EMAIL_NOT_VERIFIED`
 */
export function extractEmail(identity: AssertedIdentity, jit: JitSettings): string {
  if (identity.protocol === 'oidc') return oidcEmail(identity);
  if (isEmailAddress(identity.subject)) return normalizeEmail(identity.subject);
  const names = sources(identity, jit, 'email');
  for (const name of names) {
    const email = identity.attributes.get(name)?.find(isEmailAddress);
    if (email) return normalizeEmail(email);
  }
  throw new LoginError(
    'EMAIL_MISSING',
    `Your identity provider sent no email address: the NameID is not an email and none of the attributes ${names.join(', ')} holds one. Ask your administrator to release the email.`,
    { details: { expected: ['NameID (email)', ...names], received: [...identity.attributes.keys()] } },
  );
}

/**
 * The name a SCIM user without an email address signs in by (API.md: their `userName`,
 * compared case-insensitively): the SAML NameID, or the OIDC `email` claim when it is one
 * string that is not an email address. It is that user's storage key (lowercased).
 */
export function scimUserNameOf(identity: AssertedIdentity): string | undefined {
  const values = identity.protocol === 'oidc' ? identity.attributes.get('email') : [identity.subject];
  const value = values?.length === 1 ? values[0]!.trim() : undefined;
  return value ? value.toLowerCase() : undefined;
}

/** OIDC: the `email` claim, one string, unless `email_verified` says it is not verified. */
function oidcEmail(identity: AssertedIdentity): string {
  if (identity.attributes.get('email_verified')?.[0] === 'false') {
    throw new LoginError('EMAIL_NOT_VERIFIED', 'Your identity provider says your email address is not verified. Verify it there and sign in again.', {
      details: { expected: 'email_verified true or absent', received: 'false' },
    });
  }
  // One string: an array would let the IdP's user pick whose account to enter.
  const values = identity.attributes.get('email');
  if (values?.length === 1 && isEmailAddress(values[0]!)) return normalizeEmail(values[0]!);
  throw new LoginError('EMAIL_MISSING', 'Your identity provider sent no single email claim. Ask your administrator to add the email scope.', {
    details: { expected: ['email'], received: [...identity.attributes.keys()], emailValues: values?.length ?? 0 },
  });
}

/** First and last name, when asserted. */
export function extractNames(identity: AssertedIdentity, jit: JitSettings): { firstName?: string; lastName?: string } {
  return {
    firstName: firstValue(identity, sources(identity, jit, 'firstName')),
    lastName: firstValue(identity, sources(identity, jit, 'lastName')),
  };
}

/** The values of the role attribute, or undefined when it is absent. */
export function extractRoleValues(identity: AssertedIdentity, jit: JitSettings): string[] | undefined {
  if (!jit.roleAttribute) return undefined;
  const values = identity.attributes.get(jit.roleAttribute);
  return values === undefined ? undefined : [...values];
}
