/**
 * Shared arrangements for the SAML tests: one SP (org "acme"), another org's SP, a fixed
 * clock, and small XML edits that attack tests apply between building, signing and
 * posting a response made by the real signer in local/saml-idp.ts.
 */
import { expect } from 'vitest';
import {
  buildLoginResponseXml,
  encodeSamlResponse,
  signLoginResponseXml,
  type LoginResponseInput,
  type SamlIdpKeys,
  type SignMode,
  type SignOptions,
} from '../../../local/saml-idp.js';
import { LoginError, type ErrorCode } from '../../../shared/errors.js';
import { assertionOf } from '../../support/saml-edits.js';
import { validateSamlResponse, type SamlValidationInput, type ValidatedAssertion } from '../../../shared/saml/index.js';

export const IDP_ENTITY_ID = 'https://idp.acme.test/metadata';
export const SP = {
  entityId: 'https://sso.example.test/sso/acme/saml/metadata',
  acsUrl: 'https://sso.example.test/sso/acme/saml/acs',
};
export const OTHER_ORG_SP = {
  entityId: 'https://sso.example.test/sso/globex/saml/metadata',
  acsUrl: 'https://sso.example.test/sso/globex/saml/acs',
};
export const NOW = new Date('2030-01-15T10:00:00.000Z');
export const LIFETIME_SECONDS = 300;
export const SKEW_SECONDS = 60;

export const secondsAfter = (date: Date, seconds: number): Date => new Date(date.getTime() + seconds * 1000);

/** A login response for acme's SP, issued at NOW, valid for LIFETIME_SECONDS. */
export function responseFor(idp: SamlIdpKeys, overrides: Partial<LoginResponseInput> = {}): LoginResponseInput {
  return {
    idp,
    spEntityId: SP.entityId,
    acsUrl: SP.acsUrl,
    nameId: 'ada@acme.com',
    attributes: { firstName: 'Ada', lastName: 'Lovelace' },
    now: NOW,
    lifetimeSeconds: LIFETIME_SECONDS,
    inResponseTo: '_request-1',
    ...overrides,
  };
}

/** Unsigned XML of a response (edit it, then sign it). */
export const unsignedXml = (idp: SamlIdpKeys, overrides: Partial<LoginResponseInput> = {}): string =>
  buildLoginResponseXml(responseFor(idp, overrides));

/** Signed XML of a response (edit it after signing to tamper). */
export const signedXml = (
  idp: SamlIdpKeys,
  overrides: Partial<LoginResponseInput> = {},
  sign: SignMode = 'assertion',
  options: SignOptions = {},
): string => signLoginResponseXml(unsignedXml(idp, overrides), idp, sign, options);

/** What the ACS would pass for acme, trusting `certificates` (default: the IdP's own). */
export function validationInput(
  idp: SamlIdpKeys,
  xml: string,
  overrides: Partial<Omit<SamlValidationInput, 'samlResponse'>> = {},
): SamlValidationInput {
  return {
    samlResponse: encodeSamlResponse(xml),
    sp: SP,
    idp: { entityId: idp.entityId, certificates: [idp.certificatePem] },
    clockSkewSeconds: SKEW_SECONDS,
    now: NOW,
    ...overrides,
  };
}

export const validate = (
  idp: SamlIdpKeys,
  xml: string,
  overrides: Partial<Omit<SamlValidationInput, 'samlResponse'>> = {},
): Promise<ValidatedAssertion> => validateSamlResponse(validationInput(idp, xml, overrides));

/** Awaits a validation that must fail with `code`; returns the error for further assertions. */
export async function expectRefusal(validation: Promise<unknown>, code: ErrorCode): Promise<LoginError> {
  let outcome: unknown;
  try {
    outcome = await validation;
  } catch (error) {
    expect(error).toBeInstanceOf(LoginError);
    expect((error as LoginError).code, (error as LoginError).message).toBe(code);
    return error as LoginError;
  }
  expect.fail(`expected ${code}, but validation succeeded with ${JSON.stringify(outcome)}`);
}

export { assertionOf, nameIdOf, replaceOnce } from '../../support/saml-edits.js';

/** An unsigned assertion for `nameId` from the same IdP, as an attacker would forge it. */
export function evilAssertion(idp: SamlIdpKeys, nameId = 'mallory@evil.com', overrides: Partial<LoginResponseInput> = {}): string {
  return assertionOf(unsignedXml(idp, { nameId, ...overrides }));
}

