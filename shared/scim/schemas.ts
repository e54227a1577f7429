/**
 * The SCIM discovery documents (RFC 7643 §5-7) and the attribute definitions behind them.
 * `/Schemas` announces exactly the attributes this service stores and returns (API.md):
 * the filter evaluator and attribute selection read the same definitions, so what is
 * announced, filtered and returned cannot drift apart.
 */

export const SCHEMA = {
  user: 'urn:ietf:params:scim:schemas:core:2.0:User',
  group: 'urn:ietf:params:scim:schemas:core:2.0:Group',
  listResponse: 'urn:ietf:params:scim:api:messages:2.0:ListResponse',
  patchOp: 'urn:ietf:params:scim:api:messages:2.0:PatchOp',
  searchRequest: 'urn:ietf:params:scim:api:messages:2.0:SearchRequest',
  error: 'urn:ietf:params:scim:api:messages:2.0:Error',
  serviceProviderConfig: 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig',
  resourceType: 'urn:ietf:params:scim:schemas:core:2.0:ResourceType',
  schema: 'urn:ietf:params:scim:schemas:core:2.0:Schema',
} as const;

/** The most resources one list answer carries (`filter.maxResults`), and the default `count`. */
export const MAX_RESULTS = 200;

export interface AttributeDefinition {
  name: string;
  type: 'string' | 'boolean' | 'complex' | 'reference' | 'dateTime';
  multiValued: boolean;
  description: string;
  required: boolean;
  caseExact: boolean;
  mutability: 'readOnly' | 'readWrite' | 'immutable' | 'writeOnly';
  returned: 'always' | 'never' | 'default' | 'request';
  uniqueness: 'none' | 'server' | 'global';
  subAttributes?: AttributeDefinition[];
  referenceTypes?: string[];
}

const attribute = (name: string, type: AttributeDefinition['type'], description: string, options: Partial<AttributeDefinition> = {}): AttributeDefinition => ({
  name,
  type,
  multiValued: false,
  description,
  required: false,
  caseExact: false,
  mutability: 'readWrite',
  returned: 'default',
  uniqueness: 'none',
  ...options,
});

export const USER_ATTRIBUTES: AttributeDefinition[] = [
  attribute('userName', 'string', 'Unique identifier for the user, case-insensitive; the sign-in name when it is an email address.', { required: true, uniqueness: 'server' }),
  attribute('name', 'complex', "The user's name.", {
    subAttributes: [attribute('givenName', 'string', 'Given name: the user\'s firstName.'), attribute('familyName', 'string', 'Family name: the user\'s lastName.')],
  }),
  attribute('displayName', 'string', 'The name shown for the user.'),
  attribute('active', 'boolean', 'false blocks the user: sign-in refused and existing sessions ended.'),
  attribute('emails', 'complex', 'Email addresses; the primary (else the first) is the sign-in email.', {
    multiValued: true,
    subAttributes: [
      attribute('value', 'string', 'The email address.'),
      attribute('type', 'string', 'A label such as "work".'),
      attribute('primary', 'boolean', 'Whether this is the primary address.'),
    ],
  }),
  attribute('groups', 'complex', 'The SCIM groups the user belongs to (change them through the Group resource).', {
    multiValued: true,
    mutability: 'readOnly',
    subAttributes: [
      attribute('value', 'string', 'The group id.', { mutability: 'readOnly', caseExact: true }),
      attribute('display', 'string', "The group's displayName.", { mutability: 'readOnly', caseExact: true }),
    ],
  }),
];

export const GROUP_ATTRIBUTES: AttributeDefinition[] = [
  attribute('displayName', 'string', 'The group name: a role value, matched exactly against the role mappings.', { required: true, caseExact: true, uniqueness: 'server' }),
  attribute('members', 'complex', 'The users in the group.', {
    multiValued: true,
    subAttributes: [attribute('value', 'string', 'The user id.', { mutability: 'immutable', caseExact: true })],
  }),
];

function schemaDocument(id: string, name: string, description: string, attributes: AttributeDefinition[], location: string) {
  return { schemas: [SCHEMA.schema], id, name, description, attributes, meta: { resourceType: 'Schema', location } };
}

/** GET /Schemas: the User and Group schemas. */
export function schemasDocuments(baseUrl: string) {
  return [
    schemaDocument(SCHEMA.user, 'User', 'User Account', USER_ATTRIBUTES, `${baseUrl}/Schemas/${SCHEMA.user}`),
    schemaDocument(SCHEMA.group, 'Group', 'Group', GROUP_ATTRIBUTES, `${baseUrl}/Schemas/${SCHEMA.group}`),
  ];
}

/** GET /ResourceTypes. */
export function resourceTypeDocuments(baseUrl: string) {
  return [
    { schemas: [SCHEMA.resourceType], id: 'User', name: 'User', endpoint: '/Users', description: 'User Account', schema: SCHEMA.user, meta: { resourceType: 'ResourceType', location: `${baseUrl}/ResourceTypes/User` } },
    { schemas: [SCHEMA.resourceType], id: 'Group', name: 'Group', endpoint: '/Groups', description: 'Group', schema: SCHEMA.group, meta: { resourceType: 'ResourceType', location: `${baseUrl}/ResourceTypes/Group` } },
  ];
}

/** GET /ServiceProviderConfig: patch and filter yes, bulk, sort and changePassword no, ETags yes, bearer tokens. */
export function serviceProviderConfig(baseUrl: string, documentationUri?: string) {
  return {
    schemas: [SCHEMA.serviceProviderConfig],
    ...(documentationUri ? { documentationUri } : {}),
    patch: { supported: true },
    bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
    filter: { supported: true, maxResults: MAX_RESULTS },
    changePassword: { supported: false },
    sort: { supported: false },
    etag: { supported: true },
    authenticationSchemes: [
      {
        type: 'oauthbearertoken',
        name: 'OAuth Bearer Token',
        description: 'A SCIM token made by an admin of the organization (POST /orgs/{orgId}/scim/tokens), sent as Authorization: Bearer <token>.',
        primary: true,
      },
    ],
    meta: { resourceType: 'ServiceProviderConfig', location: `${baseUrl}/ServiceProviderConfig` },
  };
}

/** The definition of a (possibly dotted) attribute path of a resource, names compared case-insensitively. */
export function findAttribute(attributes: readonly AttributeDefinition[], path: string): AttributeDefinition | undefined {
  const [head, ...rest] = path.split('.');
  const found = attributes.find((candidate) => candidate.name.toLowerCase() === head!.toLowerCase());
  if (!found || rest.length === 0) return found;
  return found.subAttributes ? findAttribute(found.subAttributes, rest.join('.')) : undefined;
}
