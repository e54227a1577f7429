/**
 * Attacks on the ACS, as a hostile IdP or a man in the browser would make them, each
 * posted through the local API Gateway adapter to the real handler on DynamoDB Local.
 * Every one must be refused with its code and leave no user behind: neither the
 * victim's account nor the attacker's.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  buildLoginResponseXml,
  createSamlIdpKeys,
  DIGEST_ALGORITHMS,
  encodeSamlResponse,
  SIGNATURE_ALGORITHMS,
  signLoginResponseXml,
  type LoginResponseInput,
  type SamlIdpKeys,
  type SignMode,
  type SignOptions,
} from '../../local/saml-idp.js';
import { assertionOf, certificateBody, replaceOnce, signatureOf, withoutSignature } from '../support/saml-edits.js';
import { createSamlOrg, postAcs, startTestService, type SamlOrg, type TestService } from '../support/service.js';

const VICTIM = 'ceo@acme.test';
const ATTACKER = 'mallory@evil.test';

let service: TestService;
let idp: SamlIdpKeys;
let attacker: SamlIdpKeys;
let org: SamlOrg;
let otherOrg: SamlOrg;

beforeAll(async () => {
  service = await startTestService();
  // The attacker claims the same entity ID as the real IdP: only the key tells them apart.
  [idp, attacker] = await Promise.all([createSamlIdpKeys('https://idp.acme.test/metadata'), createSamlIdpKeys('https://idp.acme.test/metadata')]);
  [org, otherOrg] = [await createSamlOrg(service, { idp }), await createSamlOrg(service, { idp })];
});
afterAll(() => service?.close());
// Audit events sort by time: a minute apart, the newest failure is the attack just made
// (an unsigned repeat within 60 s would fold into the earlier event instead).
beforeEach(() => service.clock.advance(60_000));

function xmlFor(target: SamlOrg, overrides: Partial<LoginResponseInput> = {}): string {
  return buildLoginResponseXml({
    idp,
    spEntityId: target.urls.spEntityId,
    acsUrl: target.urls.acsUrl,
    nameId: VICTIM,
    attributes: { groups: 'Admins' },
    now: service.clock.now(),
    ...overrides,
  });
}

const sign = (xml: string, mode: SignMode = 'assertion', options: SignOptions = {}, keys = idp) => signLoginResponseXml(xml, keys, mode, options);
const evilAssertion = () => assertionOf(xmlFor(org, { nameId: ATTACKER }));
const afterIssuer = (assertion: string, insert: string) => assertion.replace(/(<saml:Assertion[^>]*><saml:Issuer>[^<]*<\/saml:Issuer>)/, `$1${insert}`);

interface Attack {
  name: string;
  code: string;
  status?: number;
  /** The raw XML to post to `org` (base64-encoded before posting). */
  xml: () => string;
}

const attacks: Attack[] = [
  {
    name: 'an evil unsigned assertion placed before the signed one',
    code: 'SAML_MALFORMED',
    xml: () => {
      const xml = sign(xmlFor(org));
      return replaceOnce(xml, assertionOf(xml), evilAssertion() + assertionOf(xml));
    },
  },
  {
    name: 'an evil unsigned assertion placed after the signed one',
    code: 'SAML_MALFORMED',
    xml: () => {
      const xml = sign(xmlFor(org));
      return replaceOnce(xml, assertionOf(xml), assertionOf(xml) + evilAssertion());
    },
  },
  {
    name: 'an evil assertion wrapped around the signed one',
    code: 'SAML_MALFORMED',
    xml: () => {
      const xml = sign(xmlFor(org));
      return replaceOnce(xml, assertionOf(xml), evilAssertion().replace(/<\/saml:Assertion>$/, `${assertionOf(xml)}</saml:Assertion>`));
    },
  },
  {
    name: 'the signed assertion hidden in the Signature Object with an evil one in its place',
    code: 'SAML_MALFORMED',
    xml: () => {
      const xml = sign(xmlFor(org));
      const signed = assertionOf(xml);
      const carrier = signatureOf(signed).replace('</ds:Signature>', `<ds:Object>${withoutSignature(signed)}</ds:Object></ds:Signature>`);
      return replaceOnce(xml, signed, afterIssuer(evilAssertion(), carrier));
    },
  },
  {
    name: 'a signed response whose assertion was swapped for an evil one',
    code: 'SIGNATURE_INVALID',
    xml: () => {
      const xml = sign(xmlFor(org), 'response');
      return replaceOnce(xml, assertionOf(xml), evilAssertion());
    },
  },
  { name: 'an unsigned response', code: 'SIGNATURE_INVALID', xml: () => xmlFor(org) },
  {
    name: 'a response signed by a key that is not configured',
    code: 'SIGNATURE_INVALID',
    xml: () => sign(xmlFor(org), 'assertion', { includeKeyInfo: false }, attacker),
  },
  {
    name: "a response that carries the attacker's own certificate in KeyInfo",
    code: 'SIGNATURE_INVALID',
    xml: () => {
      const xml = sign(xmlFor(org), 'both', {}, attacker);
      expect(xml).toContain(certificateBody(attacker.certificatePem));
      return xml;
    },
  },
  {
    name: "an attacker's signature that names the configured certificate in KeyInfo",
    code: 'SIGNATURE_INVALID',
    xml: () => replaceOnce(sign(xmlFor(org), 'assertion', {}, attacker), certificateBody(attacker.certificatePem), certificateBody(idp.certificatePem)),
  },
  {
    name: 'a signed assertion whose NameID was changed after signing',
    code: 'SIGNATURE_INVALID',
    xml: () => replaceOnce(sign(xmlFor(org, { nameId: ATTACKER })), `>${ATTACKER}<`, `>${VICTIM}<`),
  },
  {
    name: 'a comment that splits the NameID into the victim\'s email',
    code: 'SAML_MALFORMED',
    // Exclusive c14n drops comments, so the signature over "ceo@acme.test.evil.test" still verifies.
    xml: () => replaceOnce(sign(xmlFor(org, { nameId: `${VICTIM}.evil.test` })), `>${VICTIM}.evil.test<`, `>${VICTIM}<!---->.evil.test<`),
  },
  {
    name: 'a DOCTYPE with an entity declaration (XXE)',
    code: 'SAML_MALFORMED',
    xml: () => `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>${sign(xmlFor(org)).replace(VICTIM, '&xxe;')}`,
  },
  {
    name: 'an entity expansion bomb',
    code: 'SAML_MALFORMED',
    xml: () => `<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>${sign(xmlFor(org))}`,
  },
  { name: 'a response for the wrong Destination', code: 'DESTINATION_MISMATCH', xml: () => sign(xmlFor(org).replace(`Destination="${org.urls.acsUrl}"`, `Destination="${otherOrg.urls.acsUrl}"`), 'both') },
  {
    name: 'a bearer confirmation for another Recipient',
    code: 'DESTINATION_MISMATCH',
    xml: () => sign(xmlFor(org).replace(`Recipient="${org.urls.acsUrl}"`, `Recipient="${otherOrg.urls.acsUrl}"`)),
  },
  {
    name: 'an assertion without Conditions',
    code: 'SAML_MALFORMED',
    xml: () => sign(xmlFor(org).replace(/<saml:Conditions[\s\S]*<\/saml:Conditions>/, '')),
  },
  {
    name: 'Conditions without NotOnOrAfter',
    code: 'SAML_MALFORMED',
    xml: () => sign(xmlFor(org).replace(/(<saml:Conditions NotBefore="[^"]+") NotOnOrAfter="[^"]+"/, '$1')),
  },
  {
    name: 'an assertion expired beyond the clock skew',
    code: 'ASSERTION_EXPIRED',
    xml: () => sign(xmlFor(org, { now: new Date(service.clock.now().getTime() - 6 * 60_000), lifetimeSeconds: 300 - 61 })),
  },
  {
    name: 'an assertion valid only from beyond the clock skew',
    code: 'ASSERTION_NOT_YET_VALID',
    xml: () => sign(xmlFor(org, { now: new Date(service.clock.now().getTime() + 61_000) })),
  },
  { name: 'an RSA-SHA1 signature', code: 'ALGORITHM_NOT_ALLOWED', xml: () => sign(xmlFor(org), 'assertion', { signatureAlgorithm: SIGNATURE_ALGORITHMS.rsaSha1 }) },
  { name: 'a SHA-1 digest', code: 'ALGORITHM_NOT_ALLOWED', xml: () => sign(xmlFor(org), 'assertion', { digestAlgorithm: DIGEST_ALGORITHMS.sha1 }) },
  {
    name: 'two signed assertions in one response',
    code: 'SAML_MALFORMED',
    xml: () => {
      const first = assertionOf(sign(xmlFor(org)));
      const second = assertionOf(sign(xmlFor(org, { nameId: ATTACKER })));
      const xml = xmlFor(org);
      return replaceOnce(xml, assertionOf(xml), first + second);
    },
  },
  {
    name: 'an assertion made for org B posted to org A',
    code: 'AUDIENCE_MISMATCH',
    xml: () => sign(xmlFor(otherOrg).replaceAll(otherOrg.urls.acsUrl, org.urls.acsUrl), 'both'),
  },
];

async function victimsAndAttackers(orgId: string): Promise<string[]> {
  const { items } = await service.rt.users.list(orgId, { limit: 100 });
  return items.map((user) => user.email).filter((email) => email === VICTIM || email.startsWith('mallory') || email.startsWith('ceo'));
}

describe('the ACS refuses every attack and leaves no user behind', () => {
  it.each(attacks)('refuses $name with $code', async ({ xml, code, status }) => {
    const response = await postAcs(service, org.orgId, { SAMLResponse: encodeSamlResponse(xml()) });

    const body = (await response.json()) as { error: { code: string; message: string } };
    expect({ status: response.status, code: body.error.code }).toEqual({ status: status ?? (code === 'SAML_MALFORMED' ? 400 : code === 'USER_BLOCKED' ? 403 : 401), code });
    expect(body.error.message).not.toMatch(/<saml|-----BEGIN|at .*\.ts:/);
    expect(await victimsAndAttackers(org.orgId)).toEqual([]);
    const { items } = await service.rt.audit.list(org.orgId, { type: 'login.failed', limit: 1 });
    expect(items[0]?.code).toBe(code);
  });

  it('refuses an org-B assertion at org A even when both orgs trust the same IdP, and accepts it at B', async () => {
    const forB = encodeSamlResponse(sign(xmlFor(otherOrg), 'both'));

    const atA = await postAcs(service, org.orgId, { SAMLResponse: forB });
    const atB = await postAcs(service, otherOrg.orgId, { SAMLResponse: forB });

    expect(atA.status).toBe(401);
    expect(await victimsAndAttackers(org.orgId)).toEqual([]);
    expect(atB.status).toBe(302);
    expect(await victimsAndAttackers(otherOrg.orgId)).toEqual([VICTIM]);
  });

  it('refuses a body over 256 KiB with 413 before reading it as SAML', async () => {
    const padded = sign(xmlFor(org)).replace('</samlp:Response>', `<!--${'x'.repeat(300 * 1024)}--></samlp:Response>`);

    const response = await postAcs(service, org.orgId, { SAMLResponse: encodeSamlResponse(padded) });

    expect(response.status).toBe(413);
    expect(await victimsAndAttackers(org.orgId)).toEqual([]);
  });
});
