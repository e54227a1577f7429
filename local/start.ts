/**
 * `npm start`: the whole service on this machine. DynamoDB Local (embedded, in memory
 * unless DATA_DIR), the tables from the shared definitions, the admin console built into
 * dist/console, every route on PORT through the same handlers Lambda runs, and (unless
 * SEED_DEMO=0) a `demo` org wired to a development SAML IdP. Prints the URLs, the
 * DynamoDB endpoint, an admin token and a console sign-in link.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { ROUTES } from '../functions/routes.js';
import { createRuntime, type Runtime } from '../functions/runtime.js';
import { readConfig } from '../shared/config.js';
import { AppError } from '../shared/errors.js';
import { createOrg } from '../shared/settings/orgs.js';
import { createLoginLink } from '../shared/sessions/login-links.js';
import { buildConsole, ConsoleBuildError } from '../scripts/build-console.js';
import { randomToken } from '../shared/clock.js';
import { FileSpKeySource, spEncryptionKey } from '../shared/saml/sp-keys.js';
import { addRoleMapping } from '../shared/settings/role-mappings.js';
import { updateProvisioningSettings, updateSsoSettings } from '../shared/settings/settings-service.js';
import { orgUrls } from '../shared/settings/urls.js';
import { verifyDomain } from '../shared/settings/domains.js';
import { matchKey } from '../shared/provisioning/role-mapping.js';
import { devIdpEntityId, devIdpPath, devIdpRoutes, devIdpSloPath } from './dev-idp.js';
import { DEMO_OIDC_CLIENT_ID, DEMO_OIDC_USERS, demoOidcClient, startDevOidcProvider, type DevOidcProvider } from './dev-oidc.js';
import { createDynamoClient, createTables, startDynamoDbLocal } from './dynamodb.js';
import { createHandlers } from './handlers.js';
import { escapeHtml, page } from '../functions/http/responses.js';
import { send } from './dev-pages.js';
import { createLocalServer, listenLocalServer, type ExtraRoute } from './http-server.js';
import { LOCAL_DIR, localStackEnv } from './local-config.js';
import { createSamlIdpKeys, type SamlIdpKeys } from './saml-idp.js';

const DEMO_ORG = 'demo';
const DEMO_ADMIN = 'admin@demo.example';
const DEMO_OIDC_ORG = 'demo-oidc';
const DEMO_OIDC_ADMIN = 'admin@demo-oidc.example';
const ROLE_ATTRIBUTE = 'groups';
const cli = { type: 'cli', id: 'npm-start' } as const;

/** The demo IdP's key survives restarts (git-ignored), so a DATA_DIR org keeps trusting it. */
/**
 * `/` on the local stack: where a sign-in with the default `fwd` lands (the product's own
 * app would live here), with the ways in.
 */
function homePage(baseUrl: string): ExtraRoute {
  const link = (path: string, label: string) => `<li><a href="${escapeHtml(`${baseUrl}${path}`)}">${escapeHtml(label)}</a></li>`;
  return {
    method: 'GET',
    path: '/',
    handler: (_req, res) =>
      send(
        res,
        200,
        page(
          'sso-jit (local)',
          `<h1>sso-jit local stack</h1><ul>${[
            link('/me', 'Who am I? (/me)'),
            link('/login', 'Sign in with your email (/login)'),
            link(`/sso/${DEMO_ORG}/login?fwd=/me`, 'Sign in to the SAML demo org (SP-initiated)'),
            link(devIdpPath(DEMO_ORG), 'Sign in at the development SAML IdP (IdP-initiated)'),
            link(devIdpSloPath(DEMO_ORG), 'Sign out at the development SAML IdP (IdP-initiated single logout)'),
            link(`/sso/${DEMO_OIDC_ORG}/login?fwd=/me`, 'Sign in to the OIDC demo org'),
            link('/console', 'Admin console'),
            link('/openapi.json', 'OpenAPI description'),
          ].join('')}</ul><form method="post" action="/logout"><button type="submit">Sign out</button></form>`,
        ),
      ),
  };
}

/** A small JSON file in the git-ignored local folder, made by `make` the first time. */
async function localSecret<T>(name: string, make: () => Promise<T>, accept: (stored: T) => boolean = () => true): Promise<T> {
  const path = `${LOCAL_DIR}/${name}`;
  if (existsSync(path)) {
    const stored = JSON.parse(readFileSync(path, 'utf8')) as T;
    if (accept(stored)) return stored;
  }
  const value = await make();
  mkdirSync(LOCAL_DIR, { recursive: true, mode: 0o700 });
  writeFileSync(path, JSON.stringify(value), { mode: 0o600 });
  return value;
}

/** The demo orgs' role mappings: the IdPs' `groups` values to the built-in roles. */
const DEMO_MAPPINGS = [
  ['organization-admin', 'Admins'],
  ['account-admin', 'Engineering'],
  ['regular-user', 'Staff'],
] as const;

/** Creates an org and reports whether it is new (an earlier run with DATA_DIR keeps it). */
async function created(rt: Runtime, orgId: string, name: string, adminEmail: string): Promise<boolean> {
  try {
    await createOrg(rt, { orgId, name, adminEmail }, cli);
    return true;
  } catch (error) {
    if (error instanceof AppError && error.code === 'CONFLICT') return false;
    throw error;
  }
}

async function seedMappingsAndJit(rt: Runtime, orgId: string): Promise<void> {
  const context = { orgId, actor: cli };
  for (const [roleId, idpValue] of DEMO_MAPPINGS) await addRoleMapping(rt, context, { roleId, groupIds: ['default'], idpValue });
  await updateProvisioningSettings(rt, context, { method: 'jit', jit: { roleSource: 'idp', roleAttribute: ROLE_ATTRIBUTE, onNoRoleMatch: 'default' } });
}

/** The OIDC demo org, signing in through the development OpenID Provider. */
async function seedOidcDemo(rt: Runtime, issuer: string, clientSecret: string): Promise<void> {
  if (!(await created(rt, DEMO_OIDC_ORG, 'Demo (OIDC)', DEMO_OIDC_ADMIN))) return;
  await updateSsoSettings(
    rt,
    { orgId: DEMO_OIDC_ORG, actor: cli },
    { enabled: true, protocol: 'oidc', domains: ['demo-oidc.example'], oidc: { issuer, clientId: DEMO_OIDC_CLIENT_ID, clientSecret, scopes: ['openid', 'email', 'profile', 'groups'] } },
  );
  await seedMappingsAndJit(rt, DEMO_OIDC_ORG);
}

/** Configures the demo org through the same domain functions the settings API uses. */
async function seedDemo(rt: Runtime, idp: SamlIdpKeys, baseUrl: string): Promise<void> {
  if (!(await created(rt, DEMO_ORG, 'Demo', DEMO_ADMIN))) return;
  await updateSsoSettings(
    rt,
    { orgId: DEMO_ORG, actor: cli },
    {
      enabled: true,
      protocol: 'saml',
      domains: ['demo.example'],
      saml: { idpEntityId: idp.entityId, ssoUrl: `${baseUrl}${devIdpPath(DEMO_ORG)}`, sloUrl: `${baseUrl}${devIdpSloPath(DEMO_ORG)}`, certificates: [idp.certificatePem] },
    },
  );
  await seedMappingsAndJit(rt, DEMO_ORG);
  // demo.example is nobody's to publish DNS records for: the demo org's TXT record is
  // answered here, so its domain routes like a verified one (any @demo.example email).
  const sso = (await rt.settingsRepository.load(DEMO_ORG))!.sso;
  const token = sso.domainVerification?.['demo.example']?.token;
  const demoDns = async () => ({ kind: 'found' as const, values: [`sso-jit-verification=${token}`] });
  await verifyDomain({ ...rt, resolveTxt: demoDns }, { orgId: DEMO_ORG, actor: cli }, 'demo.example');
}

async function main(): Promise<void> {
  const env = process.env;
  // Locally, CloudWatch metrics (EMF lines on stdout) would only be noise.
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  const port = Number(env.PORT ?? 3000);
  const dynamo = env.DYNAMODB_ENDPOINT
    ? { endpoint: env.DYNAMODB_ENDPOINT, stop: async () => {} }
    : await startDynamoDbLocal({ port: Number(env.DYNAMODB_PORT ?? 8000), dataDir: env.DATA_DIR });
  const config = readConfig(localStackEnv(env, dynamo.endpoint));
  await createTables(createDynamoClient(dynamo.endpoint), config.tables);
  // The SP key pair that signs AuthnRequests (for orgs that turn signAuthnRequests on), and
  // the encryption key IdPs encrypt assertions to (added to a pair stored before it existed).
  if (config.spKeys.kind === 'file') {
    // Read and written before the runtime exists: its source caches what it reads for minutes.
    const stored = await new FileSpKeySource(config.spKeys.path).load();
    if (!stored?.encryption) {
      const material = (keys: { privateKeyPem: string; certificatePem: string }) => ({ privateKeyPem: keys.privateKeyPem, certificatePem: keys.certificatePem });
      const signing = stored ?? material(await createSamlIdpKeys('sso-jit local SP'));
      const encryption = material(await createSamlIdpKeys('sso-jit local SP encryption'));
      await new FileSpKeySource(config.spKeys.path).store({ privateKeyPem: signing.privateKeyPem, certificatePem: signing.certificatePem, encryption });
    }
  }

  const rt = createRuntime(config);

  // The console as the Console function serves it in Lambda: built, then read from CONSOLE_DIR.
  // A console that does not build leaves the API running and says why.
  let consoleNote = '';
  try {
    await buildConsole({ outDir: config.consoleDir });
  } catch (error) {
    if (!(error instanceof ConsoleBuildError)) throw error;
    consoleNote = `   (not built: ${error.message})`;
  }

  // The development SAML IdP serves every org (one key pair, kept across restarts).
  const demoEntityId = devIdpEntityId(config.baseUrl, DEMO_ORG);
  const idp = await localSecret('dev-idp.json', () => createSamlIdpKeys(demoEntityId), (stored) => stored.entityId === demoEntityId);
  let demoSeeded = false;
  let oidcProvider: DevOidcProvider | undefined;
  if (env.SEED_DEMO !== '0') {
    await seedDemo(rt, idp, config.baseUrl);
    demoSeeded = true;

    const { clientSecret } = await localSecret('dev-oidc.json', async () => ({ clientSecret: randomToken(24) }));
    oidcProvider = await startDevOidcProvider({
      port: Number(env.OIDC_PORT ?? port + 1),
      clients: [demoOidcClient(orgUrls(config.baseUrl, DEMO_OIDC_ORG).oidcRedirectUri, clientSecret)],
      users: [...DEMO_OIDC_USERS],
    });
    await seedOidcDemo(rt, oidcProvider.issuer, clientSecret);
  }
  const server = createLocalServer({
    routes: ROUTES,
    handlers: createHandlers(rt),
    baseUrl: config.baseUrl,
    extraRoutes: [homePage(config.baseUrl), ...devIdpRoutes({
      baseUrl: config.baseUrl,
      keys: idp,
      roleAttribute: ROLE_ATTRIBUTE,
      roleValues: async (orgId) => {
        const settings = await rt.settings.get(orgId);
        return settings.roleMappings.map((mapping) => matchKey(mapping, settings.roles)).filter((key): key is string => key !== undefined);
      },
      encryption: async (orgId) => {
        const [pair, settings] = await Promise.all([rt.spKeys.load(), rt.settings.get(orgId)]);
        return pair && { certificatePem: spEncryptionKey(pair).certificatePem, required: settings.sso.saml?.requireEncryptedAssertions === true };
      },
    })],
  });
  const http = await listenLocalServer(server, port, env.HOST ?? '127.0.0.1');

  const lines = [
    `sso-jit local stack`,
    `  API              ${config.baseUrl}`,
    `  DynamoDB         ${dynamo.endpoint}   (tables ${config.tables.users.replace(/-users$/, '')}-*)`,
  ];
  if (demoSeeded) {
    const admin = await rt.users.findByEmail(DEMO_ORG, DEMO_ADMIN);
    const urls = orgUrls(config.baseUrl, DEMO_ORG);
    lines.push(
      `  Demo org         ${DEMO_ORG} (SAML, JIT on, roles from "${ROLE_ATTRIBUTE}": Admins, Engineering, Staff; domain demo.example)`,
      `    IdP-initiated  ${config.baseUrl}${devIdpPath(DEMO_ORG)}   (the development IdP; then see yourself at ${config.baseUrl}/me)`,
      `    SP-initiated   ${urls.loginUrl}?fwd=/me`,
      `    SP metadata    ${urls.metadataUrl}`,
      `    ACS            ${urls.acsUrl}`,
    );
    if (oidcProvider) {
      lines.push(
        `  Demo OIDC org    ${DEMO_OIDC_ORG} (OpenID Connect via the development provider at ${oidcProvider.issuer}; domain demo-oidc.example)`,
        `    Sign in        ${orgUrls(config.baseUrl, DEMO_OIDC_ORG).loginUrl}?fwd=/me   (users: ${DEMO_OIDC_USERS.map((user) => user.email).join(', ')})`,
      );
    }
    lines.push(
      `  Login page       ${config.baseUrl}/login   (type any @demo.example or @demo-oidc.example address)`,
      `  Admin token      ${admin ? await rt.sessions.issue(admin) : '(demo admin missing)'}`,
      `                   (${DEMO_ADMIN}; try: curl -H "Authorization: Bearer <token>" ${config.baseUrl}/orgs/${DEMO_ORG}/settings/sso)`,
      `  Console          ${config.baseUrl}/console   (sign in: ${admin?.status === 'active' ? await createLoginLink(rt, DEMO_ORG, DEMO_ADMIN) : 'demo admin missing'})${consoleNote}`,
    );
  } else {
    lines.push(`  Console          ${config.baseUrl}/console   (sign in: npx sso-jit login-link --org ID --email EMAIL)${consoleNote}`);
  }
  const cliEnv = `DYNAMODB_ENDPOINT=${dynamo.endpoint}${env.PORT ? ` PORT=${port}` : ''}`;
  lines.push(
    `  Dev SAML IdP     ${config.baseUrl}${'/dev/idp/{orgId}'}   (any org; its metadata to paste: ${config.baseUrl}${'/dev/idp/{orgId}/metadata'})`,
    `  New org          ${cliEnv} npx sso-jit org create --org acme --name Acme --admin-email you@acme.example`,
    `                   ${cliEnv} npx sso-jit login-link --org acme --email you@acme.example   (then open the link)`,
    `  CLI              ${cliEnv} npx sso-jit token --org ${DEMO_ORG} --email ${DEMO_ADMIN}`,
    'Ctrl-C stops everything.',
  );
  console.log(lines.join('\n'));

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    console.log('\nstopping…');
    await http.close();
    await oidcProvider?.stop();
    await dynamo.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

main().catch((error: unknown) => {
  console.error(`npm start failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
