/**
 * The admin routes (API.md "Admin routes", docs/console.md) and GET /openapi.json.
 * Adapter only: each route authenticates the caller (bearer token, else the `session`
 * cookie, whose writes must come from BASE_URL's origin) as a user, or a setup session
 * on the routes open to it, authorizes them with the permissions ROUTES declares,
 * parses the JSON body, calls one domain function and shapes the response (ETag on
 * settings documents, If-Match passed through).
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { authorize } from '../shared/access/authorize.js';
import { recentAttributeNames } from '../shared/audit/attribute-names.js';
import type { AuditActor } from '../shared/audit/model.js';
import { getSsoTest, startSsoTest } from '../shared/login/sso-tests.js';
import { BROWSER_COOKIE, browserBinding, browserCookie } from '../shared/login/start-login.js';
import { claimsSetupScope } from '../shared/sessions/session-tokens.js';
import type { OrgSettings, Permission } from '../shared/settings/model.js';
import { createSetupLink, listSetupLinks, revokeSetupLink } from '../shared/setup/setup-links.js';
import { authorizeSetup } from '../shared/setup/setup-session.js';
import { listAuditEvents } from '../shared/audit/audit-query.js';
import { AppError } from '../shared/errors.js';
import { addRoleMapping, deleteRoleMapping, previewRoleMapping, replaceRoleMappings, roleMappingsView } from '../shared/settings/role-mappings.js';
import { createGroup, createRole, deleteGroup, deleteRole, updateGroup, updateRole } from '../shared/settings/roles-groups.js';
import { verifyDomain } from '../shared/settings/domains.js';
import { provisioningView, ssoView, updateProvisioningSettings, updateSsoSettings, type ChangeContext, type Versioned } from '../shared/settings/settings-service.js';
import { toUserView } from '../shared/users/model.js';
import { createUser, getUser, listUsers, patchUser, removeUser, revokeUserSessions } from '../shared/users/user-admin.js';
import { requireSameOriginForCookie, sessionCredential } from './http/credentials.js';
import { bodyLimit, errorResponder } from './http/middleware.js';
import { bodyText, cookie, json, noContent, type HttpEvent, type HttpResult } from './http/responses.js';
import { openApiDocument } from './openapi.js';
import { ADMIN_ROUTES, FUNCTIONS, routeKey } from './routes.js';
import { createScimToken, listScimTokens, revokeScimToken } from '../shared/scim/tokens.js';
import { lazyHandler, runtime, type Runtime } from './runtime.js';

/** Who calls an admin route: a user, or a setup session (acting with its link maker's permissions). */
interface Caller {
  settings: OrgSettings;
  permissions: ReadonlySet<Permission>;
  actor: AuditActor;
}

interface Request {
  rt: Runtime;
  event: HttpEvent;
  principal: Caller;
  /** The org in the path, the actor, and the If-Match header. */
  context: ChangeContext;
  param(name: string): string;
  body(): unknown;
  query(): Record<string, string>;
  force: boolean;
}

type Implementation = (request: Request) => Promise<HttpResult>;

function jsonBody(event: HttpEvent): unknown {
  // Only JSON: a form or text/plain body is what a cross-site page can send without asking.
  if (!/^application\/json\b/i.test(event.headers?.['content-type'] ?? '')) {
    throw new AppError('VALIDATION_FAILED', 'body: send JSON with Content-Type: application/json');
  }
  const text = bodyText(event);
  if (text.trim() === '') throw new AppError('VALIDATION_FAILED', 'body: a JSON body is required');
  try {
    return JSON.parse(text);
  } catch {
    throw new AppError('VALIDATION_FAILED', 'body: not valid JSON');
  }
}

const versioned = (status: number, { body, etag }: Versioned<unknown>) => json(status, body, { etag });

/** One implementation per admin route key; the permissions come from ROUTES. */
const IMPLEMENTATIONS: Record<string, Implementation> = {
  'GET /orgs/{orgId}/settings/sso': async ({ rt, principal }) => versioned(200, ssoView(principal.settings, rt.baseUrl, rt.clock.now())),
  'PUT /orgs/{orgId}/settings/sso': async ({ rt, context, body }) => versioned(200, await updateSsoSettings(rt, context, body())),
  'POST /orgs/{orgId}/settings/sso/domains/{domain}/verify': async ({ rt, context, param }) => json(200, await verifyDomain(rt, context, param('domain'))),
  'GET /orgs/{orgId}/settings/provisioning': async ({ principal }) => versioned(200, provisioningView(principal.settings)),
  'PUT /orgs/{orgId}/settings/provisioning': async ({ rt, context, body }) => versioned(200, await updateProvisioningSettings(rt, context, body())),
  'GET /orgs/{orgId}/settings/role-mappings': async ({ principal }) => versioned(200, roleMappingsView(principal.settings)),
  'PUT /orgs/{orgId}/settings/role-mappings': async ({ rt, context, body, force }) => versioned(200, await replaceRoleMappings(rt, context, body(), { force })),
  'POST /orgs/{orgId}/settings/role-mappings': async ({ rt, context, body }) => json(201, await addRoleMapping(rt, context, body())),
  'POST /orgs/{orgId}/settings/role-mappings/preview': async ({ rt, context, body }) => json(200, await previewRoleMapping(rt, context.orgId, body())),
  'DELETE /orgs/{orgId}/settings/role-mappings/{mappingId}': async ({ rt, context, param, force }) => {
    await deleteRoleMapping(rt, context, param('mappingId'), { force });
    return noContent();
  },
  'GET /orgs/{orgId}/roles': async ({ principal }) => json(200, { items: principal.settings.roles }),
  'POST /orgs/{orgId}/roles': async ({ rt, context, body }) => json(201, await createRole(rt, context, body())),
  'PUT /orgs/{orgId}/roles/{roleId}': async ({ rt, context, param, body, force }) => json(200, await updateRole(rt, context, param('roleId'), body(), { force })),
  'DELETE /orgs/{orgId}/roles/{roleId}': async ({ rt, context, param }) => {
    await deleteRole(rt, context, param('roleId'));
    return noContent();
  },
  'GET /orgs/{orgId}/groups': async ({ principal }) => json(200, { items: principal.settings.groups }),
  'POST /orgs/{orgId}/groups': async ({ rt, context, body }) => json(201, await createGroup(rt, context, body())),
  'PUT /orgs/{orgId}/groups/{groupId}': async ({ rt, context, param, body }) => json(200, await updateGroup(rt, context, param('groupId'), body())),
  'DELETE /orgs/{orgId}/groups/{groupId}': async ({ rt, context, param }) => {
    await deleteGroup(rt, context, param('groupId'));
    return noContent();
  },
  'GET /orgs/{orgId}/users': async ({ rt, context, query }) => {
    const page = await listUsers(rt, context.orgId, query());
    return json(200, { items: page.items.map(toUserView), cursor: page.cursor ?? null });
  },
  'POST /orgs/{orgId}/users': async ({ rt, context, body }) => json(201, toUserView(await createUser(rt, context, body()))),
  'GET /orgs/{orgId}/users/{userId}': async ({ rt, context, param }) => json(200, toUserView(await getUser(rt, context.orgId, param('userId')))),
  'PATCH /orgs/{orgId}/users/{userId}': async ({ rt, context, param, body }) => json(200, toUserView(await patchUser(rt, context, param('userId'), body()))),
  'DELETE /orgs/{orgId}/users/{userId}': async ({ rt, context, param }) => {
    await removeUser(rt, context, param('userId'));
    return noContent();
  },
  'POST /orgs/{orgId}/users/{userId}/sessions/revoke': async ({ rt, context, param }) => {
    await revokeUserSessions(rt, context, param('userId'));
    return noContent();
  },
  'GET /orgs/{orgId}/audit-events': async ({ rt, context, query }) => {
    const page = await listAuditEvents(rt, context.orgId, query());
    return json(200, { items: page.items, cursor: page.cursor ?? null });
  },
  'GET /orgs/{orgId}/settings/attribute-names': async ({ rt, context }) => json(200, await recentAttributeNames(rt, context.orgId)),
  'POST /orgs/{orgId}/sso/tests': async ({ rt, event, principal, context, body }) => {
    // The test's answer is accepted only in this browser: the binding cookie is set on this answer.
    const browser = browserBinding(cookie(event, BROWSER_COOKIE));
    const started = await startSsoTest(rt, { settings: principal.settings, startedBy: context.actor, browser }, body());
    return { ...json(201, started), cookies: [browserCookie(browser)] };
  },
  'GET /orgs/{orgId}/sso/tests/{testId}': async ({ rt, context, param }) => json(200, await getSsoTest(rt, context.orgId, context.actor, param('testId'))),
  'POST /orgs/{orgId}/setup-links': async ({ rt, context, body }) => json(201, await createSetupLink(rt, context, body())),
  'GET /orgs/{orgId}/setup-links': async ({ rt, context }) => json(200, await listSetupLinks(rt, context.orgId)),
  'DELETE /orgs/{orgId}/setup-links/{linkId}': async ({ rt, context, param }) => {
    await revokeSetupLink(rt, context, param('linkId'));
    return noContent();
  },
  // SCIM tokens (issue 14): the secret is in the creation's answer only.
  'POST /orgs/{orgId}/scim/tokens': async ({ rt, context }) => json(201, await createScimToken(rt, context)),
  'GET /orgs/{orgId}/scim/tokens': async ({ rt, context }) => json(200, await listScimTokens(rt, context.orgId)),
  'DELETE /orgs/{orgId}/scim/tokens/{tokenId}': async ({ rt, context, param }) => {
    await revokeScimToken(rt, context, param('tokenId'));
    return noContent();
  },
};

const PERMISSIONS = new Map(ADMIN_ROUTES.map((route) => [routeKey(route), route.permissions ?? []]));
const SETUP_ROUTES = new Set(ADMIN_ROUTES.filter((route) => route.setupSession).map(routeKey));

/**
 * Authenticates and authorizes the caller of an admin route: a user's session, or a
 * setup session on the routes open to it (its link and maker read on every call).
 */
async function authorizeCaller(rt: Runtime, token: string | undefined, orgId: string, key: string, permissions: readonly Permission[]): Promise<Caller> {
  if (token && claimsSetupScope(token)) {
    const { settings, permissions: held, actor } = await authorizeSetup(rt, token, orgId, SETUP_ROUTES.has(key), permissions);
    return { settings, permissions: held, actor };
  }
  const { user, settings, permissions: held } = await authorize(rt, token, orgId, permissions);
  return { settings, permissions: held, actor: { type: 'user', id: user.id } };
}

/** Admin route keys without an implementation, or implementations without a route: empty when they agree. */
export const unimplementedRoutes = (): string[] => [
  ...[...PERMISSIONS.keys()].filter((key) => !IMPLEMENTATIONS[key]),
  ...Object.keys(IMPLEMENTATIONS).filter((key) => !PERMISSIONS.has(key)),
];

export function createSettingsHandler(rt: Runtime) {
  return middy<HttpEvent, HttpResult>()
    .use(errorResponder({ logger: rt.logger, metrics: rt.metrics }))
    .use(injectLambdaContext(rt.logger, { resetKeys: true }))
    .use(bodyLimit())
    .handler(async (event) => {
      if (event.routeKey === 'GET /openapi.json') return json(200, openApiDocument(rt.baseUrl), { 'cache-control': 'public, max-age=300' });
      const implementation = IMPLEMENTATIONS[event.routeKey];
      const permissions = PERMISSIONS.get(event.routeKey);
      if (!implementation || !permissions) throw new AppError('NOT_FOUND', `No route ${event.routeKey}.`);
      const orgId = event.pathParameters?.orgId ?? '';
      const params = event.pathParameters ?? {};
      const query = event.queryStringParameters ?? {};
      const ifMatch = event.headers?.['if-match'];
      // The bearer token, else the session cookie (the console); a write made with the
      // ambient cookie must come from our own origin (CSRF), checked before anything is read.
      const credential = sessionCredential(event);
      if (!event.routeKey.startsWith('GET ')) requireSameOriginForCookie(event, credential, rt.baseUrl);
      const attempt = async () => {
        const principal = await authorizeCaller(rt, credential?.token, orgId, event.routeKey, permissions);
        rt.logger.appendKeys({ orgId, actorId: principal.actor.id, actorType: principal.actor.type });
        return implementation({
          rt,
          event,
          principal,
          // The settings authorization just read are what a change starts from: not read again.
          context: { orgId, actor: principal.actor, actorPermissions: principal.permissions, ifMatch, settings: principal.settings },
          param: (name) => params[name] ?? '',
          body: () => jsonBody(event),
          query: () => Object.fromEntries(Object.entries(query).filter((entry): entry is [string, string] => entry[1] !== undefined && entry[0] !== 'force')),
          force: query.force === 'true',
        });
      };
      return ifMatch === undefined ? withRetries(attempt) : attempt();
    });
}

/**
 * A write without If-Match is accepted (API.md): when another change to the org's
 * settings landed between our read and our write, read again and retry, twice at most.
 */
async function withRetries<T>(write: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await write();
    } catch (error) {
      if (!(error instanceof AppError && error.code === 'PRECONDITION_FAILED') || attempt === 3) throw error;
    }
  }
}

export const handler = lazyHandler(() => createSettingsHandler(runtime(FUNCTIONS.settings)));
