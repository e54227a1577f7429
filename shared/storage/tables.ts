/**
 * The four DynamoDB tables, defined once. `infra/` builds them with CDK, the local
 * stack and the tests create them from the same definitions, and the repositories in
 * this folder read their names and keys from here. No CDK import: the runtime bundles it.
 */

export type AttributeType = 'S' | 'N';

export interface KeyDefinition {
  name: string;
  type: AttributeType;
}

export interface IndexDefinition {
  indexName: string;
  partitionKey: KeyDefinition;
  sortKey?: KeyDefinition;
}

export interface TableDefinition {
  /** Logical id: CDK construct id and the suffix of the physical name. */
  id: 'Users' | 'Mappings' | 'Audit' | 'LoginState';
  /** Its field in `TableNames` and in a function's `tables` needs. */
  key: keyof TableNames;
  /** Environment variable that carries the physical table name into a function. */
  envVar: string;
  partitionKey: KeyDefinition;
  sortKey?: KeyDefinition;
  globalIndexes: IndexDefinition[];
  /** Attribute holding an epoch-seconds expiry, when items expire. */
  ttlAttribute?: string;
}

const pk: KeyDefinition = { name: 'pk', type: 'S' };
const sk: KeyDefinition = { name: 'sk', type: 'S' };

/** Attribute name of every TTL (epoch seconds). Readers re-check it: DynamoDB deletes late. */
export const TTL_ATTRIBUTE = 'expiresAt';

export const USERS_BY_EMAIL_INDEX = 'byEmail';
export const MAPPINGS_BY_IDP_INDEX = 'byIdp';
/** users: SCIM's `userName eq` in one Query (partition `userNameKey` = `{orgId}#{lowercased userName, else email}`). */
export const USERS_BY_USER_NAME_INDEX = 'byUserName';

/**
 * users: `pk = ORG#{orgId}`. The user record lives at `sk = USER#{email}` so a login
 * reads it in one GetItem; `sk = ID#{userId}` points from the id to the email.
 * `byEmail` (partition `email`) serves discovery across orgs.
 */
export const usersTable: TableDefinition = {
  id: 'Users',
  key: 'users',
  envVar: 'USERS_TABLE',
  partitionKey: pk,
  sortKey: sk,
  globalIndexes: [
    { indexName: USERS_BY_EMAIL_INDEX, partitionKey: { name: 'email', type: 'S' } },
    // SCIM (issue 14): see `scimKey` below for the items SCIM adds to the org partition.
    { indexName: USERS_BY_USER_NAME_INDEX, partitionKey: { name: 'userNameKey', type: 'S' } },
  ],
};

/**
 * mappings: `pk = ORG#{orgId}` holds the org record, SSO and provisioning settings,
 * roles, groups and role mappings, so one Query returns everything a login needs.
 * `pk = DOMAIN#{domain}` claims an email domain for one org; `pk = SETUP#{orgId}` holds its
 * setup links and `pk = SETUPTOKEN#{sha256}` finds a link by its token. `byIdp` (partition
 * `idpKey` = SAML IdP entity ID or OIDC issuer) finds the org of an SP-initiated link.
 */
export const mappingsTable: TableDefinition = {
  id: 'Mappings',
  key: 'mappings',
  envVar: 'MAPPINGS_TABLE',
  partitionKey: pk,
  sortKey: sk,
  globalIndexes: [{ indexName: MAPPINGS_BY_IDP_INDEX, partitionKey: { name: 'idpKey', type: 'S' } }],
};

/**
 * audit: `pk = ORG#{orgId}`, `sk = EVT#{ISO time}#{id}`: newest first by a reverse Query.
 * `pk = FOLD#{orgId}#{key}` (`sk = FOLD`, with a TTL) remembers which event an open fold
 * counts into (`AuditRepository.recordFolded`); it is outside every org's event partition.
 */
export const auditTable: TableDefinition = {
  id: 'Audit',
  key: 'audit',
  envVar: 'AUDIT_TABLE',
  partitionKey: pk,
  sortKey: sk,
  globalIndexes: [],
  ttlAttribute: TTL_ATTRIBUTE,
};

/**
 * login-state: single-use records, all with a TTL: `pk = REPLAY#{orgId}#{assertionId}`
 * (consumed assertion ids), `AUTHN#{orgId}#{requestId}` (pending AuthnRequests),
 * `OIDC#{state}` (state, nonce, PKCE verifier), `REVOKED#{jti}` (signed-out session tokens),
 * `LINK#{sha256 of the token}` (one-time console sign-in links).
 * `SSOTEST#{orgId}#{testId}` (test sign-ins and their results).
 * Single logout: `IDPSESSION#{orgId}#{h}` and `IDPSESSION#{orgId}#{h}#{s}` (IdP sessions
 * ended, `h` = SHA-256 of issuer and NameID, `s` = SHA-256 of the SessionIndex),
 * `LOGOUTREQ#{orgId}#{requestId}` (our pending LogoutRequests), `LOGOUTSEEN#{orgId}#{id}`
 * (IdP LogoutRequest IDs already used).
 */
export const loginStateTable: TableDefinition = {
  id: 'LoginState',
  key: 'loginState',
  envVar: 'LOGIN_STATE_TABLE',
  partitionKey: pk,
  globalIndexes: [],
  ttlAttribute: TTL_ATTRIBUTE,
};

export const TABLES = [usersTable, mappingsTable, auditTable, loginStateTable] as const;

/** Physical table names, as the runtime receives them. */
export interface TableNames {
  users: string;
  mappings: string;
  audit: string;
  loginState: string;
}

/** Physical names for a name prefix (`{prefix}-users`, `{prefix}-login-state`, …): used by the local stack and the tests. */
export function tableNamesFor(prefix: string): TableNames {
  return Object.fromEntries(TABLES.map((table) => [table.key, `${prefix}-${table.key.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`])) as unknown as TableNames;
}

export const tableKey = {
  org: (orgId: string) => `ORG#${orgId}`,
  userByEmail: (email: string) => `USER#${email}`,
  userById: (userId: string) => `ID#${userId}`,
  domain: (domain: string) => `DOMAIN#${domain}`,
  replay: (orgId: string, assertionId: string) => `REPLAY#${orgId}#${assertionId}`,
  auditFold: (orgId: string, key: string) => `FOLD#${orgId}#${key}`,
  /**
   * A pending login. An SP-initiated AuthnRequest has the org in its key, so another org's
   * request id is never found. An OIDC state (256 random bits) is keyed by itself alone, so
   * one presented at the wrong org is found, refused by the caller and spent.
   */
  /** A signed-out session token, by its `jti`, until the token's `exp`. */
  revokedSession: (jti: string) => `REVOKED#${jti}`,
  /**
   * IdP sessions a single logout ended: every session of a NameID (`sessionHash`
   * undefined), or the one of a SessionIndex. Hashed: keys stay short and carry no NameID.
   */
  idpSession: (orgId: string, subjectHash: string, sessionHash?: string) =>
    sessionHash === undefined ? `IDPSESSION#${orgId}#${subjectHash}` : `IDPSESSION#${orgId}#${subjectHash}#${sessionHash}`,
  /** A LogoutRequest we sent (SP-initiated single logout), until its answer or expiry. */
  pendingLogout: (orgId: string, requestId: string) => `LOGOUTREQ#${orgId}#${requestId}`,
  /** An IdP's LogoutRequest ID already acted on (replay). */
  seenLogout: (orgId: string, messageId: string) => `LOGOUTSEEN#${orgId}#${messageId}`,
  /** A one-time console sign-in link, by the SHA-256 of its token (the token is never stored). */
  loginLink: (tokenHash: string) => `LINK#${tokenHash}`,
  pendingLogin: (ref: { orgId: string; protocol: 'saml' | 'oidc'; id: string }) =>
    ref.protocol === 'saml' ? `AUTHN#${ref.orgId}#${ref.id}` : `OIDC#${ref.id}`,
  /** login-state: a test sign-in of an org, by its id. */
  ssoTest: (orgId: string, testId: string) => `SSOTEST#${orgId}#${testId}`,
  /** mappings: an org's setup links live in their own partition, so a settings Query never reads them. */
  setupLinks: (orgId: string) => `SETUP#${orgId}`,
  setupLink: (linkId: string) => `LINK#${linkId}`,
  /** mappings: from a setup token's SHA-256 to its link. */
  setupToken: (tokenHash: string) => `SETUPTOKEN#${tokenHash}`,
} as const;

/**
 * SCIM's items (issue 14). users, in the org partition `ORG#{orgId}`: `UNAME#{lowercased
 * userName}` claims a userName for one user; `SCIMGROUP#{id}` is a SCIM group and
 * `SCIMGNAME#{displayName}` claims its name. mappings: `SCIMTOKEN#{sha256}` (sk `TOKEN`)
 * is a SCIM token found by its hash, `SCIMTOKENS#{orgId}` (sk `TOKEN#{id}`) lists an org's.
 */
export const scimKey = {
  userName: (userNameKey: string) => `UNAME#${userNameKey}`,
  groupPrefix: 'SCIMGROUP#',
  group: (groupId: string) => `SCIMGROUP#${groupId}`,
  groupName: (displayName: string) => `SCIMGNAME#${displayName}`,
  token: (tokenHash: string) => `SCIMTOKEN#${tokenHash}`,
  orgTokens: (orgId: string) => `SCIMTOKENS#${orgId}`,
  orgToken: (tokenId: string) => `TOKEN#${tokenId}`,
  /** The `userNameKey` attribute of a user item: what `USERS_BY_USER_NAME_INDEX` finds it by. */
  userNameIndex: (orgId: string, userNameKey: string) => `${orgId}#${userNameKey}`,
} as const;
