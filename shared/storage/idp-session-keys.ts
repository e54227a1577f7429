/**
 * The login-state keys of single logout's IdP session markers, shared by the DynamoDB
 * and in-memory adapters: which markers a logout writes, and which ones could apply to
 * a session token (the NameID's own, and its SessionIndex's when the token has one).
 */
import { createHash } from 'node:crypto';
import type { IdpSessionScope, RevocationSubject } from '../sessions/ports.js';
import { tableKey } from './tables.js';

const sha256 = (...parts: string[]): string => createHash('sha256').update(parts.join('\n')).digest('base64url');

/** The markers a logout of `scope` writes: one per SessionIndex, or the NameID's own when it names none. */
export function markerKeysOf(scope: IdpSessionScope): string[] {
  const subject = sha256(scope.issuer, scope.nameId);
  if (scope.sessionIndexes.length === 0) return [tableKey.idpSession(scope.orgId, subject)];
  return [...new Set(scope.sessionIndexes)].map((index) => tableKey.idpSession(scope.orgId, subject, sha256(index)));
}

/** The markers that could end `token`'s IdP session: none for a token not made by a SAML login. */
export function markerKeysFor(token: RevocationSubject): string[] {
  const idp = token.idp;
  if (idp?.protocol !== 'saml' || idp.nameId === undefined) return [];
  const subject = sha256(idp.issuer, idp.nameId);
  return [tableKey.idpSession(token.org, subject), ...(idp.sessionIndex === undefined ? [] : [tableKey.idpSession(token.org, subject, sha256(idp.sessionIndex))])];
}
