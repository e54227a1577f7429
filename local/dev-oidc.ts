/**
 * A development and test OpenID Provider on loopback, built on the real `oidc-provider`
 * package (never deployed). Authorization code flow with PKCE S256 required, an RS256
 * key made at start, `openid email profile groups`, the profile claims in the ID token,
 * and a login page of our own where you pick one of the known users by email. Consent
 * is granted by the OP itself: the clients are ours.
 *
 * It prints nothing: every default oidc-provider warns about (in-memory adapter, dev
 * keys, devInteractions, default TTLs and pages) is replaced here.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';
import Provider, { errors, type Adapter, type AdapterPayload, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import { escapeHtml, page } from '../functions/http/responses.js';
import { readForm, send } from './dev-pages.js';

export interface DevOidcUser {
  /** The stable subject (`sub`) the OP asserts. */
  sub: string;
  email: string;
  /** Default `true`. */
  email_verified?: boolean;
  given_name?: string;
  family_name?: string;
  groups?: string[];
}

export interface DevOidcClient {
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
  /** Default `client_secret_basic`; the OP refuses any other method for this client. */
  tokenEndpointAuthMethod?: 'client_secret_basic' | 'client_secret_post';
}

export interface DevOidcProvider {
  /** `http://127.0.0.1:{port}`, no trailing slash; discovery is at `{issuer}/.well-known/openid-configuration`. */
  issuer: string;
  /** Closes the listener and every open connection. */
  stop(): Promise<void>;
  /**
   * Users can be added/changed at run time. Keyed by email (any case); lookups by email
   * and by `sub` read the values, so the key is a convenience, not an identity.
   */
  users: Map<string, DevOidcUser>;
}

export interface DevOidcOptions {
  /** Default 0: a free port. */
  port?: number;
  host?: '127.0.0.1';
  clients: DevOidcClient[];
  users?: DevOidcUser[];
  /**
   * OpenID RP-Initiated Logout 1.0: publish `end_session_endpoint` (the relying party's
   * `POST /logout` then sends the browser there). Default true.
   */
  endSession?: boolean;
}

/** Users for `npm start`: one per role value of the demo org, and one the RP must refuse. */
export const DEMO_OIDC_USERS: readonly DevOidcUser[] = [
  { sub: 'demo-oidc-grace', email: 'grace@demo-oidc.example', email_verified: true, given_name: 'Grace', family_name: 'Hopper', groups: ['Engineering'] },
  { sub: 'demo-oidc-linus', email: 'linus@demo-oidc.example', email_verified: true, given_name: 'Linus', family_name: 'Torvalds', groups: ['Staff'] },
  { sub: 'demo-oidc-ada', email: 'ada@demo-oidc.example', email_verified: true, given_name: 'Ada', family_name: 'Lovelace', groups: ['Admins'] },
  { sub: 'demo-oidc-mallory', email: 'mallory@demo-oidc.example', email_verified: false, given_name: 'Mallory', family_name: 'Unverified', groups: ['Staff'] },
];

export const DEMO_OIDC_CLIENT_ID = 'sso-jit-demo';

/**
 * The demo relying party (our service) as the dev OP knows it.
 *
 * @example
 * const client = demoOidcClient(orgUrls(baseUrl, 'demo-oidc').oidcRedirectUri, secret);
 */
export function demoOidcClient(redirectUri: string, clientSecret: string): DevOidcClient {
  return { clientId: DEMO_OIDC_CLIENT_ID, clientSecret, redirectUris: [redirectUri] };
}

const SCOPE_CLAIMS = {
  openid: ['sub'],
  email: ['email', 'email_verified'],
  profile: ['given_name', 'family_name'],
  groups: ['groups'],
} as const;

const AUTHORIZATION_PATH = '/auth';
const INTERACTION_PATH = /^\/interaction\/([A-Za-z0-9_-]+)(\/login|\/abort)?$/;
const TTL_SECONDS = {
  AccessToken: 3600,
  AuthorizationCode: 60,
  IdToken: 3600,
  RefreshToken: 3600,
  Interaction: 600,
  Session: 3600,
  Grant: 3600,
} as const;

/**
 * Starts the OP on loopback. The issuer is known only once the port is, so the server
 * listens first and the provider is built for the port it got.
 *
 * @example
 * const op = await startDevOidcProvider({ clients: [{ clientId: 'rp', clientSecret: 's3cret', redirectUris: [cb] }], users: [...DEMO_OIDC_USERS] });
 * // … `${op.issuer}/.well-known/openid-configuration`
 * await op.stop();
 */
export async function startDevOidcProvider(options: DevOidcOptions): Promise<DevOidcProvider> {
  const host = options.host ?? '127.0.0.1';
  const users = new Map<string, DevOidcUser>((options.users ?? []).map((user) => [user.email.toLowerCase(), user]));
  let handle: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  const server = createServer((req, res) => {
    if (handle) return handle(req, res);
    res.writeHead(503).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const issuer = `http://${host}:${port}`;

  const stop = () =>
    new Promise<void>((resolve, reject) => {
      if (!server.listening) return resolve();
      server.close((error) => (error ? reject(error) : resolve()));
      server.closeAllConnections();
    });

  try {
    const provider = new Provider(issuer, await configuration(options.clients, users, options.endSession ?? true));
    enforceRegisteredSecretMethod(provider);
    const callback = provider.callback();
    handle = (req, res) => {
      const path = URL.parse(req.url ?? '/', issuer)?.pathname ?? '';
      const interaction = INTERACTION_PATH.exec(path);
      if (interaction) {
        void serveInteraction(provider, users, req, res, interaction[2] ?? '').catch((error: unknown) => sendInteractionError(res, error));
        return;
      }
      if (path === AUTHORIZATION_PATH || path.startsWith(`${AUTHORIZATION_PATH}/`)) forgetOpSession(req);
      void callback(req, res);
    };
  } catch (error) {
    await stop();
    throw error;
  }
  return { issuer, users, stop };
}

async function configuration(clients: DevOidcClient[], users: Map<string, DevOidcUser>, endSession: boolean): Promise<Configuration> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const signingKey = { ...(await exportJWK(privateKey)), kid: randomUUID(), alg: 'RS256', use: 'sig' };
  const store = new Map<string, { payload: AdapterPayload; expiresAt: number | undefined }>();

  return {
    clients: clients.map((client) => ({
      client_id: client.clientId,
      client_secret: client.clientSecret,
      redirect_uris: client.redirectUris,
      token_endpoint_auth_method: client.tokenEndpointAuthMethod ?? 'client_secret_basic',
      grant_types: ['authorization_code'],
      response_types: ['code'],
    })),
    clientAuthMethods: ['client_secret_basic', 'client_secret_post'],
    jwks: { keys: [signingKey] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    adapter: (model: string) => memoryAdapter(store, model),
    claims: { ...SCOPE_CLAIMS },
    scopes: Object.keys(SCOPE_CLAIMS),
    // Profile claims go in the ID token too (not only userinfo): what an RP that reads
    // only the ID token, as ours does, needs.
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    ttl: { ...TTL_SECONDS },
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: { enabled: endSession },
      userinfo: { enabled: true },
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    findAccount: (_ctx, sub) => {
      const user = findUser(users, (candidate) => candidate.sub === sub);
      return user && { accountId: user.sub, claims: () => userClaims(user) };
    },
    // Our clients are first-party: grant whatever they ask for, so no consent prompt.
    loadExistingGrant: async (ctx: KoaContextWithOIDC) => {
      const { oidc } = ctx;
      const { client, session } = oidc;
      const accountId = session?.accountId;
      if (!client || !session || !accountId) return undefined;
      const grantId = oidc.result?.consent?.grantId ?? session.grantIdFor(client.clientId);
      const existing = grantId ? await oidc.provider.Grant.find(grantId) : undefined;
      const grant = existing?.accountId === accountId ? existing : new oidc.provider.Grant({ clientId: client.clientId, accountId });
      grant.addOIDCScope([...oidc.requestParamOIDCScopes].join(' '));
      grant.addOIDCClaims([...oidc.requestParamClaims]);
      await grant.save();
      return grant;
    },
    clientBasedCORS: () => false,
    renderError: (ctx, out) => {
      ctx.type = 'html';
      ctx.body = page(
        'Development OpenID Provider',
        `<h1>Development OpenID Provider</h1><p><code>${escapeHtml(out.error)}</code></p><p>${escapeHtml(out.error_description ?? '')}</p>`,
      );
    },
  };
}

/**
 * oidc-provider takes client_secret_basic and client_secret_post as one method: a client
 * registered with either may use both. Real OPs hold a client to the method it
 * registered, and so must this one for an RP's tests to mean anything: a secret sent the
 * other way does not match (`401 invalid_client`). oidc-provider checks secrets only
 * through this method, with the request's context in `Provider.ctx`.
 */
function enforceRegisteredSecretMethod(provider: Provider): void {
  const prototype = provider.Client.prototype;
  const compare = prototype.compareClientSecret;
  prototype.compareClientSecret = async function (this: typeof prototype, secret: string) {
    const sentAsBasic = Provider.ctx?.headers.authorization !== undefined;
    const registeredAsBasic = this.clientAuthMethod === 'client_secret_basic';
    return (await compare.call(this, secret)) && sentAsBasic === registeredAsBasic;
  };
}

function userClaims(user: DevOidcUser) {
  return {
    sub: user.sub,
    email: user.email,
    email_verified: user.email_verified ?? true,
    ...(user.given_name === undefined ? {} : { given_name: user.given_name }),
    ...(user.family_name === undefined ? {} : { family_name: user.family_name }),
    ...(user.groups === undefined ? {} : { groups: user.groups }),
  };
}

function findUser(users: Map<string, DevOidcUser>, predicate: (user: DevOidcUser) => boolean): DevOidcUser | undefined {
  for (const user of users.values()) if (predicate(user)) return user;
  return undefined;
}

/**
 * The OP keeps no sign-in between authorization requests: each one shows the picker, so
 * you can sign in as another user without a logout dance. Dropping the session cookie on
 * the authorization and resume routes is enough; oidc-provider then starts a new session.
 */
function forgetOpSession(req: IncomingMessage): void {
  const cookie = req.headers.cookie;
  if (!cookie) return;
  const kept = cookie
    .split(';')
    .map((part) => part.trim())
    .filter((part) => part !== '' && !/^_session(\.|=)/.test(part));
  if (kept.length > 0) req.headers.cookie = kept.join('; ');
  else delete req.headers.cookie;
}

/** oidc-provider's storage port, in memory; expired entries are treated as absent on read. */
function memoryAdapter(store: Map<string, { payload: AdapterPayload; expiresAt: number | undefined }>, model: string): Adapter {
  const key = (id: string) => `${model}:${id}`;
  const read = (storeKey: string): AdapterPayload | undefined => {
    const entry = store.get(storeKey);
    if (!entry) return undefined;
    if (entry.expiresAt !== undefined && entry.expiresAt <= Date.now()) {
      store.delete(storeKey);
      return undefined;
    }
    return structuredClone(entry.payload);
  };
  const findBy = (field: 'uid' | 'userCode', value: string) => {
    for (const storeKey of store.keys()) {
      if (storeKey.startsWith(`${model}:`) && store.get(storeKey)?.payload[field] === value) return read(storeKey);
    }
    return undefined;
  };
  return {
    upsert: async (id, payload, expiresIn) => {
      // A copy: the caller keeps mutating its model object after saving it.
      store.set(key(id), { payload: structuredClone(payload), expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : undefined });
    },
    find: async (id) => read(key(id)),
    findByUid: async (uid) => findBy('uid', uid),
    findByUserCode: async (userCode) => findBy('userCode', userCode),
    consume: async (id) => {
      const entry = store.get(key(id));
      if (entry) entry.payload.consumed = Math.floor(Date.now() / 1000);
    },
    destroy: async (id) => {
      store.delete(key(id));
    },
    // Every model's artifacts of a grant, as a code replay must revoke its tokens too.
    revokeByGrantId: async (grantId) => {
      for (const [storeKey, entry] of store) if (entry.payload.grantId === grantId) store.delete(storeKey);
    },
  };
}


function sendInteractionError(res: ServerResponse, error: unknown): void {
  if (res.headersSent) return void res.destroy();
  // SessionNotFound and friends: the interaction expired or its cookie is missing.
  const status = error instanceof errors.OIDCProviderError ? error.statusCode : 500;
  const description = error instanceof errors.OIDCProviderError ? (error.error_description ?? error.message) : 'The development OP failed.';
  send(res, status, page('Development OpenID Provider', `<h1>Development OpenID Provider</h1><p>${escapeHtml(description)}</p><p>Start again from the application.</p>`));
}

/** GET shows the user picker; POST `/login` signs in the chosen user; POST `/abort` answers `access_denied`. */
async function serveInteraction(provider: Provider, users: Map<string, DevOidcUser>, req: IncomingMessage, res: ServerResponse, action: string): Promise<void> {
  const details = await provider.interactionDetails(req, res);
  if (req.method === 'GET' && action === '') {
    if (details.prompt.name !== 'login') {
      return send(res, 400, page('Development OpenID Provider', `<p>Unexpected prompt <code>${escapeHtml(details.prompt.name)}</code>.</p>`));
    }
    return send(res, 200, loginPage(details.uid, String(details.params.client_id ?? ''), String(details.params.scope ?? ''), users));
  }
  if (req.method !== 'POST' || action === '') return send(res, 405, page('Method not allowed', '<p>Method not allowed.</p>'));
  if (action === '/abort') {
    return provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'The user cancelled the sign-in.' }, { mergeWithLastSubmission: false });
  }
  const email = ((await readForm(req)).get('email') ?? '').trim().toLowerCase();
  const user = findUser(users, (candidate) => candidate.email.toLowerCase() === email);
  if (!user) {
    const message = `No user with the email ${email || '(empty)'} is known to this OP.`;
    return send(res, 400, loginPage(details.uid, String(details.params.client_id ?? ''), String(details.params.scope ?? ''), users, message));
  }
  await provider.interactionFinished(req, res, { login: { accountId: user.sub, remember: false } }, { mergeWithLastSubmission: false });
}

function loginPage(uid: string, clientId: string, scope: string, users: Map<string, DevOidcUser>, error?: string): string {
  const action = `/interaction/${encodeURIComponent(uid)}`;
  const choices = [...users.values()]
    .map(
      (user, i) =>
        `<label><input type="radio" name="email" value="${escapeHtml(user.email)}"${i === 0 ? ' checked' : ''}> ${escapeHtml(user.email)}` +
        ` <small>(${escapeHtml([user.given_name, user.family_name].filter(Boolean).join(' ') || user.sub)}; groups: ${escapeHtml((user.groups ?? []).join(', ') || 'none')}${user.email_verified === false ? '; email not verified' : ''})</small></label><br>`,
    )
    .join('');
  return page(
    'Development OpenID Provider',
    `<h1>Development OpenID Provider</h1>
<p>Local only. Client <code>${escapeHtml(clientId)}</code> asks for <code>${escapeHtml(scope)}</code>. Pick who you are.</p>
${error ? `<p role="alert"><strong>${escapeHtml(error)}</strong></p>` : ''}
<form method="post" action="${action}/login">${choices || '<p>No users are configured.</p>'}<p><button type="submit">Sign in</button></p></form>
<form method="post" action="${action}/login"><p><label>Or type an email<br><input name="email" type="email" required></label> <button type="submit">Sign in</button></p></form>
<form method="post" action="${action}/abort"><p><button type="submit">Cancel (access_denied)</button></p></form>`,
  );
}
