/**
 * Small text edits that attack tests apply between building, signing and posting a
 * response made by the real signer in local/saml-idp.ts. The signer writes compact XML
 * with fixed prefixes, so plain text edits are exact.
 */
import { expect } from 'vitest';

const ASSERTION = /<saml:Assertion[\s\S]*<\/saml:Assertion>/;
export const SIGNATURE = /<ds:Signature[\s\S]*?<\/ds:Signature>/;

/** Replaces exactly one occurrence of `search` (fails the test if it is absent or repeated). */
export function replaceOnce(xml: string, search: string | RegExp, replacement: string): string {
  const matches = typeof search === 'string' ? xml.split(search).length - 1 : (xml.match(new RegExp(search, 'g')) ?? []).length;
  expect(matches, `expected exactly one ${String(search)}`).toBe(1);
  return xml.replace(search, () => replacement);
}

/** The (first) `<saml:Assertion>…</saml:Assertion>` of a response. */
export function assertionOf(xml: string): string {
  const match = ASSERTION.exec(xml);
  expect(match).not.toBeNull();
  return match![0];
}

export const signatureOf = (fragment: string): string => SIGNATURE.exec(fragment)![0];
export const withoutSignature = (fragment: string): string => fragment.replace(SIGNATURE, '');
export const nameIdOf = (xml: string): string => /<saml:NameID[^>]*>([^<]*)<\/saml:NameID>/.exec(xml)![1]!;
export const certificateBody = (pem: string): string => pem.replace(/-----(BEGIN|END) CERTIFICATE-----|\s/g, '');
