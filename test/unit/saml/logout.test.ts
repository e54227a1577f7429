/**
 * Single logout messages (shared/saml/logout.ts): the HTTP-Redirect and HTTP-POST
 * bindings read as sent, the guard every logout message passes, and the messages we
 * write. The signatures themselves are proven end to end in
 * test/integration/single-logout.test.ts and against pysaml2.
 */
import { createVerify } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { createSamlIdpKeys, type SamlIdpKeys } from '../../../local/saml-idp.js';
import { LoginError } from '../../../shared/errors.js';
import {
  logoutRequestXml,
  logoutResponseXml,
  parseLogoutMessage,
  readLogoutRequest,
  readLogoutResponse,
  receivePostBinding,
  receiveRedirectBinding,
  redirectBindingUrl,
  verifyLogoutMessage,
} from '../../../shared/saml/logout.js';
import { logoutRequestXml as idpLogoutRequest, redirectQuery } from '../../support/saml-logout.js';

const NOW = new Date('2026-12-05T08:00:00Z');
let idp: SamlIdpKeys;
beforeAll(async () => {
  idp = await createSamlIdpKeys('https://idp.test/metadata');
});

const request = (extra: Partial<Parameters<typeof idpLogoutRequest>[0]> = {}) =>
  idpLogoutRequest({ issuer: 'https://idp.test/metadata', nameId: 'ada@acme.test', sessionIndexes: ['s1', 's2'], destination: 'https://sp.test/sso/acme/saml/slo', now: NOW, ...extra });

function refusal(fn: () => unknown): LoginError {
  try {
    fn();
  } catch (error) {
    if (error instanceof LoginError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('the HTTP-Redirect binding', () => {
  it('reads the message, RelayState and the exact octets the signature covers', () => {
    const xml = request();
    const query = redirectQuery('SAMLRequest', xml, idp, { relayState: 'a b&c' });

    const message = receiveRedirectBinding(query);

    expect(message).toMatchObject({ parameter: 'SAMLRequest', binding: 'redirect', relayState: 'a b&c' });
    expect(message.xml).toBe(xml);
    expect(message.detached?.signedOctets.toString()).toBe(query.slice(0, query.indexOf('&Signature=')));
  });

  it('verifies the detached signature with the configured certificate only', () => {
    const message = receiveRedirectBinding(redirectQuery('SAMLRequest', request(), idp));
    const parsed = parseLogoutMessage(message);

    expect(() => verifyLogoutMessage(message, parsed, [idp.certificatePem], {})).not.toThrow();
  });

  it.each([
    ['a parameter given twice', (query: string) => `${query}&RelayState=x&RelayState=y`],
    ['no SAMLRequest or SAMLResponse', () => 'RelayState=x'],
    ['both SAMLRequest and SAMLResponse', (query: string) => `${query}&SAMLResponse=abc`],
    ['a SAMLRequest that is not deflated', () => `SAMLRequest=${encodeURIComponent(Buffer.from(request()).toString('base64'))}`],
    ['a SAMLRequest that is not base64', () => 'SAMLRequest=%%%'],
  ])('refuses %s with SAML_MALFORMED', (_label, make) => {
    const query = redirectQuery('SAMLRequest', request(), idp, { unsigned: true });

    expect(refusal(() => parseLogoutMessage(receiveRedirectBinding(make(query)))).code).toBe('SAML_MALFORMED');
  });

  it('refuses a message that inflates past 256 KiB with SAML_MALFORMED', () => {
    const bomb = deflateRawSync(Buffer.alloc(300 * 1024, 'a')).toString('base64');

    expect(refusal(() => receiveRedirectBinding(`SAMLRequest=${encodeURIComponent(bomb)}`)).code).toBe('SAML_MALFORMED');
  });
});

describe('the guard', () => {
  const post = (xml: string) => receivePostBinding({ SAMLRequest: Buffer.from(xml).toString('base64') });

  it.each([
    ['a DOCTYPE', `<!DOCTYPE x [<!ENTITY e "boom">]>${request()}`],
    ['another root element', request().replace(/LogoutRequest/g, 'AuthnRequest')],
    ['an encrypted NameID', request().replace(/<saml:NameID>[^<]*<\/saml:NameID>/, '<saml:EncryptedID/>')],
    ['a Signature inside the NameID', request().replace('ada@acme.test</saml:NameID>', 'ada@acme.test<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"/></saml:NameID>')],
    ['two elements with one ID', request().replace('<samlp:SessionIndex>s1', '<samlp:SessionIndex ID="dup">s1').replace(/ID="_[0-9a-f]+"/, 'ID="dup"')],
    ['SAML 1.1', request().replace('Version="2.0"', 'Version="1.1"')],
  ])('refuses %s with SAML_MALFORMED', (_label, xml) => {
    expect(refusal(() => parseLogoutMessage(post(xml))).code).toBe('SAML_MALFORMED');
  });

  it('refuses an unsigned POST message with SIGNATURE_INVALID', () => {
    const message = post(request());

    expect(refusal(() => verifyLogoutMessage(message, parseLogoutMessage(message), [idp.certificatePem], {})).code).toBe('SIGNATURE_INVALID');
  });

  it('refuses a message of an org with no certificate with SIGNATURE_INVALID', () => {
    const message = receiveRedirectBinding(redirectQuery('SAMLRequest', request(), idp));

    expect(refusal(() => verifyLogoutMessage(message, parseLogoutMessage(message), [], {})).code).toBe('SIGNATURE_INVALID');
  });
});

describe('reading', () => {
  it('reads a LogoutRequest: ID, Issuer, Destination, times, NameID and Format, every SessionIndex', () => {
    const xml = request({ nameIdFormat: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent', id: '_r1' });

    expect(readLogoutRequest(parseLogoutMessage(receivePostBinding({ SAMLRequest: Buffer.from(xml).toString('base64') })).root)).toEqual({
      id: '_r1',
      issuer: idp.entityId,
      destination: 'https://sp.test/sso/acme/saml/slo',
      issueInstant: NOW,
      notOnOrAfter: new Date(NOW.getTime() + 300_000),
      nameId: 'ada@acme.test',
      nameIdFormat: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
      sessionIndexes: ['s1', 's2'],
    });
  });

  it('refuses a LogoutRequest without a NameID with SAML_MALFORMED', () => {
    const xml = request().replace(/<saml:NameID>[^<]*<\/saml:NameID>/, '');

    expect(refusal(() => readLogoutRequest(parseLogoutMessage(receivePostBinding({ SAMLRequest: Buffer.from(xml).toString('base64') })).root)).code).toBe('SAML_MALFORMED');
  });

  it('reads a LogoutResponse we wrote back', () => {
    const xml = logoutResponseXml({ id: '_p1', now: NOW, issuer: 'https://sp.test/m', destination: 'https://idp.test/slo', inResponseTo: '_r1' });

    expect(readLogoutResponse(parseLogoutMessage(receivePostBinding({ SAMLResponse: Buffer.from(xml).toString('base64') })).root)).toEqual({
      id: '_p1',
      issuer: 'https://sp.test/m',
      destination: 'https://idp.test/slo',
      inResponseTo: '_r1',
      status: 'urn:oasis:names:tc:SAML:2.0:status:Success',
    });
  });
});

describe('writing', () => {
  it('signs a redirect over the form-encoded query as quote_plus writes it, RelayState included', async () => {
    const sp = await createSamlIdpKeys('sp');
    const xml = logoutRequestXml({ id: '_q1', now: NOW, issuer: 'https://sp.test/m', destination: 'https://idp.test/slo', notOnOrAfter: NOW, nameId: 'a&b <c>', sessionIndex: 's1' });

    const url = new URL(redirectBindingUrl('https://idp.test/slo?tenant=1', 'SAMLRequest', xml, "it's (me)*!", sp));

    const raw = url.search.slice(1);
    expect(raw.startsWith('tenant=1&SAMLRequest=')).toBe(true);
    expect(raw).toContain("RelayState=it%27s+%28me%29%2A%21");
    const signed = raw.slice('tenant=1&'.length, raw.indexOf('&Signature='));
    const signature = Buffer.from(decodeURIComponent(raw.slice(raw.indexOf('&Signature=') + '&Signature='.length)), 'base64');
    expect(createVerify('RSA-SHA256').update(signed).verify(sp.certificatePem, signature)).toBe(true);
    expect(inflateRawSync(Buffer.from(url.searchParams.get('SAMLRequest')!, 'base64')).toString()).toBe(xml);
    expect(xml).toContain('<saml:NameID>a&amp;b &lt;c&gt;</saml:NameID>');
  });
});
