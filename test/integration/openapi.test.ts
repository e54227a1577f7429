/**
 * GET /openapi.json: an OpenAPI 3.1 document (validated against the official schema)
 * that describes exactly the routes of functions/routes.ts, with the admin routes'
 * security (bearer token or session cookie) and permissions, and request bodies
 * generated from the very zod schemas the domain validates input with.
 */
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { openApiPath, undocumentedRoutes } from '../../functions/openapi.js';
import { ADMIN_ROUTES, ROUTES, routeKey } from '../../functions/routes.js';
import { unimplementedRoutes } from '../../functions/settings.js';
import { ssoSettingsInputSchema } from '../../shared/settings/settings-service.js';
import { userCreateSchema, userPatchSchema } from '../../shared/users/user-admin.js';
import { startTestService, type TestService } from '../support/service.js';

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch', 'options', 'head', 'trace'];

interface Operation {
  security?: Record<string, string[]>[];
  'x-permissions'?: string[];
  parameters?: { name: string; in: string; required?: boolean }[];
  requestBody?: { required?: boolean; content: Record<string, { schema: Record<string, any> }> };
  responses: Record<string, { content?: Record<string, { schema: Record<string, any> }>; headers?: Record<string, { schema: Record<string, any> }> }>;
}

interface OpenApiDocument {
  openapi: string;
  servers: { url: string }[];
  components: { securitySchemes: Record<string, Record<string, string>>; schemas: Record<string, any> };
  paths: Record<string, Record<string, Operation>>;
}

let service: TestService;
let status: number;
let contentType: string | null;
let document: OpenApiDocument;

beforeAll(async () => {
  service = await startTestService();
  const response = await fetch(`${service.baseUrl}/openapi.json`);
  status = response.status;
  contentType = response.headers.get('content-type');
  document = (await response.json()) as OpenApiDocument;
});
afterAll(() => service?.close());

/** A route's operation, under its path as OpenAPI writes it (`{proxy+}` is `{proxy}`). */
const operationOf = (method: string, path: string): Operation => {
  const operation = document.paths[openApiPath(path)]?.[method.toLowerCase()];
  if (!operation) throw new Error(`no operation ${method} ${path} in the document`);
  return operation;
};

/** The JSON Schema the document should carry for a zod input schema (as functions/openapi.ts generates it). */
const inputJsonSchema = (schema: z.ZodType) => z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input', unrepresentable: 'any' });

describe('GET /openapi.json', () => {
  it('answers 200 with a JSON OpenAPI 3.1 document, served from the deployment base URL', () => {
    expect(status).toBe(200);
    expect(contentType).toMatch(/^application\/json/);
    expect(document.openapi).toMatch(/^3\.1\.\d+$/);
    expect(document.servers).toEqual([{ url: service.baseUrl }]);
  });

  it('validates against the OpenAPI 3.1 schema', async () => {
    const validator = new Validator();

    const result = await validator.validate(structuredClone(document) as unknown as Record<string, unknown>);

    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });

  it('resolves every $ref it contains', async () => {
    const validator = new Validator();
    await validator.validate(structuredClone(document) as unknown as Record<string, unknown>);

    const resolved = validator.resolveRefs();

    expect(JSON.stringify(resolved)).not.toContain('"$ref"');
  });

  it('describes exactly the routes of ROUTES, no more and no fewer', () => {
    const documented = Object.entries(document.paths).flatMap(([path, item]) =>
      Object.keys(item)
        .filter((key) => HTTP_METHODS.includes(key))
        .map((method) => `${method.toUpperCase()} ${path}`),
    );

    expect(documented.sort()).toEqual(ROUTES.map((route) => `${route.method} ${openApiPath(route.path)}`).sort());
    expect(new Set(documented).size).toBe(ROUTES.length);
  });

  it('declares every path parameter of every route as a required path parameter', () => {
    const missing = ROUTES.flatMap((route) => {
      const declared = (operationOf(route.method, route.path).parameters ?? []).filter((parameter) => parameter.in === 'path' && parameter.required);
      return [...route.path.matchAll(/\{(\w+)\+?\}/g)]
        .map(([, name]) => name!)
        .filter((name) => !declared.some((parameter) => parameter.name === name))
        .map((name) => `${routeKey(route)}: {${name}}`);
    });

    expect(missing).toEqual([]);
  });
});

describe('the admin operations in the document', () => {
  it('define the bearer scheme as an HTTP bearer JWT', () => {
    expect(document.components.securitySchemes.bearer).toEqual({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
  });

  it('define the cookie scheme as the session cookie, saying the Origin rule for writes', () => {
    expect(document.components.securitySchemes.cookie).toEqual({ type: 'apiKey', in: 'cookie', name: 'session', description: expect.stringMatching(/Origin.*CSRF_REJECTED/) });
  });

  it.each(ADMIN_ROUTES.map((route) => ({ key: routeKey(route), route })))('$key declares bearer or cookie security and its permissions', ({ route }) => {
    const operation = operationOf(route.method, route.path);

    expect(operation.security).toEqual([{ bearer: [] }, { cookie: [] }]);
    expect(operation['x-permissions']).toEqual(route.permissions);
  });

  it('declare no security on the public login routes and the console\'s own routes, which anonymous browsers call', () => {
    const publicRoutes = [
      'GET /health',
      'GET /.well-known/jwks.json',
      'GET /sso/{orgId}/saml/metadata',
      'POST /sso/{orgId}/saml/acs',
      'GET /openapi.json',
      'GET /console',
      'GET /console/{proxy+}',
      'GET /console/assets/{file}',
      'GET /console/login',
    ];

    const secured = publicRoutes.filter((key) => {
      const [method, path] = key.split(' ') as [string, string];
      return operationOf(method, path).security !== undefined;
    });

    expect(secured).toEqual([]);
  });

  it.each([
    ['POST', '/orgs/{orgId}/settings/role-mappings', '201'],
    ['POST', '/orgs/{orgId}/roles', '201'],
    ['POST', '/orgs/{orgId}/groups', '201'],
    ['POST', '/orgs/{orgId}/users', '201'],
    ['DELETE', '/orgs/{orgId}/settings/role-mappings/{mappingId}', '204'],
    ['DELETE', '/orgs/{orgId}/roles/{roleId}', '204'],
    ['DELETE', '/orgs/{orgId}/groups/{groupId}', '204'],
    ['DELETE', '/orgs/{orgId}/users/{userId}', '204'],
    ['PUT', '/orgs/{orgId}/settings/sso', '200'],
    ['PATCH', '/orgs/{orgId}/users/{userId}', '200'],
  ])('%s %s documents its %s success and the error body of API.md', (method, path, success) => {
    const { responses } = operationOf(method, path);

    expect(Object.keys(responses).sort()).toEqual([success, '503', 'default']);
    expect(responses.default?.content?.['application/json']?.schema).toEqual({ $ref: '#/components/schemas/Error' });
  });

  it('describe the error body as {"error":{"code","message"}} with the codes of API.md', () => {
    const error = document.components.schemas.Error;

    expect(error.properties.error.required).toEqual(expect.arrayContaining(['code', 'message']));
    expect(error.properties.error.properties.code.enum).toEqual(
      expect.arrayContaining(['UNAUTHENTICATED', 'FORBIDDEN', 'VALIDATION_FAILED', 'NOT_FOUND', 'CONFLICT', 'LAST_ADMIN_MAPPING', 'PRECONDITION_FAILED', 'PAYLOAD_TOO_LARGE']),
    );
  });

  it.each([
    ['/orgs/{orgId}/users', ['email', 'jit', 'limit', 'cursor']],
    ['/orgs/{orgId}/audit-events', ['type', 'limit', 'cursor']],
  ])('GET %s documents the query options %j', (path, names) => {
    const query = (operationOf('GET', path).parameters ?? []).filter((parameter) => parameter.in === 'query').map((parameter) => parameter.name);

    expect(query.sort()).toEqual([...names].sort());
  });
});

describe('DynamoDB faults in the document', () => {
  const WITHOUT_STORAGE = ['GET /health', 'GET /.well-known/jwks.json', 'GET /login', 'GET /openapi.json'];

  it('lists SERVICE_UNAVAILABLE among the error codes', () => {
    expect(document.components.schemas.Error.properties.error.properties.code.enum).toContain('SERVICE_UNAVAILABLE');
  });

  it('documents a 503 with a Retry-After header and the error body on every route that reads or writes DynamoDB', () => {
    const undocumented = ROUTES.map(routeKey)
      .filter((key) => !WITHOUT_STORAGE.includes(key))
      .filter((key) => !key.includes(' /scim/v2/'))
      .filter((key) => {
        const [method, path] = key.split(' ') as [string, string];
        const unavailable = operationOf(method, path).responses['503'];
        return unavailable?.headers?.['Retry-After']?.schema.type !== 'integer' || unavailable.content?.['application/json']?.schema.$ref !== '#/components/schemas/Error';
      });

    expect(undocumented).toEqual([]);
  });

  it('documents the 503 of a browser login route as an HTML page too', () => {
    expect(operationOf('POST', '/sso/{orgId}/saml/acs').responses['503']?.content?.['text/html']).toBeDefined();
  });

  it('documents no 503 on the routes that touch no table', () => {
    const with503 = WITHOUT_STORAGE.filter((key) => {
      const [method, path] = key.split(' ') as [string, string];
      return operationOf(method, path).responses['503'] !== undefined;
    });

    expect(with503).toEqual([]);
  });
});

describe('the request bodies in the document', () => {
  it('give PUT /settings/sso the JSON Schema of the zod SSO settings input schema', () => {
    const body = operationOf('PUT', '/orgs/{orgId}/settings/sso').requestBody!;
    const schema = body.content['application/json']!.schema;

    expect(body.required).toBe(true);
    expect(schema).toEqual(inputJsonSchema(ssoSettingsInputSchema));
    expect(schema).toMatchObject({ type: 'object', additionalProperties: false });
    expect(Object.keys(schema.properties).sort()).toEqual(['domainStatus', 'domains', 'enabled', 'forceSso', 'oidc', 'protocol', 'saml']);
    expect(schema.properties.protocol.enum).toEqual(['saml', 'oidc']);
    expect(schema.properties.saml).toMatchObject({ additionalProperties: false });
    expect(Object.keys(schema.properties.saml.properties)).toEqual(expect.arrayContaining(['idpEntityId', 'ssoUrl', 'certificates', 'metadataXml', 'allowIdpInitiated', 'clockSkewSeconds']));
    expect(schema.properties.saml.properties.clockSkewSeconds).toMatchObject({ minimum: 0, maximum: 300 });
    expect(Object.keys(schema.properties.oidc.properties)).toEqual(expect.arrayContaining(['issuer', 'clientId', 'clientSecret', 'scopes']));
    expect(Object.keys(schema.properties.oidc.properties)).not.toContain('clientSecretEncrypted');
  });

  it('give PATCH /users/{userId} the JSON Schema of the zod user patch schema, every field optional', () => {
    const schema = operationOf('PATCH', '/orgs/{orgId}/users/{userId}').requestBody!.content['application/json']!.schema;

    expect(schema).toEqual(inputJsonSchema(userPatchSchema));
    expect(schema).toMatchObject({ type: 'object', additionalProperties: false });
    expect(Object.keys(schema.properties).sort()).toEqual(['assignments', 'firstName', 'idpSubject', 'lastName', 'status']);
    expect(schema.required ?? []).toEqual([]);
    expect(schema.properties.status.enum).toEqual(['active', 'blocked']);
    expect(schema.properties.assignments.items).toMatchObject({ additionalProperties: false, required: ['groupId', 'roleId'] });
  });

  it('give POST /users the JSON Schema of the zod user creation schema: email and assignments required, nothing else allowed', () => {
    const schema = operationOf('POST', '/orgs/{orgId}/users').requestBody!.content['application/json']!.schema;

    expect(schema).toEqual(inputJsonSchema(userCreateSchema));
    expect(schema).toMatchObject({ type: 'object', additionalProperties: false });
    expect(Object.keys(schema.properties).sort()).toEqual(['assignments', 'email', 'firstName', 'lastName']);
    expect([...schema.required].sort()).toEqual(['assignments', 'email']);
    expect(schema.properties.assignments.items).toMatchObject({ additionalProperties: false, required: ['groupId', 'roleId'] });
  });

  it('give no request body to GET and DELETE operations', () => {
    const withBody = ROUTES.filter((route) => route.method === 'GET' || route.method === 'DELETE').filter(
      (route) => operationOf(route.method, route.path).requestBody !== undefined,
    );

    expect(withBody.map(routeKey)).toEqual([]);
  });
});

describe('the console routes in the document', () => {
  it('document the page paths under /console/{proxy} with the rest of the path as a parameter', () => {
    const operation = operationOf('GET', '/console/{proxy+}');

    expect(document.paths['/console/{proxy+}']).toBeUndefined();
    expect(operation.parameters).toEqual([expect.objectContaining({ name: 'proxy', in: 'path', required: true })]);
    expect(Object.keys(operation.responses['200']?.content ?? {})).toEqual(['text/html']);
  });

  it('document the sign-in link as a 302, refused with the error body or an HTML page', () => {
    const { responses, parameters } = operationOf('GET', '/console/login');

    expect(Object.keys(responses).sort()).toEqual(['302', '503', 'default']);
    expect(Object.keys(responses.default?.content ?? {}).sort()).toEqual(['application/json', 'text/html']);
    expect(parameters?.map((parameter) => parameter.name)).toEqual(['token']);
  });
});

describe('the SCIM routes in the document (issue 14)', () => {
  const SCIM_KEYS = ROUTES.map(routeKey).filter((key) => key.includes(' /scim/v2/'));

  it('documents every method on /scim/v2/{orgId} and below it', () => {
    expect(SCIM_KEYS.sort()).toEqual(
      ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].flatMap((method) => [`${method} /scim/v2/{orgId}`, `${method} /scim/v2/{orgId}/{proxy+}`]).sort(),
    );
  });

  it('secures them with the SCIM token scheme only, and answers application/scim+json with the SCIM error body, 503 included', () => {
    expect(document.components.securitySchemes.scimToken).toMatchObject({ type: 'http', scheme: 'bearer' });
    for (const key of SCIM_KEYS) {
      const [method, path] = key.split(' ') as [string, string];
      const operation = operationOf(method, path);
      expect(operation.security, key).toEqual([{ scimToken: [] }]);
      expect(operation.responses.default?.content?.['application/scim+json']?.schema, key).toEqual({ $ref: '#/components/schemas/ScimError' });
      expect(operation.responses['503']?.headers?.['Retry-After']?.schema.type, key).toBe('integer');
    }
    expect(document.components.schemas.ScimError.required).toEqual(expect.arrayContaining(['schemas', 'status', 'detail']));
  });

  it('documents the SCIM token admin routes with their permissions', () => {
    expect(operationOf('POST', '/orgs/{orgId}/scim/tokens')['x-permissions']).toEqual(['security:edit', 'users:edit']);
    expect(operationOf('GET', '/orgs/{orgId}/scim/tokens')['x-permissions']).toEqual(['security:view']);
    expect(operationOf('DELETE', '/orgs/{orgId}/scim/tokens/{tokenId}')['x-permissions']).toEqual(['security:edit']);
    expect(Object.keys(operationOf('POST', '/orgs/{orgId}/scim/tokens').responses).sort()).toEqual(['201', '503', 'default']);
  });
});

describe('the route table', () => {
  it('has an implementation in the settings handler for every admin route, and none without a route', () => {
    expect(unimplementedRoutes()).toEqual([]);
  });

  it('has documentation for every route, and none without a route', () => {
    expect(undocumentedRoutes()).toEqual([]);
  });
});
