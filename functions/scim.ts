/**
 * SCIM 2.0 under `/scim/v2/{orgId}` (API.md "SCIM 2.0 provisioning routes"). Adapter
 * only: authenticate the SCIM token, route the path, parse the body and query, call one
 * domain function of shared/scim/, and shape a `application/scim+json` answer. Every
 * error leaves as the SCIM error body, from the one error model (`AppError`: its status,
 * its `details.scimType`).
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import { AppError } from '../shared/errors.js';
import {
  createScimGroup,
  createScimUser,
  deleteScimGroup,
  deleteScimUser,
  getScimGroup,
  getScimUser,
  listScimGroups,
  listScimUsers,
  patchScimGroup,
  patchScimUser,
  replaceScimGroup,
  replaceScimUser,
  searchAll,
  type ListQuery,
  type ScimContext,
  type Written,
} from '../shared/scim/directory.js';
import { scimBadRequest } from '../shared/scim/patch.js';
import { resourceTypeDocuments, SCHEMA, schemasDocuments, serviceProviderConfig } from '../shared/scim/schemas.js';
import { countServiceUnavailable } from './observability.js';
import { bodyLimit } from './http/middleware.js';
import { bearerToken, bodyText, type HttpEvent, type HttpResult } from './http/responses.js';
import { FUNCTIONS } from './routes.js';
import { lazyHandler, runtime, type Runtime } from './runtime.js';

const SCIM_HEADERS = { 'content-type': 'application/scim+json; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' };

const scimJson = (status: number, body: unknown, headers: Record<string, string> = {}): HttpResult => ({ statusCode: status, headers: { ...SCIM_HEADERS, ...headers }, body: JSON.stringify(body) });

/** The one error responder of this function: the SCIM error body (RFC 7644 §3.12). */
function scimErrorResponder(rt: Runtime): MiddlewareObj<HttpEvent, HttpResult, Error, Context> {
  return {
    onError: (request) => {
      const { error, context } = request;
      const headers: Record<string, string> = {};
      let status = 500;
      let detail = `Something went wrong on our side. Quote request id ${context.awsRequestId} when asking for help.`;
      let scimType: string | undefined;
      if (error instanceof AppError && error.expose) {
        status = error.status;
        detail = error.message;
        scimType = typeof error.details.scimType === 'string' ? error.details.scimType : error.code === 'VALIDATION_FAILED' ? 'invalidValue' : undefined;
        if (error.retryAfterSeconds !== undefined) headers['retry-after'] = String(error.retryAfterSeconds);
        if (error.code === 'SERVICE_UNAVAILABLE') {
          rt.logger.warn('SCIM request refused: a dependency is unavailable', { orgId: request.event.pathParameters?.orgId, error: error.cause });
          countServiceUnavailable(rt.metrics, String(error.details.fault ?? 'unknown'));
        } else rt.logger.info('SCIM request refused', { status, code: error.code, scimType });
      } else {
        rt.logger.error('SCIM request failed', error as Error);
      }
      request.response = scimJson(status, { schemas: [SCHEMA.error], status: String(status), ...(scimType ? { scimType } : {}), detail }, headers);
    },
  };
}

function scimBody(event: HttpEvent): unknown {
  const type = event.headers?.['content-type'] ?? '';
  if (type && !/^application\/(scim\+)?json\b/i.test(type)) throw scimBadRequest('invalidSyntax', 'Send the body as application/scim+json (or application/json).');
  try {
    return JSON.parse(bodyText(event));
  } catch {
    throw scimBadRequest('invalidSyntax', 'The body is not valid JSON.');
  }
}

/** A SearchRequest body (RFC 7644 §3.4.3) as list query options. */
function searchQuery(body: unknown): ListQuery {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw scimBadRequest('invalidSyntax', 'A .search body is a SearchRequest object.');
  const { filter, startIndex, count, attributes, excludedAttributes } = body as Record<string, unknown>;
  const list = (value: unknown, name: string) => {
    if (value === undefined) return undefined;
    if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) throw scimBadRequest('invalidValue', `${name} must be a list of attribute names.`);
    return value as string[];
  };
  if (filter !== undefined && typeof filter !== 'string') throw scimBadRequest('invalidFilter', 'filter must be a string.');
  return { filter, startIndex: startIndex as number | undefined, count: count as number | undefined, attributes: list(attributes, 'attributes'), excludedAttributes: list(excludedAttributes, 'excludedAttributes') };
}

const notFound = (path: string) => new AppError('NOT_FOUND', `No SCIM resource at ${path.slice(0, 200)}.`);
const notAllowed = (method: string) => new AppError('METHOD_NOT_ALLOWED', `${method} is not allowed here: discovery endpoints are read-only.`);

export function createScimHandler(rt: Runtime) {
  return middy<HttpEvent, HttpResult>()
    .use(scimErrorResponder(rt))
    .use(injectLambdaContext(rt.logger, { resetKeys: true }))
    .use(bodyLimit())
    .handler(async (event) => {
      const orgId = event.pathParameters?.orgId ?? '';
      const method = event.requestContext.http.method.toUpperCase();
      const token = await rt.scimAuth.authenticate(orgId, bearerToken(event));
      rt.logger.appendKeys({ orgId, actorType: 'scim', actorId: token.id });
      const base = `${rt.baseUrl}/scim/v2/${orgId}`;
      const context: ScimContext = { orgId, tokenId: token.id, base };
      const segments = (event.pathParameters?.proxy ?? '').split('/').filter(Boolean);
      const query = event.queryStringParameters ?? {};
      const selection = { attributes: query.attributes, excludedAttributes: query.excludedAttributes };
      const ifMatch = event.headers?.['if-match'];
      const written = (status: number, { resource, etag }: Written) =>
        scimJson(status, resource, { etag, ...(status === 201 ? { location: String((resource.meta as { location?: string } | undefined)?.location ?? `${base}/${segments[0]}/${resource.id}`) } : {}) });
      const [collection, id, extra] = segments;
      const path = `/${segments.join('/')}`;

      // Discovery: read-only, whatever the provisioning method.
      const discovery: Record<string, () => unknown> = {
        ServiceProviderConfig: () => serviceProviderConfig(base),
        ResourceTypes: () => resourceTypeDocuments(base),
        Schemas: () => schemasDocuments(base),
      };
      if (collection && discovery[collection] && extra === undefined) {
        if (method !== 'GET') throw notAllowed(method);
        const document = discovery[collection]!();
        if (!Array.isArray(document)) {
          if (id !== undefined) throw notFound(path);
          return scimJson(200, document);
        }
        if (id !== undefined) {
          const found = document.find((entry) => entry.id === id);
          if (!found) throw notFound(path);
          return scimJson(200, found);
        }
        return scimJson(200, { schemas: [SCHEMA.listResponse], totalResults: document.length, startIndex: 1, itemsPerPage: document.length, Resources: document });
      }

      if (segments.length === 1 && collection === '.search' && method === 'POST') return scimJson(200, await searchAll(rt, context, searchQuery(scimBody(event))));
      if (collection !== 'Users' && collection !== 'Groups') throw notFound(path);
      if (extra !== undefined) throw notFound(path);
      const users = collection === 'Users';
      if (id === '.search') {
        if (method !== 'POST') throw notFound(path);
        const search = searchQuery(scimBody(event));
        return scimJson(200, users ? await listScimUsers(rt, context, search) : await listScimGroups(rt, context, search));
      }
      if (id === undefined) {
        if (method === 'GET') return scimJson(200, users ? await listScimUsers(rt, context, { ...query, ...selection }) : await listScimGroups(rt, context, { ...query, ...selection }));
        if (method === 'POST') return written(201, users ? await createScimUser(rt, context, scimBody(event), selection) : await createScimGroup(rt, context, scimBody(event), selection));
        throw notFound(path);
      }
      switch (method) {
        case 'GET':
          return written(200, users ? await getScimUser(rt, context, id, selection) : await getScimGroup(rt, context, id, selection));
        case 'PUT':
          return written(200, users ? await replaceScimUser(rt, context, id, scimBody(event), ifMatch, selection) : await replaceScimGroup(rt, context, id, scimBody(event), ifMatch, selection));
        case 'PATCH':
          return written(200, users ? await patchScimUser(rt, context, id, scimBody(event), ifMatch, selection) : await patchScimGroup(rt, context, id, scimBody(event), ifMatch, selection));
        case 'DELETE':
          await (users ? deleteScimUser(rt, context, id, ifMatch) : deleteScimGroup(rt, context, id, ifMatch));
          return { statusCode: 204, headers: { 'cache-control': 'no-store' }, body: '' };
        default:
          throw notFound(path);
      }
    });
}

export const handler = lazyHandler(() => createScimHandler(runtime(FUNCTIONS.scim)));
