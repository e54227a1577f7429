/**
 * What validation tells its caller about how far a refused response got: the Issuer and
 * NameID it claimed, and whether a signature of the org's IdP verified. The ACS folds
 * the failures of responses that prove nothing (shared/login/failure-fold.ts).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createSamlIdpKeys, encodeSamlResponse, type SamlIdpKeys } from '../../../local/saml-idp.js';
import type { ErrorCode } from '../../../shared/errors.js';
import { validateSamlResponse, type SamlValidationProgress } from '../../../shared/saml/index.js';
import { IDP_ENTITY_ID, OTHER_ORG_SP, expectRefusal, signedXml, unsignedXml, validationInput } from './fixtures.js';

let idp: SamlIdpKeys;
let stranger: SamlIdpKeys;

beforeAll(async () => {
  [idp, stranger] = await Promise.all([createSamlIdpKeys(IDP_ENTITY_ID), createSamlIdpKeys(IDP_ENTITY_ID)]);
});

async function progressOf(xml: string, code?: ErrorCode, samlResponse = encodeSamlResponse(xml)): Promise<SamlValidationProgress> {
  const progress: SamlValidationProgress = {};
  const validation = validateSamlResponse({ ...validationInput(idp, xml), samlResponse, progress });
  if (code) await expectRefusal(validation, code);
  else await validation;
  return progress;
}

describe('validation progress', () => {
  it('reports what an unsigned response claims, and no verified signature', async () => {
    const progress = await progressOf(unsignedXml(idp, { nameId: 'mallory@acme.com' }), 'SIGNATURE_INVALID');

    expect(progress).toEqual({ claimed: { issuer: IDP_ENTITY_ID, nameId: 'mallory@acme.com' } });
  });

  it('reports no verified signature for a response signed by a key the org does not trust', async () => {
    const progress = await progressOf(signedXml(stranger), 'SIGNATURE_INVALID');

    expect(progress.signatureVerified).toBeUndefined();
  });

  it('reports the claimed issuer of a response from another IdP', async () => {
    const progress = await progressOf(unsignedXml({ ...idp, entityId: 'https://evil.example/idp' }), 'IDP_ISSUER_MISMATCH');

    expect(progress).toEqual({ claimed: { issuer: 'https://evil.example/idp', nameId: 'ada@acme.com' } });
  });

  it('reports nothing claimed for a body that is not SAML', async () => {
    const progress = await progressOf('', 'SAML_MALFORMED', Buffer.from('hello').toString('base64'));

    expect(progress).toEqual({});
  });

  it('reports a verified signature when a signed assertion is refused for its audience', async () => {
    const progress = await progressOf(signedXml(idp, { spEntityId: OTHER_ORG_SP.entityId }), 'AUDIENCE_MISMATCH');

    expect(progress).toEqual({ claimed: { issuer: IDP_ENTITY_ID, nameId: 'ada@acme.com' }, signatureVerified: true });
  });

  it('reports a verified signature for an accepted response', async () => {
    const progress = await progressOf(signedXml(idp));

    expect(progress.signatureVerified).toBe(true);
  });
});
